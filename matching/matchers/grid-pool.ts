import { type GraphError, graphError, InputError } from '../../core/errors.js';
import type { JsonValue } from '../../core/graph.js';
import { mixAlignment } from '../alignment.js';
import type { MatcherImplementation } from '../matcher.js';

/**
 * Grid average pooling (EM-KD's "average pooling" baseline): the teacher's K_t tokens form an
 * H×W grid (row-major), the student's K_s tokens an (H/f)×(W/f) grid, and each student token
 * takes the mean of the f×f block of teacher tokens under it — what a 2×2-pooling projector does
 * to the vision tokens. `gridHeight`/`gridWidth` give the teacher's grid; 0 means square.
 */
export const poolMatcher: MatcherImplementation = {
  method: 'pool',
  summary: "average of the teacher's grid block under each student token (EM-KD's pooling baseline)",
  defaults: { gridHeight: 0, gridWidth: 0 },
  checkParams: (params, path) => {
    const errors: GraphError[] = [];
    for (const key of ['gridHeight', 'gridWidth']) {
      const v = params[key];
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0))
        errors.push(graphError(path, `${key} must be a whole number ≥ 0 (0: a square grid), got ${String(v)}`));
    }
    if ((params['gridHeight'] === 0) !== (params['gridWidth'] === 0)) errors.push(graphError(path, 'give both gridHeight and gridWidth, or neither'));
    return errors;
  },
  shapeRule: () => [],
  explain: (node, t, s) =>
    `pool(${t} → ${s}${node.params['gridHeight'] ? `, teacher grid ${String(node.params['gridHeight'])}×${String(node.params['gridWidth'])}` : ''})`,
  async align({ node, path, teacher, student }) {
    const weights: Float32Array[] = [];
    for (let b = 0; b < student.selection.batch; b++) {
      const kt = teacher.selection.counts[b]!;
      const ks = student.selection.counts[b]!;
      if (ks === 0) {
        weights.push(new Float32Array(0));
        continue;
      }
      const { height, width, factor } = grids(kt, ks, node.params, `${path}: sample ${b}`);
      const w = new Float32Array(ks * kt);
      const studentWidth = width / factor;
      for (let r = 0; r < height; r++) {
        for (let c = 0; c < width; c++) {
          const j = Math.floor(r / factor) * studentWidth + Math.floor(c / factor);
          w[j * kt + r * width + c] = 1 / (factor * factor);
        }
      }
      weights.push(w);
    }
    return mixAlignment(weights);
  },
};

function grids(kt: number, ks: number, params: Readonly<Record<string, JsonValue>>, where: string) {
  const given = params['gridHeight'] as number;
  const height = given > 0 ? given : Math.round(Math.sqrt(kt));
  const width = given > 0 ? (params['gridWidth'] as number) : height;
  if (height * width !== kt) {
    throw new InputError(
      `${where} has ${kt} teacher tokens, which do not form a ${given > 0 ? `${height}×${width}` : 'square'} grid; set gridHeight and gridWidth`,
    );
  }
  const factor = Math.round(Math.sqrt(kt / ks));
  if (factor < 1 || height % factor !== 0 || width % factor !== 0 || (height / factor) * (width / factor) !== ks) {
    throw new InputError(
      `${where}: ${ks} student tokens are not the ${height}×${width} teacher grid pooled by a whole factor (e.g. ${(height / 2) * (width / 2)} for 2×2 pooling)`,
    );
  }
  return { height, width, factor };
}

import { InputError } from '../../core/errors.js';
import { describeTokens } from '../../core/explain.js';
import { gatherAlignment } from '../alignment.js';
import type { MatcherImplementation } from '../matcher.js';

/** The k-th teacher token with the k-th student token: for models with the same token grid. */
export const identityMatcher: MatcherImplementation = {
  method: 'identity',
  summary: 'k-th teacher token with k-th student token (equal counts)',
  defaults: {},
  checkParams: () => [],
  shapeRule: () => [],
  explain: (_node, t, s) => `identity(${t}, ${s})`,
  async align({ node, path, teacher, student }) {
    const { counts: kt, offsets: ot } = teacher.selection;
    const { counts: ks, offsets: os } = student.selection;
    const teacherRow = new Int32Array(student.selection.positions.length);
    for (let b = 0; b < ks.length; b++) {
      if (kt[b] !== ks[b]) {
        throw new InputError(
          `${path}: the identity matcher needs equal token counts, but sample ${b} has ${kt[b]} (${describeTokens(node.teacher)}) and ${ks[b]} (${describeTokens(node.student)})`,
        );
      }
      for (let k = 0; k < ks[b]!; k++) teacherRow[os[b]! + k] = ot[b]! + k;
    }
    return gatherAlignment(teacherRow);
  },
};

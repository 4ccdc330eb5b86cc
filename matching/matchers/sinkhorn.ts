import { type GraphError, graphError, InputError } from '../../core/errors.js';
import { mixAlignment } from '../alignment.js';
import { decodeCostParams } from '../costs.js';
import { checkCostParams, costDefaults, describeCost, type MatcherImplementation, sameWidthRule } from '../matcher.js';
import { sampleCosts } from '../sample-costs.js';

/**
 * Entropic optimal transport (Sinkhorn, in the log domain, float64): per sample, the plan P
 * between uniform masses on the K_t teacher and K_s student tokens that minimises ⟨P, C⟩ − ε·H(P),
 * with the cost divided by its mean so that ε does not depend on the cost's scale. Each student
 * token takes the P-weighted mean of the teacher tokens it receives mass from: a soft alignment,
 * where the Hungarian one is hard. Smaller ε gets closer to a hard matching, at more iterations.
 */
export const sinkhornMatcher: MatcherImplementation = {
  method: 'sinkhorn',
  summary: 'entropic optimal transport plan; each student token mixes the teacher tokens it is sent',
  defaults: { ...costDefaults, epsilon: 0.05, iterations: 200 },
  checkParams: (params, path) => {
    const errors: GraphError[] = checkCostParams(params, path);
    const eps = params['epsilon'];
    if (!(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) errors.push(graphError(path, `epsilon must be a number > 0, got ${String(eps)}`));
    const it = params['iterations'];
    if (!(typeof it === 'number' && Number.isInteger(it) && it >= 1)) errors.push(graphError(path, `iterations must be a whole number ≥ 1, got ${String(it)}`));
    return errors;
  },
  shapeRule: sameWidthRule,
  explain: (node, t, s) => `sinkhorn(${describeCost(node.params)} between ${t} and ${s}, ε=${String(node.params['epsilon'])})`,
  async align({ node, path, teacher, student }) {
    const { cost: metric, probabilities } = decodeCostParams(node.params);
    const costs = await sampleCosts(teacher, student, metric, probabilities);
    const weights = costs.map((cost, b) => {
      const n = teacher.selection.counts[b]!;
      const m = student.selection.counts[b]!;
      if (m > 0 && n === 0) throw new InputError(`${path}: sample ${b} has student tokens but no teacher token to transport from`);
      return m === 0 ? new Float32Array(0) : plan(cost, n, m, node.params['epsilon'] as number, node.params['iterations'] as number);
    });
    return mixAlignment(weights);
  },
};

/** The [m, n] mixing weights (rows sum to 1) of the Sinkhorn plan for an n×m cost. */
export function plan(cost: Float32Array, n: number, m: number, epsilon: number, iterations: number): Float32Array {
  let mean = 0;
  for (const c of cost) mean += c;
  mean = mean / cost.length || 1;
  const scaled = Float64Array.from(cost, (c) => c / mean / epsilon);
  const f = new Float64Array(n); // potentials / ε
  const g = new Float64Array(m);
  const [logA, logB] = [-Math.log(n), -Math.log(m)];
  const lse = (values: (k: number) => number, count: number) => {
    let max = -Infinity;
    for (let k = 0; k < count; k++) max = Math.max(max, values(k));
    let sum = 0;
    for (let k = 0; k < count; k++) sum += Math.exp(values(k) - max);
    return max + Math.log(sum);
  };
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) f[i] = logA - lse((j) => g[j]! - scaled[i * m + j]!, m);
    for (let j = 0; j < m; j++) g[j] = logB - lse((i) => f[i]! - scaled[i * m + j]!, n);
  }
  const out = new Float32Array(m * n);
  for (let j = 0; j < m; j++) {
    const column = (i: number) => f[i]! + g[j]! - scaled[i * m + j]!;
    const norm = lse(column, n);
    for (let i = 0; i < n; i++) out[j * n + i] = Math.exp(column(i) - norm);
  }
  return out;
}

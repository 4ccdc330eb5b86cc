/**
 * Adaptive KL (AKL; Wu et al. 2024, "Rethinking Kullback-Leibler Divergence in Knowledge
 * Distillation for Large Language Models"), in mmkd's convention:
 *
 *   1. sort the teacher probabilities p descending, ties broken by index (stable);
 *   2. c_k = cumulative sum in that order; rank k is in the head iff c_k ≤ μ or k = 1,
 *      otherwise in the tail (μ ∈ [0, 1]: at μ = 0 the head is the top token alone; at μ = 1
 *      it is every token, as c_k ≤ 1 always holds in exact arithmetic, so ℓ = KL(p ‖ q));
 *   3. g_head = Σ_head |p_v − q_v|, g_tail = Σ_tail |p_v − q_v|;
 *   4. ℓ = g_head / (g_head + g_tail) · KL(p ‖ q) + g_tail / (g_head + g_tail) · KL(q ‖ p),
 *      with both weights ½ when g_head + g_tail = 0.
 *
 * The weights are computed from detached probabilities, so for gradients they are constants:
 * compute them once with `aklWeights` and pass them to `aklFromLogProbs` to differentiate.
 */
import { kl } from './distributions.js';

export interface AklWeights {
  /** Weight of forward KL(p ‖ q). */
  readonly head: number;
  /** Weight of reverse KL(q ‖ p); head + tail = 1. */
  readonly tail: number;
  /** Number of vocabulary entries in the head (≥ 1). */
  readonly headSize: number;
  /**
   * How robust the head/tail split is: the smallest of |c_k − μ| over ranks k ≥ 2 and the gap
   * p_(K) − p_(K+1) between the last head and the first tail probability. A float32
   * implementation may split differently when this is below its rounding error; property tests
   * should skip such cases (e.g. `fc.pre(w.margin > 1e-5)`). +∞ when V = 1.
   */
  readonly margin: number;
}

/** The AKL weights of teacher log-probs `logP` and student log-probs `logQ` at threshold μ. */
export function aklWeights(logP: ArrayLike<number>, logQ: ArrayLike<number>, mu = 0.5): AklWeights {
  if (logP.length !== logQ.length || logP.length === 0) {
    throw new RangeError(`aklWeights: rows of sizes ${logP.length} and ${logQ.length}`);
  }
  if (!(mu >= 0 && mu <= 1)) throw new RangeError(`aklWeights: mu ${mu} is outside [0, 1]`);
  const V = logP.length;
  const p = Array.from(logP, Math.exp);
  const q = Array.from(logQ, Math.exp);
  const order = Array.from({ length: V }, (_, v) => v);
  order.sort((a, b) => p[b]! - p[a]! || a - b); // descending, stable by index
  let c = 0;
  let gHead = 0;
  let gTail = 0;
  let headSize = 0;
  let margin = Infinity;
  for (let k = 0; k < V; k++) {
    const v = order[k]!;
    c += p[v]!;
    // At μ = 1 no rank can be split off (c_k ≤ 1 exactly), whatever c's rounding: no margin.
    if (k > 0 && mu < 1) margin = Math.min(margin, Math.abs(c - mu));
    const inHead = k === 0 || c <= mu || mu === 1;
    const gap = Math.abs(p[v]! - q[v]!);
    if (inHead) {
      gHead += gap;
      headSize++;
    } else {
      gTail += gap;
    }
  }
  if (headSize < V) margin = Math.min(margin, p[order[headSize - 1]!]! - p[order[headSize]!]!);
  const g = gHead + gTail;
  if (g === 0) return { head: 0.5, tail: 0.5, headSize, margin };
  return { head: gHead / g, tail: gTail / g, headSize, margin };
}

/** ℓ = w.head · KL(p ‖ q) + w.tail · KL(q ‖ p), with the weights held as given. */
export function aklFromLogProbs(logP: ArrayLike<number>, logQ: ArrayLike<number>, w: AklWeights): number {
  return w.head * kl(logP, logQ) + w.tail * kl(logQ, logP);
}

/**
 * Per-token divergences between a teacher row a ∈ R^V and a student row b ∈ R^V of logits at
 * temperature T, with p = softmax(a / T) (teacher) and q = softmax(b / T) (student):
 *
 * | kind            | ℓ                                                                  |
 * |-----------------|--------------------------------------------------------------------|
 * | forwardKL       | KL(p ‖ q) = Σ_v p_v (log p_v − log q_v)                            |
 * | reverseKL       | KL(q ‖ p)                                                          |
 * | jsd(β)          | β = 0: KL(p ‖ q); β = 1: KL(q ‖ p); otherwise, with m = β p + (1−β) q, |
 * |                 | β · KL(p ‖ m) + (1 − β) · KL(q ‖ m)  (TRL GKD / Liger JSD)          |
 * | skewKL(α)       | KL(p ‖ α p + (1 − α) q)  (DistiLLM SKL; α = 0 is forwardKL)         |
 * | skewReverseKL(α)| KL(q ‖ α q + (1 − α) p)  (DistiLLM SRKL; α = 0 is reverseKL)       |
 * | tvd             | ½ Σ_v |p_v − q_v|                                                   |
 * | akl(μ = 0.5)    | adaptive KL, see `akl.ts`                                          |
 * | softCE          | −Σ_v p_v log q_v                                                    |
 *
 * Note that jsd is discontinuous at the endpoints: the mixture formula tends to 0 as β → 0 or
 * β → 1, but β = 0 and β = 1 are defined as forward and reverse KL (TRL's convention).
 */
import { type AklWeights, aklFromLogProbs, aklWeights } from './akl.js';
import { checkInRange } from './checks.js';
import { crossEntropy, kl, mixtureLogProbs, totalVariation } from './distributions.js';
import { logSoftmax } from './log-softmax.js';

export type Divergence =
  | { readonly kind: 'forwardKL' }
  | { readonly kind: 'reverseKL' }
  | { readonly kind: 'jsd'; readonly beta: number }
  | { readonly kind: 'skewKL'; readonly alpha: number }
  | { readonly kind: 'skewReverseKL'; readonly alpha: number }
  | { readonly kind: 'tvd' }
  | { readonly kind: 'akl'; readonly mu?: number }
  | { readonly kind: 'softCE' };

/** Every divergence kind, for tests that range over all of them. */
export const DIVERGENCE_KINDS: readonly Divergence['kind'][] = ['forwardKL', 'reverseKL', 'jsd', 'skewKL', 'skewReverseKL', 'tvd', 'akl', 'softCE'];

/** Throws unless the divergence's parameter lies in its range. */
export function checkDivergence(d: Divergence): void {
  switch (d.kind) {
    case 'jsd':
      checkInRange('jsd beta', d.beta, 0, 1);
      break;
    case 'skewKL':
    case 'skewReverseKL':
      checkInRange(`${d.kind} alpha`, d.alpha, 0, 1);
      break;
    case 'akl':
      checkInRange('akl mu', d.mu ?? 0.5, 0, 1);
      break;
    default:
      break;
  }
}

/**
 * ℓ(p, q) from teacher log-probs `logP` and student log-probs `logQ`.
 * `akl` may hold the AKL weights fixed (as the gradient treats them); otherwise they are
 * computed from p and q.
 */
export function divergenceOfLogProbs(d: Divergence, logP: ArrayLike<number>, logQ: ArrayLike<number>, akl?: AklWeights): number {
  checkDivergence(d);
  switch (d.kind) {
    case 'forwardKL':
      return kl(logP, logQ);
    case 'reverseKL':
      return kl(logQ, logP);
    case 'jsd': {
      if (d.beta === 0) return kl(logP, logQ);
      if (d.beta === 1) return kl(logQ, logP);
      const logM = mixtureLogProbs(logP, logQ, d.beta);
      return d.beta * kl(logP, logM) + (1 - d.beta) * kl(logQ, logM);
    }
    case 'skewKL':
      return kl(logP, mixtureLogProbs(logP, logQ, d.alpha));
    case 'skewReverseKL':
      return kl(logQ, mixtureLogProbs(logQ, logP, d.alpha));
    case 'tvd':
      return totalVariation(logP, logQ);
    case 'akl':
      return aklFromLogProbs(logP, logQ, akl ?? aklWeights(logP, logQ, d.mu ?? 0.5));
    case 'softCE':
      return crossEntropy(logP, logQ);
  }
}

/** ℓ for one teacher row and one student row of logits at temperature T (not scaled by T²). */
export function tokenDivergence(d: Divergence, teacherLogits: ArrayLike<number>, studentLogits: ArrayLike<number>, temperature = 1, akl?: AklWeights): number {
  if (teacherLogits.length !== studentLogits.length) {
    throw new RangeError(`tokenDivergence: teacher row has ${teacherLogits.length} logits, student row ${studentLogits.length}`);
  }
  return divergenceOfLogProbs(d, logSoftmax(teacherLogits, temperature), logSoftmax(studentLogits, temperature), akl);
}

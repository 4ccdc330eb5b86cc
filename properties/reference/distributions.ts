/**
 * Divergences between two distributions given as log-probability rows, in float64.
 *
 * Working from log-probabilities keeps tiny probabilities accurate, and allows exact zeros
 * (log p = −∞). The convention 0 · log(0 / x) = 0 is applied explicitly: a term with p_v = 0
 * contributes nothing, whatever q_v is, so no 0 · ∞ = NaN appears. KL(p ‖ q) is +∞ when q_v = 0
 * for some p_v > 0, which is the true value.
 */

function checkPair(logP: ArrayLike<number>, logQ: ArrayLike<number>): void {
  if (logP.length !== logQ.length) throw new RangeError(`distributions of different sizes: ${logP.length} and ${logQ.length}`);
}

/** KL(p ‖ q) = Σ_{v: p_v > 0} p_v (log p_v − log q_v). */
export function kl(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  checkPair(logP, logQ);
  let s = 0;
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v]!);
    if (p > 0) s += p * (logP[v]! - logQ[v]!);
  }
  return s;
}

/** Cross-entropy H(p, q) = −Σ_{v: p_v > 0} p_v log q_v. */
export function crossEntropy(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  checkPair(logP, logQ);
  let s = 0;
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v]!);
    if (p > 0) s -= p * logQ[v]!;
  }
  return s;
}

/** Total variation ½ Σ_v |p_v − q_v|. */
export function totalVariation(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  checkPair(logP, logQ);
  let s = 0;
  for (let v = 0; v < logP.length; v++) s += Math.abs(Math.exp(logP[v]!) - Math.exp(logQ[v]!));
  return s / 2;
}

/** log(a·e^x + b·e^y) for a, b ≥ 0, stable; a zero weight drops its term exactly. */
function logMix(a: number, x: number, b: number, y: number): number {
  const lx = a > 0 ? Math.log(a) + x : -Infinity;
  const ly = b > 0 ? Math.log(b) + y : -Infinity;
  const m = Math.max(lx, ly);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(lx - m) + Math.exp(ly - m));
}

/** log(w·p + (1 − w)·q), elementwise, for w ∈ [0, 1]. */
export function mixtureLogProbs(logP: ArrayLike<number>, logQ: ArrayLike<number>, w: number): Float64Array {
  checkPair(logP, logQ);
  const out = new Float64Array(logP.length);
  for (let v = 0; v < out.length; v++) out[v] = logMix(w, logP[v]!, 1 - w, logQ[v]!);
  return out;
}

/** log p for a probability row (0 → −∞). Entries must lie in [0, 1]. */
export function logOfProbs(probs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(probs.length);
  for (let v = 0; v < out.length; v++) {
    const p = probs[v]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} at index ${v} is outside [0, 1]`);
    out[v] = Math.log(p);
  }
  return out;
}

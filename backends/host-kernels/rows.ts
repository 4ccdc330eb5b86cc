/**
 * The row arithmetic of the host divergence kernels, on typed arrays only (no tfjs), so that the
 * main thread and the worker threads (`threads.ts`, `worker.ts`) run the very same code on the
 * same bytes: a row gives the same loss and gradient whichever thread computes it.
 *
 * Per row, in float64: one pass for both sides' maxima, one pass with both exponentials (the
 * only two per entry; the KL family's loss is accumulated in the same pass), then the rule's
 * closed form for the loss and ∂ℓ/∂b in one or two more passes (JSD and the skew divergences:
 * one table-driven softplus per entry for their mixture, no log). Every ∂ℓ/∂log q below is
 * projected through the log-softmax in closed form, c·(h − q·Σh), with Σh known from the loss
 * pass, so no rule needs a pass for Σh of its own.
 *
 * These are the JavaScript passes. Where WebAssembly SIMD compiles (Node ≥ 20, current browsers)
 * and the job asks for it (the default, `setHostSimd`), `rows-simd.ts` runs the same passes in
 * two float64 lanes instead, 2–3 times as fast; these remain the fallback and the reference that
 * the tests hold the SIMD passes to.
 */

import { ROW_KINDS, type RowJob, rowOf } from './row-kinds.js';
import { type SimdKernels, simdKernels, simdKind, simdRow } from './rows-simd.js';

export { ROW_KINDS, type RowJob, type RowKind, rowOf } from './row-kinds.js';

/** Per-thread scratch rows, float64. */
export interface Scratch {
  eP: Float64Array;
  eQ: Float64Array;
  x1: Float64Array;
}

export function scratchFor(vocab: number, scratch?: Scratch): Scratch {
  if (scratch !== undefined && scratch.eP.length >= vocab) return scratch;
  return { eP: new Float64Array(vocab), eQ: new Float64Array(vocab), x1: new Float64Array(vocab) };
}

// ---------------------------------------------------------------------------------------------
// exp in float64, table-driven: about three times as fast as Math.exp in V8, within a few ulp
// (relative error ≤ 1e-15, checked in host-kernels.test.ts). (A table-driven log through a
// Float64Array alias of the bits measured slower than Math.log, so logs stay Math.log.)

/** e^−n for n = 0 … 745 and e^−j/1024 for j = 0 … 1023 (14 KB, stays in L1). */
const EXP_INT = new Float64Array(746);
const EXP_FRAC = new Float64Array(1024);
for (let n = 0; n < 746; n++) EXP_INT[n] = Math.exp(-n);
for (let j = 0; j < 1024; j++) EXP_FRAC[j] = Math.exp(-j / 1024);

/**
 * e^x for x ≤ 0 (what a max-shifted logit is): x = −k/1024 + r with r ∈ (−1/1024, 0], e^x =
 * e^−⌊k/1024⌋ · e^−(k mod 1024)/1024 · e^r, the last by its Taylor polynomial of degree 4 in
 * Estrin's form (error < r⁵/5! ≈ 7e-18; the short dependency chain is what makes it fast). 0
 * below −745, where e^x is below float64's smallest denormal.
 */
export function expNonPositive(x: number): number {
  const t = -x * 1024;
  if (!(t < 762_880)) return 0;
  const k = t | 0;
  const r = x + k * 0.0009765625;
  const r2 = r * r;
  return EXP_INT[k >> 10]! * EXP_FRAC[k & 1023]! * (1 + r + r2 * (0.5 + r * 0.16666666666666666 + r2 * 0.041666666666666664));
}

/**
 * log(1 + e^z) in float64 without a log: max(z, 0) + log1p(e^−|z|), the second term from a table
 * of its Taylor expansions of degree 6 at the midpoints of [j/32, (j+1)/32), j < 1280 (relative
 * error ≤ 1e-15, checked in host-kernels.test.ts; the term is taken as 0 past |z| = 40, where it
 * is < 5e-18). A finer table of lower degree is the faster trade here: degree 8 on steps of 1/8
 * (23 KB) took 22 ns per skew-KL entry, this one (80 KB; the logit ratios of one row touch a
 * small part of it) 20 ns, with the same worst error on the test's grid (5e-16 against 6e-16). The mixtures of JSD and the skew divergences go through it: with
 * t = log q − log p from the logits, log(βp + (1−β)q) = log p + log β + softplus(t + log((1−β)/β)),
 * so their passes call no Math.log (slower than this) and no mixture underflows.
 */
export function softplus(z: number): number {
  const y = Math.abs(z);
  return 0.5 * (z + y) + softplusTail(y);
}

const SOFTPLUS_STEPS = 32;
const SOFTPLUS_END = 40;
const SOFTPLUS_DEGREE = 6;
/** Coefficients per interval, padded to 8 so that an interval's offset is a shift. */
const SOFTPLUS_WIDTH = 8;
const SOFTPLUS_TAYLOR = softplusTable();

function softplusTail(y: number): number {
  // Literals, not the constants above: V8 does not fold module constants into this hot path.
  if (!(y < 40)) return 0;
  const j = (y * 32) | 0;
  const d = y - (j + 0.5) * 0.03125;
  const o = j << 3;
  const c = SOFTPLUS_TAYLOR;
  const d2 = d * d;
  const d4 = d2 * d2;
  return c[o]! + d * c[o + 1]! + d2 * (c[o + 2]! + d * c[o + 3]!) + d4 * (c[o + 4]! + d * c[o + 5]! + d2 * c[o + 6]!);
}

/**
 * Taylor coefficients of f(y) = log1p(e^−y) at y₀ = (j + ½)/32: f = −log(1 − s) with s = σ(−y)
 * and ds/dy = s² − s, so f' = −s and every f⁽ⁿ⁾ is a polynomial Pₙ(s), P₁ = −s,
 * Pₙ₊₁ = Pₙ'(s)·(s² − s); coefficient n is Pₙ(s₀)/n!.
 */
function softplusTable(): Float64Array {
  const polys: number[][] = [[], [0, -1]];
  for (let n = 1; n < SOFTPLUS_DEGREE; n++) {
    const derivative = polys[n]!.slice(1).map((coefficient, k) => coefficient * (k + 1));
    const next = new Array<number>(derivative.length + 2).fill(0);
    derivative.forEach((coefficient, k) => {
      next[k + 2]! += coefficient;
      next[k + 1]! -= coefficient;
    });
    polys.push(next);
  }
  const table = new Float64Array(SOFTPLUS_END * SOFTPLUS_STEPS * SOFTPLUS_WIDTH);
  for (let j = 0; j < SOFTPLUS_END * SOFTPLUS_STEPS; j++) {
    const y0 = (j + 0.5) / SOFTPLUS_STEPS;
    const s0 = 1 / (1 + Math.exp(y0));
    table[j * SOFTPLUS_WIDTH] = Math.log1p(Math.exp(-y0));
    let factorial = 1;
    for (let n = 1; n <= SOFTPLUS_DEGREE; n++) {
      factorial *= n;
      const poly = polys[n]!;
      let value = 0;
      for (let k = poly.length - 1; k >= 0; k--) value = value * s0 + poly[k]!;
      table[j * SOFTPLUS_WIDTH + n] = value / factorial;
    }
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// The passes. Each loop is a small function of its own, called once per row: V8 then optimises
// it whole, with type feedback from every statement. (One large row function, entered once per
// row and spending its time in loops, ran as on-stack-replaced code compiled before its later
// statements had run, and deoptimised on reaching them, row after row: a third of the time.)

/** Rows i0 … i1−1 of `job`, on `scratch` (at least `vocab` long). */
export function computeRows(job: RowJob, scratch: Scratch, i0: number, i1: number): void {
  const simd = simdFor(job);
  if (simd !== null) for (let i = i0; i < i1; i++) job.rowLoss[i] = simdRow(job, simd, i);
  else for (let i = i0; i < i1; i++) job.rowLoss[i] = computeRow(job, scratch, i);
}

/** Claims rows one at a time from `next` (an atomic counter) until none is left; returns how many it did. */
export function computeClaimedRows(job: RowJob, scratch: Scratch, counter: Int32Array, slot: number, rows: number): number {
  const simd = simdFor(job);
  let done = 0;
  for (let i = Atomics.add(counter, slot, 1); i < rows; i = Atomics.add(counter, slot, 1)) {
    job.rowLoss[i] = simd !== null ? simdRow(job, simd, i) : computeRow(job, scratch, i);
    done++;
  }
  return done;
}

/** The SIMD kernels when the job asks for them and its kind has SIMD passes (rows-simd.ts), else null. */
function simdFor(job: RowJob): SimdKernels | null {
  return job.simd === true && simdKind(job.kind) ? simdKernels() : null;
}

/** Sums a pass returns beside its result (this thread's; every pass writes before it reads). */
const SUMS = new Float64Array(2);

/** What the exponentials' pass leaves for a rule's own passes: row offsets, maxima, normalisers, c = w/T. */
interface RowStats {
  readonly oa: number;
  readonly ob: number;
  readonly maxA: number;
  readonly maxB: number;
  readonly invP: number;
  readonly invQ: number;
  readonly logSumA: number;
  readonly logSumB: number;
  readonly c: number;
}

function computeRow(job: RowJob, scratch: Scratch, i: number): number {
  const { kind, a, b, vocab, invT } = job;
  if (kind === ROW_KINDS.zero) return 0;
  const oa = rowOf(job.rowsA, i) * job.widthA;
  const ob = rowOf(job.rowsB, i) * job.widthB;
  const { eP, eQ } = scratch;
  // Pass 1: maxima of the raw logits (1/T > 0 keeps the order).
  const maxA = rowMax(a, oa, vocab);
  const maxB = rowMax(b, ob, vocab);
  // Pass 2: e = exp((x − max)/T) and their sums; the KL family's Σ e·(shifted logit difference)
  // too, one function per family, so that no loop branches on the kind.
  const dot =
    kind === ROW_KINDS.forwardKL
      ? expsDot(a, oa, maxA, b, ob, maxB, invT, eP, eQ, vocab)
      : kind === ROW_KINDS.reverseKL
        ? expsDot(b, ob, maxB, a, oa, maxA, invT, eQ, eP, vocab)
        : kind === ROW_KINDS.softCE
          ? expsCross(a, oa, maxA, b, ob, maxB, invT, eP, eQ, vocab)
          : exps(a, oa, maxA, b, ob, maxB, invT, eP, eQ, vocab);
  // expsDot with the sides swapped (reverse KL) leaves them swapped in SUMS.
  const swapped = kind === ROW_KINDS.reverseKL;
  const sumA = swapped ? SUMS[1]! : SUMS[0]!;
  const sumB = swapped ? SUMS[0]! : SUMS[1]!;
  const invP = 1 / sumA;
  const invQ = 1 / sumB;
  // log p_v = (a_v − maxA)/T − logSumA, log q_v likewise.
  const logSumA = Math.log(sumA);
  const logSumB = Math.log(sumB);
  const c = job.weights[i]! * invT;
  const grad = job.grad;
  switch (kind) {
    case ROW_KINDS.forwardKL:
    case ROW_KINDS.softCE: {
      // KL(p ‖ q) = Σ p (sa − sb)/T − logΣA + logΣB; H(p, q) = −Σ p sb/T + logΣB. ∂ℓ/∂b = c·(q − p).
      if (grad !== null) gradDifference(grad, ob, eQ, c * invQ, eP, c * invP, vocab);
      return kind === ROW_KINDS.softCE ? logSumB - dot * invP * invT : dot * invP * invT - logSumA + logSumB;
    }
    case ROW_KINDS.reverseKL: {
      // KL(q ‖ p) = Σ q (sb − sa)/T − logΣB + logΣA; ∂ℓ/∂b = c·q·(log q − log p − ℓ).
      const shift = logSumA - logSumB;
      const loss = dot * invQ * invT + shift;
      if (grad !== null) gradReverseKL(grad, ob, eQ, c * invQ, a, oa, maxA, b, maxB, invT, shift - loss, vocab);
      return loss;
    }
    default:
      return ruleRow(job, scratch, { oa, ob, maxA, maxB, invP, invQ, logSumA, logSumB, c });
  }
}

/** The rules whose loss needs a pass of its own after the exponentials. */
function ruleRow(job: RowJob, scratch: Scratch, stats: RowStats): number {
  switch (job.kind) {
    case ROW_KINDS.tvd:
      return tvdRow(job, scratch, stats);
    case ROW_KINDS.jsd:
      return jsdRow(job, scratch, stats);
    case ROW_KINDS.skewKL:
      return skewKLRow(job, scratch, stats);
    case ROW_KINDS.skewReverseKL:
      return skewReverseKLRow(job, scratch, stats);
    default:
      throw new Error(`internal: unknown host row kind ${String(job.kind)}`);
  }
}

function rowMax(x: Float32Array, o: number, vocab: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const z = x[o + v]!;
    if (z > max) max = z;
  }
  return max;
}

/** eX, eY and their sums (into SUMS); returns Σ eX·(sx − sy), sx = x − maxX (the KL's dot). */
function expsDot(
  x: Float32Array,
  ox: number,
  maxX: number,
  y: Float32Array,
  oy: number,
  maxY: number,
  invT: number,
  eX: Float64Array,
  eY: Float64Array,
  vocab: number,
): number {
  let sumX = 0;
  let sumY = 0;
  let dot = 0;
  for (let v = 0; v < vocab; v++) {
    const sx = x[ox + v]! - maxX;
    const sy = y[oy + v]! - maxY;
    const ex = expNonPositive(sx * invT);
    const ey = expNonPositive(sy * invT);
    eX[v] = ex;
    eY[v] = ey;
    sumX += ex;
    sumY += ey;
    dot += ex * (sx - sy);
  }
  SUMS[0] = sumX;
  SUMS[1] = sumY;
  return dot;
}

/** As expsDot, returning soft CE's Σ eP·sb. */
function expsCross(
  a: Float32Array,
  oa: number,
  maxA: number,
  b: Float32Array,
  ob: number,
  maxB: number,
  invT: number,
  eP: Float64Array,
  eQ: Float64Array,
  vocab: number,
): number {
  let sumA = 0;
  let sumB = 0;
  let dot = 0;
  for (let v = 0; v < vocab; v++) {
    const sb = b[ob + v]! - maxB;
    const ea = expNonPositive((a[oa + v]! - maxA) * invT);
    const eb = expNonPositive(sb * invT);
    eP[v] = ea;
    eQ[v] = eb;
    sumA += ea;
    sumB += eb;
    dot += ea * sb;
  }
  SUMS[0] = sumA;
  SUMS[1] = sumB;
  return dot;
}

/** The exponentials and their sums only; returns 0. */
function exps(
  a: Float32Array,
  oa: number,
  maxA: number,
  b: Float32Array,
  ob: number,
  maxB: number,
  invT: number,
  eP: Float64Array,
  eQ: Float64Array,
  vocab: number,
): number {
  let sumA = 0;
  let sumB = 0;
  for (let v = 0; v < vocab; v++) {
    const ea = expNonPositive((a[oa + v]! - maxA) * invT);
    const eb = expNonPositive((b[ob + v]! - maxB) * invT);
    eP[v] = ea;
    eQ[v] = eb;
    sumA += ea;
    sumB += eb;
  }
  SUMS[0] = sumA;
  SUMS[1] = sumB;
  return 0;
}

/** grad_v = cq·eQ_v − cp·eP_v. */
function gradDifference(grad: Float32Array, ob: number, eQ: Float64Array, cq: number, eP: Float64Array, cp: number, vocab: number): void {
  for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! - cp * eP[v]!;
}

/** grad_v = cq·eQ_v·(x_v − shift): the projection c·(h − q·Σh) of every rule with h = q·(x + const). */
function gradScaled(grad: Float32Array, ob: number, eQ: Float64Array, cq: number, x: Float64Array, shift: number, vocab: number): void {
  for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * (x[v]! - shift);
}

/** Reverse KL's grad_v = cq·eQ_v·((sb − sa)/T + base). */
function gradReverseKL(
  grad: Float32Array,
  ob: number,
  eQ: Float64Array,
  cq: number,
  a: Float32Array,
  oa: number,
  maxA: number,
  b: Float32Array,
  maxB: number,
  invT: number,
  base: number,
  vocab: number,
): void {
  const offset = maxA - maxB;
  for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * ((b[ob + v]! - a[oa + v]! + offset) * invT + base);
}

/**
 * ½Σ|p − q|; h = ½ q sign(q − p), Σh = ½ Σ q sign(q − p). One pass after the exponentials for
 * the loss, Σh and the signs (kept in x1), one for the gradient. Branch-free: the sign of q − p
 * is a coin toss per entry, and a mispredicted branch (Math.sign, a comparison) costs more than
 * the arithmetic, so the sign is d / (|d| + 1e-300): exactly ±1 unless |d| < 1e-284, 0 at a tie.
 */
function tvdRow(job: RowJob, { eP, eQ, x1 }: Scratch, { ob, invP, invQ, c }: RowStats): number {
  const abs = tvdSums(eP, invP, eQ, invQ, x1, job.vocab);
  // c·q·(½ sign − Σh) = ½c·q·(sign − Σ q sign).
  if (job.grad !== null) gradScaled(job.grad, ob, eQ, 0.5 * c * invQ, x1, SUMS[0]!, job.vocab);
  return 0.5 * abs;
}

/** Returns Σ|q − p|; Σ q sign(q − p) into SUMS[0], the signs into `sign`. */
function tvdSums(eP: Float64Array, invP: number, eQ: Float64Array, invQ: number, sign: Float64Array, vocab: number): number {
  let abs = 0;
  let signed = 0;
  for (let v = 0; v < vocab; v++) {
    const q = eQ[v]! * invQ;
    const d = q - eP[v]! * invP;
    const ad = Math.abs(d);
    const s = d / (ad + 1e-300);
    abs += ad;
    signed += q * s;
    sign[v] = s;
  }
  SUMS[0] = signed;
  return abs;
}

/**
 * β·KL(p ‖ m) + (1−β)·KL(q ‖ m), m = βp + (1−β)q; h = (1−β) q (log q − log m), so Σh is
 * (1−β)·KL(q ‖ m), the loss's own second term. x1 keeps log q − log m for the gradient pass.
 */
function jsdRow(job: RowJob, { eP, eQ, x1 }: Scratch, stats: RowStats): number {
  const { vocab, grad, param: beta } = job;
  const klP = jsdSums(job, stats, eP, eQ, x1);
  const klQ = SUMS[0]!;
  if (grad !== null) gradScaled(grad, stats.ob, eQ, stats.c * (1 - beta) * stats.invQ, x1, klQ, vocab);
  return beta * klP + (1 - beta) * klQ;
}

/**
 * t_v = log q_v − log p_v from the logits: (b_v − a_v)/T + shift, for the mixtures' softplus.
 */
function logRatioShift({ invT }: RowJob, { maxA, maxB, logSumA, logSumB }: RowStats): number {
  return (maxA - maxB) * invT + logSumA - logSumB;
}

/**
 * Returns KL(p ‖ m); KL(q ‖ m) into SUMS[0], log q − log m into x1. With z = t + log((1−β)/β):
 * log p − log m = −log β − softplus(z), log q − log m = z − log(1−β) − softplus(z).
 */
function jsdSums(job: RowJob, stats: RowStats, eP: Float64Array, eQ: Float64Array, x1: Float64Array): number {
  const { a, b, invT, vocab, param: beta } = job;
  const { oa, ob, invP, invQ } = stats;
  const lb = Math.log(beta);
  const lc = Math.log(1 - beta);
  const shift = logRatioShift(job, stats) + lc - lb;
  let klP = 0;
  let klQ = 0;
  for (let v = 0; v < vocab; v++) {
    const z = (b[ob + v]! - a[oa + v]!) * invT + shift;
    const sp = softplus(z);
    const rq = z - lc - sp;
    klP -= eP[v]! * (lb + sp);
    klQ += eQ[v]! * rq;
    x1[v] = rq;
  }
  SUMS[0] = klQ * invQ;
  return klP * invP;
}

/**
 * KL(p ‖ m), m = αp + (1−α)q; h = −(1−α) q·(p/m), Σh = −(1−α)·Σ q p/m. x1 keeps p/m.
 */
function skewKLRow(job: RowJob, { eP, eQ, x1 }: Scratch, stats: RowStats): number {
  const loss = skewKLSums(job, stats, eP, eQ, x1);
  // c·h_v − c·q_v·Σh = −(1−α)·c·q_v·(p_v/m_v − Σ q p/m).
  if (job.grad !== null) gradScaled(job.grad, stats.ob, eQ, -(1 - job.param) * stats.c * stats.invQ, x1, SUMS[0]!, job.vocab);
  return loss;
}

/**
 * Returns KL(p ‖ m); Σ q p/m into SUMS[0], p/m into x1. With z = t + log((1−α)/α):
 * log(p/m) = −log α − softplus(z) (never the log of an underflowed mixture).
 */
function skewKLSums(job: RowJob, stats: RowStats, eP: Float64Array, eQ: Float64Array, x1: Float64Array): number {
  const { a, b, invT, vocab, param: alpha } = job;
  const { oa, ob } = stats;
  const la = Math.log(alpha);
  const invAlpha = 1 / alpha;
  const shift = logRatioShift(job, stats) + Math.log(1 - alpha) - la;
  // p/m = eP/(α·eP + (1−α)·(ΣA/ΣB)·eQ), one division, where that denominator is a normal float64
  // (else e^−softplus(z)/α, as exact; an exponential costs more than the division).
  const kq = (1 - alpha) * (stats.invQ / stats.invP);
  let loss = 0;
  let qpm = 0;
  for (let v = 0; v < vocab; v++) {
    const sp = softplus((b[ob + v]! - a[oa + v]!) * invT + shift);
    const ep = eP[v]!;
    const eq = eQ[v]!;
    const m = alpha * ep + kq * eq;
    const ratio = m > 1e-290 ? ep / m : invAlpha * expNonPositive(-sp);
    loss -= ep * (la + sp);
    qpm += eq * ratio;
    x1[v] = ratio;
  }
  SUMS[0] = qpm * stats.invQ;
  return loss * stats.invP;
}

/**
 * KL(q ‖ m), m = αq + (1−α)p; h = q (log q − log m − α q/m), Σh = ℓ − α Σ q²/m. x1 keeps
 * log q − log m − α q/m.
 */
function skewReverseKLRow(job: RowJob, { eP, eQ, x1 }: Scratch, stats: RowStats): number {
  const loss = skewReverseKLSums(job, stats, eP, eQ, x1);
  if (job.grad !== null) gradScaled(job.grad, stats.ob, eQ, stats.c * stats.invQ, x1, loss - job.param * SUMS[0]!, job.vocab);
  return loss;
}

/**
 * Returns KL(q ‖ m); Σ q²/m into SUMS[0], log(q/m) − α q/m into x1. With
 * z = −t + log((1−α)/α): log(q/m) = −log α − softplus(z); q/m as p/m in skewKLSums.
 */
function skewReverseKLSums(job: RowJob, stats: RowStats, eP: Float64Array, eQ: Float64Array, x1: Float64Array): number {
  const { a, b, invT, vocab, param: alpha } = job;
  const { oa, ob } = stats;
  const la = Math.log(alpha);
  const invAlpha = 1 / alpha;
  const shift = -logRatioShift(job, stats) + Math.log(1 - alpha) - la;
  let loss = 0;
  let qqm = 0;
  const kp = (1 - alpha) * (stats.invP / stats.invQ);
  for (let v = 0; v < vocab; v++) {
    const sp = softplus((a[oa + v]! - b[ob + v]!) * invT + shift);
    const eq = eQ[v]!;
    const m = alpha * eq + kp * eP[v]!;
    const ratio = m > 1e-290 ? eq / m : invAlpha * expNonPositive(-sp);
    const logRatio = -la - sp;
    loss += eq * logRatio;
    qqm += eq * ratio;
    x1[v] = logRatio - alpha * ratio;
  }
  SUMS[0] = qqm * stats.invQ;
  return loss * stats.invQ;
}

/**
 * Runs every pass on a few small rows, so that each statement has type feedback before V8 first
 * optimises a pass. Otherwise the first call of a pass is compiled on-stack in its loop, before
 * the statements after the loop have run, and that code, kept for the loop, deoptimises on
 * reaching them in every later call (measured: a deoptimisation per row, half a millisecond each).
 */
function warmUp(): void {
  const vocab = 24;
  const rows = 16;
  const a = new Float32Array(rows * vocab);
  const b = new Float32Array(rows * vocab);
  // Mostly small logits, one far below the rest in some rows (underflowing exponentials, |z| ≥ 40).
  for (let k = 0; k < a.length; k++) {
    a[k] = Math.sin(k * 1.7) * 3 - (k % 23 === 5 ? 800 : 0);
    b[k] = Math.cos(k * 0.9) * 3 - (k % 19 === 7 ? 900 : 0);
  }
  const scratch = scratchFor(vocab);
  const weights = new Float32Array(rows).fill(1 / rows);
  for (const kind of Object.values(ROW_KINDS)) {
    for (const grad of [new Float32Array(rows * vocab), null]) {
      for (const invT of [1, 0.5]) {
        const job: RowJob = { kind, param: 0.3, a, b, widthA: vocab, widthB: vocab, vocab, invT, weights, rowLoss: new Float64Array(rows), grad };
        computeRows(job, scratch, 0, rows);
      }
    }
  }
}
warmUp();

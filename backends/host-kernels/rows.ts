/**
 * The row arithmetic of the host divergence kernels, on typed arrays only (no tfjs), so that the
 * main thread and the worker threads (`threads.ts`, `worker.ts`) run the very same code on the
 * same bytes: a row gives the same loss and gradient whichever thread computes it.
 *
 * Per row, in float64: one pass for both sides' maxima, one pass with both exponentials (the
 * only two per entry; the KL family's loss is accumulated in the same pass), then the rule's
 * closed form for the loss and ∂ℓ/∂b in one or two more passes. Every ∂ℓ/∂log q below is
 * projected through the log-softmax in closed form, c·(h − q·Σh), with Σh known from the loss
 * pass, so no rule needs a pass for Σh of its own.
 */

/** The divergences that have a closed-form host row, by code. */
export const ROW_KINDS = { forwardKL: 0, reverseKL: 1, jsd: 2, skewKL: 3, skewReverseKL: 4, tvd: 5, softCE: 6, zero: 7 } as const;
export type RowKind = (typeof ROW_KINDS)[keyof typeof ROW_KINDS];

/**
 * One kernel call: rows of the teacher's logits `a` [rows × widthA] and the student's `b`
 * [rows × widthB], the first `vocab` columns compared, at 1/T = `invT`. `param` is β (JSD) or
 * α (skew divergences), strictly inside (0, 1) (endpoints are resolved to other kinds before).
 * Writes ℓ_i into `rowLoss[i]` and, when `grad` is given, ∂(w_i ℓ_i)/∂b_i into grad's row i
 * (columns past `vocab` untouched).
 */
export interface RowJob {
  readonly kind: RowKind;
  readonly param: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly widthA: number;
  readonly widthB: number;
  readonly vocab: number;
  readonly invT: number;
  readonly weights: Float32Array;
  readonly rowLoss: Float64Array;
  readonly grad: Float32Array | null;
}

/** Per-thread scratch rows, float64. */
export interface Scratch {
  eP: Float64Array;
  eQ: Float64Array;
  x1: Float64Array;
  x2: Float64Array;
}

export function scratchFor(vocab: number, scratch?: Scratch): Scratch {
  if (scratch !== undefined && scratch.eP.length >= vocab) return scratch;
  return { eP: new Float64Array(vocab), eQ: new Float64Array(vocab), x1: new Float64Array(vocab), x2: new Float64Array(vocab) };
}

// ---------------------------------------------------------------------------------------------
// exp in float64, table-driven: about twice as fast as Math.exp in V8, within a few ulp (relative
// error ≤ 1e-15, checked in rows.test.ts). (A table-driven log through a Float64Array alias of
// the bits measured slower than Math.log, so logs stay Math.log.)

/** e^−n for n = 0 … 745 and e^−j/64 for j = 0 … 63. */
const EXP_INT = new Float64Array(746);
const EXP_FRAC = new Float64Array(64);
for (let n = 0; n < 746; n++) EXP_INT[n] = Math.exp(-n);
for (let j = 0; j < 64; j++) EXP_FRAC[j] = Math.exp(-j / 64);

/**
 * e^x for x ≤ 0 (what a max-shifted logit is): x = −k/64 + r with r ∈ (−1/64, 0], e^x =
 * e^−⌊k/64⌋ · e^−(k mod 64)/64 · e^r, the last by its Taylor polynomial of degree 6
 * (error < r⁷/7! ≈ 4e-17). 0 below −745, where e^x is below float64's smallest denormal.
 */
export function expNonPositive(x: number): number {
  const t = -x * 64;
  if (!(t < 47_680)) return 0;
  const k = t | 0;
  const r = x + k * 0.015625;
  return (
    EXP_INT[k >> 6]! *
    EXP_FRAC[k & 63]! *
    (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * (0.008333333333333333 + r * 0.001388888888888889))))))
  );
}

/**
 * log(w·x + (1−w)·y) from x, y and the logs of their weighted terms: the plain log while the
 * mixture is a normal float64, log-add-exp of the logs where it underflows.
 */
function logMix(m: number, logWx: number, logWy: number): number {
  if (m > 1e-300) return Math.log(m);
  const hi = Math.max(logWx, logWy);
  return hi + Math.log1p(Math.exp(-Math.abs(logWx - logWy)));
}

// ---------------------------------------------------------------------------------------------

/** Rows i0 … i1−1 of `job`, on `scratch` (at least `vocab` long). */
export function computeRows(job: RowJob, scratch: Scratch, i0: number, i1: number): void {
  for (let i = i0; i < i1; i++) job.rowLoss[i] = computeRow(job, scratch, i);
}

/** Claims rows one at a time from `next` (an atomic counter) until none is left; returns how many it did. */
export function computeClaimedRows(job: RowJob, scratch: Scratch, counter: Int32Array, slot: number, rows: number): number {
  let done = 0;
  for (let i = Atomics.add(counter, slot, 1); i < rows; i = Atomics.add(counter, slot, 1)) {
    job.rowLoss[i] = computeRow(job, scratch, i);
    done++;
  }
  return done;
}

function computeRow(job: RowJob, scratch: Scratch, i: number): number {
  const { kind, a, b, vocab, invT, grad } = job;
  const oa = i * job.widthA;
  const ob = i * job.widthB;
  if (kind === ROW_KINDS.zero) return 0;
  const { eP, eQ } = scratch;
  // Pass 1: maxima of the raw logits (1/T > 0 keeps the order).
  let maxA = -Infinity;
  let maxB = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const za = a[oa + v]!;
    const zb = b[ob + v]!;
    if (za > maxA) maxA = za;
    if (zb > maxB) maxB = zb;
  }
  // Pass 2: e = exp((x − max)/T) and their sums; the KL family's Σ e·(shifted logit difference)
  // too. One loop per family, so that the JIT sees no branch on the kind per entry.
  let sumA = 0;
  let sumB = 0;
  let dot = 0;
  if (kind === ROW_KINDS.forwardKL) {
    for (let v = 0; v < vocab; v++) {
      const sa = a[oa + v]! - maxA;
      const sb = b[ob + v]! - maxB;
      const ea = expNonPositive(sa * invT);
      const eb = expNonPositive(sb * invT);
      eP[v] = ea;
      eQ[v] = eb;
      sumA += ea;
      sumB += eb;
      dot += ea * (sa - sb);
    }
  } else if (kind === ROW_KINDS.reverseKL) {
    for (let v = 0; v < vocab; v++) {
      const sa = a[oa + v]! - maxA;
      const sb = b[ob + v]! - maxB;
      const ea = expNonPositive(sa * invT);
      const eb = expNonPositive(sb * invT);
      eP[v] = ea;
      eQ[v] = eb;
      sumA += ea;
      sumB += eb;
      dot += eb * (sb - sa);
    }
  } else if (kind === ROW_KINDS.softCE) {
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
  } else {
    for (let v = 0; v < vocab; v++) {
      const ea = expNonPositive((a[oa + v]! - maxA) * invT);
      const eb = expNonPositive((b[ob + v]! - maxB) * invT);
      eP[v] = ea;
      eQ[v] = eb;
      sumA += ea;
      sumB += eb;
    }
  }
  const invP = 1 / sumA;
  const invQ = 1 / sumB;
  // log p_v = (a_v − maxA)/T − logSumA, log q_v likewise.
  const logSumA = Math.log(sumA);
  const logSumB = Math.log(sumB);
  const c = job.weights[i]! * invT;
  const stats: RowStats = { oa, ob, maxA, maxB, invP, invQ, logSumA, logSumB, c };
  switch (kind) {
    case ROW_KINDS.forwardKL:
    case ROW_KINDS.softCE: {
      // KL(p ‖ q) = Σ p (sa − sb)/T − logΣA + logΣB; H(p, q) = −Σ p sb/T + logΣB. ∂ℓ/∂b = c·(q − p).
      const loss = kind === ROW_KINDS.softCE ? logSumB - dot * invP * invT : dot * invP * invT - logSumA + logSumB;
      if (grad !== null) {
        const cp = c * invP;
        const cq = c * invQ;
        for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! - cp * eP[v]!;
      }
      return loss;
    }
    case ROW_KINDS.reverseKL: {
      // KL(q ‖ p) = Σ q (sb − sa)/T − logΣB + logΣA; ∂ℓ/∂b = c·q·(log q − log p − ℓ).
      const shift = logSumA - logSumB;
      const loss = dot * invQ * invT + shift;
      if (grad !== null) {
        const cq = c * invQ;
        const base = shift - loss;
        for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * ((b[ob + v]! - maxB - (a[oa + v]! - maxA)) * invT + base);
      }
      return loss;
    }
    case ROW_KINDS.tvd:
      return tvdRow(job, scratch, stats);
    case ROW_KINDS.jsd:
      return jsdRow(job, scratch, stats);
    case ROW_KINDS.skewKL:
      return skewKLRow(job, scratch, stats);
    case ROW_KINDS.skewReverseKL:
      return skewReverseKLRow(job, scratch, stats);
    default:
      throw new Error(`internal: unknown host row kind ${String(kind)}`);
  }
}

/** What pass 2 leaves for a rule's own passes: row offsets, maxima, normalisers, c = w/T. */
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

/** ½Σ|p − q|; h = ½ q sign(q − p), Σh = ½(Σ_{q>p} q − Σ_{q<p} q). */
function tvdRow(job: RowJob, { eP, eQ }: Scratch, { ob, invP, invQ, c }: RowStats): number {
  const { vocab, grad } = job;
  // Branch-free: the sign of p − q is a coin toss per entry, and a mispredicted branch costs
  // more than the arithmetic (Math.abs and Math.sign compile to selects).
  let abs = 0;
  let signed = 0;
  for (let v = 0; v < vocab; v++) {
    const q = eQ[v]! * invQ;
    const d = q - eP[v]! * invP;
    abs += Math.abs(d);
    signed += q * Math.sign(d);
  }
  if (grad !== null) {
    const sumH = 0.5 * signed;
    for (let v = 0; v < vocab; v++) {
      const q = eQ[v]! * invQ;
      grad[ob + v] = c * q * (0.5 * Math.sign(q - eP[v]! * invP) - sumH);
    }
  }
  return 0.5 * abs;
}

/**
 * β·KL(p ‖ m) + (1−β)·KL(q ‖ m), m = βp + (1−β)q; h = (1−β) q (log q − log m), so Σh is
 * (1−β)·KL(q ‖ m), the loss's own second term. x1 keeps log q − log m for the gradient pass.
 */
function jsdRow(job: RowJob, { eP, eQ, x1 }: Scratch, { oa, ob, maxA, maxB, invP, invQ, logSumA, logSumB, c }: RowStats): number {
  const { vocab, grad, a, b, invT, param: beta } = job;
  const [lb, lc] = [Math.log(beta), Math.log(1 - beta)];
  let klP = 0;
  let klQ = 0;
  for (let v = 0; v < vocab; v++) {
    const p = eP[v]! * invP;
    const q = eQ[v]! * invQ;
    const logP = (a[oa + v]! - maxA) * invT - logSumA;
    const logQ = (b[ob + v]! - maxB) * invT - logSumB;
    const logM = logMix(beta * p + (1 - beta) * q, logP + lb, logQ + lc);
    const rq = logQ - logM;
    klP += p * (logP - logM);
    klQ += q * rq;
    x1[v] = rq;
  }
  if (grad !== null) {
    const cq = c * (1 - beta) * invQ;
    for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * (x1[v]! - klQ);
  }
  return beta * klP + (1 - beta) * klQ;
}

/**
 * KL(p ‖ m), m = αp + (1−α)q; h = −(1−α) q·(p/m), Σh = −(1−α)·Σ q p/m. x1 keeps p/m.
 */
function skewKLRow(job: RowJob, { eP, eQ, x1 }: Scratch, { oa, ob, maxA, maxB, invP, invQ, logSumA, logSumB, c }: RowStats): number {
  const { vocab, grad, a, b, invT, param: alpha } = job;
  const [lo, lr] = [Math.log(alpha), Math.log(1 - alpha)];
  let loss = 0;
  let qpm = 0;
  for (let v = 0; v < vocab; v++) {
    const p = eP[v]! * invP;
    const q = eQ[v]! * invQ;
    const logP = (a[oa + v]! - maxA) * invT - logSumA;
    const m = alpha * p + (1 - alpha) * q;
    let ratio: number;
    if (m > 1e-300) {
      loss += p * (logP - Math.log(m));
      ratio = p / m;
    } else {
      // Both sides (nearly) underflow: p/m in logs, p·log(p/m) negligible but kept exact.
      const logM = logMix(m, logP + lo, (b[ob + v]! - maxB) * invT - logSumB + lr);
      loss += p * (logP - logM);
      ratio = Math.exp(logP - logM);
    }
    qpm += q * ratio;
    x1[v] = ratio;
  }
  if (grad !== null) {
    const cq = c * invQ;
    const k = 1 - alpha;
    const sumH = -k * qpm;
    for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * (-k * x1[v]! - sumH);
  }
  return loss;
}

/**
 * KL(q ‖ m), m = αq + (1−α)p; h = q (log q − log m − α q/m), Σh = ℓ − α Σ q²/m. x1 keeps
 * log q − log m, x2 keeps q/m.
 */
function skewReverseKLRow(job: RowJob, { eP, eQ, x1, x2 }: Scratch, { oa, ob, maxA, maxB, invP, invQ, logSumA, logSumB, c }: RowStats): number {
  const { vocab, grad, a, b, invT, param: alpha } = job;
  const [lo, lr] = [Math.log(alpha), Math.log(1 - alpha)];
  let loss = 0;
  let qqm = 0;
  for (let v = 0; v < vocab; v++) {
    const p = eP[v]! * invP;
    const q = eQ[v]! * invQ;
    const logQ = (b[ob + v]! - maxB) * invT - logSumB;
    const m = alpha * q + (1 - alpha) * p;
    let logRatio: number;
    let ratio: number;
    if (m > 1e-300) {
      logRatio = logQ - Math.log(m);
      ratio = q / m;
    } else {
      logRatio = logQ - logMix(m, logQ + lo, (a[oa + v]! - maxA) * invT - logSumA + lr);
      ratio = Math.exp(logRatio);
    }
    loss += q * logRatio;
    qqm += q * ratio;
    x1[v] = logRatio;
    x2[v] = ratio;
  }
  if (grad !== null) {
    const cq = c * invQ;
    const sumH = loss - alpha * qqm;
    for (let v = 0; v < vocab; v++) grad[ob + v] = cq * eQ[v]! * (x1[v]! - alpha * x2[v]! - sumH);
  }
  return loss;
}

/**
 * The host rows' hot passes in WebAssembly SIMD (`rows.wat`, two float64 lanes), for every kind
 * with a closed-form row. A row's arithmetic is the same as in `rows.ts`, pass for pass, with the
 * same float64 values; the differences are the lane-wise sums (rounding only), an exponential
 * flushed to 0 below e^−708, and the logs of the mixtures: the skew divergences take log(p/m) as
 * fdlibm's log of the ratio itself, and JSD one such log per entry, of the larger of p/m and
 * q/m, with the other from the logits' difference, instead of a softplus. `rows.wat` states each
 * one's measured error.
 *
 * The module is compiled on first use, synchronously (a row is computed inside a synchronous
 * tfjs kernel), once per thread. Where that fails (no WebAssembly SIMD, or a browser's main
 * thread refusing a synchronous compile), `simdKernels()` is null and rows take the JavaScript
 * passes. `setHostSimd(false)` or MMKD_HOST_SIMD=0 chooses those too.
 *
 * Memory of the module (bytes; n = the vocabulary rounded up to a multiple of 4): 0 … 1023 the
 * exponential's table, 1024 … 1063 the sums a pass returns, then from 2048 the row's logits a
 * and b (float32, n each, padded with −FLT_MAX), its exponentials eP and eQ and a per-entry
 * value x (float64, n each) and its gradient (float32, n). The logits are copied in and the
 * gradient row out: 0.3–0.4 ns per entry measured (bench/RESULTS.md), against the 7–14 that the
 * SIMD passes save.
 */
import { ROW_KINDS, type RowJob, rowOf } from './row-kinds.js';
import { ROWS_WASM_BASE64 } from './rows-wasm.js';

/** The module's exports (rows.wat): byte offsets into its memory, counts, scalars. */
export interface RowsExports {
  readonly memory: WebAssembly.Memory;
  maxima(pa: number, pb: number, n: number): void;
  exps(pa: number, pb: number, pp: number, pq: number, n: number, maxA: number, maxB: number, invT: number): void;
  gradDifference(pg: number, pq: number, pp: number, n: number, cq: number, cp: number): void;
  gradScaled(pg: number, pq: number, px: number, n: number, cq: number, shift: number): void;
  gradReverseKL(pg: number, pq: number, pa: number, pb: number, n: number, cq: number, offset: number, invT: number, base: number): void;
  tvdSums(pp: number, pq: number, px: number, n: number, invP: number, invQ: number): void;
  skewKLSums(pp: number, pq: number, px: number, n: number, alpha: number, kq: number): void;
  skewReverseKLSums(pp: number, pq: number, px: number, n: number, alpha: number, kp: number): void;
  jsdSums(pa: number, pb: number, pp: number, pq: number, px: number, n: number, beta: number, kappa: number, invT: number, shift: number): void;
  expInPlace(p: number, n: number): void;
  logInPlace(p: number, n: number): void;
}

/** This thread's instance, its views (remade when the memory grows) and its row layout. */
export interface SimdKernels {
  readonly x: RowsExports;
  f32: Float32Array;
  f64: Float64Array;
  /** The vocabulary rounded up to a multiple of 4, and the byte offsets of the row's arrays. */
  n: number;
  pa: number;
  pb: number;
  pp: number;
  pq: number;
  px: number;
  pg: number;
}

/** Where a pass leaves its sums (float64 index of byte 1024). */
const OUT = 128;
const ROW_START = 2048;
const PAD = -3.4028234663852886e38;

let kernels: SimdKernels | null | undefined;
let requested: boolean | undefined;

/** This thread's kernels, compiled on first use; null where WebAssembly SIMD is not available. */
export function simdKernels(): SimdKernels | null {
  if (kernels === undefined) kernels = instantiate();
  return kernels;
}

function instantiate(): SimdKernels | null {
  try {
    const binary = atob(ROWS_WASM_BASE64);
    const bytes = new Uint8Array(binary.length);
    for (let k = 0; k < binary.length; k++) bytes[k] = binary.charCodeAt(k);
    if (!WebAssembly.validate(bytes)) return null;
    const x = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as RowsExports;
    const buffer = x.memory.buffer;
    return { x, f32: new Float32Array(buffer), f64: new Float64Array(buffer), n: 0, pa: 0, pb: 0, pp: 0, pq: 0, px: 0, pg: 0 };
  } catch {
    return null;
  }
}

/**
 * Whether host kernels use the SIMD passes: `setHostSimd`, else MMKD_HOST_SIMD (0 turns them
 * off), else on; and in any case only where the module compiles here.
 */
export function hostSimd(): boolean {
  const wanted = requested ?? globalThis.process?.env?.['MMKD_HOST_SIMD'] !== '0';
  return wanted && simdKernels() !== null;
}

/** Chooses the SIMD passes (true, where available) or the JavaScript ones (false). */
export function setHostSimd(on: boolean): void {
  requested = on;
}

/** Whether a kind has SIMD passes. */
export function simdKind(kind: number): boolean {
  return kind !== ROW_KINDS.zero;
}

/** Lays a row of `vocab` entries out in the module's memory, growing it when needed. */
function layout(k: SimdKernels, vocab: number): void {
  const n = (vocab + 3) & ~3;
  if (n === k.n && k.f32.buffer === k.x.memory.buffer) return;
  const end = ROW_START + 40 * n;
  const have = k.x.memory.buffer.byteLength;
  if (end > have) k.x.memory.grow(Math.ceil((end - have) / 65536));
  // Growing detaches the old buffer (here or in a test's use of the module).
  if (k.f32.buffer !== k.x.memory.buffer) {
    k.f32 = new Float32Array(k.x.memory.buffer);
    k.f64 = new Float64Array(k.x.memory.buffer);
  }
  k.n = n;
  k.pa = ROW_START;
  k.pb = k.pa + 4 * n;
  k.pp = k.pb + 4 * n;
  k.pq = k.pp + 8 * n;
  k.px = k.pq + 8 * n;
  k.pg = k.px + 8 * n;
}

/**
 * Row i of `job` (a kind for which `simdKind` holds): ℓ_i, and ∂(w_i ℓ_i)/∂b_i into the job's
 * gradient. The closed forms are rows.ts's (see there for each rule's derivation).
 */
export function simdRow(job: RowJob, k: SimdKernels, i: number): number {
  const { kind, vocab, invT } = job;
  layout(k, vocab);
  const { x, n, pa, pb, pp, pq, px, pg } = k;
  const ob = rowOf(job.rowsB, i) * job.widthB;
  const oa = rowOf(job.rowsA, i) * job.widthA;
  const f32 = k.f32;
  f32.set(job.a.subarray(oa, oa + vocab), pa >> 2);
  f32.set(job.b.subarray(ob, ob + vocab), pb >> 2);
  if (vocab < n) {
    f32.fill(PAD, (pa >> 2) + vocab, (pa >> 2) + n);
    f32.fill(PAD, (pb >> 2) + vocab, (pb >> 2) + n);
  }
  x.maxima(pa, pb, n);
  const f64 = k.f64;
  const maxA = f64[OUT]!;
  const maxB = f64[OUT + 1]!;
  x.exps(pa, pb, pp, pq, n, maxA, maxB, invT);
  const sumA = f64[OUT]!;
  const sumB = f64[OUT + 1]!;
  const invP = 1 / sumA;
  const invQ = 1 / sumB;
  const logSumA = Math.log(sumA);
  const logSumB = Math.log(sumB);
  const c = job.weights[i]! * invT;
  const grad = job.grad;
  let loss: number;
  switch (kind) {
    case ROW_KINDS.forwardKL:
    case ROW_KINDS.softCE:
      loss = kind === ROW_KINDS.softCE ? logSumB - f64[OUT + 4]! * invP * invT : f64[OUT + 2]! * invP * invT - logSumA + logSumB;
      if (grad !== null) x.gradDifference(pg, pq, pp, n, c * invQ, c * invP);
      break;
    case ROW_KINDS.reverseKL: {
      const shift = logSumA - logSumB;
      loss = f64[OUT + 3]! * invQ * invT + shift;
      if (grad !== null) x.gradReverseKL(pg, pq, pa, pb, n, c * invQ, maxA - maxB, invT, shift - loss);
      break;
    }
    case ROW_KINDS.tvd:
      x.tvdSums(pp, pq, px, n, invP, invQ);
      loss = 0.5 * f64[OUT]!;
      if (grad !== null) x.gradScaled(pg, pq, px, n, 0.5 * c * invQ, f64[OUT + 1]!);
      break;
    case ROW_KINDS.skewKL: {
      const alpha = job.param;
      x.skewKLSums(pp, pq, px, n, alpha, (1 - alpha) * (invQ / invP));
      loss = f64[OUT]! * invP;
      if (grad !== null) x.gradScaled(pg, pq, px, n, -(1 - alpha) * c * invQ, f64[OUT + 1]! * invQ);
      break;
    }
    case ROW_KINDS.skewReverseKL: {
      const alpha = job.param;
      x.skewReverseKLSums(pp, pq, px, n, alpha, (1 - alpha) * (invP / invQ));
      loss = f64[OUT]! * invQ;
      if (grad !== null) x.gradScaled(pg, pq, px, n, c * invQ, loss - alpha * f64[OUT + 1]! * invQ);
      break;
    }
    case ROW_KINDS.jsd: {
      // JSD = β·KL(p ‖ m) + (1−β)·KL(q ‖ m); h = (1−β)·q·log(q/m), Σh = (1−β)·KL(q ‖ m).
      const beta = job.param;
      x.jsdSums(pa, pb, pp, pq, px, n, beta, invQ / invP, invT, (maxA - maxB) * invT + logSumA - logSumB);
      const klQ = f64[OUT + 1]! * invQ;
      loss = beta * f64[OUT]! * invP + (1 - beta) * klQ;
      if (grad !== null) x.gradScaled(pg, pq, px, n, c * (1 - beta) * invQ, klQ);
      break;
    }
    default:
      throw new Error(`internal: host row kind ${String(kind)} has no SIMD passes`);
  }
  if (grad !== null) grad.set(k.f32.subarray(pg >> 2, (pg >> 2) + vocab), ob);
  return loss;
}

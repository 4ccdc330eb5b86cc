import type { BackendName } from '../backends/types.js';
import { formatIndex } from '../core/finite.js';

/**
 * Tolerances of the property suite: one table per backend, for loss values and gradients
 * (JAX keeps its tolerances as data in the same way, `public_test_util.py`).
 *
 * A value passes when |actual − expected| ≤ atol + rtol · |expected| (numpy's `allclose`).
 * The expected value is the float64 reference; the actual value comes from a float32 backend.
 *
 * How the numbers were chosen. The float32 forward pass was emulated (every operation rounded
 * with Math.fround, log-softmax with the max subtracted, as the backends compute it) on 3000
 * batches from `distillationBatch` (|logits| ≤ 20, T ∈ [0.5, 4], so log-probs reach about −80)
 * and compared with this reference. For forward KL, reverse KL and JSD, every per-token value
 * was within 1e-6 + 1.3e-6·|expected|, and every gradient entry of the mean forward KL
 * (with respect to the student logits) within 1e-6 absolute. The cpu and wasm rows leave a
 * factor of about 10 on that, and a wider relative part for the matmul-based losses
 * (relation, affinity, projected features). WebGPU's WGSL exp and log are guaranteed only to
 * a few ulp (log: 2^-21 absolute near 1), and CUDA (node-gpu) may run matmuls in TF32 (10-bit
 * mantissa) on Ampere and later GPUs, so those rows are looser. Tighten them when measurements
 * on real hardware allow.
 *
 * The table is per token, or per mean. A `sum` reduction over N tokens adds N per-token
 * errors: compare it with `loosen(tol, N)`.
 */
export type Quantity = 'value' | 'gradient';

export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

export const TOLERANCES: Readonly<Record<BackendName, Readonly<Record<Quantity, Tolerance>>>> = {
  cpu: {
    value: { atol: 1e-5, rtol: 1e-5 },
    gradient: { atol: 5e-6, rtol: 1e-4 },
  },
  wasm: {
    value: { atol: 1e-5, rtol: 1e-5 },
    gradient: { atol: 5e-6, rtol: 1e-4 },
  },
  webgpu: {
    value: { atol: 1e-4, rtol: 1e-4 },
    gradient: { atol: 5e-5, rtol: 1e-3 },
  },
  'node-gpu': {
    value: { atol: 1e-3, rtol: 1e-3 },
    gradient: { atol: 1e-4, rtol: 5e-3 },
  },
};

/** The tolerance for `quantity` on `backend`. */
export function toleranceFor(backend: BackendName, quantity: Quantity): Tolerance {
  return TOLERANCES[backend][quantity];
}

/** A tolerance `factor` times looser (e.g. for a loss that sums many terms). */
export function loosen(tol: Tolerance, factor: number): Tolerance {
  return { atol: tol.atol * factor, rtol: tol.rtol * factor };
}

/** Whether one value is within tolerance; non-finite values must match exactly (NaN matches NaN). */
export function isClose(actual: number, expected: number, tol: Tolerance): boolean {
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) {
    return Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected));
  }
  return Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected);
}

/** The multi-index of a flat index in `shape`, or the flat index itself without a shape. */
const multiIndex = (flat: number, shape: readonly number[] | undefined): string =>
  shape === undefined || shape.length === 0 ? `[${flat}]` : formatIndex(flat, shape);

/**
 * Throws an Error unless `actual` and `expected` (numbers or arrays of the same length) agree
 * within `tol` everywhere. The message names `what`, the first index that differs (as a
 * multi-index when `shape` is given), both values, the difference and the allowance, and how
 * many entries differ in all.
 */
export function expectClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  tol: Tolerance,
  what: string,
  shape?: readonly number[],
): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  if (a.length !== e.length) throw new Error(`${what}: got ${a.length} values, expected ${e.length}`);
  let first = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (!isClose(a[i]!, e[i]!, tol)) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return;
  const x = a[first]!;
  const y = e[first]!;
  const where = typeof actual === 'number' && typeof expected === 'number' ? '' : ` at ${multiIndex(first, shape)}`;
  throw new Error(
    `${what}${where}: got ${x}, expected ${y} (|diff| ${Math.abs(x - y)} > ${tol.atol} + ${tol.rtol}·|expected| = ` +
      `${tol.atol + tol.rtol * Math.abs(y)})${count > 1 ? `; ${count} of ${a.length} entries differ` : ''}`,
  );
}

/**
 * Softmax and log-softmax of one row of logits at a temperature, in float64.
 *
 *     z = x / T,   m = max_v z_v
 *     log softmax(z)_v = z_v − m − log Σ_u exp(z_u − m)
 *
 * Subtracting the max keeps every exp argument ≤ 0, so nothing overflows; the largest term
 * is exp(0) = 1, so the log's argument is in [1, V] and never underflows to log 0.
 */
import { checkFinite, checkTemperature } from './checks.js';

/** log Σ_v exp(x_v), stable; −∞ for an all −∞ row (not NaN). */
export function logSumExp(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let v = 0; v < row.length; v++) m = Math.max(m, row[v]!);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let v = 0; v < row.length; v++) s += Math.exp(row[v]! - m);
  return m + Math.log(s);
}

/** log softmax(row / T), shape [V]. Logits must be finite. */
export function logSoftmax(row: ArrayLike<number>, temperature = 1): Float64Array {
  checkTemperature(temperature);
  checkFinite('logits', row);
  if (row.length === 0) throw new RangeError('logSoftmax: empty row');
  const z = new Float64Array(row.length);
  for (let v = 0; v < row.length; v++) z[v] = row[v]! / temperature;
  const lse = logSumExp(z);
  for (let v = 0; v < z.length; v++) z[v] = z[v]! - lse;
  return z;
}

/** softmax(row / T), shape [V]. */
export function softmax(row: ArrayLike<number>, temperature = 1): Float64Array {
  const out = logSoftmax(row, temperature);
  for (let v = 0; v < out.length; v++) out[v] = Math.exp(out[v]!);
  return out;
}

/** Row `r` of a flat [rows, V] array, as a subarray view when possible. */
export function rowOf(data: ArrayLike<number>, r: number, vocab: number): ArrayLike<number> {
  if (data instanceof Float64Array || data instanceof Float32Array) return data.subarray(r * vocab, (r + 1) * vocab);
  return Array.prototype.slice.call(data, r * vocab, (r + 1) * vocab) as number[];
}

/**
 * Argument checks shared by the reference functions. The reference is the oracle of the
 * property suite, so it refuses malformed input loudly instead of computing something.
 */

/** Throws unless `data.length === expected`. */
export function checkLength(what: string, data: ArrayLike<number>, expected: number, shape: string): void {
  if (data.length !== expected) {
    throw new RangeError(`${what}: expected ${expected} values for shape ${shape}, got ${data.length}`);
  }
}

/** Throws, naming the first bad index, unless every value of `data` is finite. */
export function checkFinite(what: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new RangeError(`${what}: value ${data[i]} at flat index ${i} is not finite`);
  }
}

/** Throws unless `n` is a non-negative integer (a size). */
export function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: ${n} is not a non-negative integer`);
}

/** Throws unless `x` lies in [lo, hi]. */
export function checkInRange(what: string, x: number, lo: number, hi: number): void {
  if (!(x >= lo && x <= hi)) throw new RangeError(`${what}: ${x} is outside [${lo}, ${hi}]`);
}

/** Throws unless `t` is a finite temperature > 0. */
export function checkTemperature(t: number): void {
  if (!(Number.isFinite(t) && t > 0)) throw new RangeError(`temperature: ${t} is not a finite number > 0`);
}

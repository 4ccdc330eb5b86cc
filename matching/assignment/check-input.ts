/**
 * Input checks shared by the sequential and batched solvers, with messages that name the
 * offending value.
 */
import { AssignmentError } from './error.js';
import type { CostArray } from './types.js';

/** Throws unless n and m are non-negative integers and `cost` is a float array of n·m cells. */
export function checkShape(cost: unknown, n: number, m: number): asserts cost is CostArray {
  if (!Number.isSafeInteger(n) || n < 0) throw new AssignmentError(`n must be a non-negative integer, got ${String(n)}`);
  if (!Number.isSafeInteger(m) || m < 0) throw new AssignmentError(`m must be a non-negative integer, got ${String(m)}`);
  if (!(cost instanceof Float64Array || cost instanceof Float32Array)) {
    throw new AssignmentError(`cost must be a Float64Array or Float32Array`);
  }
  if (cost.length !== n * m) {
    throw new AssignmentError(`cost has ${cost.length} entries, but a ${n}×${m} matrix needs n·m = ${n * m}`);
  }
}

/**
 * The first cell, in row-major order, that the solver cannot accept: NaN, and the infinity of
 * the wrong sign (−∞ when minimizing, +∞ when maximizing; the other one marks a forbidden pair).
 * O(n·m); called only after a kernel has flagged the input, so valid inputs never pay for it.
 */
export function badCellMessage(cost: CostArray, n: number, m: number, maximize: boolean): string | undefined {
  const wrong = maximize ? Infinity : -Infinity;
  for (let p = 0; p < n * m; p++) {
    const x = cost[p]!;
    if (x !== x || x === wrong) {
      const cell = `cost[${Math.floor(p / m)}, ${p % m}]`;
      if (x !== x) return `${cell} is NaN`;
      return maximize
        ? `${cell} is +Infinity; with maximize, -Infinity marks a forbidden pair and +Infinity is not allowed`
        : `${cell} is -Infinity; only +Infinity (a forbidden pair) is allowed`;
    }
  }
  return undefined;
}

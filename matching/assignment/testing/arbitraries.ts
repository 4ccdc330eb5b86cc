/**
 * fast-check arbitraries for cost matrices: the shape is drawn first, then exactly n·m cells.
 */
import fc from 'fast-check';

export interface Matrix {
  readonly n: number;
  readonly m: number;
  readonly cost: Float64Array;
}

export const matrixOf = (cell: fc.Arbitrary<number>, maxN = 7, maxM = 7, minSide = 0): fc.Arbitrary<Matrix> =>
  fc
    .tuple(fc.integer({ min: minSide, max: maxN }), fc.integer({ min: minSide, max: maxM }))
    .chain(([n, m]) => fc.array(cell, { minLength: n * m, maxLength: n * m }).map((xs) => ({ n, m, cost: Float64Array.from(xs) })));

/** Finite floats of a moderate range: no NaN, no infinities, no subnormal noise. */
export const floatCell = fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });
/** Small integers: most matrices have many equal-cost alternatives. */
export const tiedCell = fc.integer({ min: 0, max: 3 });
/** Small integers with about one cell in four forbidden. */
export const forbiddenCell = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 9 }), weight: 3 }, { arbitrary: fc.constant(Infinity), weight: 1 });

/** Transpose of a row-major n×m matrix (m×n). */
export function transpose({ n, m, cost }: Matrix): Matrix {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = cost[i * m + j]!;
  return { n: m, m: n, cost: t };
}

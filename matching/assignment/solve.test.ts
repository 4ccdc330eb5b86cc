/**
 * Laws of `solveAssignment`, one named test each (optax's Hungarian test, with fast-check and a
 * brute-force oracle instead of scipy).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { certifyAssignment } from './certify.js';
import { AssignmentError } from './error.js';
import { solveAssignment } from './solve.js';
import { floatCell, forbiddenCell, type Matrix, matrixOf, tiedCell, transpose } from './testing/arbitraries.js';
import { bruteForceTotal } from './testing/brute-force.js';
import { seededCosts } from './testing/seeded-costs.js';
import type { AssignmentResult } from './types.js';

const close = (a: number, b: number, scale = 1): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, scale, Math.abs(a), Math.abs(b));

const solve = ({ n, m, cost }: Matrix, maximize = false): AssignmentResult => solveAssignment(cost, n, m, { maximize });

/** The solver's total, or the forbidden value when it reports the matrix infeasible. */
function totalOrForbidden(x: Matrix, maximize = false): number {
  try {
    return solve(x, maximize).total;
  } catch (e) {
    if (e instanceof AssignmentError && e.message.startsWith('infeasible')) return maximize ? -Infinity : Infinity;
    throw e;
  }
}

function expectOneToOne(r: AssignmentResult, n: number, m: number): void {
  const k = Math.min(n, m);
  expect(r.rows.length).toBe(k);
  expect(r.cols.length).toBe(k);
  expect(r.rowPotentials.length).toBe(n);
  expect(r.colPotentials.length).toBe(m);
  const seen = new Set<number>();
  for (let q = 0; q < k; q++) {
    expect(r.rows[q]).toBeGreaterThanOrEqual(0);
    expect(r.rows[q]).toBeLessThan(n);
    if (q > 0) expect(r.rows[q]).toBeGreaterThan(r.rows[q - 1]!);
    expect(r.cols[q]).toBeGreaterThanOrEqual(0);
    expect(r.cols[q]).toBeLessThan(m);
    seen.add(r.cols[q]!);
  }
  expect(seen.size).toBe(k);
}

describe('solveAssignment: optimality against brute force (all injections, n, m ≤ 7)', () => {
  it('float costs, tall, wide and square', () => {
    fc.assert(
      fc.property(matrixOf(floatCell), (x) => {
        const want = bruteForceTotal(x.cost, x.n, x.m);
        expect(close(solve(x).total, want, 100)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('integer costs in 0..3 (many ties)', () => {
    fc.assert(
      fc.property(matrixOf(tiedCell), (x) => {
        expect(solve(x).total).toBe(bruteForceTotal(x.cost, x.n, x.m));
      }),
      { numRuns: 300 },
    );
  });

  it('+Infinity cells: the same optimum when feasible, an infeasibility error exactly when not', () => {
    fc.assert(
      fc.property(matrixOf(forbiddenCell), (x) => {
        expect(totalOrForbidden(x)).toBe(bruteForceTotal(x.cost, x.n, x.m));
      }),
      { numRuns: 400 },
    );
  });

  it('maximize, with −Infinity cells forbidden', () => {
    const cell = fc.oneof({ arbitrary: fc.integer({ min: -9, max: 9 }), weight: 4 }, { arbitrary: fc.constant(-Infinity), weight: 1 });
    fc.assert(
      fc.property(matrixOf(cell), (x) => {
        expect(totalOrForbidden(x, true)).toBe(bruteForceTotal(x.cost, x.n, x.m, true));
      }),
      { numRuns: 300 },
    );
  });
});

describe('solveAssignment: dual certificate on large random matrices', () => {
  const shapes: readonly (readonly [number, number])[] = [
    [200, 300],
    [300, 200],
    [576, 144],
    [144, 576],
    [256, 256],
    [210, 200], // nearly square tall: solved on a transposed copy
    [200, 210],
  ];
  for (const [n, m] of shapes) {
    it(`${n}×${m}: float and integer costs, minimize and maximize`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom('float', 'int'), fc.boolean(), (seed, kind, maximize) => {
          const cost = seededCosts(kind, n, m, seed);
          const r = solveAssignment(cost, n, m, { maximize });
          expect(certifyAssignment(cost, n, m, r, { maximize })).toEqual({ ok: true });
        }),
        { numRuns: 6 },
      );
    });
  }

  it('float32 input, with forbidden cells', () => {
    const n = 120;
    const m = 90;
    const cost = Float32Array.from(seededCosts('float', n, m, 7), (x, p) => (p % 7 === 3 ? Infinity : x));
    const r = solveAssignment(cost, n, m);
    expect(certifyAssignment(cost, n, m, r)).toEqual({ ok: true });
  });
});

describe('solveAssignment: the result is a one-to-one matching', () => {
  it('k = min(n, m) pairs, rows ascending, distinct columns, potentials of length n and m', () => {
    fc.assert(
      fc.property(matrixOf(fc.oneof(floatCell, tiedCell), 40, 40), (x) => {
        expectOneToOne(solve(x), x.n, x.m);
      }),
      { numRuns: 200 },
    );
  });

  it('total is the sum of the original costs over the pairs', () => {
    fc.assert(
      fc.property(matrixOf(floatCell, 30, 30), fc.boolean(), (x, maximize) => {
        const r = solve(x, maximize);
        let sum = 0;
        for (let q = 0; q < r.rows.length; q++) sum += x.cost[r.rows[q]! * x.m + r.cols[q]!]!;
        expect(r.total).toBe(sum);
      }),
      { numRuns: 100 },
    );
  });

  it('leaves the input unchanged', () => {
    const cost = seededCosts('float', 50, 20, 3);
    const copy = cost.slice();
    solveAssignment(cost, 50, 20, { maximize: true });
    solveAssignment(cost, 50, 20);
    expect(cost).toEqual(copy);
  });
});

describe('solveAssignment: shapes', () => {
  const sides = [0, 1, 2, 4, 8, 16];
  for (const n of sides) {
    for (const m of sides) {
      it(`${n}×${m}`, () => {
        const cost = seededCosts('float', n, m, 31 * n + m);
        const r = solveAssignment(cost, n, m);
        expectOneToOne(r, n, m);
        expect(certifyAssignment(cost, n, m, r)).toEqual({ ok: true });
        if (Math.min(n, m) === 0) {
          expect(r.total).toBe(0);
          expect(r.rowPotentials.every((x) => x === 0)).toBe(true);
          expect(r.colPotentials.every((x) => x === 0)).toBe(true);
        } else if (Math.max(n, m) <= 8) {
          expect(close(r.total, bruteForceTotal(cost, n, m))).toBe(true);
        }
      });
    }
  }

  it('an empty Float32Array 0×5 and 5×0', () => {
    expect(solveAssignment(new Float32Array(0), 0, 5).total).toBe(0);
    expect(solveAssignment(new Float32Array(0), 5, 0).rowPotentials).toEqual(new Float64Array(5));
  });
});

describe('solveAssignment: invariance of the optimal total', () => {
  const medium = matrixOf(floatCell, 24, 24, 1);
  const constant = fc.double({ min: -50, max: 50, noNaN: true });
  /** x, or its transpose, with at most as many rows as columns (`wide`) or columns as rows (`tall`). */
  const wide = (x: Matrix): Matrix => (x.n <= x.m ? x : transpose(x));
  const tall = (x: Matrix): Matrix => (x.m <= x.n ? x : transpose(x));
  const addToRow = (y: Matrix, i: number, c: number): Matrix => {
    const cost = y.cost.slice();
    for (let j = 0; j < y.m; j++) cost[i * y.m + j]! += c;
    return { ...y, cost };
  };
  const addToColumn = (y: Matrix, j: number, c: number): Matrix => {
    const cost = y.cost.slice();
    for (let i = 0; i < y.n; i++) cost[i * y.m + j]! += c;
    return { ...y, cost };
  };
  /** A law of a medium matrix x, a constant c and a row or column `pick`, over 150 cases. */
  const shiftLaw = (law: (x: Matrix, c: number, pick: number) => void) => () => fc.assert(fc.property(medium, constant, fc.nat(), law), { numRuns: 150 });

  it(
    'adding c to one row of the smaller side (or of either side when square) adds exactly c',
    shiftLaw((x, c, pick) => {
      const y = wide(x); // rows are now the smaller side
      expect(close(solve(addToRow(y, pick % y.n, c)).total, solve(y).total + c, 200)).toBe(true);
    }),
  );

  it(
    'adding c to one column of the smaller side adds exactly c',
    shiftLaw((x, c, pick) => {
      const y = tall(x); // columns are now the smaller side
      expect(close(solve(addToColumn(y, pick % y.m, c)).total, solve(y).total + c, 200)).toBe(true);
    }),
  );

  it(
    'adding c to one item of the larger side moves the total by an amount between min(0, c) and max(0, c), not by c',
    // The item may be left unmatched (change 0), stay matched (change c), or be swapped out.
    shiftLaw((x, c, pick) => {
      const y = wide(x); // columns are now the larger side
      const delta = solve(addToColumn(y, pick % y.m, c)).total - solve(y).total;
      const slack = 1e-9 * 200 * (y.n + 1);
      expect(delta).toBeGreaterThanOrEqual(Math.min(0, c) - slack);
      expect(delta).toBeLessThanOrEqual(Math.max(0, c) + slack);
    }),
  );

  it('adding c to every cell adds k·c', () => {
    fc.assert(
      fc.property(medium, constant, (x, c) => {
        const k = Math.min(x.n, x.m);
        expect(close(solve({ ...x, cost: x.cost.map((v) => v + c) }).total, solve(x).total + k * c, 200 * k)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('solveAssignment: symmetries', () => {
  it('transposing the matrix leaves the optimal total unchanged', () => {
    fc.assert(
      fc.property(matrixOf(fc.oneof(floatCell, tiedCell, forbiddenCell), 30, 30, 1), (x) => {
        const a = totalOrForbidden(x);
        const b = totalOrForbidden(transpose(x));
        expect(a === b || close(a, b, 100 * 30)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('maximizing C equals minimizing −C', () => {
    fc.assert(
      fc.property(matrixOf(fc.oneof(floatCell, tiedCell), 30, 30, 1), (x) => {
        const max = solve(x, true);
        const negated = { ...x, cost: x.cost.map((v) => -v) };
        expect(close(max.total, -solve(negated).total, 100 * 30)).toBe(true);
        expect(certifyAssignment(x.cost, x.n, x.m, max, { maximize: true })).toEqual({ ok: true });
      }),
      { numRuns: 150 },
    );
  });

  it('float32 input solves like its float64 widening', () => {
    fc.assert(
      fc.property(matrixOf(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), 20, 20), (x) => {
        const f32 = Float32Array.from(x.cost);
        const r32 = solveAssignment(f32, x.n, x.m);
        const r64 = solveAssignment(Float64Array.from(f32), x.n, x.m);
        expect(r32.total).toBe(r64.total);
      }),
      { numRuns: 100 },
    );
  });
});

describe('solveAssignment: errors', () => {
  const grid = (n: number, m: number, at: number, value: number): Float64Array => {
    const c = seededCosts('float', n, m, 1);
    c[at] = value;
    return c;
  };

  it('NaN names the first bad cell', () => {
    const c = grid(5, 9, 3 * 9 + 7, NaN);
    c[4 * 9 + 1] = NaN;
    expect(() => solveAssignment(c, 5, 9)).toThrow(new AssignmentError('cost[3, 7] is NaN'));
    expect(() => solveAssignment(Float32Array.from(c), 5, 9)).toThrow('cost[3, 7] is NaN');
    expect(() => solveAssignment(grid(9, 5, 2 * 5 + 4, NaN), 9, 5)).toThrow('cost[2, 4] is NaN');
    expect(() => solveAssignment(grid(6, 6, 0, NaN), 6, 6)).toThrow('cost[0, 0] is NaN');
  });

  it('−Infinity names the first bad cell; under maximize +Infinity does', () => {
    expect(() => solveAssignment(grid(5, 9, 3 * 9 + 7, -Infinity), 5, 9)).toThrow('cost[3, 7] is -Infinity; only +Infinity (a forbidden pair) is allowed');
    expect(() => solveAssignment(grid(9, 5, 8 * 5, -Infinity), 9, 5)).toThrow('cost[8, 0] is -Infinity');
    expect(() => solveAssignment(grid(4, 4, 5, -Infinity), 4, 4)).toThrow('cost[1, 1] is -Infinity');
    expect(() => solveAssignment(grid(4, 6, 5, Infinity), 4, 6, { maximize: true })).toThrow(
      'cost[0, 5] is +Infinity; with maximize, -Infinity marks a forbidden pair and +Infinity is not allowed',
    );
  });

  it('an infeasible matrix names the row or column that could not be matched', () => {
    const I = Infinity;
    // Row 1 has no finite cell at all.
    expect(() => solveAssignment(Float64Array.of(1, 2, 3, I, I, I, 4, 5, 6), 3, 3)).toThrow(
      'infeasible cost matrix: row 1 could not be matched to any column without a forbidden pair (+Infinity)',
    );
    // Forbidden cells that still leave a complete matching; then rows 0 and 1 competing for
    // column 0 alone (Hall's condition fails for {0, 1}).
    expect(solveAssignment(Float64Array.of(1, I, I, I, I, 2, I, I, 3, 4, 5, 6), 3, 4).total).toBe(8);
    expect(() => solveAssignment(Float64Array.of(1, I, I, 2, I, I, 3, 4, 5), 3, 3)).toThrow(/^infeasible cost matrix: row [01] could not be matched/);
    // Tall: column 1 (the smaller side) has no finite cell.
    expect(() => solveAssignment(Float64Array.of(1, I, 2, I, 3, I), 3, 2)).toThrow(
      'infeasible cost matrix: column 1 could not be matched to any row without a forbidden pair (+Infinity)',
    );
    // Square, found during column reduction.
    expect(() => solveAssignment(Float64Array.of(1, I, 2, I), 2, 2)).toThrow(/^infeasible cost matrix: column 1/);
    expect(() => solveAssignment(Float64Array.of(1, -I, 2, -I), 2, 2, { maximize: true })).toThrow(
      /^infeasible cost matrix: column 1 could not be matched to any row without a forbidden pair \(-Infinity\)/,
    );
  });

  it('bad shapes are rejected with the reason', () => {
    expect(() => solveAssignment(new Float64Array(5), 2, 3)).toThrow(new AssignmentError('cost has 5 entries, but a 2×3 matrix needs n·m = 6'));
    expect(() => solveAssignment(new Float64Array(6), 2.5, 3)).toThrow('n must be a non-negative integer, got 2.5');
    expect(() => solveAssignment(new Float64Array(6), 2, -3)).toThrow('m must be a non-negative integer, got -3');
    expect(() => solveAssignment(new Float64Array(0), NaN, 0)).toThrow('n must be a non-negative integer, got NaN');
    expect(() => solveAssignment([1, 2] as unknown as Float64Array, 1, 2)).toThrow('cost must be a Float64Array or Float32Array');
  });
});

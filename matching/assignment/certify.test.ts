/** The certificate must accept what the solver returns and reject any tampering with it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { certifyAssignment } from './certify.js';
import { solveAssignment } from './solve.js';
import { seededCosts } from './testing/seeded-costs.js';
import type { AssignmentResult } from './types.js';

const n = 30;
const m = 45;
const cost = seededCosts('float', n, m, 11);
const good = solveAssignment(cost, n, m);
const withPairs = (rows: Int32Array, cols: Int32Array, total = good.total): AssignmentResult => ({ ...good, rows, cols, total });

describe('certifyAssignment', () => {
  it('accepts the solver result', () => {
    expect(certifyAssignment(cost, n, m, good)).toEqual({ ok: true });
  });

  it('rejects a suboptimal matching (two rows swap their columns)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 }), (a, b) => {
        fc.pre(a !== b);
        const cols = good.cols.slice();
        [cols[a], cols[b]] = [cols[b]!, cols[a]!];
        let total = 0;
        for (let q = 0; q < n; q++) total += cost[q * m + cols[q]!]!;
        expect(certifyAssignment(cost, n, m, withPairs(good.rows, cols, total)).ok).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a perturbed potential', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: n + m - 1 }), fc.constantFrom(-1e-3, 1e-3), (t, eps) => {
        const u = good.rowPotentials.slice();
        const v = good.colPotentials.slice();
        if (t < n) u[t]! += eps;
        else v[t - n]! += eps;
        expect(certifyAssignment(cost, n, m, { ...good, rowPotentials: u, colPotentials: v }).ok).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a wrong total, a repeated column, unsorted rows and wrong lengths', () => {
    expect(certifyAssignment(cost, n, m, { ...good, total: good.total + 1e-3 })).toMatchObject({ ok: false });
    const dup = good.cols.slice();
    dup[1] = dup[0]!;
    expect(certifyAssignment(cost, n, m, withPairs(good.rows, dup))).toMatchObject({ ok: false, reason: expect.stringMatching(/used twice/) });
    const rows = good.rows.slice().reverse();
    expect(certifyAssignment(cost, n, m, withPairs(rows, good.cols.slice().reverse()))).toMatchObject({ ok: false });
    expect(certifyAssignment(cost, n, m, withPairs(good.rows.subarray(1), good.cols.subarray(1)))).toMatchObject({ ok: false });
  });

  it('rejects a non-zero potential on an unmatched item of the larger side', () => {
    const used = new Set(good.cols);
    const j = [...Array(m).keys()].find((c) => !used.has(c))!;
    const v = good.colPotentials.slice();
    v[j] = -0.5; // still feasible (lower), but the dual value no longer equals the total
    expect(certifyAssignment(cost, n, m, { ...good, colPotentials: v })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unmatched column/),
    });
  });

  it('rejects a pair on a forbidden cell', () => {
    const c = cost.slice();
    c[good.rows[0]! * m + good.cols[0]!] = Infinity;
    expect(certifyAssignment(c, n, m, good)).toMatchObject({ ok: false, reason: expect.stringMatching(/forbidden/) });
  });
});

/**
 * Checks of the suite's own tools: the arbitraries generate what the laws assume, and the
 * tolerance helper reports the first difference precisely.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  distillationBatch,
  LIMITS,
  labelsFor,
  logitsBatch,
  pairedRoleBatches,
  ROLE,
  roleBatch,
  simplexRows,
  temperature,
  unitInterval,
} from '../arbitraries.js';
import { expectClose, isClose, loosen, TOLERANCES, toleranceFor } from '../tolerances.js';
import { pairSelections, selectPositions } from './selection.js';

describe('arbitraries', () => {
  it('logits batches are float32, bounded and within the size limits', () => {
    fc.assert(
      fc.property(logitsBatch(), (x) => {
        expect(x.data).toBeInstanceOf(Float32Array);
        expect(x.data.length).toBe(x.B * x.T * x.V);
        expect(x.B).toBeLessThanOrEqual(LIMITS.maxBatch);
        expect(x.T).toBeLessThanOrEqual(LIMITS.maxSteps);
        expect(x.V).toBeLessThanOrEqual(LIMITS.maxVocab);
        for (const v of x.data) expect(Math.abs(v)).toBeLessThanOrEqual(20);
      }),
    );
  });
  it('role batches follow the LLaVA layout: prompt, visual, prompt, response, pad', () => {
    fc.assert(
      fc.property(roleBatch(), (r) => {
        expect(r.roles.length).toBe(r.B * r.T);
        for (let b = 0; b < r.B; b++) {
          const row = Array.from(r.roles.subarray(b * r.T, (b + 1) * r.T));
          const text = row.map((c) => '_pvr'[c]).join('');
          expect(text).toMatch(/^p{0,2}v{0,4}p{0,2}r{0,4}_*$/);
        }
      }),
    );
  });
  it('empty roles, unequal visual counts and masked labels all occur', () => {
    let emptyVisual = 0;
    let unequal = 0;
    let maskedResponse = 0;
    fc.assert(
      fc.property(pairedRoleBatches(), fc.integer({ min: 2, max: 9 }), ({ teacher, student }, V) => {
        if (teacher.layouts.some((l) => l.visual === 0)) emptyVisual++;
        if (teacher.layouts.some((l, b) => l.visual !== student.layouts[b]!.visual)) unequal++;
        const labels = fc.sample(labelsFor(student, V), { numRuns: 1, seed: 1 })[0]!;
        labels.forEach((y, i) => {
          if (student.roles[i] === ROLE.response) {
            if (y === -100) maskedResponse++;
            else expect(y >= 0 && y < V).toBe(true);
          } else {
            expect(y).toBe(-100);
          }
        });
      }),
      { numRuns: 200 },
    );
    expect(emptyVisual).toBeGreaterThan(10);
    expect(unequal).toBeGreaterThan(10);
    expect(maskedResponse).toBeGreaterThan(10);
  });
  it('with sameVisual, teacher and student views pair up', () => {
    fc.assert(
      fc.property(distillationBatch({ sameVisual: true }), (d) => {
        for (const roles of [['visual'], ['response']] as const) {
          const t = selectPositions(d.teacher.roles, d.teacher.B, d.teacher.T, roles, 0);
          const s = selectPositions(d.student.roles, d.student.B, d.student.T, roles, 0);
          expect(() => pairSelections(t, s)).not.toThrow();
        }
        expect(d.teacher.logits.length).toBe(d.teacher.B * d.teacher.T * d.V);
        expect(d.labels.length).toBe(d.student.B * d.student.T);
      }),
    );
  });
  it('simplex rows are distributions, and some have exact zeros', () => {
    let zeros = 0;
    fc.assert(
      fc.property(simplexRows(3, 5), (r) => {
        for (let i = 0; i < 3; i++) {
          const row = r.subarray(i * 5, (i + 1) * 5);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
          for (const p of row) expect(p).toBeGreaterThanOrEqual(0);
          if (row.includes(0)) zeros++;
        }
      }),
    );
    expect(zeros).toBeGreaterThan(0);
  });
  it('temperatures and weights are float32-exact, in range, and hit the endpoints', () => {
    const ts = fc.sample(temperature, { numRuns: 500, seed: 5 });
    const ws = fc.sample(unitInterval, { numRuns: 500, seed: 5 });
    for (const t of ts) {
      expect(t).toBeGreaterThanOrEqual(0.5);
      expect(t).toBeLessThanOrEqual(4);
      expect(Math.fround(t)).toBe(t);
    }
    for (const w of ws) {
      expect(w >= 0 && w <= 1).toBe(true);
      expect(Math.fround(w)).toBe(w);
    }
    expect(ws).toContain(0);
    expect(ws).toContain(1);
    expect(ts).toContain(1);
  });
});

describe('tolerances', () => {
  it('has a value and a gradient tolerance for every backend', () => {
    for (const backend of ['cpu', 'wasm', 'webgpu', 'node-gpu'] as const) {
      for (const q of ['value', 'gradient'] as const) {
        const t = toleranceFor(backend, q);
        expect(t).toBe(TOLERANCES[backend][q]);
        expect(t.atol).toBeGreaterThan(0);
        expect(t.rtol).toBeGreaterThan(0);
      }
    }
  });
  it('isClose combines absolute and relative parts; non-finite values must match exactly', () => {
    const tol = { atol: 1e-3, rtol: 1e-2 };
    expect(isClose(100.9, 100, tol)).toBe(true);
    expect(isClose(101.1, 100, tol)).toBe(false);
    expect(isClose(NaN, NaN, tol)).toBe(true);
    expect(isClose(NaN, 0, tol)).toBe(false);
    expect(isClose(Infinity, Infinity, tol)).toBe(true);
    expect(isClose(1e308, Infinity, tol)).toBe(false);
    expect(loosen(tol, 10)).toEqual({ atol: 1e-2, rtol: 1e-1 });
  });
  it('expectClose names what differs, where, and by how much', () => {
    const tol = { atol: 1e-6, rtol: 0 };
    expect(() => expectClose([1, 2, 3], [1, 2, 3], tol, 'kl')).not.toThrow();
    expect(() => expectClose([1, 2.1, 3.5, 4], [1, 2, 3, 4], tol, 'grad of kl', [2, 2])).toThrow(
      'grad of kl at [0, 1]: got 2.1, expected 2 (|diff| 0.10000000000000009 > 0.000001 + 0·|expected| = 0.000001); 2 of 4 entries differ',
    );
    expect(() => expectClose(0.5, 0.25, tol, 'loss')).toThrow('loss: got 0.5, expected 0.25');
    expect(() => expectClose([1], [1, 2], tol, 'x')).toThrow('x: got 1 values, expected 2');
  });
});

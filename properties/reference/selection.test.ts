/** Token selection by role, pairing, supervised CE selection and reduction weights. */
import { describe, expect, it } from 'vitest';
import { divergenceLossFromBatch } from './divergence-loss.js';
import { tokenDivergence } from './divergences.js';
import { reduce, reductionWeights } from './reduction.js';
import { pairedRows, pairSelections, selectPositions, selectSupervised } from './selection.js';
import { supervisedCEFromBatch, supervisedCELoss } from './supervised-ce.js';

// B = 2, T = 5. Sample 0: prompt, visual, visual, response, response.
//                Sample 1: prompt, visual, response, pad, pad.
const roles = [1, 2, 2, 3, 3, 1, 2, 3, 0, 0];
const arr = (a: Int32Array): number[] => Array.from(a);

describe('selectPositions', () => {
  it('selects by role without shift, in row-major order', () => {
    const s = selectPositions(roles, 2, 5, ['visual'], 0);
    expect(arr(s.flat)).toEqual([1, 2, 6]);
    expect(arr(s.sample)).toEqual([0, 0, 1]);
    expect(arr(s.position)).toEqual([1, 2, 1]);
    expect(arr(selectPositions(roles, 2, 5, ['response'], 0).flat)).toEqual([3, 4, 7]);
    expect(arr(selectPositions(roles, 2, 5, ['prompt', 'pad'], 0).flat)).toEqual([0, 5, 8, 9]);
  });
  it('selects next-token positions by the role of t + 1, never past T', () => {
    const s = selectPositions(roles, 2, 5, ['response'], 1);
    expect(arr(s.flat)).toEqual([2, 3, 6]);
    expect(arr(s.position)).toEqual([2, 3, 1]);
    // the last position of a row is never selected with shift 1
    expect(arr(selectPositions([3, 3, 3], 1, 3, ['response'], 1).flat)).toEqual([0, 1]);
  });
  it('gives an empty selection for an absent role or an empty batch', () => {
    expect(selectPositions(roles, 2, 5, [], 0).flat.length).toBe(0);
    expect(selectPositions([1, 1], 1, 2, ['visual'], 0).flat.length).toBe(0);
    expect(selectPositions([], 0, 4, ['visual'], 0).flat.length).toBe(0);
  });
  it('rejects unknown role codes and wrong sizes', () => {
    expect(() => selectPositions([1, 7], 1, 2, ['visual'], 0)).toThrow('roles: code 7 at [0, 1] is not one of');
    expect(() => selectPositions([1, 2, 3], 2, 2, ['visual'], 0)).toThrow('roles: expected 4 values for shape [2, 2], got 3');
  });
});

describe('pairSelections', () => {
  it('pairs teacher and student positions in order, sample by sample', () => {
    // teacher T = 6 with one more prompt token before the image than the student
    const teacherRoles = [1, 1, 2, 2, 3, 3, 1, 1, 2, 3, 0, 0];
    const t = selectPositions(teacherRoles, 2, 6, ['visual'], 0);
    const s = selectPositions(roles, 2, 5, ['visual'], 0);
    const p = pairSelections(t, s);
    expect(arr(p.teacher)).toEqual([2, 3, 8]);
    expect(arr(p.student)).toEqual([1, 2, 6]);
    expect(arr(p.sample)).toEqual([0, 0, 1]);
  });
  it('names the sample whose counts differ', () => {
    const t = selectPositions([2, 2, 2, 1, 2, 1], 2, 3, ['visual'], 0);
    const s = selectPositions([2, 2, 2, 1, 1, 1], 2, 3, ['visual'], 0);
    expect(() => pairSelections(t, s)).toThrow('pairSelections: sample 1 selects 1 teacher positions but 0 student positions');
  });
});

describe('selectSupervised', () => {
  const labels = [-100, -100, -100, 5, -100, -100, -100, 7, -100, -100];
  it('takes the student view and drops labels of −100 at t + shift', () => {
    const s = selectSupervised(roles, labels, 2, 5, 9, ['response'], 1);
    expect(arr(s.flat)).toEqual([2, 6]);
    expect(arr(s.target)).toEqual([5, 7]);
    expect(arr(s.sample)).toEqual([0, 1]);
    const unshifted = selectSupervised(roles, labels, 2, 5, 9, ['response'], 0);
    expect(arr(unshifted.flat)).toEqual([3, 7]);
  });
  it('rejects labels outside the vocabulary', () => {
    expect(() => selectSupervised(roles, labels, 2, 5, 6, ['response'], 1)).toThrow('labels: 7 at [1, 2] is neither −100 nor in [0, 6)');
  });
});

describe('supervised CE', () => {
  it('is ln V for uniform logits and −log softmax(b / T)_y in general', () => {
    expect(supervisedCELoss({ student: [0, 0, 0, 0], rows: 1, vocab: 4, target: [2] })).toBeCloseTo(Math.log(4), 15);
    const b = [1, 2, 0.5];
    const T = 2;
    const expected = -(b[1]! / T - Math.log(b.reduce((s, x) => s + Math.exp(x / T), 0)));
    expect(supervisedCELoss({ student: b, rows: 1, vocab: 3, target: [1], temperature: T })).toBeCloseTo(expected, 14);
    expect(supervisedCELoss({ student: b, rows: 1, vocab: 3, target: [1], temperature: T, scaleByTemperatureSquared: true })).toBeCloseTo(4 * expected, 14);
  });
  it('from a batch: selected rows only, −100 skipped, 0 when nothing is selected', () => {
    const V = 3;
    const data = Array.from({ length: 10 * V }, (_, i) => Math.sin(i));
    const labels = [-100, -100, -100, 2, -100, -100, -100, 0, -100, -100];
    const student = { data, B: 2, T: 5, width: V, roles };
    const loss = supervisedCEFromBatch({ student, labels, view: { roles: ['response'], shift: 1 } });
    const row = (i: number): number[] => data.slice(i * V, (i + 1) * V);
    const ce = (r: number[], y: number): number => Math.log(r.reduce((s, x) => s + Math.exp(x), 0)) - r[y]!;
    expect(loss).toBeCloseTo((ce(row(2), 2) + ce(row(6), 0)) / 2, 14);
    expect(supervisedCEFromBatch({ student, labels: new Array(10).fill(-100), view: { roles: ['response'], shift: 1 } })).toBe(0);
  });
});

describe('divergence loss from a batch', () => {
  it('pairs the views and averages the per-token divergences', () => {
    const V = 2;
    const t = Array.from({ length: 10 * V }, (_, i) => Math.cos(i));
    const s = Array.from({ length: 10 * V }, (_, i) => Math.sin(2 * i));
    const teacher = { data: t, B: 2, T: 5, width: V, roles };
    const student = { data: s, B: 2, T: 5, width: V, roles };
    const rows = pairedRows(teacher, student, { roles: ['response'], shift: 1 });
    expect(rows.rows).toBe(3);
    const row = (x: number[], i: number): number[] => x.slice(i * V, (i + 1) * V);
    const expected = [2, 3, 6].map((i) => tokenDivergence({ kind: 'reverseKL' }, row(t, i), row(s, i), 2)).reduce((a, b) => a + b) / 3;
    const loss = divergenceLossFromBatch({ teacher, student, view: { roles: ['response'], shift: 1 }, divergence: { kind: 'reverseKL' }, temperature: 2 });
    expect(loss).toBeCloseTo(expected, 14);
  });
});

describe('reduction weights', () => {
  it('mean, sum and sampleMean, with empty samples not counted in B′', () => {
    expect(Array.from(reductionWeights('mean', 3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(Array.from(reductionWeights('sum', 3))).toEqual([1, 1, 1]);
    expect(Array.from(reductionWeights('sampleMean', 3, [0, 0, 1]))).toEqual([0.25, 0.25, 0.5]);
    expect(Array.from(reductionWeights('sampleMean', 3, [0, 0, 2]))).toEqual([0.25, 0.25, 0.5]);
    expect(Array.from(reductionWeights('sampleMean', 4, [0, 1, 1, 1]))).toEqual([0.5, 1 / 6, 1 / 6, 1 / 6]);
  });
  it('reduce of nothing is 0', () => {
    expect(reduce([], 'mean')).toBe(0);
    expect(reduce([], 'sampleMean', [])).toBe(0);
  });
});

/** Closed-form checks of the relation, affinity and feature losses. */
import { describe, expect, it } from 'vitest';
import { affinityLoss, affinityLossFromBatch, smoothL1 } from './affinity.js';
import { featureLoss, featureLossFromBatch } from './feature.js';
import { relationLoss, relationLossFromBatch } from './relation.js';

const SQRT1_2 = Math.SQRT1_2;

describe('relation (RDist)', () => {
  // sample 0: one row, identical; sample 1: teacher rows e1, e2 (R = I), student rows e1, e1 (R = ones)
  const teacher = [1, 0, 1, 0, 0, 1];
  const student = [1, 0, 1, 0, 1, 0];
  const input = { teacher, student, rows: 3, teacherWidth: 2, studentWidth: 2, sample: [0, 1, 1] };
  it('is 0 for identical inputs, and for a scaled student (the cosine ignores scale)', () => {
    expect(relationLoss({ ...input, student: teacher })).toBeCloseTo(0, 15);
    expect(relationLoss({ ...input, student: teacher.map((x) => 3 * x) })).toBeCloseTo(0, 15);
  });
  it('keeps its value at small and large scales: no floor acts before zero, where the loss is 1', () => {
    for (const c of [1e-6, 1e-4, 1e-3, 1e6]) {
      const scaled = { ...input, teacher: teacher.map((x) => c * x), student: student.map((x) => x / c) };
      expect(relationLoss(scaled)).toBeCloseTo(relationLoss(input), 14);
      expect(relationLoss({ ...scaled, mode: 'batch' })).toBeCloseTo(relationLoss({ ...input, mode: 'batch' }), 14);
    }
    expect(relationLoss({ ...input, student: student.map(() => 0) })).toBe(1);
  });
  it('perSample: mean over samples of 1 − cos(R^T, R^S); ⟨I, 1⟩ / (√2 · 2) = 1/√2', () => {
    expect(relationLoss({ ...input, mode: 'perSample' })).toBeCloseTo((0 + (1 - SQRT1_2)) / 2, 15);
  });
  it('batch: one cosine of the concatenated R; (1, I) against (1, ones) gives 1 − 3/√15', () => {
    expect(relationLoss({ ...input, mode: 'batch' })).toBeCloseTo(1 - 3 / Math.sqrt(15), 15);
  });
  it('accepts different teacher and student widths', () => {
    // student rows padded with a zero column: same Gram matrices
    const wide = [1, 0, 0, 1, 0, 0, 0, 1, 0];
    expect(relationLoss({ ...input, teacher: student, student: wide, studentWidth: 3 })).toBeCloseTo(relationLoss(input), 15);
    expect(relationLoss({ ...input, student: wide, studentWidth: 3 })).toBeCloseTo(0, 15);
  });
  it('is 0 with no visual rows', () => {
    expect(relationLoss({ teacher: [], student: [], rows: 0, teacherWidth: 4, studentWidth: 4, sample: [] })).toBe(0);
    expect(relationLoss({ teacher: [], student: [], rows: 0, teacherWidth: 4, studentWidth: 4, sample: [], mode: 'batch' })).toBe(0);
  });
  it('from a batch: selects the visual rows of each side', () => {
    // The same rows as `input`, but the teacher's sequences are laid out differently.
    const teacher = { data: [9, 9, 1, 0, 0, 0, 7, 7, 1, 0, 0, 1], B: 2, T: 3, width: 2, roles: [1, 2, 0, 1, 2, 2] };
    const student = { data: [1, 0, 5, 5, 1, 0, 1, 0], B: 2, T: 2, width: 2, roles: [2, 1, 2, 2] };
    expect(relationLossFromBatch({ teacher, student })).toBeCloseTo((1 - SQRT1_2) / 2, 15);
  });
});

describe('affinity (VLAD)', () => {
  it('SmoothL1 with β = 1', () => {
    expect(smoothL1(0.5)).toBe(0.125);
    expect(smoothL1(-1)).toBe(0.5);
    expect(smoothL1(3)).toBe(2.5);
    expect(smoothL1(0.5, 0.25)).toBe(0.375);
  });
  // Sample 0: teacher cos 1, student cos 0      → d = −1,     s = 0.5
  // Sample 1: teacher cos 1, student cos ½      → d = −½,     s = 0.125
  // Sample 2: two text rows, teacher (1, 1), student (1, 0) → d = (0, −1), s = (0, 0.5)
  const h = Math.sqrt(3) / 2;
  const input = {
    teacherVision: [1, 0, 1, 0, 1, 0],
    studentVision: [0, 1, 0, 1, 0, 0, 1, 0, 0],
    visionSample: [0, 1, 2],
    teacherText: [2, 0, 1, 0, 1, 0, 3, 0],
    studentText: [1, 0, 0, 0.5, h, 0, 1, 0, 0, 0, 1, 0],
    textSample: [0, 1, 2, 2],
    teacherWidth: 2,
    studentWidth: 3,
  };
  it('mean pools every entry of every sample', () => {
    expect(affinityLoss({ ...input, reduction: 'mean' })).toBeCloseTo((0.5 + 0.125 + 0 + 0.5) / 4, 14);
  });
  it('sampleMean averages per sample first', () => {
    expect(affinityLoss({ ...input, reduction: 'sampleMean' })).toBeCloseTo((0.5 + 0.125 + 0.25) / 3, 14);
  });
  it('is 0 for identical inputs and for samples without text or vision', () => {
    const same = { ...input, studentVision: input.teacherVision, studentText: input.teacherText, studentWidth: 2 };
    expect(affinityLoss(same)).toBe(0);
    expect(affinityLoss({ ...input, teacherText: [], studentText: [], textSample: [] })).toBe(0);
  });
  it('treats a zero vector as having affinity 0 (its normalisation is 0)', () => {
    const zero = { ...input, teacherVision: [0, 0, 1, 0, 1, 0] };
    // sample 0: teacher affinity 0, student 0 → d = 0
    expect(affinityLoss({ ...zero, reduction: 'sampleMean' })).toBeCloseTo((0 + 0.125 + 0.25) / 3, 14);
  });
  it('from a batch: vision = visual rows, text = prompt rows', () => {
    const teacher = { data: [2, 0, 1, 0], B: 1, T: 2, width: 2, roles: [1, 2] };
    const student = { data: [1, 0, 0, 0, 1, 0], B: 1, T: 2, width: 3, roles: [1, 2] };
    expect(affinityLossFromBatch({ teacher, student })).toBe(0.5);
  });
});

describe('feature', () => {
  it('mse: (1/H) Σ (s − t)²; cosine: 1 − cos, with orthogonal 1 and opposite 2', () => {
    const base = { rows: 1, teacherWidth: 2, studentWidth: 2 };
    expect(featureLoss({ ...base, kind: 'mse', teacher: [0, 0], student: [1, 2] })).toBe(2.5);
    expect(featureLoss({ ...base, kind: 'cosine', teacher: [1, 0], student: [0, 3] })).toBe(1);
    expect(featureLoss({ ...base, kind: 'cosine', teacher: [1, 1], student: [-2, -2] })).toBeCloseTo(2, 15);
    expect(featureLoss({ ...base, kind: 'cosine', teacher: [0, 0], student: [1, 1] })).toBe(1);
    expect(featureLoss({ ...base, kind: 'cosine', teacher: [1e-9, 1e-9], student: [-2e-7, -2e-7] })).toBeCloseTo(2, 15);
  });
  it('projects the student first: s ← W s + c', () => {
    const projection = { weight: [2, 0, 0, 0, 2, 0], bias: [-1, 0] }; // [H_t = 2, H_s = 3]
    const input = { rows: 1, teacherWidth: 2, studentWidth: 3, teacher: [1, 2], student: [1, 1, 9], projection };
    expect(featureLoss({ ...input, kind: 'mse' })).toBe(0);
    expect(featureLoss({ ...input, kind: 'mse', teacher: [0, 0] })).toBe(2.5);
    expect(() => featureLoss({ ...input, kind: 'mse', projection: undefined })).toThrow('widths differ (teacher 2, student 3) and there is no projection');
  });
  it('reduces over tokens: mean, sum, sampleMean', () => {
    const input = { rows: 3, teacherWidth: 1, studentWidth: 1, teacher: [0, 0, 0], student: [1, 2, 3], kind: 'mse' as const, sample: [0, 0, 1] };
    expect(featureLoss({ ...input, reduction: 'mean' })).toBeCloseTo(14 / 3, 14);
    expect(featureLoss({ ...input, reduction: 'sum' })).toBe(14);
    expect(featureLoss({ ...input, reduction: 'sampleMean' })).toBe((1 + 4) / 4 + 9 / 2);
  });
  it('from a batch', () => {
    const teacher = { data: [0, 0, 5, 5], B: 1, T: 2, width: 2, roles: [2, 3] };
    const student = { data: [1, 2, 5, 5], B: 1, T: 2, width: 2, roles: [2, 3] };
    expect(featureLossFromBatch({ teacher, student, view: { roles: ['visual'], shift: 0 }, kind: 'mse' })).toBe(2.5);
  });
});

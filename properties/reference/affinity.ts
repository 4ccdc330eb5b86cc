/**
 * Vision-language affinity distillation (EM-KD's VLAD).
 *
 * Per sample: teacher vision rows V^T: [K, H_t] and text rows X^T: [M, H_t], student V^S: [K, H_s]
 * (paired with the teacher's) and X^S: [M, H_s].
 *
 *     n(v)  = v / ‖v‖₂, and 0 for v = 0               (row-wise)
 *     A     = n(V) n(X)ᵀ                               [K, M], for each side
 *     d     = A^S − A^T
 *     s(d)  = 0.5 d² / β if |d| < β, else |d| − 0.5 β (SmoothL1, β = 1 by default)
 *
 *     mean:       Σ over all entries of all samples of s(d), divided by Σ_b K_b M_b
 *     sampleMean: per-sample mean of s(d), then the mean over samples with K_b · M_b > 0
 *
 * 0 when no sample has both vision and text rows.
 */
import { checkLength, checkSize } from './checks.js';
import { matmulTransposed, normalizeRows, pairsBySample } from './linear-algebra.js';
import { pairedRows, type SequenceTensor, type View } from './selection.js';

export interface AffinityInput {
  /** [K_total, teacherWidth] */
  readonly teacherVision: ArrayLike<number>;
  /** [M_total, teacherWidth] */
  readonly teacherText: ArrayLike<number>;
  /** [K_total, studentWidth], row i paired with teacherVision row i. */
  readonly studentVision: ArrayLike<number>;
  /** [M_total, studentWidth], row j paired with teacherText row j. */
  readonly studentText: ArrayLike<number>;
  /** [K_total] sample of each vision row. */
  readonly visionSample: ArrayLike<number>;
  /** [M_total] sample of each text row. */
  readonly textSample: ArrayLike<number>;
  readonly teacherWidth: number;
  readonly studentWidth: number;
  /** Default 'mean'. */
  readonly reduction?: 'mean' | 'sampleMean';
  /** SmoothL1 β > 0; default 1. */
  readonly beta?: number;
}

/** SmoothL1 (Huber divided by β): 0.5 d² / β if |d| < β, else |d| − 0.5 β. */
export function smoothL1(d: number, beta = 1): number {
  const a = Math.abs(d);
  return a < beta ? (0.5 * d * d) / beta : a - 0.5 * beta;
}

/** A = n(V) n(X)ᵀ, [K, M]. */
export function affinityMatrix(vision: ArrayLike<number>, K: number, text: ArrayLike<number>, M: number, W: number): Float64Array {
  return matmulTransposed(normalizeRows(vision, K, W), K, normalizeRows(text, M, W), M, W);
}

export function affinityLoss(input: AffinityInput): number {
  const { teacherWidth: Wt, studentWidth: Ws } = input;
  const K = input.visionSample.length;
  const M = input.textSample.length;
  checkSize('teacherWidth', Wt);
  checkSize('studentWidth', Ws);
  checkLength('teacherVision', input.teacherVision, K * Wt, `[${K}, ${Wt}]`);
  checkLength('studentVision', input.studentVision, K * Ws, `[${K}, ${Ws}]`);
  checkLength('teacherText', input.teacherText, M * Wt, `[${M}, ${Wt}]`);
  checkLength('studentText', input.studentText, M * Ws, `[${M}, ${Ws}]`);
  const beta = input.beta ?? 1;
  if (!(beta > 0)) throw new RangeError(`affinity beta: ${beta} is not > 0`);
  const text = pairsBySample(input.teacherText, Wt, input.studentText, Ws, input.textSample);
  let total = 0;
  let entries = 0;
  let sampleSum = 0;
  let samples = 0;
  for (const [b, vision] of pairsBySample(input.teacherVision, Wt, input.studentVision, Ws, input.visionSample)) {
    const x = text.get(b);
    if (x === undefined) continue;
    const at = affinityMatrix(vision.teacher, vision.rows, x.teacher, x.rows, Wt);
    const as = affinityMatrix(vision.student, vision.rows, x.student, x.rows, Ws);
    let s = 0;
    for (let e = 0; e < at.length; e++) s += smoothL1(as[e]! - at[e]!, beta);
    total += s;
    entries += at.length;
    sampleSum += s / at.length;
    samples++;
  }
  if (entries === 0) return 0;
  return (input.reduction ?? 'mean') === 'mean' ? total / entries : sampleSum / samples;
}

export interface BatchAffinityInput {
  /** Teacher hidden states [B, T_t, H_t] with roles. */
  readonly teacher: SequenceTensor;
  /** Student hidden states [B, T_s, H_s] with roles. */
  readonly student: SequenceTensor;
  /** Default: visual positions, unshifted. */
  readonly vision?: View;
  /** Default: prompt positions, unshifted. */
  readonly text?: View;
  readonly reduction?: 'mean' | 'sampleMean';
  readonly beta?: number;
}

/** The affinity loss of the vision and text rows the views select, paired sample by sample. */
export function affinityLossFromBatch(input: BatchAffinityInput): number {
  const vision = pairedRows(input.teacher, input.student, input.vision ?? { roles: ['visual'], shift: 0 });
  const text = pairedRows(input.teacher, input.student, input.text ?? { roles: ['prompt'], shift: 0 });
  return affinityLoss({
    teacherVision: vision.teacher,
    studentVision: vision.student,
    visionSample: vision.sample,
    teacherText: text.teacher,
    studentText: text.student,
    textSample: text.sample,
    teacherWidth: input.teacher.width,
    studentWidth: input.student.width,
    reduction: input.reduction,
    beta: input.beta,
  });
}

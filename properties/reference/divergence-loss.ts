/**
 * Token-level distillation losses: a divergence per selected token pair, reduced.
 *
 *     loss = Σ_i w_i · c · ℓ(softmax(a_i / T), softmax(b_i / T)),   c = T² if scaled, else 1
 *
 * with a_i, b_i the i-th teacher and student rows and w_i the reduction weights
 * (`reduction.ts`). `divergenceLoss` takes rows already selected; `divergenceLossFromBatch`
 * selects them from [B, T, V] logits by role first (`selection.ts`).
 */
import { type AklWeights, aklWeights } from './akl.js';
import { checkLength, checkSize, checkTemperature } from './checks.js';
import { checkDivergence, type Divergence, divergenceOfLogProbs } from './divergences.js';
import { logSoftmax, rowOf } from './log-softmax.js';
import { type Reduction, reduce } from './reduction.js';
import { pairedRows, type SequenceTensor, type View } from './selection.js';

/** N paired rows of teacher and student logits. */
export interface TokenPairs {
  /** [N, V] teacher logits. */
  readonly teacher: ArrayLike<number>;
  /** [N, V] student logits. */
  readonly student: ArrayLike<number>;
  readonly rows: number;
  readonly vocab: number;
  /** [N] sample index of each row; needed by `sampleMean`. */
  readonly sample?: ArrayLike<number>;
}

export interface DivergenceOptions {
  readonly divergence: Divergence;
  /** T > 0; default 1. */
  readonly temperature?: number;
  /** Multiply each ℓ by T²; default false. */
  readonly scaleByTemperatureSquared?: boolean;
  /** Default 'mean'. */
  readonly reduction?: Reduction;
  /**
   * AKL only: per-row weights to hold fixed, as the gradient does (see `akl.ts`). Compute
   * them with `aklRowWeights` at the point where the gradient is taken.
   */
  readonly aklWeights?: readonly AklWeights[];
}

function checkPairs(input: TokenPairs): void {
  checkSize('rows', input.rows);
  checkSize('vocab', input.vocab);
  if (input.rows > 0 && input.vocab === 0) throw new RangeError('vocab: 0 with rows to compare');
  const shape = `[${input.rows}, ${input.vocab}]`;
  checkLength('teacher', input.teacher, input.rows * input.vocab, shape);
  checkLength('student', input.student, input.rows * input.vocab, shape);
}

/** c · ℓ_i for each row, shape [N]. */
export function divergencePerToken(input: TokenPairs & DivergenceOptions): Float64Array {
  checkPairs(input);
  checkDivergence(input.divergence);
  const T = input.temperature ?? 1;
  checkTemperature(T);
  const scale = input.scaleByTemperatureSquared === true ? T * T : 1;
  if (input.aklWeights !== undefined && input.aklWeights.length !== input.rows) {
    throw new RangeError(`aklWeights: ${input.aklWeights.length} entries for ${input.rows} rows`);
  }
  const out = new Float64Array(input.rows);
  for (let i = 0; i < input.rows; i++) {
    const logP = logSoftmax(rowOf(input.teacher, i, input.vocab), T);
    const logQ = logSoftmax(rowOf(input.student, i, input.vocab), T);
    out[i] = scale * divergenceOfLogProbs(input.divergence, logP, logQ, input.aklWeights?.[i]);
  }
  return out;
}

/** Σ_i w_i · c · ℓ_i; 0 when there are no rows. */
export function divergenceLoss(input: TokenPairs & DivergenceOptions): number {
  return reduce(divergencePerToken(input), input.reduction ?? 'mean', input.sample);
}

/** The AKL weights of each row at temperature T (μ default 0.5), to hold fixed for gradients. */
export function aklRowWeights(input: TokenPairs & { readonly temperature?: number; readonly mu?: number }): AklWeights[] {
  checkPairs(input);
  const T = input.temperature ?? 1;
  const out: AklWeights[] = [];
  for (let i = 0; i < input.rows; i++) {
    out.push(aklWeights(logSoftmax(rowOf(input.teacher, i, input.vocab), T), logSoftmax(rowOf(input.student, i, input.vocab), T), input.mu ?? 0.5));
  }
  return out;
}

export interface BatchDivergenceInput extends DivergenceOptions {
  /** Teacher logits [B, T_t, V] with roles. */
  readonly teacher: SequenceTensor;
  /** Student logits [B, T_s, V] with roles. */
  readonly student: SequenceTensor;
  /** The view of the teacher, and of the student unless `studentView` is given. */
  readonly view: View;
  readonly studentView?: View;
}

/** The divergence loss of the positions the views select, paired sample by sample. */
export function divergenceLossFromBatch(input: BatchDivergenceInput): number {
  if (input.teacher.width !== input.student.width) {
    throw new RangeError(`vocabulary mismatch: teacher ${input.teacher.width}, student ${input.student.width}`);
  }
  const pairs = pairedRows(input.teacher, input.student, input.view, input.studentView);
  return divergenceLoss({ ...input, teacher: pairs.teacher, student: pairs.student, rows: pairs.rows, vocab: input.teacher.width, sample: pairs.sample });
}

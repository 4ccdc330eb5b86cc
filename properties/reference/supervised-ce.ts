/**
 * Supervised cross-entropy of the student against labels:
 *
 *     ℓ_i = c · (−log softmax(b_i / T)_{y_i}),   c = T² if scaled, else 1
 *
 * reduced over the selected tokens (`reduction.ts`). From a batch, the tokens are the
 * student's view minus positions whose label at t + shift is −100 (`selectSupervised`).
 */
import { checkLength, checkSize, checkTemperature } from './checks.js';
import { logSoftmax, rowOf } from './log-softmax.js';
import { type Reduction, reduce } from './reduction.js';
import { gatherRows, type SequenceTensor, selectSupervised, type View } from './selection.js';

export interface SupervisedRows {
  /** [N, V] student logits. */
  readonly student: ArrayLike<number>;
  readonly rows: number;
  readonly vocab: number;
  /** [N] target class of each row, in [0, V). */
  readonly target: ArrayLike<number>;
  /** [N] sample of each row; needed by `sampleMean`. */
  readonly sample?: ArrayLike<number>;
  readonly temperature?: number;
  readonly scaleByTemperatureSquared?: boolean;
  readonly reduction?: Reduction;
}

/** c · ℓ_i per row, shape [N]. */
export function supervisedCEPerToken(input: SupervisedRows): Float64Array {
  checkSize('rows', input.rows);
  checkSize('vocab', input.vocab);
  checkLength('student', input.student, input.rows * input.vocab, `[${input.rows}, ${input.vocab}]`);
  checkLength('target', input.target, input.rows, `[${input.rows}]`);
  const T = input.temperature ?? 1;
  checkTemperature(T);
  const scale = input.scaleByTemperatureSquared === true ? T * T : 1;
  const out = new Float64Array(input.rows);
  for (let i = 0; i < input.rows; i++) {
    const y = input.target[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < input.vocab)) throw new RangeError(`target ${y} of row ${i} is outside [0, ${input.vocab})`);
    out[i] = -scale * logSoftmax(rowOf(input.student, i, input.vocab), T)[y]!;
  }
  return out;
}

/** Σ_i w_i · c · ℓ_i; 0 when there are no rows. */
export function supervisedCELoss(input: SupervisedRows): number {
  return reduce(supervisedCEPerToken(input), input.reduction ?? 'mean', input.sample);
}

export interface BatchSupervisedInput {
  /** Student logits [B, T, V] with roles. */
  readonly student: SequenceTensor;
  /** [B, T] labels, −100 where there is no target. */
  readonly labels: ArrayLike<number>;
  readonly view: View;
  readonly temperature?: number;
  readonly scaleByTemperatureSquared?: boolean;
  readonly reduction?: Reduction;
}

/** Supervised CE over the student's view of a batch, skipping labels of −100. */
export function supervisedCEFromBatch(input: BatchSupervisedInput): number {
  const s = input.student;
  checkLength('student.data', s.data, s.B * s.T * s.width, `[${s.B}, ${s.T}, ${s.width}]`);
  const sel = selectSupervised(s.roles, input.labels, s.B, s.T, s.width, input.view.roles, input.view.shift);
  return supervisedCELoss({
    ...input,
    student: gatherRows(s.data, s.width, sel.flat),
    rows: sel.flat.length,
    vocab: s.width,
    target: sel.target,
    sample: sel.sample,
  });
}

/**
 * Relation distillation (LLaVA-KD's RDist): match the self-similarity of visual tokens.
 *
 * For each sample b with K_b selected visual rows Z^T_b: [K_b, V_t] (teacher) and
 * Z^S_b: [K_b, V_s] (student), R_b = Z_b Z_bᵀ: [K_b, K_b] and
 *
 *     cos(X, Y) = ⟨X, Y⟩_F / (‖X‖_F · ‖Y‖_F),  and 0 when X or Y is zero
 *     perSample: loss = mean over samples with K_b > 0 of (1 − cos(R^T_b, R^S_b))
 *     batch:     loss = 1 − cos(concat_b vec(R^T_b), concat_b vec(R^S_b))   (the released code)
 *
 * Both are 0 when no sample has a visual row. The teacher and student widths may differ,
 * since R is K × K either way.
 */
import { checkLength } from './checks.js';
import { dot, gram, pairsBySample } from './linear-algebra.js';
import { checkRowPairs, pairedRows, type RowPairs, type SequenceTensor, type View } from './selection.js';

export type RelationMode = 'perSample' | 'batch';

/** Teacher rows (visual logits) paired with student rows; every pair's sample is needed. */
export interface RelationInput extends RowPairs {
  readonly sample: ArrayLike<number>;
  /** Default 'perSample'. */
  readonly mode?: RelationMode;
}

/**
 * 1 − cos from the squared norms and the inner product. No floor: float64 holds the squares of
 * Gram matrices of inputs far below 1e-6, so only an exactly zero matrix needs a convention.
 */
function cosineLoss(xx: number, yy: number, xy: number): number {
  return xx === 0 || yy === 0 ? 1 : 1 - xy / (Math.sqrt(xx) * Math.sqrt(yy));
}

export function relationLoss(input: RelationInput): number {
  const { rows, teacherWidth: Wt, studentWidth: Ws } = input;
  checkRowPairs(input);
  checkLength('sample', input.sample, rows, `[${rows}]`);
  if (rows === 0) return 0;
  const samples = pairsBySample(input.teacher, Wt, input.student, Ws, input.sample);
  let tt = 0;
  let ss = 0;
  let ts = 0;
  let perSample = 0;
  for (const { teacher, student, rows: K } of samples.values()) {
    const rt = gram(teacher, K, Wt);
    const rs = gram(student, K, Ws);
    const [a, c, d] = [dot(rt, rt), dot(rs, rs), dot(rt, rs)];
    tt += a;
    ss += c;
    ts += d;
    perSample += cosineLoss(a, c, d);
  }
  return (input.mode ?? 'perSample') === 'perSample' ? perSample / samples.size : cosineLoss(tt, ss, ts);
}

export interface BatchRelationInput {
  /** Teacher logits [B, T_t, V_t] with roles. */
  readonly teacher: SequenceTensor;
  /** Student logits [B, T_s, V_s] with roles. */
  readonly student: SequenceTensor;
  /** Default: visual positions, unshifted (as in LLaVA-KD). */
  readonly view?: View;
  readonly mode?: RelationMode;
}

/** The relation loss over the positions the view selects, paired sample by sample. */
export function relationLossFromBatch(input: BatchRelationInput): number {
  return relationLoss({ ...pairedRows(input.teacher, input.student, input.view ?? { roles: ['visual'], shift: 0 }), mode: input.mode });
}

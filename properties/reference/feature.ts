/**
 * Feature (hidden-state) distillation per selected token pair, reduced over tokens:
 *
 *     optional projection of the student first:  s ← W s + c,   W: [H_t, H_s], c: [H_t]
 *     mse:    ℓ_i = (1 / H) Σ_h (s_ih − t_ih)²                       (H = H_t)
 *     cosine: ℓ_i = 1 − ⟨s_i, t_i⟩ / (‖s_i‖ · ‖t_i‖),  and 1 when s_i or t_i is zero
 *
 * Without a projection the widths must agree. Reductions as in `reduction.ts`.
 */
import { checkLength } from './checks.js';
import { type Reduction, reduce } from './reduction.js';
import { checkRowPairs, pairedRows, type RowPairs, type SequenceTensor, type View } from './selection.js';

export type FeatureKind = 'mse' | 'cosine';

export interface Projection {
  /** [H_t, H_s] row-major. */
  readonly weight: ArrayLike<number>;
  /** [H_t]; default zeros. */
  readonly bias?: ArrayLike<number>;
}

/** Teacher and student hidden-state rows, paired; `sample` is needed by `sampleMean`. */
export interface FeatureInput extends RowPairs {
  readonly kind: FeatureKind;
  readonly projection?: Projection;
  /** Default 'mean'. */
  readonly reduction?: Reduction;
}

/** ℓ_i per row, shape [N]. */
export function featurePerToken(input: FeatureInput): Float64Array {
  const { rows: N, teacherWidth: Ht, studentWidth: Hs } = input;
  checkRowPairs(input);
  const p = input.projection;
  if (p === undefined) {
    if (Ht !== Hs) throw new RangeError(`feature: widths differ (teacher ${Ht}, student ${Hs}) and there is no projection`);
  } else {
    checkLength('projection.weight', p.weight, Ht * Hs, `[${Ht}, ${Hs}]`);
    if (p.bias !== undefined) checkLength('projection.bias', p.bias, Ht, `[${Ht}]`);
  }
  const out = new Float64Array(N);
  const s = new Float64Array(Ht);
  for (let i = 0; i < N; i++) {
    for (let h = 0; h < Ht; h++) {
      if (p === undefined) {
        s[h] = input.student[i * Hs + h]!;
      } else {
        let acc = p.bias?.[h] ?? 0;
        for (let k = 0; k < Hs; k++) acc += p.weight[h * Hs + k]! * input.student[i * Hs + k]!;
        s[h] = acc;
      }
    }
    let st = 0;
    let ss = 0;
    let tt = 0;
    let sq = 0;
    for (let h = 0; h < Ht; h++) {
      const t = input.teacher[i * Ht + h]!;
      st += s[h]! * t;
      ss += s[h]! ** 2;
      tt += t * t;
      sq += (s[h]! - t) ** 2;
    }
    const cosine = ss === 0 || tt === 0 ? 0 : st / (Math.sqrt(ss) * Math.sqrt(tt));
    out[i] = input.kind === 'mse' ? (Ht === 0 ? 0 : sq / Ht) : 1 - cosine;
  }
  return out;
}

export function featureLoss(input: FeatureInput): number {
  return reduce(featurePerToken(input), input.reduction ?? 'mean', input.sample);
}

export interface BatchFeatureInput {
  /** Teacher hidden states [B, T_t, H_t] with roles. */
  readonly teacher: SequenceTensor;
  /** Student hidden states [B, T_s, H_s] with roles. */
  readonly student: SequenceTensor;
  readonly view: View;
  readonly studentView?: View;
  readonly kind: FeatureKind;
  readonly projection?: Projection;
  readonly reduction?: Reduction;
}

/** The feature loss over the positions the views select, paired sample by sample. */
export function featureLossFromBatch(input: BatchFeatureInput): number {
  const pairs = pairedRows(input.teacher, input.student, input.view, input.studentView);
  return featureLoss({ ...pairs, kind: input.kind, projection: input.projection, reduction: input.reduction });
}

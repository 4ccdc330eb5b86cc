import * as tf from '@tensorflow/tfjs-core';
import type { LossDefinition } from '../core/definitions.js';
import { formatShape, graphError, InputError } from '../core/errors.js';
import type { LossNode, TokenExpr } from '../core/graph.js';
import { type Reduction, reductionWeights } from '../core/selection.js';
import { withGradient, zeroDependingOn } from '../core/tensor-ops.js';
import { boolean, describeReduction, paramCodec, positive, tokenReduction } from './params.js';
import { pairedRows } from './tokens.js';

const uldParams = paramCodec({ temperature: positive(1), scaleT2: boolean(false), reduction: tokenReduction() });

/** Options of `uld`. */
export interface ULDOptions {
  /** Divides both sides' logits (default 1). */
  readonly temperature?: number;
  /** Multiplies the loss by T² (default off). */
  readonly scaleT2?: boolean;
  /** How per-token losses are combined (default `mean` over selected tokens). */
  readonly reduction?: Reduction;
}

/**
 * The definition of `uld`: per token, Σ_i |p↓_i − q↓_i| over max(V_t, V_s) ranks, p↓ and q↓ the
 * two distributions sorted in decreasing order, the shorter padded with zeros.
 *
 * Gradient: the sort is a permutation that is locally constant, so ∂ℓ/∂q_v = sign(q_v − p↓_r(v)),
 * r(v) the rank of v in q's order (0 where the two tie, the subgradient TVD uses too); through the
 * softmax ∂ℓ/∂b = (q ⊙ (g − Σ q g)) / T.
 */
export const uldLoss: LossDefinition = {
  name: 'uld',
  summary: 'Universal Logit Distillation: L1 (Wasserstein-1) between sorted token distributions, vocabularies may differ (Boizard et al. 2024)',
  inputs: { teacher: { side: 'teacher', fields: ['logits'] }, student: { side: 'student', fields: ['logits'] } },
  defaults: uldParams.defaults,
  pairing: 'tokens',
  needsLabels: false,
  checkParams: uldParams.check,
  shapeRule: ({ path, shapes }) => {
    const t = shapes['teacher']!;
    const s = shapes['student']!;
    return t[0] === s[0] ? [] : [graphError(path, `batch sizes differ: teacher ${formatShape(t)} vs student ${formatShape(s)}`)];
  },
  explain: (node, inputs) => {
    const { temperature, scaleT2, reduction } = uldParams.decode(node.params);
    const notes = [`T=${temperature}`, ...(scaleT2 ? ['×T²'] : []), describeReduction(reduction)];
    return `Σ_i |sort↓(p)_i − sort↓(q)_i| (zero-padded to max V); p from ${inputs['teacher']}, q from ${inputs['student']}   (${notes.join(', ')})`;
  },
  lower: (ctx, node, path) => {
    const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
    if (student!.head !== undefined || teacher!.head !== undefined)
      throw new InputError(`${path}: uld sorts whole distributions; give materialised logits, not an LM head's view`);
    if (student!.selection.positions.length === 0) return zeroDependingOn(student!.values);
    const { temperature, scaleT2, reduction } = uldParams.decode(node.params);
    const scale = scaleT2 ? temperature * temperature : 1;
    const weights = reductionWeights(student!.selection, reduction).map((w) => w * scale);
    const a = teacher!.values;
    const [n, vt] = a.shape;
    const vs = student!.values.shape[1];
    const width = Math.max(vt, vs);
    // The teacher's sorted probabilities, zero-padded to the wider vocabulary: constants.
    const pSorted = padColumns(tf.topk(tf.softmax(temperature === 1 ? a : tf.div(a, temperature)), vt).values as tf.Tensor2D, width);
    const w = tf.tensor1d(weights);
    return withGradient<tf.Scalar>(student!.values, (b, save) => {
      const q = tf.softmax(temperature === 1 ? b : tf.div(b, temperature)) as tf.Tensor2D;
      const { values: qSortedRaw, indices } = tf.topk(q, vs);
      const diff = tf.sub(padColumns(qSortedRaw as tf.Tensor2D, width), pSorted);
      const perToken = tf.sum(tf.abs(diff), 1);
      save([q, indices, tf.sign(tf.slice(diff, [0, 0], [n, vs])), w]);
      return {
        value: tf.sum(tf.mul(perToken, w)) as tf.Scalar,
        gradFunc: (dy, [savedQ, savedIndices, savedSign, savedW]) => {
          // g[v] = sign at v's rank: scatter the ranked signs back to their token ids.
          const rows = tf.mul(tf.reshape(tf.range(0, n, 1, 'int32'), [n, 1]), tf.onesLike(savedIndices!));
          const at = tf.stack([tf.reshape(rows, [n * vs]), tf.reshape(savedIndices!, [n * vs])], 1);
          const g = tf.scatterND(at, tf.reshape(savedSign!, [n * vs]), [n, vs]) as tf.Tensor2D;
          const qg = tf.sum(tf.mul(savedQ!, g), 1, true);
          const grad = tf.div(tf.mul(savedQ!, tf.sub(g, qg)), temperature);
          return tf.mul(grad, tf.mul(tf.reshape(savedW!, [n, 1]), dy));
        },
      };
    });
  },
};

/** x [n, c] padded with zero columns to `width`. */
function padColumns(x: tf.Tensor2D, width: number): tf.Tensor2D {
  const c = x.shape[1];
  return c === width
    ? x
    : tf.pad(x, [
        [0, 0],
        [0, width - c],
      ]);
}

/**
 * Universal Logit Distillation (Boizard et al. 2024, "Towards Cross-Tokenizer Distillation: the
 * Universal Logit Distillation Loss for LLMs"): for teachers and students with different
 * tokenizers, whose vocabularies share no index, the closed-form Wasserstein-1 distance between
 * the two next-token distributions under a cost that ignores token identity, Σ_i |p↓_i − q↓_i|,
 * with p↓, q↓ sorted in decreasing order and the smaller vocabulary padded with zeros. The paper
 * adds it to the student's cross-entropy (`objective({ ce: supervisedCE(…), uld: weighted(λ, uld(…)) })`).
 *
 * Shapes: `teacher` [B, T_t, V_t] and `student` [B, T_s, V_s] logits views selecting the same
 * number of tokens per sample (the paper aligns the two answers by position); V_t and V_s may
 * differ. Laws: ℓ ≥ 0; ℓ = 0 when the sorted distributions are equal; invariant to permuting
 * either vocabulary; ℓ ≤ 2.
 *
 * @example
 * const objectiveNode = objective({ ce: supervisedCE(student.logits.next('response')),
 *   uld: weighted(0.1, uld(teacher.logits.next('response'), student.logits.next('response'))) });
 */
export const uld = (teacher: TokenExpr<'teacher', 'logits'>, student: TokenExpr<'student', 'logits'>, options: ULDOptions = {}): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: uldLoss.name,
    inputs: Object.freeze({ teacher, student }),
    params: Object.freeze({
      temperature: options.temperature ?? uldParams.defaults.temperature,
      scaleT2: options.scaleT2 ?? uldParams.defaults.scaleT2,
      reduction: options.reduction ?? uldParams.defaults.reduction,
    }),
  });

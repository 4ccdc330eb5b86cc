import * as tf from '@tensorflow/tfjs-core';
import type { LossDefinition, LoweringContext, TokenRows } from '../core/definitions.js';
import { formatShape, type GraphError, graphError } from '../core/errors.js';
import type { JsonValue, LossNode, TokenExpr } from '../core/graph.js';
import { type Reduction, reductionWeights } from '../core/selection.js';
import { withGradient, zeroDependingOn } from '../core/tensor-ops.js';
import { boolean, describeReduction, paramCodec, positive, tokenReduction } from './params.js';
import { pairedRows, sharedLogSoftmax } from './tokens.js';

/** A teacher's logits view, as every divergence takes it. */
export type TeacherLogits = TokenExpr<'teacher', 'logits'>;
/** A student's logits view, as every divergence takes it. */
export type StudentLogits = TokenExpr<'student', 'logits'>;

/**
 * A divergence between the teacher's and the student's next-token distributions, token by token:
 * p = softmax(a/T) from the teacher's logits a, q = softmax(b/T) from the student's logits b.
 *
 * A rule gives, from log p and log q (rows [N, V]), the per-token loss ℓ [N] and its gradient
 * with respect to log q, ∂ℓ/∂log q = q ⊙ ∂ℓ/∂q [N, V]. log q comes from tfjs's log-softmax, whose
 * own gradient carries this back to the student's logits; any multiple of q added to the rule's
 * gradient is removed by that step, so rules may drop such terms.
 */
export interface DivergenceRule {
  readonly name: string;
  readonly summary: string;
  /** The divergence's own parameters (β, α, μ) with defaults. */
  readonly defaults: Readonly<Record<string, JsonValue>>;
  checkParams(params: Readonly<Record<string, JsonValue>>, path: string): readonly GraphError[];
  /** `KL(p ‖ q)` and the like, with the rule's parameters written in. */
  formula(params: Readonly<Record<string, JsonValue>>): string;
  perToken(logP: tf.Tensor2D, logQ: tf.Tensor2D, params: Readonly<Record<string, JsonValue>>): tf.Tensor1D;
  gradLogQ(logP: tf.Tensor2D, logQ: tf.Tensor2D, params: Readonly<Record<string, JsonValue>>): tf.Tensor2D;
  /** The same rule on one row in float64, for host kernels (see `RowRule`). */
  readonly row: RowRule;
}

/**
 * One row of a divergence on the host, in float64: return ℓ and, when `h` is given, write
 * ∂ℓ/∂log q into it (the same quantity as `gradLogQ`; the caller projects it through the
 * log-softmax). `params` are the node's.
 */
export type RowRule = (row: RowView, h: Float64Array | null, params: Readonly<Record<string, JsonValue>>) => number;

/**
 * A row's distributions, left unnormalised so that no pass over the vocabulary is spent on
 * normalising: with s = z − max(z) (z the tempered logits) and e = exp(s),
 *   p_v = eP[v]·invP        and   log p_v = sP[v] − logSumP
 * (invP = 1/Σe, logSumP = log Σe), likewise for q. `pOf`, `logPOf` … read them.
 */
export interface RowView {
  readonly vocab: number;
  readonly sP: Float64Array;
  readonly eP: Float64Array;
  readonly invP: number;
  readonly logSumP: number;
  readonly sQ: Float64Array;
  readonly eQ: Float64Array;
  readonly invQ: number;
  readonly logSumQ: number;
}

/** Parameters every divergence has. */
export interface DivergenceOptions {
  /** Divides both sides' logits (default 1). */
  readonly temperature?: number;
  /** Multiplies the loss by T², Hinton's gradient-scale correction (default off). */
  readonly scaleT2?: boolean;
  /** How per-token losses are combined (default `mean` over selected tokens). */
  readonly reduction?: Reduction;
  /**
   * Compare only the first min(V_teacher, V_student) logits, for models whose vocabularies differ
   * only by padding rows. Off by default: a vocabulary mismatch is a validation error.
   */
  readonly truncateVocab?: boolean;
}

/** The parameters every divergence has (see `DivergenceOptions`), checked and decoded in one place. */
export const divergenceParams = paramCodec({ temperature: positive(1), scaleT2: boolean(false), reduction: tokenReduction(), truncateVocab: boolean(false) });

/** The loss definition of one divergence rule. */
export function divergenceLoss(rule: DivergenceRule): LossDefinition {
  return {
    name: rule.name,
    summary: rule.summary,
    inputs: { teacher: { side: 'teacher', fields: ['logits'] }, student: { side: 'student', fields: ['logits'] } },
    defaults: { ...divergenceParams.defaults, ...rule.defaults },
    pairing: 'tokens',
    needsLabels: false,
    checkParams: (params, path) => [...divergenceParams.check(params, path), ...rule.checkParams(params, path)],
    shapeRule: ({ path, node, shapes }) => {
      const t = shapes['teacher']!;
      const s = shapes['student']!;
      if (t[2] === s[2] || divergenceParams.decode(node.params).truncateVocab) return [];
      return [
        graphError(
          path,
          `vocabularies differ: teacher.logits ${formatShape(t)} vs student.logits ${formatShape(s)}; ` +
            'set truncateVocab to compare the first min(V) logits, if the extra rows are padding',
        ),
      ];
    },
    explain: (node, inputs) => {
      const { temperature, scaleT2, truncateVocab, reduction } = divergenceParams.decode(node.params);
      const notes = [`T=${temperature}`];
      if (scaleT2) notes.push('×T²');
      if (truncateVocab) notes.push('vocabulary truncated to min(V)');
      notes.push(describeReduction(reduction));
      return `${rule.formula(node.params)}; p from ${inputs['teacher']}, q from ${inputs['student']}   (${notes.join(', ')})`;
    },
    lower: lowerDivergenceWith(rule, tfjsDivergenceKernel),
  };
}

/** What a divergence kernel computes: Σ_i w_i ℓ_i(teacher row i, student row i), differentiable in the student. */
export interface DivergenceOperands {
  readonly rule: DivergenceRule;
  readonly ctx: LoweringContext;
  readonly teacher: TokenRows;
  readonly student: TokenRows;
  readonly teacherExpr: TokenExpr;
  readonly studentExpr: TokenExpr;
  readonly temperature: number;
  /** Columns compared: min(V_teacher, V_student). */
  readonly vocab: number;
  /** Reduction weights, T² scaling included. */
  readonly weights: Float32Array;
  readonly params: Readonly<Record<string, JsonValue>>;
}

export type DivergenceKernel = (operands: DivergenceOperands) => tf.Scalar;

/**
 * A divergence's lowering with a given kernel: token pairing, empty selections, temperature,
 * vocabulary and reduction weights are handled here, the arithmetic by the kernel. Backends
 * override the generic kernel (tfjs ops) with fused ones.
 */
export function lowerDivergenceWith(rule: DivergenceRule, kernel: DivergenceKernel): LossDefinition['lower'] {
  return (ctx, node, path) => {
    const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
    if (student!.selection.positions.length === 0) return zeroDependingOn(student!.values);
    const { temperature, scaleT2, reduction } = divergenceParams.decode(node.params);
    const scale = scaleT2 ? temperature * temperature : 1;
    return kernel({
      rule,
      ctx,
      teacher: teacher!,
      student: student!,
      teacherExpr: node.inputs['teacher'] as TokenExpr,
      studentExpr: node.inputs['student'] as TokenExpr,
      temperature,
      vocab: Math.min(teacher!.values.shape[1], student!.values.shape[1]),
      weights: reductionWeights(student!.selection, reduction).map((w) => w * scale),
      params: node.params,
    });
  };
}

/** The generic kernel: tfjs ops on shared log-softmaxes, with the rule's gradient. */
export const tfjsDivergenceKernel: DivergenceKernel = (op) => {
  const logP = sharedLogSoftmax(op.ctx, op.teacherExpr, op.teacher, op.temperature, op.vocab);
  const logQ = sharedLogSoftmax(op.ctx, op.studentExpr, op.student, op.temperature, op.vocab);
  return reduceDivergence(op.rule, logP, logQ, op.weights, op.params);
};

/**
 * Σ_i w_i ℓ_i with a custom gradient with respect to log q: w_i · ∂ℓ_i/∂log q_i, computed in the
 * backward pass only (evaluation without gradients pays for the value alone).
 */
function reduceDivergence(
  rule: DivergenceRule,
  logP: tf.Tensor2D,
  logQ: tf.Tensor2D,
  weights: Float32Array,
  params: Readonly<Record<string, JsonValue>>,
): tf.Scalar {
  return withGradient<tf.Scalar>(logQ, (input, save) => {
    const w = tf.tensor1d(weights);
    // The backward pass runs after the forward scope has released its intermediates, so it may
    // only use what is saved here.
    save([w, logP, input]);
    const value = tf.sum(tf.mul(rule.perToken(logP, input as tf.Tensor2D, params), w)) as tf.Scalar;
    return {
      value,
      gradFunc: (dy, [savedW, savedP, savedQ]) =>
        tf.mul(rule.gradLogQ(savedP as tf.Tensor2D, savedQ as tf.Tensor2D, params), tf.mul(tf.reshape(savedW!, [-1, 1]), dy)),
    };
  });
}

/**
 * Builds the graph node of a divergence: the common options with their defaults, and the rule's
 * own parameters (β, α, μ) in `own`, already defaulted by the rule's builder.
 */
export function divergenceNode(
  rule: DivergenceRule,
  teacher: TeacherLogits,
  student: StudentLogits,
  options: DivergenceOptions,
  own: Readonly<Record<string, JsonValue>> = {},
): LossNode {
  const d = divergenceParams.defaults;
  const params = {
    temperature: options.temperature ?? d.temperature,
    scaleT2: options.scaleT2 ?? d.scaleT2,
    reduction: options.reduction ?? d.reduction,
    truncateVocab: options.truncateVocab ?? d.truncateVocab,
    ...own,
  };
  return Object.freeze({ kind: 'loss', loss: rule.name, inputs: Object.freeze({ teacher, student }), params: Object.freeze(params) });
}

import * as tf from '@tensorflow/tfjs-core';
import { type LossDefinition, type LoweringContext, rowsShape, type TokenRows } from '../core/definitions.js';
import { InputError } from '../core/errors.js';
import type { LossNode, TokenExpr, ViewNode } from '../core/graph.js';
import { IGNORE_LABEL } from '../core/roles.js';
import { filterSelection, type Reduction, reductionWeights } from '../core/selection.js';
import { zeroDependingOn } from '../core/tensor-ops.js';
import { chunkedHeadLoss, DEFAULT_HEAD_CHUNK_BYTES, headChunkRows } from './head.js';
import { describeReduction, paramCodec, positive, tokenReduction } from './params.js';
import { sharedLogSoftmax } from './tokens.js';

/** Options of `supervisedCE`: a temperature (default 1) and the reduction (default mean). */
export interface SupervisedCEOptions {
  readonly temperature?: number;
  readonly reduction?: Reduction;
}

const supervisedCEParams = paramCodec({ temperature: positive(1), reduction: tokenReduction() });

/**
 * The definition of `supervisedCE`.
 *
 * Supervised cross-entropy, −log softmax(b/T)_y, against the labels at the selected positions
 * (the label at t + shift: with `student.logits.next('response')` the logits at t are scored
 * against the response token at t + 1). Positions labelled −100 are skipped and do not count in
 * the mean. This is the papers' L_reg / L_sup (LLaVA-KD eq. 1).
 */
export const supervisedCELoss: LossDefinition = {
  name: 'supervisedCE',
  summary: 'supervised cross-entropy against the labels, −100 ignored (LLaVA-KD L_reg, EM-KD L_sup)',
  inputs: { student: { side: 'student', fields: ['logits'], head: true } },
  defaults: supervisedCEParams.defaults,
  pairing: 'none',
  needsLabels: true,
  checkParams: supervisedCEParams.check,
  shapeRule: () => [],
  explain: (node, inputs) => {
    const { temperature: t, reduction } = supervisedCEParams.decode(node.params);
    const notes = [...(t === 1 ? [] : [`T=${t}`]), describeReduction(reduction)];
    const at = (node.inputs['student'] as ViewNode).shift === 1 ? 't+1' : 't';
    return `CE(q, labels); q from ${inputs['student']}, labels at ${at}, −100 skipped   (${notes.join(', ')})`;
  },
  lower: (ctx, node, path) => {
    const view = node.inputs['student'] as ViewNode<'student'>;
    const rows = ctx.rows(view, `${path}.student`);
    const labels = ctx.labels(view, path);
    const vocab = rowsShape(rows)[1];
    const valid = filterSelection(rows.selection, (k) => labels[k] !== IGNORE_LABEL);
    if (valid.positions.length === 0) return zeroDependingOn(rows.head?.hidden ?? rows.values);
    // Weights over the kept tokens, laid back over all selected rows (0 where ignored).
    const { temperature, reduction } = supervisedCEParams.decode(node.params);
    const keptWeights = reductionWeights(valid, reduction);
    const weights = new Float32Array(labels.length);
    const targets = new Int32Array(labels.length);
    let kept = 0;
    labels.forEach((y, k) => {
      if (y === IGNORE_LABEL) return;
      if (!Number.isInteger(y) || y < 0 || y >= vocab) {
        const position = rows.selection.positions[k]! + view.shift;
        const length = rows.selection.length;
        throw new InputError(
          `${path}: label ${y} at [${Math.floor(position / length)}, ${position % length}] is outside the vocabulary [0, ${vocab}) (use ${IGNORE_LABEL} to skip a position)`,
        );
      }
      targets[k] = y;
      weights[k] = keptWeights[kept++]!;
    });
    if (rows.head !== undefined) return headCrossEntropy(ctx, rows, targets, weights, temperature, vocab);
    const logQ = sharedLogSoftmax(ctx, view as TokenExpr, rows, temperature, vocab);
    const picked = tf.sum(tf.mul(logQ, tf.oneHot(tf.tensor1d(targets, 'int32'), vocab)), 1);
    return tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weights)))) as tf.Scalar;
  },
};

/**
 * Supervised cross-entropy on an LM head's logits view, chunk by chunk of rows (never [N × V]):
 * ℓ_i = −log q_{y_i}, whose ∂ℓ_i/∂log q is −onehot(y_i) (rows that do not count have weight 0).
 */
function headCrossEntropy(ctx: LoweringContext, rows: TokenRows, targets: Int32Array, weights: Float32Array, temperature: number, vocab: number): tf.Scalar {
  return chunkedHeadLoss({
    ctx,
    student: rows,
    temperature,
    vocab,
    weights,
    chunkRows: headChunkRows(supervisedCELoss.name, [['student', rows]], vocab, ctx.maxBindingBytes, DEFAULT_HEAD_CHUNK_BYTES),
    perChunk: (r0, n, logQ, grad) => {
      const oneHot = tf.oneHot(tf.tensor1d(targets.subarray(r0, r0 + n), 'int32'), vocab) as tf.Tensor2D;
      return { loss: tf.neg(tf.sum(tf.mul(logQ, oneHot), 1)) as tf.Tensor1D, ...(grad ? { h: tf.neg(oneHot) as tf.Tensor2D } : {}) };
    },
  });
}

/**
 * Supervised cross-entropy, −log softmax(b/T)_y, of the student's logits b against the labels y
 * at the selected positions: the label at t + shift, so `student.logits.next('response')` scores
 * the logits at t against the response token at t + 1. Labels −100 are skipped and do not count
 * in the mean. The papers' L_reg / L_sup (LLaVA-KD eq. 1, EM-KD eq. 1).
 *
 * Shapes: `student` a logits view [B, T, V]; labels [B, T] integers in [0, V) or −100, supplied
 * with the outputs. The loss is a scalar, reduced by `reduction`.
 *
 * @example
 * const sup = supervisedCE(student.logits.next('response'));
 * const compiled = compile(objective({ sup }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const supervisedCE = (student: ViewNode<'student', 'logits'>, options: SupervisedCEOptions = {}): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: supervisedCELoss.name,
    inputs: Object.freeze({ student }),
    params: Object.freeze({
      temperature: options.temperature ?? supervisedCEParams.defaults.temperature,
      reduction: options.reduction ?? supervisedCEParams.defaults.reduction,
    }),
  });

import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../core/errors.js';
import type { LossNode, TokenExpr, ViewNode } from '../core/graph.js';
import type { LossDefinition } from '../core/registry.js';
import { IGNORE_LABEL } from '../core/roles.js';
import { filterSelection, reductionWeights, type Reduction } from '../core/selection.js';
import { zeroDependingOn } from '../core/tensor-ops.js';
import { checkReduction, checkTemperature, describeReduction, numberParam, reductionParam } from './params.js';
import { sharedLogSoftmax } from './tokens.js';

export interface SupervisedCEOptions {
  readonly temperature?: number;
  readonly reduction?: Reduction;
}

/**
 * Supervised cross-entropy, −log softmax(b/T)_y, against the labels at the selected positions
 * (the label at t + shift: with `student.logits.next('response')` the logits at t are scored
 * against the response token at t + 1). Positions labelled −100 are skipped and do not count in
 * the mean. This is the papers' L_reg / L_sup (LLaVA-KD eq. 1).
 */
export const supervisedCELoss: LossDefinition = {
  name: 'supervisedCE',
  summary: 'supervised cross-entropy against the labels, −100 ignored (LLaVA-KD L_reg, EM-KD L_sup)',
  inputs: { student: { side: 'student', fields: ['logits'] } },
  defaults: { temperature: 1, reduction: 'mean' },
  pairing: 'none',
  needsLabels: true,
  checkParams: (params, path) => [...checkTemperature(params, path), ...checkReduction(params, path)],
  shapeRule: () => [],
  explain: (node, inputs) => {
    const t = numberParam(node.params, 'temperature');
    const notes = [...(t === 1 ? [] : [`T=${t}`]), describeReduction(reductionParam(node.params))];
    const at = (node.inputs['student'] as ViewNode).shift === 1 ? 't+1' : 't';
    return `CE(q, labels); q from ${inputs['student']}, labels at ${at}, −100 skipped   (${notes.join(', ')})`;
  },
  lower: (ctx, node, path) => {
    const view = node.inputs['student'] as ViewNode<'student'>;
    const rows = ctx.rows(view, `${path}.student`);
    const labels = ctx.labels(view, path);
    const vocab = rows.values.shape[1];
    const valid = filterSelection(rows.selection, (k) => labels[k] !== IGNORE_LABEL);
    if (valid.positions.length === 0) return zeroDependingOn(rows.values);
    // Weights over the kept tokens, laid back over all selected rows (0 where ignored).
    const keptWeights = reductionWeights(valid, reductionParam(node.params));
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
    const logQ = sharedLogSoftmax(ctx, view as TokenExpr, rows, numberParam(node.params, 'temperature'), vocab);
    const picked = tf.sum(tf.mul(logQ, tf.oneHot(tf.tensor1d(targets, 'int32'), vocab)), 1);
    return tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weights)))) as tf.Scalar;
  },
};

export const supervisedCE = (student: ViewNode<'student', 'logits'>, options: SupervisedCEOptions = {}): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: 'supervisedCE',
    inputs: Object.freeze({ student }),
    params: Object.freeze({ temperature: options.temperature ?? 1, reduction: options.reduction ?? 'mean' }),
  });

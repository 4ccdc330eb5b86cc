import * as tf from '@tensorflow/tfjs-core';
import { formatShape, graphError } from '../core/errors.js';
import type { LossNode, TokenExpr } from '../core/graph.js';
import type { LossDefinition } from '../core/registry.js';
import { addAll, zeroDependingOn } from '../core/tensor-ops.js';
import { checkChoice, stringParam } from './params.js';
import { pairedRows } from './tokens.js';

export type RelationMode = 'perSample' | 'batch';

/**
 * LLaVA-KD's relation distillation (RDist, eq. 4–5): the self-correlation R = Z·Zᵀ of each
 * sample's K selected tokens (raw visual logits in the paper and code; no normalisation), and
 * 1 − cos(R_teacher, R_student) over the flattened K×K matrices.
 *
 * - `perSample` (default): one cosine per sample, averaged over the samples that have tokens.
 * - `batch`: one cosine between the concatenated matrices of the whole batch, as the released
 *   training code computes it (the same thing at batch size 1).
 *
 * The cosine's denominator is max(‖R_t‖·‖R_s‖, 1e-8), inside the square root, so an all-zero R
 * gives a loss of 1 and a zero gradient rather than NaN. Law: invariant to scaling either side's
 * logits by a positive constant.
 */
export const relationLoss: LossDefinition = {
  name: 'relation',
  summary: 'LLaVA-KD RDist: 1 − cos(Z_t Z_tᵀ, Z_s Z_sᵀ) of each sample\'s selected tokens',
  inputs: { teacher: { side: 'teacher', fields: ['logits', 'hidden'] }, student: { side: 'student', fields: ['logits', 'hidden'] } },
  defaults: { mode: 'perSample' },
  pairing: 'samples',
  needsLabels: false,
  checkParams: (params, path) => checkChoice(params, 'mode', ['perSample', 'batch'], path),
  shapeRule: ({ path, shapes }) => {
    const t = shapes['teacher']!;
    const s = shapes['student']!;
    return t[0] === s[0] ? [] : [graphError(path, `batch sizes differ: teacher ${formatShape(t)} vs student ${formatShape(s)}`)];
  },
  explain: (node, inputs) =>
    `1 − cos(Z_t·Z_tᵀ, Z_s·Z_sᵀ) with Z_t = ${inputs['teacher']}, Z_s = ${inputs['student']}   (${
      stringParam(node.params, 'mode') === 'batch' ? 'one cosine over the batch' : 'mean over samples'
    })`,
  lower: (ctx, node, path) => {
    const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
    const { counts, offsets } = student!.selection;
    const samples = [...counts.keys()].filter((b) => counts[b]! > 0);
    if (samples.length === 0) return zeroDependingOn(student!.values);
    const gram = (rows: tf.Tensor2D, b: number): tf.Tensor2D => {
      const z = tf.slice(rows, [offsets[b]!, 0], [counts[b]!, rows.shape[1]]);
      return tf.matMul(z, z, false, true);
    };
    const parts = samples.map((b) => {
      const rt = gram(teacher!.values, b);
      const rs = gram(student!.values, b);
      return { dot: tf.sum(tf.mul(rt, rs)), tt: tf.sum(tf.square(rt)), ss: tf.sum(tf.square(rs)) };
    });
    const cosine = (dot: tf.Tensor, tt: tf.Tensor, ss: tf.Tensor): tf.Tensor =>
      tf.div(dot, tf.sqrt(tf.maximum(tf.mul(tt, ss), 1e-16)));
    if (stringParam(node.params, 'mode') === 'batch') {
      const sum = (key: 'dot' | 'tt' | 'ss') => addAll(parts.map((p) => p[key]));
      return tf.sub(1, cosine(sum('dot'), sum('tt'), sum('ss'))) as tf.Scalar;
    }
    const losses = parts.map((p) => tf.sub(1, cosine(p.dot, p.tt, p.ss)));
    return tf.div(addAll(losses), losses.length) as tf.Scalar;
  },
};

export const relation = (
  teacher: TokenExpr<'teacher'>,
  student: TokenExpr<'student'>,
  options: { readonly mode?: RelationMode } = {},
): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: 'relation',
    inputs: Object.freeze({ teacher, student }),
    params: Object.freeze({ mode: options.mode ?? 'perSample' }),
  });

import * as tf from '@tensorflow/tfjs-core';
import type { LossDefinition } from '../core/definitions.js';
import { formatShape, graphError } from '../core/errors.js';
import type { LossNode, TokenExpr } from '../core/graph.js';
import { rescaled, safeCosine } from '../core/safe-math.js';
import { addAll, zeroDependingOn } from '../core/tensor-ops.js';
import { choice, paramCodec } from './params.js';
import { pairedRows } from './tokens.js';

/** `perSample`: one Gram matrix per sample (the default); `batch`: one over the whole batch. */
export type RelationMode = 'perSample' | 'batch';

const relationParams = paramCodec({ mode: choice<RelationMode>(['perSample', 'batch'], 'perSample') });

/**
 * LLaVA-KD's relation distillation (RDist, eq. 4–5): the self-correlation R = Z·Zᵀ of each
 * sample's K selected tokens (raw visual logits in the paper and code; no normalisation), and
 * 1 − cos(R_teacher, R_student) over the flattened K×K matrices.
 *
 * - `perSample` (default): one cosine per sample, averaged over the samples that have tokens.
 * - `batch`: one cosine between the concatenated matrices of the whole batch, as the released
 *   training code computes it (the same thing at batch size 1).
 *
 * The cosine is the safe one of `math.ts`: each side's Z is rescaled by a power of two before its
 * Gram matrix is formed (per sample, or over the batch in `batch` mode), so R neither underflows
 * for small inputs nor overflows for large vocabularies, and an all-zero Z gives a cosine of 0 —
 * a loss of 1 with a zero gradient — rather than NaN. Law: invariant to scaling either side's
 * logits by a positive constant (the property suite checks scales from 1e-6 to 1e6).
 */
export const relationLoss: LossDefinition = {
  name: 'relation',
  summary: "LLaVA-KD RDist: 1 − cos(Z_t Z_tᵀ, Z_s Z_sᵀ) of each sample's selected tokens",
  inputs: { teacher: { side: 'teacher', fields: ['logits', 'hidden'] }, student: { side: 'student', fields: ['logits', 'hidden'] } },
  defaults: relationParams.defaults,
  pairing: 'samples',
  needsLabels: false,
  checkParams: relationParams.check,
  shapeRule: ({ path, shapes }) => {
    const t = shapes['teacher']!;
    const s = shapes['student']!;
    return t[0] === s[0] ? [] : [graphError(path, `batch sizes differ: teacher ${formatShape(t)} vs student ${formatShape(s)}`)];
  },
  explain: (node, inputs) =>
    `1 − cos(Z_t·Z_tᵀ, Z_s·Z_sᵀ) with Z_t = ${inputs['teacher']}, Z_s = ${inputs['student']}   (${
      relationParams.decode(node.params).mode === 'batch' ? 'one cosine over the batch' : 'mean over samples'
    })`,
  lower: (ctx, node, path) => {
    const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
    const { counts, offsets } = student!.selection;
    const samples = [...counts.keys()].filter((b) => counts[b]! > 0);
    if (samples.length === 0) return zeroDependingOn(student!.values);
    const batch = relationParams.decode(node.params).mode === 'batch';
    // One scale per side over the batch when one cosine spans it, else one per sample.
    const [zt, zs] = [teacher!.values, student!.values].map((z) => (batch ? rescaled(z, 'whole') : z));
    const gram = (rows: tf.Tensor2D, b: number): tf.Tensor2D => {
      const sliced = tf.slice(rows, [offsets[b]!, 0], [counts[b]!, rows.shape[1]]);
      const z = batch ? sliced : rescaled(sliced, 'whole');
      return tf.matMul(z, z, false, true);
    };
    const parts = samples.map((b) => {
      const rt = gram(zt!, b);
      const rs = gram(zs!, b);
      return { dot: tf.sum(tf.mul(rt, rs)), tt: tf.sum(tf.square(rt)), ss: tf.sum(tf.square(rs)) };
    });
    if (batch) {
      const sum = (key: 'dot' | 'tt' | 'ss') =>
        addAll(
          parts.map((p) => p[key]),
          ctx.maxKernelInputs,
        );
      return tf.sub(1, safeCosine(sum('dot'), sum('tt'), sum('ss'))) as tf.Scalar;
    }
    const losses = parts.map((p) => tf.sub(1, safeCosine(p.dot, p.tt, p.ss)));
    return tf.div(addAll(losses, ctx.maxKernelInputs), losses.length) as tf.Scalar;
  },
};

/**
 * LLaVA-KD's relation distillation (RDist, Cai et al. 2024, eq. 4–5): 1 − cos(Z_t·Z_tᵀ, Z_s·Z_sᵀ)
 * between the self-correlation matrices of each sample's selected tokens, so the student learns
 * how its visual tokens relate to each other rather than their values. `mode`: `perSample`
 * (default, the mean of one cosine per sample) or `batch` (one cosine over the batch, as the
 * released code computes it).
 *
 * Shapes: `teacher` [B, T_t, D_t] and `student` [B, T_s, D_s] views (logits or hidden states)
 * selecting the same number K_b of tokens in each sample b; the widths may differ, since both
 * matrices are K_b × K_b. The loss is a scalar in [0, 2], invariant to the scale of either side.
 *
 * @example
 * const rel = relation(teacher.logits.at('visual'), student.logits.at('visual'));
 * const compiled = compile(objective({ rel: weighted(0.5, rel) }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const relation = (teacher: TokenExpr<'teacher'>, student: TokenExpr<'student'>, options: { readonly mode?: RelationMode } = {}): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: relationLoss.name,
    inputs: Object.freeze({ teacher, student }),
    params: Object.freeze({ mode: options.mode ?? relationParams.defaults.mode }),
  });

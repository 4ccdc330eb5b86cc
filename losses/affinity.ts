import * as tf from '@tensorflow/tfjs-core';
import type { LossDefinition } from '../core/definitions.js';
import { formatShape, graphError } from '../core/errors.js';
import type { LossNode, TokenExpr } from '../core/graph.js';
import { unitRows } from '../core/safe-math.js';
import { addAll, zeroDependingOn } from '../core/tensor-ops.js';
import { describeReduction, paramCodec, positive, tokenReduction } from './params.js';
import { assertSameCounts } from './tokens.js';

const affinityParams = paramCodec({ beta: positive(1), reduction: tokenReduction(['mean', 'sampleMean']) });

/**
 * EM-KD's vision–language affinity distillation (VLAD). In each model, the affinity between its
 * K vision tokens and its M text tokens is the cosine A = normalize(V)·normalize(X)ᵀ (K×M, with
 * normalize(v) = v / ‖v‖, the safe row normalisation of `math.ts`: exact at any scale, a zero
 * vector has affinity 0 with zero gradient); the loss is the Smooth L1 (Huber with β) between the
 * student's and the teacher's affinities. The teacher's vision tokens are usually `aligned` to
 * the student's by a matcher, so both sides have K tokens per sample; both read the same text.
 *
 * Reductions: `mean` averages all affinity entries of the batch; `sampleMean` averages each
 * sample's entries, then the samples that have any.
 */
export const affinityLoss: LossDefinition = {
  name: 'affinity',
  summary: 'EM-KD VLAD: SmoothL1 between teacher and student vision–text cosine affinities',
  inputs: {
    teacherVision: { side: 'teacher', fields: ['hidden', 'logits'] },
    teacherText: { side: 'teacher', fields: ['hidden', 'logits'] },
    studentVision: { side: 'student', fields: ['hidden', 'logits'] },
    studentText: { side: 'student', fields: ['hidden', 'logits'] },
  },
  defaults: affinityParams.defaults,
  pairing: 'samples',
  needsLabels: false,
  checkParams: affinityParams.check,
  shapeRule: ({ path, shapes }) => {
    const errors = [];
    const tv = shapes['teacherVision']!;
    const tt = shapes['teacherText']!;
    const sv = shapes['studentVision']!;
    const st = shapes['studentText']!;
    if (tv[2] !== tt[2]) {
      errors.push(graphError(path, `the teacher's vision and text tokens must have one width: ${formatShape(tv)} vs ${formatShape(tt)}`));
    }
    if (sv[2] !== st[2]) {
      errors.push(graphError(path, `the student's vision and text tokens must have one width: ${formatShape(sv)} vs ${formatShape(st)}`));
    }
    return errors;
  },
  explain: (node, inputs) => {
    const { beta, reduction } = affinityParams.decode(node.params);
    return (
      `SmoothL1_β=${beta}(cos(V_s, X_s), cos(V_t, X_t)) with V_t = ${inputs['teacherVision']}, ` +
      `X_t = ${inputs['teacherText']}, V_s = ${inputs['studentVision']}, X_s = ${inputs['studentText']}   (${
        reduction === 'mean' ? 'mean over affinity entries' : describeReduction('sampleMean')
      })`
    );
  },
  lower: (ctx, node, path) => {
    const rows = (name: string) => ctx.rows(node.inputs[name]!, `${path}.${name}`);
    const tv = rows('teacherVision');
    const tt = rows('teacherText');
    const sv = rows('studentVision');
    const st = rows('studentText');
    assertSameCounts(tv, sv, node.inputs['teacherVision']!, node.inputs['studentVision']!, path);
    assertSameCounts(tt, st, node.inputs['teacherText']!, node.inputs['studentText']!, path);
    const k = sv.selection.counts;
    const m = st.selection.counts;
    const samples = [...k.keys()].filter((b) => k[b]! > 0 && m[b]! > 0);
    if (samples.length === 0) return tf.add(zeroDependingOn(sv.values), zeroDependingOn(st.values)) as tf.Scalar;
    const { beta, reduction } = affinityParams.decode(node.params);
    const [ntv, ntt, nsv, nst] = [tv, tt, sv, st].map((r) => unitRows(r.values));
    const affinity = (vision: tf.Tensor2D, text: tf.Tensor2D, b: number, vo: Int32Array, to: Int32Array) =>
      tf.matMul(tf.slice(vision, [vo[b]!, 0], [k[b]!, vision.shape[1]]), tf.slice(text, [to[b]!, 0], [m[b]!, text.shape[1]]), false, true);
    const sums = samples.map((b) => {
      const at = affinity(ntv!, ntt!, b, tv.selection.offsets, tt.selection.offsets);
      const as = affinity(nsv!, nst!, b, sv.selection.offsets, st.selection.offsets);
      return tf.sum(smoothL1(tf.sub(as, at), beta));
    });
    if (reduction === 'mean') {
      const entries = samples.reduce((n, b) => n + k[b]! * m[b]!, 0);
      return tf.div(addAll(sums, ctx.maxKernelInputs), entries) as tf.Scalar;
    }
    const means = samples.map((b, i) => tf.div(sums[i]!, k[b]! * m[b]!));
    return tf.div(addAll(means, ctx.maxKernelInputs), samples.length) as tf.Scalar;
  },
};

/**
 * Smooth L1 elementwise: ½d²/β where |d| < β, else |d| − ½β. Written as ½·c²/β + (|d| − c) with
 * c = min(|d|, β), which has the right value and gradient on both sides without a mask.
 */
export function smoothL1(d: tf.Tensor, beta: number): tf.Tensor {
  const a = tf.abs(d);
  const c = tf.minimum(a, beta);
  return tf.add(tf.div(tf.mul(tf.square(c), 0.5), beta), tf.sub(a, c));
}

/** The token sets `affinity` relates: each side's vision tokens and text tokens. */
export interface AffinityInputs {
  readonly teacher: { readonly vision: TokenExpr<'teacher'>; readonly text: TokenExpr<'teacher'> };
  readonly student: { readonly vision: TokenExpr<'student'>; readonly text: TokenExpr<'student'> };
}

/**
 * EM-KD's vision–language affinity distillation (VLAD, EM-KD eq. 6–7): Smooth L1 (β, default 1)
 * between the student's and the teacher's cosine affinities of vision tokens with text tokens,
 * A = normalize(V)·normalize(X)ᵀ. `reduction`: `mean` over every affinity entry of the batch
 * (default) or `sampleMean`.
 *
 * Shapes: per side, `vision` [B, T, H] selecting K_b tokens and `text` [B, T, H] selecting M_b
 * tokens of sample b, one width H per side (the sides' widths may differ); the teacher's vision
 * tokens usually `aligned` to the student's by a matcher. The loss is a scalar.
 *
 * @example
 * const matched = match.hungarian(teacher.logits.at('visual'), student.logits.at('visual'));
 * const vlad = affinity({ teacher: { vision: matched.of(teacher.hidden.at('visual')), text: teacher.hidden.at('prompt') }, student: { vision: student.hidden.at('visual'), text: student.hidden.at('prompt') } });
 * const { loss } = await compile(objective({ vlad: weighted(25, vlad) }), outputs).valueAndGrad(outputs);
 */
export const affinity = (inputs: AffinityInputs, options: { readonly beta?: number; readonly reduction?: 'mean' | 'sampleMean' } = {}): LossNode =>
  Object.freeze({
    kind: 'loss',
    loss: affinityLoss.name,
    inputs: Object.freeze({
      teacherVision: inputs.teacher.vision,
      teacherText: inputs.teacher.text,
      studentVision: inputs.student.vision,
      studentText: inputs.student.text,
    }),
    params: Object.freeze({ beta: options.beta ?? affinityParams.defaults.beta, reduction: options.reduction ?? affinityParams.defaults.reduction }),
  });

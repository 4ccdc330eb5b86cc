import * as tf from '@tensorflow/tfjs-core';
import { graphError } from '../core/errors.js';
import type { JsonValue } from '../core/graph.js';
import type { DivergenceRule } from './divergence.js';
import { rowDot } from './divergence.js';
import { numberParam } from './params.js';

/**
 * Adaptive KL (AKL, Wu et al. 2024): a per-token mix of forward and reverse KL, weighted by where
 * the student's error lies. Sort the teacher's probabilities in descending order; the head is the
 * prefix whose cumulative mass is ≤ μ (the first token always belongs to it), the tail the rest.
 * With g_head = Σ_head |p − q| and g_tail = Σ_tail |p − q|:
 *
 *   ℓ = g_head/(g_head + g_tail) · KL(p ‖ q) + g_tail/(g_head + g_tail) · KL(q ‖ p)
 *
 * The weights are computed from detached probabilities (as in the authors' code), so they carry
 * no gradient; both are ½ when p = q exactly.
 */
export const aklRule: DivergenceRule = {
  name: 'akl',
  summary: 'adaptive KL: head/tail-weighted forward and reverse KL (Wu et al. 2024)',
  defaults: { mu: 0.5 },
  checkParams: (params, path) => {
    const mu = params['mu'];
    return typeof mu === 'number' && mu > 0 && mu < 1 ? [] : [graphError(path, `μ (mu) must be in (0, 1), got ${String(mu)}`)];
  },
  formula: (params) => `AKL_μ=${numberParam(params, 'mu')}(p, q)`,
  perToken: (logP, logQ, params) => {
    const { head, tail } = ratios(logP, logQ, params);
    const p = tf.exp(logP);
    const q = tf.exp(logQ);
    const fkl = rowDot(p, tf.sub(logP, logQ));
    const rkl = rowDot(q, tf.sub(logQ, logP));
    return tf.add(tf.mul(head, fkl), tf.mul(tail, rkl)) as tf.Tensor1D;
  },
  gradLogQ: (logP, logQ, params) => {
    const { head, tail } = ratios(logP, logQ, params);
    const p = tf.exp(logP);
    const q = tf.exp(logQ);
    const f = tf.sub(logQ, logP);
    const rklGrad = tf.mul(q, tf.sub(f, tf.reshape(rowDot(q, f), [-1, 1])));
    return tf.add(tf.mul(tf.reshape(head, [-1, 1]), tf.neg(p)), tf.mul(tf.reshape(tail, [-1, 1]), rklGrad)) as tf.Tensor2D;
  },
};

/** The head and tail weights of each row, [N] each. */
function ratios(logP: tf.Tensor2D, logQ: tf.Tensor2D, params: Readonly<Record<string, JsonValue>>) {
  const mu = numberParam(params, 'mu');
  const [rows, vocab] = logP.shape;
  const p = tf.exp(logP);
  const q = tf.exp(logQ);
  const sorted = tf.topk(p, vocab, true);
  const qSorted = tf.gather(q, sorted.indices, 1, 1);
  const error = tf.abs(tf.sub(sorted.values, qSorted));
  const cumulative = tf.cumsum(sorted.values, 1);
  // Head: cumulative mass ≤ μ, plus the first rank whatever its mass.
  const first = tf.concat([tf.ones([rows, 1]), tf.zeros([rows, vocab - 1])], 1);
  const headMask = tf.maximum(tf.cast(tf.lessEqual(cumulative, mu), 'float32'), first);
  const gHead = tf.sum(tf.mul(error, headMask), 1);
  const gTotal = tf.sum(error, 1);
  const safeTotal = tf.where(tf.greater(gTotal, 0), gTotal, tf.onesLike(gTotal));
  const head = tf.where(tf.greater(gTotal, 0), tf.div(gHead, safeTotal), tf.fill([rows], 0.5));
  return { head, tail: tf.sub(1, head) };
}

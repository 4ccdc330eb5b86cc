import * as tf from '@tensorflow/tfjs-core';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule, noParams } from './rule.js';

/**
 * The rule of `tvd`. ∂ℓ/∂q_v = ½ sign(q_v − p_v), with the subgradient 0 on ties (p_v = q_v),
 * which is what a tie should give (Liger-Kernel #1373 is the counterexample), so
 * ∂ℓ/∂log q = ½ q ⊙ sign(q − p).
 */
export const tvdRule = divergenceRule({
  name: 'tvd',
  summary: 'total variation distance ½Σ|p − q|',
  params: noParams,
  formula: () => 'TVD(p, q)',
  perToken: (logP, logQ) => tf.mul(tf.sum(tf.abs(tf.sub(tf.exp(logP), tf.exp(logQ))), 1), 0.5) as tf.Tensor1D,
  gradLogQ: (logP, logQ) => {
    const q = tf.exp(logQ);
    return tf.mul(tf.mul(q, tf.sign(tf.sub(q, tf.exp(logP)))), 0.5) as tf.Tensor2D;
  },
  row: ({ vocab, eP, invP, eQ, invQ }, h) => {
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const q = eQ[v]! * invQ;
      const d = q - eP[v]! * invP;
      loss += Math.abs(d);
      if (h) h[v] = 0.5 * q * Math.sign(d);
    }
    return 0.5 * loss;
  },
});

/**
 * Total variation distance, ½ Σ_v |p_v − q_v| ∈ [0, 1], token by token (p from the teacher's
 * logits, q from the student's, at temperature T); a bounded divergence (Wen et al. 2023, f-DISTILL).
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar. Laws: 0 ≤ ℓ ≤ 1, = 0 iff p = q; symmetric in p and q.
 *
 * @example
 * const term = tvd(teacher.logits.next('response'), student.logits.next('response'));
 * const compiled = compile(objective({ tvd: term }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const tvd: DivergenceBuilder = divergenceBuilder(tvdRule);

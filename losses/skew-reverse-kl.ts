import * as tf from '@tensorflow/tfjs-core';
import { logMixture } from '../core/safe-math.js';
import { reverseKLRule } from './reverse-kl.js';
import { type DivergenceBuilder, divergenceBuilder } from './rule.js';
import { skewRule } from './skew.js';

/**
 * The rule of `skewReverseKL`. ∂ℓ/∂q_v = log q_v − log m_v + 1 − α·q_v/m_v; the constant drops
 * out (see DivergenceRule), so ∂ℓ/∂log q = q ⊙ (log q − log m − α·q/m).
 */
export const skewReverseKLRule = skewRule({
  name: 'skewReverseKL',
  summary: 'skew reverse KL(q ‖ αq + (1−α)p) (DistiLLM SRKL; α=0 reverse KL)',
  formula: (alpha) => `KL(q ‖ ${alpha}·q + ${1 - alpha}·p)`,
  own: 'student',
  atZero: reverseKLRule,
  gradLogQ: (_logP, logQ, logM, alpha) => {
    const logRatio = tf.sub(logQ, logM);
    return tf.mul(tf.exp(logQ), tf.sub(logRatio, tf.mul(tf.exp(logRatio), alpha))) as tf.Tensor2D;
  },
  row: ({ vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ }, h, { alpha, logOwn, logOther }) => {
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const [p, q] = [eP[v]! * invP, eQ[v]! * invQ];
      const logQ = sQ[v]! - logSumQ;
      const logRatio = logQ - logMixture(q, p, alpha, logQ + logOwn, sP[v]! - logSumP + logOther);
      loss += q * logRatio;
      if (h) h[v] = q * (logRatio - alpha * Math.exp(logRatio));
    }
    return loss;
  },
});

/**
 * Skew reverse KL (DistiLLM, Ko et al. 2024), token by token: SRKL_α(p, q) = KL(q ‖ α·q +
 * (1−α)·p), with p from the teacher's logits and q from the student's, at temperature T;
 * α ∈ [0, 1], default 0.1. α = 0 is the reverse KL; α = 1 is identically 0.
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar.
 *
 * @example
 * const srkl = skewReverseKL(teacher.logits.next('response'), student.logits.next('response'), { alpha: 0.1 });
 * const compiled = compile(objective({ srkl }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const skewReverseKL: DivergenceBuilder<{ readonly alpha?: number }> = divergenceBuilder(skewReverseKLRule);

import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceRule } from './divergence.js';
import { rowDot } from './divergence.js';

/**
 * Reverse KL, KL(q ‖ p) = Σ_v q_v (log q_v − log p_v): the student weighs the error, so it
 * concentrates on the teacher's main modes (mode-seeking; MiniLLM). EM-KD's VSD and response RLD.
 * ∂ℓ/∂log q = q ⊙ (log q − log p − ℓ).
 *
 * Laws: ℓ ≥ 0, = 0 iff p = q.
 */
export const reverseKLRule: DivergenceRule = {
  name: 'reverseKL',
  summary: 'reverse KL(q_student ‖ p_teacher) (MiniLLM; EM-KD VSD and RLD)',
  defaults: {},
  checkParams: () => [],
  formula: () => 'KL(q ‖ p)',
  perToken: (logP, logQ) => rowDot(tf.exp(logQ), tf.sub(logQ, logP)),
  gradLogQ: (logP, logQ) => {
    const q = tf.exp(logQ);
    const f = tf.sub(logQ, logP);
    return tf.mul(q, tf.sub(f, tf.reshape(rowDot(q, f), [-1, 1])));
  },
  row: ({ vocab, sP, logSumP, sQ, eQ, invQ, logSumQ }, h) => {
    let loss = 0;
    const shift = logSumP - logSumQ;
    for (let v = 0; v < vocab; v++) {
      const q = eQ[v]! * invQ;
      const f = sQ[v]! - sP[v]! + shift;
      loss += q * f;
      // q ⊙ f differs from q ⊙ (f − ℓ) by a multiple of q, which the projection removes.
      if (h) h[v] = q * f;
    }
    return loss;
  },
};

import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceRule } from './divergence.js';
import { rowDot } from './divergence.js';

/**
 * Soft cross-entropy, −Σ_v p_v log q_v = KL(p ‖ q) + H(p): Hinton's distillation loss with soft
 * targets. Same gradient as the forward KL (∂ℓ/∂log q = −p), but its value includes the
 * teacher's entropy, so it is not 0 at p = q.
 */
export const softCERule: DivergenceRule = {
  name: 'softCE',
  summary: 'soft cross-entropy −Σ p log q (Hinton et al. 2015)',
  defaults: {},
  checkParams: () => [],
  formula: () => 'H(p, q)',
  perToken: (logP, logQ) => tf.neg(rowDot(tf.exp(logP), logQ)) as tf.Tensor1D,
  gradLogQ: (logP) => tf.neg(tf.exp(logP)),
  row: ({ vocab, eP, invP, sQ, logSumQ }, h) => {
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const p = eP[v]! * invP;
      loss -= p * (sQ[v]! - logSumQ);
      if (h) h[v] = -p;
    }
    return loss;
  },
};

import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceRule } from './divergence.js';
import { rowDot } from './divergence.js';

/**
 * Forward KL, KL(p ‖ q) = Σ_v p_v (log p_v − log q_v): the teacher weighs the error, so the
 * student is pushed to cover every mode of the teacher (mean-seeking). LLaVA-KD's MDist (response
 * and visual tokens). ∂ℓ/∂log q = −p.
 *
 * Laws: ℓ ≥ 0, = 0 iff p = q; invariant to adding a constant to either side's logits.
 */
export const forwardKLRule: DivergenceRule = {
  name: 'forwardKL',
  summary: 'forward KL(p_teacher ‖ q_student) (LLaVA-KD MDist)',
  defaults: {},
  checkParams: () => [],
  formula: () => 'KL(p ‖ q)',
  perToken: (logP, logQ) => rowDot(tf.exp(logP), tf.sub(logP, logQ)),
  gradLogQ: (logP) => tf.neg(tf.exp(logP)),
  row: ({ vocab, sP, eP, invP, logSumP, sQ, logSumQ }, h) => {
    let loss = 0;
    const shift = logSumQ - logSumP;
    for (let v = 0; v < vocab; v++) {
      const p = eP[v]! * invP;
      loss += p * (sP[v]! - sQ[v]! + shift);
      if (h) h[v] = -p;
    }
    return loss;
  },
};

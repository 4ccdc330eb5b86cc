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
  row: ({ vocab, p, logP, logQ }, h) => {
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      loss += p[v]! * (logP[v]! - logQ[v]!);
      if (h) h[v] = -p[v]!;
    }
    return loss;
  },
};

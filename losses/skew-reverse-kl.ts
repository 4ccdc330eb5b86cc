import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceRule } from './divergence.js';
import { logAddExp, rowDot } from './divergence.js';
import { logMixture } from './jsd.js';
import { checkUnitInterval, numberParam } from './params.js';
import { reverseKLRule } from './reverse-kl.js';

/**
 * Skew reverse KL (DistiLLM, Ko et al. 2024): SRKL_α(p, q) = KL(q ‖ α·q + (1−α)·p). α = 0 is
 * the reverse KL; α = 1 is identically 0.
 * ∂ℓ/∂q_v = log q_v − log m_v + 1 − α·q_v/m_v; the constant drops out (see DivergenceRule), so
 * ∂ℓ/∂log q = q ⊙ (log q − log m − α·q/m).
 */
export const skewReverseKLRule: DivergenceRule = {
  name: 'skewReverseKL',
  summary: 'skew reverse KL(q ‖ αq + (1−α)p) (DistiLLM SRKL; α=0 reverse KL)',
  defaults: { alpha: 0.1 },
  checkParams: (params, path) => checkUnitInterval(params, 'alpha', 'α', path),
  formula: (params) => `KL(q ‖ ${numberParam(params, 'alpha')}·q + ${1 - numberParam(params, 'alpha')}·p)`,
  perToken: (logP, logQ, params) => {
    const alpha = numberParam(params, 'alpha');
    if (alpha === 0) return reverseKLRule.perToken(logP, logQ, params);
    if (alpha === 1) return tf.zeros([logP.shape[0]]) as tf.Tensor1D;
    return rowDot(tf.exp(logQ), tf.sub(logQ, mixture(logP, logQ, alpha)));
  },
  gradLogQ: (logP, logQ, params) => {
    const alpha = numberParam(params, 'alpha');
    if (alpha === 0) return reverseKLRule.gradLogQ(logP, logQ, params);
    if (alpha === 1) return tf.zerosLike(logQ);
    const logRatio = tf.sub(logQ, mixture(logP, logQ, alpha));
    return tf.mul(tf.exp(logQ), tf.sub(logRatio, tf.mul(tf.exp(logRatio), alpha))) as tf.Tensor2D;
  },
  row: (row, h, params) => {
    const alpha = numberParam(params, 'alpha');
    if (alpha === 0) return reverseKLRule.row(row, h, params);
    const { vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ } = row;
    if (alpha === 1) {
      h?.fill(0, 0, vocab);
      return 0;
    }
    const [la, lc] = [Math.log(alpha), Math.log(1 - alpha)];
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const [p, q] = [eP[v]! * invP, eQ[v]! * invQ];
      const logQ = sQ[v]! - logSumQ;
      const logRatio = logQ - logMixture(q, p, alpha, logQ + la, sP[v]! - logSumP + lc);
      loss += q * logRatio;
      if (h) h[v] = q * (logRatio - alpha * Math.exp(logRatio));
    }
    return loss;
  },
};

/** log(α·q + (1−α)·p) for α in (0, 1). */
const mixture = (logP: tf.Tensor, logQ: tf.Tensor, alpha: number): tf.Tensor =>
  logAddExp(tf.add(logQ, Math.log(alpha)), tf.add(logP, Math.log(1 - alpha)));

import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceRule } from './divergence.js';
import { logAddExp, rowDot } from './divergence.js';
import { forwardKLRule } from './forward-kl.js';
import { checkUnitInterval, numberParam } from './params.js';
import { reverseKLRule } from './reverse-kl.js';

/**
 * Generalised Jensen–Shannon divergence (GKD, Agarwal et al. 2024):
 *   JSD(β) = β·KL(p ‖ m) + (1−β)·KL(q ‖ m),  m = β·p + (1−β)·q.
 * β = 0 and β = 1 are the forward and reverse KL, the conventions of TRL's GKDTrainer and
 * Liger's JSD. ∂ℓ/∂log q = (1−β)·q ⊙ (log q − log m).
 *
 * Laws: 0 ≤ ℓ ≤ −β ln β − (1−β) ln(1−β) (so ≤ ln 2 at β = ½); symmetric in p and q at β = ½.
 */
export const jsdRule: DivergenceRule = {
  name: 'jsd',
  summary: 'generalised Jensen–Shannon divergence JSD(β) (GKD; β=0 forward KL, β=1 reverse KL)',
  defaults: { beta: 0.5 },
  checkParams: (params, path) => checkUnitInterval(params, 'beta', 'β', path),
  formula: (params) => `JSD_β=${numberParam(params, 'beta')}(p, q)`,
  perToken: (logP, logQ, params) => {
    const beta = numberParam(params, 'beta');
    if (beta === 0) return forwardKLRule.perToken(logP, logQ, params);
    if (beta === 1) return reverseKLRule.perToken(logP, logQ, params);
    const logM = mixture(logP, logQ, beta);
    return tf.add(
      tf.mul(rowDot(tf.exp(logP), tf.sub(logP, logM)), beta),
      tf.mul(rowDot(tf.exp(logQ), tf.sub(logQ, logM)), 1 - beta),
    ) as tf.Tensor1D;
  },
  gradLogQ: (logP, logQ, params) => {
    const beta = numberParam(params, 'beta');
    if (beta === 0) return forwardKLRule.gradLogQ(logP, logQ, params);
    if (beta === 1) return reverseKLRule.gradLogQ(logP, logQ, params);
    return tf.mul(tf.mul(tf.exp(logQ), tf.sub(logQ, mixture(logP, logQ, beta))), 1 - beta);
  },
};

/** log(β·p + (1−β)·q) for β in (0, 1). */
const mixture = (logP: tf.Tensor, logQ: tf.Tensor, beta: number): tf.Tensor =>
  logAddExp(tf.add(logP, Math.log(beta)), tf.add(logQ, Math.log(1 - beta)));

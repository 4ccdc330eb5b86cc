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
  row: (row, h, params) => {
    const beta = numberParam(params, 'beta');
    if (beta === 0) return forwardKLRule.row(row, h, params);
    if (beta === 1) return reverseKLRule.row(row, h, params);
    const { vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ } = row;
    const [lb, lc] = [Math.log(beta), Math.log(1 - beta)];
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const [p, q] = [eP[v]! * invP, eQ[v]! * invQ];
      const [logP, logQ] = [sP[v]! - logSumP, sQ[v]! - logSumQ];
      const logM = logMixture(p, q, beta, logP + lb, logQ + lc);
      loss += beta * p * (logP - logM) + (1 - beta) * q * (logQ - logM);
      if (h) h[v] = (1 - beta) * q * (logQ - logM);
    }
    return loss;
  },
};

/**
 * log(w·x + (1−w)·y) given x, y and the logs of the two summands: the plain log where the sum is a
 * normal number, else log-add-exp of the logs, which stays finite where both underflow.
 */
export function logMixture(x: number, y: number, w: number, logWx: number, logWy: number): number {
  const m = w * x + (1 - w) * y;
  if (m > 1e-300) return Math.log(m);
  const hi = Math.max(logWx, logWy);
  return hi + Math.log1p(Math.exp(-Math.abs(logWx - logWy)));
}

/** log(β·p + (1−β)·q) for β in (0, 1). */
const mixture = (logP: tf.Tensor, logQ: tf.Tensor, beta: number): tf.Tensor =>
  logAddExp(tf.add(logP, Math.log(beta)), tf.add(logQ, Math.log(1 - beta)));

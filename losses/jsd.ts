import * as tf from '@tensorflow/tfjs-core';
import { logMixture, logMixtureOf, rowKL } from '../core/safe-math.js';
import { forwardKLRule } from './forward-kl.js';
import { paramCodec, unitInterval } from './params.js';
import { reverseKLRule } from './reverse-kl.js';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule } from './rule.js';

/**
 * The rule of `jsd`. β = 0 and β = 1 delegate to the forward and reverse KL (the mixture's log
 * would take log 0 there). ∂ℓ/∂log q = (1−β)·q ⊙ (log q − log m).
 */
export const jsdRule = divergenceRule({
  name: 'jsd',
  summary: 'generalised Jensen–Shannon divergence JSD(β) (GKD; β=0 forward KL, β=1 reverse KL)',
  params: paramCodec({ beta: unitInterval('β', 0.5) }),
  formula: ({ beta }) => `JSD_β=${beta}(p, q)`,
  perToken: (logP, logQ, params) => {
    const { beta } = params;
    if (beta === 0) return forwardKLRule.perToken(logP, logQ, params);
    if (beta === 1) return reverseKLRule.perToken(logP, logQ, params);
    const logM = logMixtureOf(logP, logQ, beta);
    return tf.add(tf.mul(rowKL(logP, logM), beta), tf.mul(rowKL(logQ, logM), 1 - beta)) as tf.Tensor1D;
  },
  gradLogQ: (logP, logQ, params) => {
    const { beta } = params;
    if (beta === 0) return forwardKLRule.gradLogQ(logP, logQ, params);
    if (beta === 1) return reverseKLRule.gradLogQ(logP, logQ, params);
    return tf.mul(tf.mul(tf.exp(logQ), tf.sub(logQ, logMixtureOf(logP, logQ, beta))), 1 - beta);
  },
  row: (row, h, params) => {
    const { beta } = params;
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
});

/**
 * Generalised Jensen–Shannon divergence (GKD, Agarwal et al. 2024), token by token:
 *   JSD(β) = β·KL(p ‖ m) + (1−β)·KL(q ‖ m),  m = β·p + (1−β)·q,
 * with p from the teacher's logits and q from the student's, at temperature T. β ∈ [0, 1]
 * (default ½); β = 0 and β = 1 are the forward and reverse KL, the conventions of TRL's
 * GKDTrainer and Liger-Kernel's JSD.
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar. Laws: 0 ≤ ℓ ≤ −β ln β − (1−β) ln(1−β) (≤ ln 2 at β = ½);
 * symmetric in p and q at β = ½.
 *
 * @example
 * const gkd = jsd(teacher.logits.next('response'), student.logits.next('response'), { beta: 0.5 });
 * const compiled = compile(objective({ gkd }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const jsd: DivergenceBuilder<{ readonly beta?: number }> = divergenceBuilder(jsdRule);

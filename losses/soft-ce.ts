import * as tf from '@tensorflow/tfjs-core';
import { rowDot } from '../core/safe-math.js';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule, noParams } from './rule.js';

/** The rule of `softCE`: the forward KL's gradient, ∂ℓ/∂log q = −p. */
export const softCERule = divergenceRule({
  name: 'softCE',
  summary: 'soft cross-entropy −Σ p log q (Hinton et al. 2015)',
  params: noParams,
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
});

/**
 * Soft cross-entropy, −Σ_v p_v log q_v = KL(p ‖ q) + H(p), token by token: Hinton et al.'s
 * (2015) distillation loss with soft targets p = softmax(a/T) and q = softmax(b/T). Same gradient
 * as the forward KL, but its value includes the teacher's entropy, so it is not 0 at p = q.
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar. Usually with `scaleT2: true` at T > 1, as Hinton et al. do.
 *
 * @example
 * const soft = softCE(teacher.logits.next('response'), student.logits.next('response'), { temperature: 4, scaleT2: true });
 * const compiled = compile(objective({ soft }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const softCE: DivergenceBuilder = divergenceBuilder(softCERule);

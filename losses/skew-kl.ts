import * as tf from '@tensorflow/tfjs-core';
import { logMixture } from '../core/safe-math.js';
import { forwardKLRule } from './forward-kl.js';
import { type DivergenceBuilder, divergenceBuilder } from './rule.js';
import { skewRule } from './skew.js';

/** The rule of `skewKL`. ∂ℓ/∂log q = −(1−α)·p ⊙ q / m. */
export const skewKLRule = skewRule({
  name: 'skewKL',
  summary: 'skew KL(p ‖ αp + (1−α)q) (DistiLLM SKL; α=0 forward KL)',
  formula: (alpha) => `KL(p ‖ ${alpha}·p + ${1 - alpha}·q)`,
  own: 'teacher',
  atZero: forwardKLRule,
  gradLogQ: (logP, logQ, logM, alpha) => tf.mul(tf.exp(tf.sub(tf.add(logP, logQ), logM)), -(1 - alpha)) as tf.Tensor2D,
  row: ({ vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ }, h, { alpha, logOwn, logOther }) => {
    let loss = 0;
    for (let v = 0; v < vocab; v++) {
      const [p, q] = [eP[v]! * invP, eQ[v]! * invQ];
      const logP = sP[v]! - logSumP;
      const logM = logMixture(p, q, alpha, logP + logOwn, sQ[v]! - logSumQ + logOther);
      loss += p * (logP - logM);
      // p·q/m, in logs where m has underflowed.
      if (h) h[v] = -(1 - alpha) * Math.exp(logP + sQ[v]! - logSumQ - logM);
    }
    return loss;
  },
});

/**
 * Skew KL (DistiLLM, Ko et al. 2024), token by token: SKL_α(p, q) = KL(p ‖ α·p + (1−α)·q), with
 * p from the teacher's logits and q from the student's, at temperature T; α ∈ [0, 1], default 0.1.
 * Mixing some of the teacher into the student's side keeps the log finite where q underflows.
 * α = 0 is the forward KL; α = 1 is identically 0. DistiLLM writes it as the cross-entropy
 * −Σ p log m, which differs by the teacher's entropy and has the same gradient; this is the
 * divergence itself, ≥ 0.
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar.
 *
 * @example
 * const skl = skewKL(teacher.logits.next('response'), student.logits.next('response'), { alpha: 0.1 });
 * const compiled = compile(objective({ skl }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const skewKL: DivergenceBuilder<{ readonly alpha?: number }> = divergenceBuilder(skewKLRule);

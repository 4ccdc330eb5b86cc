import * as tf from '@tensorflow/tfjs-core';
import { rowKL } from '../core/safe-math.js';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule, noParams } from './rule.js';

/** The rule of `forwardKL`: no parameters of its own. ∂ℓ/∂log q = −p. */
export const forwardKLRule = divergenceRule({
  name: 'forwardKL',
  summary: 'forward KL(p_teacher ‖ q_student) (LLaVA-KD MDist)',
  params: noParams,
  formula: () => 'KL(p ‖ q)',
  perToken: (logP, logQ) => rowKL(logP, logQ),
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
});

/**
 * Forward KL, KL(p ‖ q) = Σ_v p_v (log p_v − log q_v), token by token, with p = softmax(a/T)
 * from the teacher's logits a and q = softmax(b/T) from the student's logits b. The teacher
 * weighs the error, so the student is pushed to cover every mode of the teacher (mean-seeking).
 * LLaVA-KD's MDist (Cai et al. 2024, eq. 2–3, on response and visual tokens).
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample (V equal unless `truncateVocab`); the loss is a scalar, reduced as `reduction` says.
 * Laws: ℓ ≥ 0, = 0 iff p = q; invariant to adding a constant to either side's logits.
 *
 * @example
 * const mdist = kl.forward(teacher.logits.next('response'), student.logits.next('response'), { temperature: 2 });
 * const compiled = compile(objective({ mdist }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const forwardKL: DivergenceBuilder = divergenceBuilder(forwardKLRule);

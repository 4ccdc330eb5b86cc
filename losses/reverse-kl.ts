import * as tf from '@tensorflow/tfjs-core';
import { rowDot, rowKL } from '../core/safe-math.js';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule, noParams } from './rule.js';

/** The rule of `reverseKL`: no parameters of its own. ∂ℓ/∂log q = q ⊙ (log q − log p − ℓ). */
export const reverseKLRule = divergenceRule({
  name: 'reverseKL',
  summary: 'reverse KL(q_student ‖ p_teacher) (MiniLLM; EM-KD VSD and RLD)',
  params: noParams,
  formula: () => 'KL(q ‖ p)',
  perToken: (logP, logQ) => rowKL(logQ, logP),
  gradLogQ: (logP, logQ) => {
    const q = tf.exp(logQ);
    const f = tf.sub(logQ, logP);
    return tf.mul(q, tf.sub(f, tf.reshape(rowDot(q, f), [-1, 1])));
  },
  row: ({ vocab, sP, logSumP, sQ, eQ, invQ, logSumQ }, h) => {
    let loss = 0;
    const shift = logSumP - logSumQ;
    for (let v = 0; v < vocab; v++) {
      const q = eQ[v]! * invQ;
      const f = sQ[v]! - sP[v]! + shift;
      loss += q * f;
      // q ⊙ f differs from q ⊙ (f − ℓ) by a multiple of q, which the projection removes.
      if (h) h[v] = q * f;
    }
    return loss;
  },
});

/**
 * Reverse KL, KL(q ‖ p) = Σ_v q_v (log q_v − log p_v), token by token (p from the teacher's
 * logits, q from the student's, both at temperature T): the student weighs the error, so it
 * concentrates on the teacher's main modes (mode-seeking; MiniLLM, Gu et al. 2024). EM-KD's
 * vision-token distillation (VSD) and response distillation (RLD).
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar. Laws: ℓ ≥ 0, = 0 iff p = q.
 *
 * @example
 * const rld = kl.reverse(teacher.logits.next('response'), student.logits.next('response'));
 * const compiled = compile(objective({ rld }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const reverseKL: DivergenceBuilder = divergenceBuilder(reverseKLRule);

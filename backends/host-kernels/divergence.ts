import * as tf from '@tensorflow/tfjs-core';
import { withGradient } from '../../core/tensor-ops.js';
import type { DivergenceKernel, RowView } from '../../losses/divergence.js';

/**
 * A divergence computed on the host in float64, one row at a time, for backends whose tensors
 * the host can read synchronously (cpu, wasm). Per row: four passes over the vocabulary and two
 * exponentials per entry (the log-sum-exps of both sides, whose terms are then reused as p and
 * q), where the tfjs composite runs a dozen kernels over the whole [N, V] block and keeps their
 * outputs for the backward pass. The gradient is computed in the same sweep when one is wanted, and becomes a
 * tensor only when the backward pass asks for it.
 */
export const hostDivergenceKernel: DivergenceKernel = (op) => {
  const { rule, params, temperature, vocab, weights } = op;
  const teacher = op.teacher.values;
  return withGradient<tf.Scalar>(op.student.values, (student) => {
    const a = teacher.dataSync() as Float32Array;
    const b = student.dataSync() as Float32Array;
    const [rows, widthB] = student.shape as [number, number];
    const widthA = teacher.shape[1]!;
    const [sP, eP, sQ, eQ] = [new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab)];
    const h = op.ctx.differentiating ? new Float64Array(vocab) : null;
    const grad = op.ctx.differentiating ? new Float32Array(rows * widthB) : null;
    const invT = 1 / temperature;
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const [oa, ob] = [i * widthA, i * widthB];
      // Pass 1: tempered logits of both sides and their maxima.
      let maxA = -Infinity;
      let maxB = -Infinity;
      for (let v = 0; v < vocab; v++) {
        const za = a[oa + v]! * invT;
        const zb = b[ob + v]! * invT;
        sP[v] = za;
        sQ[v] = zb;
        if (za > maxA) maxA = za;
        if (zb > maxB) maxB = zb;
      }
      // Pass 2: shift by the maxima and exponentiate; the sums normalise later, inside the rule.
      let sumA = 0;
      let sumB = 0;
      for (let v = 0; v < vocab; v++) {
        const da = sP[v]! - maxA;
        const db = sQ[v]! - maxB;
        sP[v] = da;
        sQ[v] = db;
        const ea = Math.exp(da);
        const eb = Math.exp(db);
        eP[v] = ea;
        eQ[v] = eb;
        sumA += ea;
        sumB += eb;
      }
      const view: RowView = { vocab, sP, eP, invP: 1 / sumA, logSumP: Math.log(sumA), sQ, eQ, invQ: 1 / sumB, logSumQ: Math.log(sumB) };
      // Pass 3: the rule's loss and ∂ℓ/∂log q.
      loss += weights[i]! * rule.row(view, h, params);
      if (h !== null && grad !== null) {
        // Pass 4: through log-softmax and the temperature, ∂/∂b_v = (w/T)·(h_v − q_v Σ_u h_u).
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += h[v]!;
        const coefficient = weights[i]! * invT;
        const qScale = view.invQ * sum;
        for (let v = 0; v < vocab; v++) grad[ob + v] = coefficient * (h[v]! - eQ[v]! * qScale);
      }
    }
    // The gradient stays a host array until the backward pass asks for it; the upstream scalar
    // dy is applied on the host, sparing a backend multiply over [N, V].
    return {
      value: tf.scalar(loss),
      gradFunc: (dy) => {
        if (grad === null) return tf.zerosLike(student);
        const scale = dy.dataSync()[0]!;
        if (scale !== 1) for (let k = 0; k < grad.length; k++) grad[k]! *= scale;
        return tf.tensor2d(grad, [rows, widthB]);
      },
    };
  });
};

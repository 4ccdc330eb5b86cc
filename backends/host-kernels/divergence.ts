import * as tf from '@tensorflow/tfjs-core';
import { withGradient } from '../../core/tensor-ops.js';
import type { DivergenceKernel, RowView } from '../../losses/divergence.js';

/**
 * A divergence computed on the host in float64, one row at a time, for backends whose tensors
 * the host can read synchronously (cpu, wasm). Per row it takes two exponentials per entry
 * (the log-sum-exps of both sides, whose terms are then reused as p and q), where the tfjs
 * composite runs a dozen kernels over the whole [N, V] block and keeps their outputs for the
 * backward pass. The gradient is computed in the same sweep when one is wanted, and becomes a
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
    const view: RowView = {
      vocab,
      p: new Float64Array(vocab),
      q: new Float64Array(vocab),
      logP: new Float64Array(vocab),
      logQ: new Float64Array(vocab),
    };
    const h = op.ctx.differentiating ? new Float64Array(vocab) : null;
    const grad = op.ctx.differentiating ? new Float32Array(rows * widthB) : null;
    const invT = 1 / temperature;
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      logSoftmaxRow(a, i * widthA, vocab, invT, view.p, view.logP);
      logSoftmaxRow(b, i * widthB, vocab, invT, view.q, view.logQ);
      loss += weights[i]! * rule.row(view, h, params);
      if (h !== null && grad !== null) {
        // Through log-softmax and the temperature: ∂/∂b_v = (w/T)·(h_v − q_v Σ_u h_u).
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += h[v]!;
        const coefficient = weights[i]! * invT;
        const offset = i * widthB;
        for (let v = 0; v < vocab; v++) grad[offset + v] = coefficient * (h[v]! - view.q[v]! * sum);
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

/**
 * p = softmax(x·invT) and log p over x[offset … offset+vocab), in float64, with the maximum
 * subtracted; p holds the exponentials until the sum is known.
 */
function logSoftmaxRow(x: Float32Array, offset: number, vocab: number, invT: number, p: Float64Array, logP: Float64Array): void {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const z = x[offset + v]! * invT;
    logP[v] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let v = 0; v < vocab; v++) {
    const e = Math.exp(logP[v]! - max);
    p[v] = e;
    sum += e;
  }
  const lse = max + Math.log(sum);
  const inv = 1 / sum;
  for (let v = 0; v < vocab; v++) {
    p[v] = p[v]! * inv;
    logP[v] = logP[v]! - lse;
  }
}

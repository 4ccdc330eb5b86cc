import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../core/errors.js';
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
      const fast = FAST_ROWS[rule.name];
      if (fast !== undefined) {
        // Pass 3, fused: loss and gradient in closed form, Σ_v h_v known without a pass.
        loss += weights[i]! * fast(view, grad, ob, weights[i]! * invT);
        continue;
      }
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
        checkHeap(grad.byteLength, [rows, widthB]);
        const scale = dy.dataSync()[0]!;
        if (scale !== 1) for (let k = 0; k < grad.length; k++) grad[k]! *= scale;
        return tf.tensor2d(grad, [rows, widthB]);
      },
    };
  });
};

/**
 * Rules whose ∂ℓ/∂log q sums to a constant, so that loss and gradient come out of one pass:
 * returns ℓ of the row and writes c·(h − q Σh) at `grad[offset…]` when `grad` is given.
 * - forward KL and soft CE: h = −p, Σh = −1, so ∂ℓ/∂b = c·(q − p).
 * - TVD: h = ½ q sign(q − p); Σh = ½ (Σ_{q>p} q − Σ_{q<p} q) needs the row, so TVD stays a rule row.
 */
type FastRow = (row: RowView, grad: Float32Array | null, offset: number, c: number) => number;

const forwardRow: FastRow = ({ vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ }, grad, offset, c) => {
  let dot = 0;
  if (grad === null) {
    for (let v = 0; v < vocab; v++) dot += eP[v]! * (sP[v]! - sQ[v]!);
  } else {
    const [cp, cq] = [c * invP, c * invQ];
    for (let v = 0; v < vocab; v++) {
      const e = eP[v]!;
      dot += e * (sP[v]! - sQ[v]!);
      grad[offset + v] = cq * eQ[v]! - cp * e;
    }
  }
  return dot * invP + logSumQ - logSumP;
};

const softCERow: FastRow = (row, grad, offset, c) => {
  // H(p, q) = KL(p ‖ q) + H(p), H(p) = logΣP − Σ p·sP.
  const { vocab, sP, eP, invP, logSumP } = row;
  let entropy = logSumP;
  for (let v = 0; v < vocab; v++) entropy -= eP[v]! * invP * sP[v]!;
  return forwardRow(row, grad, offset, c) + entropy;
};

const FAST_ROWS: Readonly<Record<string, FastRow>> = { forwardKL: forwardRow, softCE: softCERow };

/**
 * wasm's heap stops at 4 GiB, and tfjs-backend-wasm reports an exhausted heap as a crash
 * ("memory access out of bounds") or an abort, not an error; a gradient that cannot fit beside
 * the tensors alive is refused here, naming the sizes and the limit.
 */
function checkHeap(bytes: number, shape: readonly number[]): void {
  if (tf.getBackend() !== 'wasm') return;
  const live = tf.memory().numBytes;
  if (live + bytes > WASM_HEAP_LIMIT) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new InputError(
      `the gradient of the student's logits [${shape.join(', ')}] needs ${mib(bytes)} of wasm's heap beside ${mib(live)} of tensors alive, ` +
        `past its limit of 4 GiB (${mib(WASM_HEAP_LIMIT)} usable); use fewer tokens per step, or the cpu backend`,
    );
  }
}

/** What tfjs's wasm module can hold: 4 GiB less what it needs for itself. */
const WASM_HEAP_LIMIT = 4 * 2 ** 30 - 256 * 2 ** 20;

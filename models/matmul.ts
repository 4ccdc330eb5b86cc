import * as tf from '@tensorflow/tfjs-core';

/**
 * Matrix products whose gradients avoid transposed-operand matMuls.
 *
 * tfjs's matMul gradient computes dA = dY · Bᵀ and dB = Aᵀ · dY with the `transposeA/B` flags.
 * On the wasm backend only the untransposed case reaches XNNPACK; a flagged operand takes a naive
 * loop about 10× slower (measured on a 2-core machine: [960,128]ᵀ·[960,128] 16 ms with the flag,
 * 1.5 ms as an explicit transpose followed by a plain matMul). Training is dominated by these
 * backward products, so the gradients here transpose explicitly.
 */

/** Swaps the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

const checkRanks = (a: tf.Tensor, b: tf.Tensor, what: string): void => {
  if (a.rank < 2 || a.rank !== b.rank) {
    throw new Error(`${what}: operands must have the same rank ≥ 2, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
};

/**
 * A differentiable op of `arity` tensors whose backward is `grad(dy, inputs)`. The inputs are
 * saved for the backward pass (tfjs only keeps them while a gradient is being recorded).
 */
function withGrad(
  arity: number,
  forward: (xs: readonly tf.Tensor[]) => tf.Tensor,
  grad: (dy: tf.Tensor, xs: readonly tf.Tensor[]) => tf.Tensor[],
): (...xs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, arity) as tf.Tensor[];
    (args[arity] as tf.GradSaveFunc)(xs);
    return { value: forward(xs), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grad(dy, saved) };
  });
}

const at = (xs: readonly tf.Tensor[], i: number): tf.Tensor => xs[i] as tf.Tensor;

const matMulOp = withGrad(
  2,
  (xs) => tf.matMul(at(xs, 0), at(xs, 1)),
  (dy, xs) => [tf.matMul(dy, swapLast(at(xs, 1))), tf.matMul(swapLast(at(xs, 0)), dy)],
);

/** a [..., m, k] · b [..., k, n] → [..., m, n] (equal batch axes), differentiable in both operands. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  checkRanks(a, b, 'matMul');
  return matMulOp(a, b);
}

const constMatMulOp = withGrad(
  2,
  (xs) => tf.matMul(at(xs, 0), at(xs, 1)),
  (dy, xs) => [tf.zerosLike(at(xs, 0)), tf.matMul(swapLast(at(xs, 0)), dy)],
);

/**
 * c [..., m, k] · x [..., k, n] where `c` is data (a host-built 0/1 matrix): no gradient flows to
 * `c` (it gets zeros, never computed by a product), so only dX = cᵀ · dY is paid for.
 */
export function constMatMul(c: tf.Tensor, x: tf.Tensor): tf.Tensor {
  checkRanks(c, x, 'constMatMul');
  return constMatMulOp(c, x);
}

const matMulBiasOp = withGrad(
  3,
  (xs) => tf.fused.matMul({ a: at(xs, 0) as tf.Tensor2D, b: at(xs, 1) as tf.Tensor2D, bias: at(xs, 2) }),
  (dy, xs) => [tf.matMul(dy, swapLast(at(xs, 1))), tf.matMul(swapLast(at(xs, 0)), dy), tf.sum(dy, 0)],
);

/**
 * x [n, k] · w [k, m] + bias [m] in one fused kernel, with gradients dX = dY · wᵀ,
 * dW = xᵀ · dY, dBias = Σ_rows dY.
 */
export function matMulBias(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || bias.rank !== 1) {
    throw new Error(`matMulBias: expected ranks 2, 2, 1, got [${x.shape.join(', ')}], [${w.shape.join(', ')}], [${bias.shape.join(', ')}]`);
  }
  return matMulBiasOp(x, w, bias) as tf.Tensor2D;
}

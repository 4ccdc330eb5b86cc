import * as tf from '@tensorflow/tfjs-core';

/**
 * Rows `positions` of x [R, D], with a gradient that scatters back into x's shape.
 *
 * tfjs's own `gather` differentiates through UnsortedSegmentSum, which the wasm backend lacks.
 * The positions of a selection are distinct, so scattering the upstream gradient with
 * `scatterND` (present on every backend) is exact.
 */
export function gatherRows(x: tf.Tensor2D, positions: Int32Array): tf.Tensor2D {
  const [rows, width] = x.shape;
  if (positions.length === 0) return tf.slice(x, [0, 0], [0, width]);
  if (isIdentity(positions, rows)) return x;
  return withGradient(x, (input, save) => {
    const index = tf.tensor1d(positions, 'int32');
    save([index]);
    return {
      value: tf.gather(input, index) as tf.Tensor2D,
      gradFunc: (dy, saved) => tf.scatterND(tf.reshape(saved[0]!, [positions.length, 1]), dy, [rows, width]),
    };
  });
}

/** Whether the selection is every row, in order (then no gather is needed). */
function isIdentity(positions: Int32Array, rows: number): boolean {
  if (positions.length !== rows) return false;
  for (let i = 0; i < rows; i++) if (positions[i] !== i) return false;
  return true;
}

/**
 * `tf.customGrad` for one differentiable input, typed. `forward` returns the value and the
 * gradient rule; tensors passed to `save` outlive the forward pass for the backward one.
 */
export function withGradient<T extends tf.Tensor>(
  x: tf.Tensor,
  forward: (
    input: tf.Tensor,
    save: tf.GradSaveFunc,
  ) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor },
): T {
  // tfjs types the custom function's arguments as one loose rest array; this is the one place
  // that knows input 0 is the tensor and input 1 the save function.
  type Loose = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor };
  const loose: Loose = (...args) => forward(args[0] as tf.Tensor, args[1] as tf.GradSaveFunc);
  return tf.customGrad<T>(loose)(x);
}

/**
 * A scalar 0 that still depends on x, so that differentiating it gives zeros rather than an
 * error ("Cannot compute gradient … make sure f encloses all operations"). It avoids reducing an
 * empty tensor: on the wasm backend the sum of a zero-size tensor is uninitialised memory.
 */
export function zeroDependingOn(x: tf.Tensor): tf.Scalar {
  if (x.size === 0) return tf.scalar(0);
  const first = tf.slice(tf.reshape(x, [-1]), [0], [1]);
  return tf.mul(tf.sum(first), 0);
}

/** Σ_i w_i v_i for host weights w (the reduction of per-token losses). */
export function weightedSum(values: tf.Tensor1D, weights: Float32Array): tf.Scalar {
  return tf.sum(tf.mul(values, tf.tensor1d(weights)));
}

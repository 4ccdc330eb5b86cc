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

/**
 * Σ tensors (same shape), like `tf.addN`, but never binding more than `maxInputs` inputs to one
 * kernel (a backend capability: lowering passes `ctx.maxKernelInputs`).
 *
 * WebGPU's AddN binds every input as a storage buffer, and adapters may allow as few as 8 per
 * shader stage (the WebGPU default; lavapipe and SwiftShader give exactly that). A larger addN is
 * an invalid pipeline that Dawn reports only on stderr, with garbage as its output; so there long
 * sums (over terms, samples, parameters) become a tree of small addNs. Unbounded backends keep a
 * single addN, whose rounding the shipped teacher's recorded losses were computed with.
 */
export function addAll<T extends tf.Tensor>(tensors: readonly T[], maxInputs: number = Number.POSITIVE_INFINITY): T {
  if (tensors.length === 0) throw new Error('addAll: nothing to add (the sum of no tensors has no shape)');
  if (tensors.length === 1) return tensors[0]!;
  const fanIn = Math.max(2, maxInputs);
  let level: tf.Tensor[] = [...tensors];
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += fanIn) {
      const group = level.slice(i, i + fanIn);
      next.push(group.length === 1 ? group[0]! : tf.addN(group));
    }
    level = next;
  }
  return level[0] as T;
}

/** Whether the selection is every row, in order (then no gather is needed). */
function isIdentity(positions: Int32Array, rows: number): boolean {
  if (positions.length !== rows) return false;
  for (let i = 0; i < rows; i++) if (positions[i] !== i) return false;
  return true;
}

/**
 * `tf.reshape`, differentiable, saving nothing for the backward pass. tfjs's Reshape saves its
 * input, and saving clones through the Identity kernel, which on wasm copies the whole tensor into
 * the heap: a [B, T, V] logits tensor viewed as rows would cost its size again (at 1024 × 151936,
 * 622 MB of wasm's 4 GiB per side).
 */
export function reshapeUnsaved(x: tf.Tensor, shape: number[]): tf.Tensor {
  const from = x.shape;
  return withGradient<tf.Tensor>(x, (input) => ({ value: tf.reshape(input, shape), gradFunc: (dy) => tf.reshape(dy, from) }));
}

/**
 * `tf.customGrad` for one differentiable input, typed. `forward` returns the value and the
 * gradient rule; tensors passed to `save` outlive the forward pass for the backward one.
 */
export function withGradient<T extends tf.Tensor>(
  x: tf.Tensor,
  forward: (input: tf.Tensor, save: tf.GradSaveFunc) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor },
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

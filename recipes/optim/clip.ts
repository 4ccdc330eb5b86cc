import * as tf from '@tensorflow/tfjs-core';
import { activeBackend } from '../../backends/active.js';
import { addAll } from '../../core/tensor-ops.js';

/**
 * The gradients' global L2 norm ‖g‖ = √(Σ_i Σ g_i²) over every tensor, as a scalar on the backend.
 */
export function globalNorm(grads: ReadonlyMap<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(squares.length === 0 ? tf.scalar(0) : addAll(squares, activeBackend().capabilities.maxKernelInputs())) as tf.Scalar;
  });
}

/**
 * Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)) (PyTorch's `clip_grad_norm_`), on the
 * backend without reading the norm back. Returns new tensors (the caller owns them and the inputs).
 */
export function clipByGlobalNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): Map<string, tf.Tensor> {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const scale = tf.tidy(() => tf.minimum(1, tf.div(maxNorm, tf.add(globalNorm(grads), 1e-6))));
  try {
    const out = new Map<string, tf.Tensor>();
    for (const [name, g] of grads) out.set(name, tf.mul(g, scale));
    return out;
  } finally {
    scale.dispose();
  }
}

import * as tf from '@tensorflow/tfjs-core';
import type { ProjectorConfig } from './config.js';
import type { Params } from './layers.js';
import { dense, gelu, param } from './layers.js';

/**
 * The vision–language projector: Linear · GELU · Linear on every vision token (LLaVA-1.5's
 * `mlp2x_gelu`), then, when `pool > 1`, average pooling of the token grid in pool × pool windows
 * (EM-KD's efficient student, as LLaVA-NeXT/OneVision pool after the projector).
 *
 * features [B, N, Dv] (N = side², row-major grid) → tokens [B, N / pool², D], row-major grid.
 */
export function projectorForward(params: Params, p: ProjectorConfig, features: tf.Tensor3D): tf.Tensor3D {
  const h = gelu(dense(features, param(params, 'projector.fc1.w'), param(params, 'projector.fc1.b')));
  const out = dense(h, param(params, 'projector.fc2.w'), param(params, 'projector.fc2.b')) as tf.Tensor3D;
  if (p.pool === 1) return out;
  const [b, n, d] = out.shape;
  const side = Math.round(Math.sqrt(n));
  if (side * side !== n || side % p.pool !== 0) {
    throw new Error(`projector: cannot pool ${n} tokens (${side}×${side} grid) in ${p.pool}×${p.pool} windows`);
  }
  const grid = tf.reshape(out, [b, side, side, d]) as tf.Tensor4D;
  // AvgPool and its gradient kernel exist on cpu and wasm.
  const pooled = tf.avgPool(grid, p.pool, p.pool, 'valid');
  return tf.reshape(pooled, [b, n / (p.pool * p.pool), d]) as tf.Tensor3D;
}

import * as tf from '@tensorflow/tfjs-core';
import type { VisionConfig } from './config.js';
import { patchWindow, visionGridSide } from './config.js';
import type { Params } from './layers.js';
import { dense, param, transformerStack } from './layers.js';

/**
 * Cuts images into flattened patches on the host (pixels are data, never differentiated, so the
 * rank-6 reshuffle costs no backend op), and centres values from [0, 1] to [−1, 1].
 *
 * pixels [B·H·W·C] (HWC per image) → [B·N·(w·w·C)], N = (H/p)² patches in row-major grid order,
 * each patch flattened row by row, pixel by pixel, channel by channel. w = p + 2·overlap: with
 * `patchOverlap`, each patch is the window of side w centred on its p × p cell, zero (after
 * centring) where it reaches past the image.
 */
export function patchify(pixels: Float32Array, batchSize: number, v: VisionConfig): Float32Array {
  const { imageSize: s, patchSize: p, channels: c } = v;
  const expected = batchSize * s * s * c;
  if (pixels.length !== expected) {
    throw new Error(`pixels: expected ${expected} values (${batchSize} images of ${s}×${s}×${c}), got ${pixels.length}`);
  }
  const side = s / p;
  const w = patchWindow(v);
  const margin = (w - p) / 2;
  const patchDim = w * w * c;
  const out = new Float32Array(batchSize * side * side * patchDim);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const base = b * s * s * c;
    for (let gy = 0; gy < side; gy++) {
      for (let gx = 0; gx < side; gx++) {
        for (let y = 0; y < w; y++) {
          const py = gy * p + y - margin;
          const x0 = gx * p - margin;
          for (let x = 0; x < w; x++) {
            const px = x0 + x;
            const inside = py >= 0 && py < s && px >= 0 && px < s;
            const at = base + (py * s + px) * c;
            for (let k = 0; k < c; k++) out[o++] = inside ? (pixels[at + k] as number) * 2 - 1 : 0;
          }
        }
      }
    }
  }
  if (o !== batchSize * side * side * patchDim) throw new Error('patchify: internal size mismatch');
  return out;
}

/**
 * The patch-embedding ViT: linear patch embedding, learned position embedding, pre-LN blocks
 * (bidirectional attention), final norm. pixels [B·H·W·C] → features [B, N, Dv].
 */
export function visionForward(params: Params, v: VisionConfig, pixels: Float32Array, batchSize: number): tf.Tensor3D {
  const n = visionGridSide(v) ** 2;
  const patchDim = patchWindow(v) ** 2 * v.channels;
  const patches = tf.tensor3d(patchify(pixels, batchSize, v), [batchSize, n, patchDim]);
  const embedded = dense(patches, param(params, 'vision.patch.w'), param(params, 'vision.patch.b'));
  const x = tf.add(embedded, param(params, 'vision.pos'));
  return transformerStack(x, params, 'vision', v.layers, v.heads) as tf.Tensor3D;
}

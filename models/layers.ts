import * as tf from '@tensorflow/tfjs-core';
import { matMul, matMulBias } from './matmul.js';

/**
 * Functional transformer layers over a name → tensor map. Every op used here has a kernel and a
 * registered gradient on cpu and wasm (no gather, einsum or broadcastTo): embedding lookups and
 * token splicing are matMuls with host-built 0/1 matrices, masks are additive constants, and
 * products go through `matmul.ts` so their gradients stay on wasm's fast path.
 */

/** Parameters by dotted name; `tf.Variable`s are tensors, so a model's variables fit. */
export type Params = ReadonlyMap<string, tf.Tensor>;

/** The parameter `name`, or an error naming it. */
export function param(params: Params, name: string): tf.Tensor {
  const t = params.get(name);
  if (t === undefined) throw new Error(`missing parameter '${name}'`);
  return t;
}

/**
 * Affine map on the last axis: x [..., in] · w [in, out] (+ b [out]) → [..., out].
 * Folds leading axes into one so the backend sees a single 2-D (fused, when biased) matMul.
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1] as number;
  const outDim = w.shape[1] as number;
  const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  const y = b === undefined ? matMul(x2, w) : matMulBias(x2, w as tf.Tensor2D, b as tf.Tensor1D);
  return tf.reshape(y, [...shape.slice(0, -1), outDim]);
}

/** Layer normalization over the last axis: (x − μ) / √(σ² + ε) · g + b. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, g), b);
}

/**
 * GELU, exact (erf) form: x · Φ(x) = ½ x (1 + erf(x / √2)), as PyTorch's default `nn.GELU`.
 * `Erf` has a kernel on cpu and wasm and its gradient (2/√π · e^{−x²}) is registered.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  return tf.mul(x, cdf);
}

/**
 * Additive causal mask [T, T]: 0 where key j ≤ query i, −1e9 elsewhere. A large finite value,
 * not −∞, so no backend sees an infinity; after the max-subtracted softmax the masked weights are
 * exactly 0 in float32.
 */
export function causalMask(seqLen: number): tf.Tensor2D {
  const values = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) {
    for (let j = i + 1; j < seqLen; j++) values[i * seqLen + j] = -1e9;
  }
  return tf.tensor2d(values, [seqLen, seqLen]);
}

/** [B, T, D] → [B, h, T, D/h] */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, d] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** [B, h, T, dh] → [B, T, h·dh] */
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, h, t, dh] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, t, h * dh]);
}

/**
 * Multi-head self-attention without biases: softmax(q kᵀ / √dh + mask) v, then the output
 * projection. x [B, T, D], mask [T, T] additive (omitted: bidirectional) → [B, T, D].
 */
export function selfAttention(x: tf.Tensor, params: Params, prefix: string, heads: number, mask?: tf.Tensor): tf.Tensor {
  const q = splitHeads(dense(x, param(params, `${prefix}.wq`)), heads);
  const k = splitHeads(dense(x, param(params, `${prefix}.wk`)), heads);
  const v = splitHeads(dense(x, param(params, `${prefix}.wv`)), heads);
  const dh = q.shape[3];
  // Scale q rather than the [T, T] scores: fewer elements, same result.
  const kT = tf.transpose(k, [0, 1, 3, 2]);
  let scores: tf.Tensor = matMul(tf.mul(q, 1 / Math.sqrt(dh)), kT);
  if (mask !== undefined) scores = tf.add(scores, mask);
  const weights = tf.softmax(scores);
  return dense(mergeHeads(matMul(weights, v)), param(params, `${prefix}.wo`));
}

/** Pre-LN transformer block: x + Attn(LN₁ x), then + MLP(LN₂ ·) with a GELU MLP. */
export function transformerBlock(x: tf.Tensor, params: Params, prefix: string, heads: number, mask?: tf.Tensor): tf.Tensor {
  const p = (n: string): tf.Tensor => param(params, `${prefix}.${n}`);
  const a = selfAttention(layerNorm(x, p('ln1.g'), p('ln1.b')), params, `${prefix}.attn`, heads, mask);
  const h = tf.add(x, a);
  const m = dense(gelu(dense(layerNorm(h, p('ln2.g'), p('ln2.b')), p('mlp.w1'))), p('mlp.w2'));
  return tf.add(h, m);
}

/** `layers` blocks `${prefix}.blocks.i`, then the final norm `${prefix}.norm`. */
export function transformerStack(x: tf.Tensor, params: Params, prefix: string, layers: number, heads: number, mask?: tf.Tensor): tf.Tensor {
  let h = x;
  for (let i = 0; i < layers; i++) h = transformerBlock(h, params, `${prefix}.blocks.${i}`, heads, mask);
  return layerNorm(h, param(params, `${prefix}.norm.g`), param(params, `${prefix}.norm.b`));
}

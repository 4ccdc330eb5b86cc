import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { gelu, layerNorm } from './layers.js';
import { constMatMul, matMul, matMulBias } from './matmul.js';
import { normalArray } from './random.js';

const rand = (shape: number[], key: number): tf.Tensor =>
  tf.tensor(
    normalArray(
      key,
      shape.reduce((a, b) => a * b, 1),
      1,
    ),
    shape,
  );

const close = async (a: tf.Tensor, b: tf.Tensor, tol = 1e-4): Promise<void> => {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [await a.data(), await b.data()];
  for (let i = 0; i < x.length; i++) expect(Math.abs((x[i] as number) - (y[i] as number))).toBeLessThan(tol * (1 + Math.abs(y[i] as number)));
};

describe.each(['cpu', 'wasm'])('differentiable products on %s', (backend) => {
  it("matMul's value and gradients equal tfjs's", async () => {
    await useBackend(backend);
    for (const [sa, sb] of [
      [
        [5, 3],
        [3, 4],
      ],
      [
        [2, 3, 5, 4],
        [2, 3, 4, 6],
      ],
    ] as const) {
      const a = rand([...sa], 1);
      const b = rand([...sb], 2);
      const w = rand([...sa.slice(0, -1), sb[sb.length - 1] as number], 3);
      const loss = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), w));
      const ours = tf.grads(loss(matMul))([a, b]);
      const ref = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
      await close(matMul(a, b), tf.matMul(a, b));
      await close(ours[0] as tf.Tensor, ref[0] as tf.Tensor);
      await close(ours[1] as tf.Tensor, ref[1] as tf.Tensor);
      const constGrad = tf.grads(loss(constMatMul))([a, b]);
      expect(await (constGrad[0] as tf.Tensor).data()).toEqual(new Float32Array(a.size));
      await close(constGrad[1] as tf.Tensor, ref[1] as tf.Tensor);
    }
  });

  it("matMulBias's value and gradients equal tfjs's", async () => {
    await useBackend(backend);
    const [x, w, b, up] = [rand([6, 4], 4), rand([4, 3], 5), rand([3], 6), rand([6, 3], 7)];
    const loss = (f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(f(xx, ww, bb), up));
    const ours = tf.grads(loss((xx, ww, bb) => matMulBias(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)))([x, w, b]);
    const ref = tf.grads(loss((xx, ww, bb) => tf.add(tf.matMul(xx, ww), bb)))([x, w, b]);
    for (let i = 0; i < 3; i++) await close(ours[i] as tf.Tensor, ref[i] as tf.Tensor);
  });

  it('GELU (erf form) and its gradient; layer norm; average pooling gradient', async () => {
    await useBackend(backend);
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
    const x = tf.tensor1d(xs);
    // Φ from a float64 erf series: x·Φ(x) and d/dx = Φ(x) + x·φ(x).
    const erf = (z: number): number => {
      let sum = 0;
      let term = z;
      for (let n = 0; n < 60; n++) {
        sum += term / (2 * n + 1);
        term *= (-z * z) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const phi = (z: number): number => Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
    const cdf = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));
    await close(gelu(x), tf.tensor1d(xs.map((z) => z * cdf(z))), 1e-5);
    await close(tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x), tf.tensor1d(xs.map((z) => cdf(z) + z * phi(z))), 1e-5);

    const h = tf.tensor2d([
      [1, 2, 3, 4],
      [2, 2, 2, 6],
    ]);
    const normed = await layerNorm(h, tf.ones([4]), tf.zeros([4])).data();
    expect(normed[0]).toBeCloseTo(-1.3416, 3);
    expect(normed[4]).toBeCloseTo(-0.5773, 3);

    const grid = rand([1, 4, 4, 2], 8);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid')))(grid);
    expect(Array.from(await g.data()).every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
  });
});

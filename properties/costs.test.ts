/**
 * Cost builders on every target: L1, L2 and cosine costs agree with a plain float64 computation,
 * whether L1 runs in one chunk or many, on raw vectors or on softmax rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { type CostMetric, pairwiseCost } from '../matching/costs.js';
import { float32Values } from './arbitraries.js';
import { activate, runs, targets } from './harness.js';
import { softmax } from './reference/index.js';
import { expectClose, loosen, toleranceFor } from './tolerances.js';

function reference(a: ArrayLike<number>, n: number, b: ArrayLike<number>, m: number, d: number, metric: CostMetric, probabilities: boolean): Float64Array {
  const row = (x: ArrayLike<number>, i: number) => {
    const r = Array.from({ length: d }, (_, k) => x[i * d + k]!);
    return probabilities ? Array.from(softmax(r)) : r;
  };
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const [x, y] = [row(a, i), row(b, j)];
      if (metric === 'l1') out[i * m + j] = x.reduce((s, v, k) => s + Math.abs(v - y[k]!), 0);
      else if (metric === 'l2') out[i * m + j] = Math.sqrt(x.reduce((s, v, k) => s + (v - y[k]!) ** 2, 0));
      else {
        // A zero row has cosine 0 with every row (its direction is undefined), so cost 1.
        const norm = (z: number[]) => Math.sqrt(z.reduce((s, v) => s + v * v, 0));
        const [nx, ny] = [norm(x), norm(y)];
        out[i * m + j] = nx === 0 || ny === 0 ? 1 : 1 - x.reduce((s, v, k) => s + v * y[k]!, 0) / (nx * ny);
      }
    }
  }
  return out;
}

/**
 * Subnormal float32 entries become 0: wasm (XNNPACK) and WebGPU flush them, so a row of them is
 * a zero row there (cosine cost 1), while the float64 reference sees a tiny ordinary vector.
 */
const flushed = (x: Float32Array) => x.map((v) => (Math.abs(v) < 2 ** -126 ? 0 : v));

const matrices = fc
  .record({ n: fc.integer({ min: 1, max: 7 }), m: fc.integer({ min: 1, max: 7 }), d: fc.integer({ min: 1, max: 9 }) })
  .chain(({ n, m, d }) => fc.tuple(float32Values(n * d, 8), float32Values(m * d, 8)).map(([a, b]) => ({ n, m, d, a: flushed(a), b: flushed(b) })));

for (const target of targets()) {
  describe(`cost builders on ${target.label}`, () => {
    beforeAll(() => activate(target));

    it('cosine costs are invariant to scaling either side by a positive constant, from 1e-6 to 1e6', async () => {
      const scale = fc.oneof(
        fc.constantFrom(1e-6, 1e-4, 1e6),
        fc.double({ min: -6, max: 6, noNaN: true }).map((e) => 10 ** e),
      );
      await fc.assert(
        fc.asyncProperty(matrices, scale, scale, async ({ n, m, d, a, b }, ca, cb) => {
          const costs = async (x: Float32Array, y: Float32Array) => {
            const [tx, ty] = [tf.tensor2d(x, [n, d]), tf.tensor2d(y, [m, d])];
            const cost = pairwiseCost(tx, ty, 'cosine');
            const values = await cost.data();
            tf.dispose([tx, ty, cost]);
            return values;
          };
          // Entries at least 0.25 from 0, so that no scaled entry underflows; scaling still rounds
          // each entry once, so the scaled costs are compared with their own reference too.
          const away = (x: Float32Array) => x.map((v) => (v >= 0 ? v + 0.25 : v - 0.25));
          const [x, y] = [away(a), away(b)];
          const [sa, sb] = [x.map((v) => v * ca), y.map((v) => v * cb)];
          expectClose(
            await costs(sa, sb),
            reference(sa, n, sb, m, d, 'cosine', false),
            loosen(toleranceFor(target.backend, 'value'), 20),
            `cosine cost scaled by ${ca}, ${cb}`,
            [n, m],
          );
          expectClose(await costs(sa, sb), await costs(x, y), loosen(toleranceFor(target.backend, 'value'), 20), `cosine cost scaled by ${ca}, ${cb}`, [n, m]);
        }),
        { numRuns: runs(20) },
      );
    });

    for (const metric of ['l1', 'l2', 'cosine'] as const) {
      it(`${metric} costs match a float64 computation, in any number of chunks, on values or probabilities`, async () => {
        await fc.assert(
          fc.asyncProperty(matrices, fc.boolean(), fc.integer({ min: 1, max: 64 }), async ({ n, m, d, a, b }, probabilities, budget) => {
            const [x, y] = [tf.tensor2d(a, [n, d]), tf.tensor2d(b, [m, d])];
            const cost = pairwiseCost(x, y, metric, { probabilities, budget });
            const values = await cost.data();
            tf.dispose([x, y, cost]);
            // L2 from ‖a‖² + ‖b‖² − 2a·b cancels in float32 when a ≈ b; its error is ~√(ε·‖a‖²).
            const tol = metric === 'l2' ? loosen(toleranceFor(target.backend, 'value'), 500) : loosen(toleranceFor(target.backend, 'value'), 20);
            expectClose(values, reference(a, n, b, m, d, metric, probabilities), tol, `${metric} cost`, [n, m]);
          }),
          { numRuns: runs(30) },
        );
      });
    }
  });
}

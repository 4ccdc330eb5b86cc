import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backends/index.js';
import type { AdamWState } from './adamw.js';
import { applyAdamW, disposeAdamW, initAdamW, restoreAdamW, saveAdamW } from './adamw.js';
import { clipByGlobalNorm, globalNorm } from './clip.js';
import { namedGrads, trainStep } from './step.js';

const config = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

/** Float64 AdamW on plain numbers, written out from the update rule. */
function reference(p: number[], grads: number[][], lr: number, decay: boolean): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const q = p.slice();
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < q.length; i++) {
      m[i] = 0.9 * (m[i] as number) + 0.1 * (g[i] as number);
      v[i] = 0.999 * (v[i] as number) + 0.001 * (g[i] as number) ** 2;
      const mHat = (m[i] as number) / (1 - 0.9 ** t);
      const vHat = (v[i] as number) / (1 - 0.999 ** t);
      q[i] = (q[i] as number) - lr * (mHat / (Math.sqrt(vHat) + 1e-8) + (decay ? 0.01 * (q[i] as number) : 0));
    }
  });
  return q;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('matches a hand-computed first step, with decay on matrices only', async () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([1, -2]));
    const vars = new Map<string, tf.Variable>([
      ['w', w],
      ['b', b],
    ]);
    const g = tf.tensor1d([0.5, -1]);
    const grads = new Map<string, tf.Tensor>([
      ['w', tf.reshape(g, [1, 2])],
      ['b', g],
    ]);
    const state = applyAdamW(vars, grads, initAdamW(), { lr: 0.1, config });
    // Step 1: m̂ = g and v̂ = g², so the direction is sign(g); w also decays by lr·λ·w.
    // w: 1 − 0.1·(1 + 0.01·1) = 0.899, −2 − 0.1·(−1 + 0.01·(−2)) = −1.898; b: 0.9, −1.9.
    const [wv, bv] = [await w.data(), await b.data()];
    expect(wv[0]).toBeCloseTo(0.899, 6);
    expect(wv[1]).toBeCloseTo(-1.898, 6);
    expect(bv[0]).toBeCloseTo(0.9, 6);
    expect(bv[1]).toBeCloseTo(-1.9, 6);
    expect(state.step).toBe(1);
    expect(Array.from(await state.moments.get('b')!.m.data())).toEqual([Math.fround(0.05), Math.fround(-0.1)]);
    const v = await state.moments.get('b')!.v.data();
    expect(v[0]).toBeCloseTo(0.00025, 9);
    expect(v[1]).toBeCloseTo(0.001, 9);
    disposeAdamW(state);
  });

  it('matches a float64 reference over several steps with bias correction', async () => {
    const steps = [
      [0.5, -1, 0.02],
      [0.1, 0.3, -0.5],
      [-0.2, 0.05, 0.4],
      [0.3, -0.3, 0.1],
    ];
    const w = tf.variable(tf.tensor2d([[1, -2, 0.5]]));
    const vars = new Map([['w', w]]);
    let state: AdamWState = initAdamW();
    for (const g of steps) {
      const grad = tf.tensor2d([g]);
      state = applyAdamW(vars, new Map([['w', grad]]), state, { lr: 0.05, config });
      grad.dispose();
    }
    const expected = reference([1, -2, 0.5], steps, 0.05, true);
    const got = await w.data();
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 5));
    disposeAdamW(state);
  });

  it('saves and restores its state exactly: a resumed run equals an uninterrupted one', async () => {
    const grads = [
      [0.5, -1],
      [0.1, 0.3],
      [-0.4, 0.2],
    ];
    const run = async (resumeAfter?: number): Promise<Float32Array> => {
      const init = tf.tensor2d([[1, -2]]);
      const w = tf.variable(init);
      init.dispose();
      const vars = new Map([['w', w]]);
      let state: AdamWState = initAdamW();
      for (let i = 0; i < grads.length; i++) {
        if (i === resumeAfter) {
          const saved = await saveAdamW(state);
          disposeAdamW(state);
          state = restoreAdamW(saved);
        }
        const g = tf.tensor2d([grads[i] as number[]]);
        state = applyAdamW(vars, new Map([['w', g]]), state, { lr: 0.1, config });
        g.dispose();
      }
      const out = (await w.data()) as Float32Array;
      disposeAdamW(state);
      w.dispose();
      return out;
    };
    expect(await run(2)).toEqual(await run());
    const before = tf.memory().numTensors;
    await run(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects inconsistent inputs, naming the parameter', async () => {
    const w = tf.variable(tf.zeros([2, 2]));
    const g = tf.zeros([3]);
    expect(() => applyAdamW(new Map([['w', w]]), new Map([['w', g]]), initAdamW(), { lr: 1 })).toThrow(
      "gradient for 'w' has shape [3], the variable has [2, 2]",
    );
    expect(() => applyAdamW(new Map(), new Map([['w', g]]), initAdamW(), { lr: 1 })).toThrow("gradient for 'w', which is not among");
    const saved = { step: 1, tensors: new Map([['m.w', { dtype: 'float32' as const, shape: [1], data: new Float32Array(1) }]]) };
    expect(() => restoreAdamW(saved)).toThrow("'w' lacks its v moment");
    expect(() => restoreAdamW({ step: 0, tensors: new Map([['x.w', { dtype: 'float32' as const, shape: [1], data: new Float32Array(1) }]]) })).toThrow(
      "unexpected key 'x.w'",
    );
  });
});

describe('training-step helpers', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('keys gradients by stable names and clips by global norm', async () => {
    const a = tf.variable(tf.tensor1d([3, 0]));
    const b = tf.variable(tf.tensor1d([4]));
    const frozen = tf.variable(tf.tensor1d([10]));
    const trainable = new Map([
      ['group.a', a],
      ['group.b', b],
    ]);
    // loss = ½‖a‖² + ½‖b‖² + frozen·Σa: gradients a + frozen, b.
    const loss = (): tf.Scalar => tf.sum(tf.add(tf.mul(0.5, tf.add(tf.sum(tf.square(a)), tf.sum(tf.square(b)))), tf.mul(frozen, tf.sum(a))));
    const { value, grads } = namedGrads(loss, trainable);
    expect([...grads.keys()].sort()).toEqual(['group.a', 'group.b']);
    expect(Array.from(await grads.get('group.a')!.data())).toEqual([13, 10]);
    const norm = globalNorm(grads);
    expect((await norm.data())[0]).toBeCloseTo(Math.sqrt(169 + 100 + 16), 4);
    const clipped = clipByGlobalNorm(grads, 1);
    const clippedNorm = globalNorm(clipped);
    expect((await clippedNorm.data())[0]).toBeCloseTo(1, 4);
    for (const t of [value, norm, clippedNorm, ...grads.values(), ...clipped.values()]) t.dispose();

    const before = tf.memory().numTensors;
    const r = trainStep(loss, trainable, initAdamW(), { lr: 0.1, clipNorm: 1 });
    expect((await r.loss.data())[0]).toBeCloseTo(12.5 + 30, 4);
    r.loss.dispose();
    expect(Array.from(await frozen.data())).toEqual([10]);
    // Two new moments per trainable variable, nothing else.
    expect(tf.memory().numTensors).toBe(before + 4);
    disposeAdamW(r.state);
  });
});

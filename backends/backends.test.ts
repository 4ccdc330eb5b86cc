import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from './index.js';

describe('backends', () => {
  for (const name of ['cpu', 'wasm']) {
    it(`${name}: activates and differentiates`, async () => {
      await useBackend(name);
      expect(tf.getBackend()).toBe(name);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.exp(x)))(tf.tensor1d([0, 1]));
      const values = await g.data();
      expect(values[0]).toBeCloseTo(1, 5);
      expect(values[1]).toBeCloseTo(Math.E, 5);
    });
  }
  it('names the available backends when asked for an unknown one', async () => {
    await expect(useBackend('tpu')).rejects.toThrow(/unknown backend 'tpu': available here are cpu, wasm/);
  });
});

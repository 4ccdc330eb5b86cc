import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { addAll } from './tensor-ops.js';

describe('addAll', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('sums any number of tensors like addN, and refuses an empty list', async () => {
    for (const count of [1, 2, 7, 8, 36]) {
      const terms = Array.from({ length: count }, (_, i) => tf.tensor1d([i, -2 * i, 0.5]));
      const total = addAll(terms);
      const expected = (count * (count - 1)) / 2;
      expect(Array.from(await total.data())).toEqual([expected, -2 * expected, 0.5 * count]);
      tf.dispose([...terms, total]);
    }
    expect(() => addAll([])).toThrow(/nothing to add/);
  });

  it('never binds more than the backend allows to one kernel, and sums the same', async () => {
    const terms = Array.from({ length: 36 }, (_, i) => tf.fill([2], i + 1));
    const profile = await tf.profile(() => addAll(terms, 7));
    const addNs = profile.kernels.filter((k) => k.name === 'AddN');
    expect(addNs.map((k) => k.inputShapes.length)).toEqual([7, 7, 7, 7, 7, 6]); // 36 → 5 sums and a leftover → 1
    const total = profile.result as tf.Tensor;
    expect(Array.from(await total.data())).toEqual([666, 666]);
    tf.dispose([...terms, total]);
  });
});

/**
 * Checkpoints whose tensors are float64, float16 or bfloat16 (as PyTorch users save them), read
 * from disk and loaded the way `mmkd evaluate <checkpoint>` (readCheckpoint, then loadWeights) and
 * `mmkd run --resume` (readCheckpoint, loadCheckpointWeights, restoreAdamW) load them: converted to
 * float32 with checks, a value float32 cannot hold named by tensor and index.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { bfloat16BitsToNumber, float16BitsToNumber, type HostTensor, hostTensor, numberToBfloat16Bits, numberToFloat16Bits } from '../io/index.js';
import { createLlava, exportWeights, loadWeights, type ModelConfig } from '../models/index.js';
import { CheckpointError, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { loadCheckpointWeights } from './model-state.js';
import { disposeAdamW, restoreAdamW } from './optim/index.js';

const config: ModelConfig = {
  name: 'tiny',
  vision: { imageSize: 32, patchSize: 8, channels: 3, width: 16, layers: 1, heads: 2, mlpRatio: 2 },
  projector: { hidden: 16, pool: 1 },
  llm: { vocabSize: 20, width: 16, layers: 1, heads: 2, mlpRatio: 2, maxSeqLen: 30 },
};

const root = mkdtempSync(join(tmpdir(), 'mmkd-checkpoint-dtypes-'));
const state = { recipe: 'teacher', seed: 0, backend: 'wasm', fingerprint: 'test', stage: 0, stageName: 'sft', step: 1, complete: true, optimizerStep: 3 };

type StoredDType = 'float64' | 'float16' | 'bfloat16';

/** `t` (float32) stored as `dtype`, and the float32 values reading it back must give. */
function storedAs(t: HostTensor, dtype: StoredDType): { stored: HostTensor; expected: Float32Array } {
  const values = t.data as Float32Array;
  if (dtype === 'float64') return { stored: hostTensor('float64', t.shape, Float64Array.from(values)), expected: values };
  const encode = dtype === 'float16' ? numberToFloat16Bits : numberToBfloat16Bits;
  const decode = dtype === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
  const bits = Uint16Array.from(values, encode);
  return { stored: hostTensor(dtype, t.shape, bits), expected: Float32Array.from(bits, decode) };
}

function convertAll(tensors: ReadonlyMap<string, HostTensor>, dtype: StoredDType) {
  const stored = new Map<string, HostTensor>();
  const expected = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    const s = storedAs(t, dtype);
    stored.set(name, s.stored);
    expected.set(name, s.expected);
  }
  return { stored, expected };
}

/** AdamW moments for two of the model's parameters, with values that vary per element. */
async function moments(weights: ReadonlyMap<string, HostTensor>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const name of [...weights.keys()].slice(0, 2)) {
    const w = weights.get(name)!;
    const n = w.data.length;
    out.set(
      `m.${name}`,
      hostTensor(
        'float32',
        w.shape,
        Float32Array.from({ length: n }, (_, i) => Math.sin(i) / 10),
      ),
    );
    out.set(
      `v.${name}`,
      hostTensor(
        'float32',
        w.shape,
        Float32Array.from({ length: n }, (_, i) => (1 + Math.cos(i)) / 100),
      ),
    );
  }
  return out;
}

describe('checkpoints stored in float64, float16 and bfloat16', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it.each(['float64', 'float16', 'bfloat16'] as const)('%s weights and moments load as mmkd evaluate and --resume load them', async (dtype) => {
    const source = createLlava(config, { seed: 1 });
    const original = await exportWeights(source);
    source.dispose();
    const weights = convertAll(original, dtype);
    const optimizer = convertAll(await moments(original), dtype);
    const dir = join(root, dtype);
    await writeCheckpoint(dir, state, weights.stored, optimizer.stored);

    const contents = await readCheckpoint(dir);
    expect([...contents.weights.values()].every((t) => t.dtype === dtype)).toBe(true);

    // mmkd evaluate <checkpoint>
    const evaluated = createLlava(config, { seed: 2 });
    loadWeights(evaluated, contents.weights, { source: dir });
    for (const [name, values] of await exportWeights(evaluated)) expect(values.data, name).toEqual(weights.expected.get(name));
    evaluated.dispose();

    // mmkd run --resume
    const resumed = createLlava(config, { seed: 3 });
    loadCheckpointWeights(resumed, contents.weights, dir);
    for (const [name, values] of await exportWeights(resumed)) expect(values.data, name).toEqual(weights.expected.get(name));
    resumed.dispose();
    const adam = restoreAdamW({ step: contents.state.optimizerStep, tensors: contents.optimizer }, dir);
    expect(adam.step).toBe(3);
    for (const [name, { m, v }] of adam.moments) {
      expect(await m.data(), name).toEqual(optimizer.expected.get(`m.${name}`));
      expect(await v.data(), name).toEqual(optimizer.expected.get(`v.${name}`));
    }
    disposeAdamW(adam);
  });

  it('a float64 value beyond the float32 range is an error naming the checkpoint, the tensor and the index', async () => {
    const source = createLlava(config, { seed: 1 });
    const original = await exportWeights(source);
    source.dispose();
    const weights = convertAll(original, 'float64').stored;
    const head = weights.get('llm.head')!;
    expect(head.shape).toEqual([16, 20]);
    (head.data as Float64Array)[2 * 20 + 7] = 1e39;
    const optimizer = convertAll(await moments(original), 'float64').stored;
    const [firstMoment] = [...optimizer.keys()];
    (optimizer.get(firstMoment!)!.data as Float64Array)[0] = -1e300;
    const dir = join(root, 'overflow');
    await writeCheckpoint(dir, state, weights, optimizer);
    const contents = await readCheckpoint(dir);

    const model = createLlava(config, { seed: 2 });
    const before = await exportWeights(model);
    expect(() => loadWeights(model, contents.weights, { source: dir })).toThrow(
      `${dir}: tensor "llm.head": float64 element [2, 7] = 1e+39 is outside the float32 range`,
    );
    expect(() => loadCheckpointWeights(model, contents.weights, dir)).toThrow(CheckpointError);
    expect(() => loadCheckpointWeights(model, contents.weights, dir)).toThrow(
      /tensor "llm\.head": float64 element \[2, 7\] = 1e\+39 is outside the float32 range/,
    );
    // All or nothing: no weight was assigned.
    for (const [name, t] of await exportWeights(model)) expect(t.data, name).toEqual(before.get(name)!.data);
    model.dispose();
    const tensorsBefore = tf.memory().numTensors;
    expect(() => restoreAdamW({ step: 3, tensors: contents.optimizer }, dir)).toThrow(
      `${dir}: tensor "${firstMoment}": float64 element [0, 0] = -1e+300 is outside the float32 range`,
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('integer and bool weights are refused by dtype, not reinterpreted', async () => {
    const model = createLlava(config, { seed: 2 });
    const weights = new Map(await exportWeights(model));
    const head = weights.get('llm.head')!;
    weights.set('llm.head', hostTensor('int32', head.shape, Int32Array.from(head.data as Float32Array, Math.round)));
    expect(() => loadWeights(model, weights)).toThrow("weight 'llm.head' is int32; a weight must be a float tensor (float64, float32, float16, bfloat16)");
    model.dispose();
  });
});

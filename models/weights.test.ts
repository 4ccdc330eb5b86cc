import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import type { ModelConfig } from './config.js';
import { createLlava } from './llava.js';
import type { WeightEntry } from './weights.js';
import { copyGroups, exportWeights, loadWeights } from './weights.js';

const tiny = (name: string, width: number): ModelConfig => ({
  name,
  vision: { imageSize: 32, patchSize: 8, channels: 3, width: 16, layers: 1, heads: 2, mlpRatio: 2 },
  projector: { hidden: 16, pool: 1 },
  llm: { vocabSize: 20, width, layers: 1, heads: 2, mlpRatio: 2, maxSeqLen: 30 },
});

describe('weights as a flat map', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('round-trips every variable exactly', async () => {
    const a = createLlava(tiny('a', 16), { seed: 1 });
    const b = createLlava(tiny('b', 16), { seed: 2 });
    const saved = await exportWeights(a);
    expect(saved.size).toBe(a.variables.size);
    expect(saved.get('llm.blocks.0.attn.wq')?.shape).toEqual([16, 16]);
    loadWeights(b, saved);
    const reloaded = await exportWeights(b);
    for (const [name, entry] of saved) {
      expect(reloaded.get(name)?.shape, name).toEqual(entry.shape);
      expect(reloaded.get(name)?.data, name).toEqual(entry.data);
    }
    a.dispose();
    b.dispose();
  });

  it('loads nothing and names every problem when names or shapes disagree', async () => {
    const small = createLlava(tiny('small', 16), { seed: 1 });
    const wide = createLlava(tiny('wide', 32), { seed: 1 });
    const saved = new Map<string, WeightEntry>(await exportWeights(small));
    saved.delete('llm.head');
    saved.set('llm.extra', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    saved.set('vision.patch.b', { dtype: 'float32', shape: [16], data: new Float32Array(3) });
    const before = await exportWeights(wide);
    let message = '';
    try {
      loadWeights(wide, saved);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("cannot load weights into 'wide'");
    expect(message).toContain("missing weight 'llm.head' (shape [32, 20])");
    expect(message).toContain("unexpected weight 'llm.extra': the model 'wide' has no such variable");
    expect(message).toContain("shape mismatch for 'llm.blocks.0.attn.wq': the model has [32, 32], the weights have [16, 16]");
    expect(message).toContain("weight 'vision.patch.b' has 3 values but its shape [16] needs 16");
    // All or nothing: the vision weights, which matched, were not assigned either.
    const after = await exportWeights(wide);
    expect(after.get('vision.blocks.0.attn.wq')?.data).toEqual(before.get('vision.blocks.0.attn.wq')?.data);
    small.dispose();
    wide.dispose();
  });

  it('loads and copies single groups (a student takes the teacher vision encoder)', async () => {
    const teacher = createLlava(tiny('teacher', 32), { seed: 1 });
    const student = createLlava(tiny('student', 16), { seed: 2 });
    copyGroups(teacher, student, ['vision']);
    const t = await exportWeights(teacher, { groups: ['vision'] });
    const s = await exportWeights(student, { groups: ['vision'] });
    for (const [name, entry] of t) expect(s.get(name)?.data, name).toEqual(entry.data);
    expect(() => copyGroups(teacher, student, ['llm'])).toThrow("shape mismatch for 'llm.embed': 'teacher' has [20, 32], 'student' has [20, 16]");
    const visionOnly = await exportWeights(teacher, { groups: ['vision'] });
    expect([...visionOnly.keys()].every((k) => k.startsWith('vision.'))).toBe(true);
    loadWeights(student, visionOnly, { groups: ['vision'] });
    const everything = await exportWeights(student);
    expect(() => loadWeights(student, everything, { groups: ['vision'] })).toThrow(
      "weight 'projector.fc1.w' belongs to group 'projector', which is not being loaded",
    );
    const n = tf.memory().numTensors;
    teacher.dispose();
    student.dispose();
    expect(tf.memory().numTensors).toBe(n - teacher.variables.size - student.variables.size);
  });
});

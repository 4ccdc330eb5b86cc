import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { ROLE_CODES } from '../core/roles.js';
import { collate } from '../data/batch.js';
import { proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from '../data/procedural.js';
import { namedGrads } from '../recipes/optim/step.js';
import type { ModelConfig } from './config.js';
import { configErrors, numVisionTokens } from './config.js';
import { createLlava } from './llava.js';
import { countParams, paramSpecs } from './params.js';
import { efficientStudentConfig, studentConfig, teacherConfig } from './presets.js';
import { exportWeights } from './weights.js';

const tok = proceduralTokenizer();
const presets = { vocabSize: tok.vocab.length, maxTextLen: TEXT_LENGTH.caption };
const configs: ModelConfig[] = [teacherConfig(presets), studentConfig(presets), efficientStudentConfig(presets)];
const samples = proceduralSamples({ seed: 11 }, 'train', 'qa', 0, 3);

describe('model configurations', () => {
  it('teacher and students: 16, 16 and 4 vision tokens, a shared vocabulary and vision encoder', () => {
    expect(configs.map(numVisionTokens)).toEqual([16, 16, 4]);
    for (const c of configs) {
      expect(configErrors(c)).toEqual([]);
      expect(c.llm.vocabSize).toBe(tok.vocab.length);
      expect(c.vision).toEqual(configs[0]?.vision);
    }
    const [t, s] = configs.map(countParams) as [ReturnType<typeof countParams>, ReturnType<typeof countParams>];
    expect(t.llm).toBeGreaterThan(3 * s.llm);
    expect(t.vision).toBe(s.vision);
  });

  it('reports every configuration error, naming the field', () => {
    const bad: ModelConfig = {
      ...configs[0]!,
      vision: { ...configs[0]!.vision, patchSize: 5, heads: 3 },
      llm: { ...configs[0]!.llm, width: 100, heads: 8 },
    };
    const errors = configErrors(bad);
    expect(errors).toContain('teacher.vision.patchSize: 5 does not divide imageSize 32');
    expect(errors).toContain('teacher.vision.heads: 3 does not divide width 64');
    expect(errors).toContain('teacher.llm.heads: 8 does not divide width 100');
    expect(() => createLlava(bad, { seed: 1 })).toThrow(/invalid model configuration/);
  });

  it('names parameters stably with their groups', () => {
    const names = paramSpecs(configs[0]!).map((s) => `${s.group}:${s.name}`);
    expect(names).toContain('llm:llm.blocks.0.attn.wq');
    expect(names).toContain('vision:vision.blocks.1.mlp.w2');
    expect(names).toContain('projector:projector.fc2.b');
    expect(names).toContain('llm:llm.head');
    for (const n of names) expect(n.split(':')[1]?.startsWith(n.split(':')[0] ?? '?')).toBe(true);
  });
});

describe('forward', () => {
  it.each(configs.map((c) => [c.name, c] as const))('%s: logits, hidden states and roles have the right shapes', async (_name, config) => {
    await useBackend('wasm');
    const model = createLlava(config, { seed: 1 });
    const n = numVisionTokens(config);
    const batch = collate(tok, samples, { numVisionTokens: n, textLength: TEXT_LENGTH.qa });
    const before = tf.memory().numTensors;
    const out = model.forward(batch);
    const t = TEXT_LENGTH.qa + n;
    expect(out.logits.shape).toEqual([3, t, tok.vocab.length]);
    expect(out.hidden?.shape).toEqual([3, t, config.llm.width]);
    expect(Array.from(out.roles)).toEqual(Array.from(batch.roles));
    // Row layout: <bos> (prompt), then the N vision tokens.
    expect(Array.from(out.roles.slice(0, n + 1))).toEqual([ROLE_CODES.prompt, ...Array<number>(n).fill(ROLE_CODES.visual)]);
    const values = await out.logits.data();
    expect(values.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors - before).toBe(2);
    out.logits.dispose();
    out.hidden?.dispose();
    model.dispose();
  });

  it('rejects a batch laid out for another vision-token count, naming the row', async () => {
    await useBackend('wasm');
    const model = createLlava(configs[2]!, { seed: 1 });
    const batch = collate(tok, samples, { numVisionTokens: 8, textLength: TEXT_LENGTH.qa });
    expect(() => model.forward(batch)).toThrow('inputs: row 0 has 8 visual positions but the model produces 4 vision tokens');
    const long = collate(tok, samples, { numVisionTokens: 4, textLength: 30 });
    expect(() => model.forward(long)).toThrow("inputs: seqLen 34 exceeds the model's maxSeqLen 24");
    model.dispose();
  });

  it('is causal: changing a later token leaves earlier logits unchanged', async () => {
    await useBackend('wasm');
    const model = createLlava(configs[1]!, { seed: 2 });
    const batch = collate(tok, samples.slice(0, 1), { numVisionTokens: 16, textLength: TEXT_LENGTH.qa });
    const changed = { ...batch, tokens: batch.tokens.slice() };
    const last = batch.seqLen - 1;
    changed.tokens[last] = tok.ids.get('yes') as number;
    const a = model.forward(batch);
    const b = model.forward(changed);
    const v = tok.vocab.length;
    const [da, db] = [await a.logits.data(), await b.logits.data()];
    expect(Array.from(da.slice(0, last * v))).toEqual(Array.from(db.slice(0, last * v)));
    for (const o of [a, b]) {
      o.logits.dispose();
      o.hidden?.dispose();
    }
    model.dispose();
  });
});

describe('determinism', () => {
  it('the same seed gives bit-identical weights and matching logits on cpu and wasm', async () => {
    const config = configs[2]!;
    const batch = collate(tok, samples, { numVisionTokens: numVisionTokens(config), textLength: TEXT_LENGTH.qa });
    const run = async (backend: string, seed: number): Promise<{ weights: Map<string, Float32Array>; logits: Float32Array }> => {
      await useBackend(backend);
      const model = createLlava(config, { seed });
      const exported = await exportWeights(model);
      const out = model.forward(batch);
      const logits = (await out.logits.data()) as Float32Array;
      out.logits.dispose();
      out.hidden?.dispose();
      model.dispose();
      return { weights: new Map([...exported].map(([k, v]) => [k, v.data as Float32Array])), logits };
    };
    const cpu = await run('cpu', 5);
    const wasm = await run('wasm', 5);
    const wasmAgain = await run('wasm', 5);
    const other = await run('wasm', 6);
    expect([...cpu.weights.keys()]).toEqual([...wasm.weights.keys()]);
    for (const [name, values] of cpu.weights) expect(wasm.weights.get(name), name).toEqual(values);
    expect(wasmAgain.logits).toEqual(wasm.logits);
    let maxDiff = 0;
    for (let i = 0; i < cpu.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs((cpu.logits[i] as number) - (wasm.logits[i] as number)));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(other.weights.get('llm.head')).not.toEqual(wasm.weights.get('llm.head'));
  });

  it('gradients agree on cpu and wasm', async () => {
    const config = configs[2]!;
    const batch = collate(tok, samples, { numVisionTokens: numVisionTokens(config), textLength: TEXT_LENGTH.qa });
    const grads = async (backend: string): Promise<Map<string, Float32Array>> => {
      await useBackend(backend);
      const model = createLlava(config, { seed: 5 });
      // A loss that reaches every parameter: the mean of the logits weighted by a fixed pattern.
      const weights = tf.tensor(Float32Array.from({ length: batch.batchSize * batch.seqLen * tok.vocab.length }, (_, i) => Math.sin(i)));
      const { value, grads: g } = namedGrads(() => {
        const out = model.forward(batch);
        out.hidden?.dispose();
        return tf.mean(tf.mul(tf.reshape(out.logits, [-1]), weights)) as tf.Scalar;
      }, model.variables);
      const out = new Map<string, Float32Array>();
      for (const [name, t] of g) out.set(name, (await t.data()) as Float32Array);
      for (const t of [value, weights, ...g.values()]) t.dispose();
      model.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    for (const [name, c] of cpu) {
      const w = wasm.get(name) as Float32Array;
      const scale = Math.max(...Array.from(c, Math.abs), 1e-12);
      let worst = 0;
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs((c[i] as number) - (w[i] as number)));
      expect(worst / scale, name).toBeLessThan(1e-3);
    }
  });
});

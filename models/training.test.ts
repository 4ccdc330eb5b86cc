import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import type { Batch } from '../data/batch.js';
import { collate } from '../data/batch.js';
import { greedyDecode, teacherForcedExactMatch } from '../data/eval.js';
import { proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from '../data/procedural.js';
import { nextTokenTargets } from '../data/targets.js';
import { encode } from '../data/tokenizer.js';
import type { AdamWState } from '../recipes/optim/adamw.js';
import { disposeAdamW, initAdamW } from '../recipes/optim/adamw.js';
import { namedGrads, trainStep } from '../recipes/optim/step.js';
import type { ModelConfig } from './config.js';
import { numVisionTokens } from './config.js';
import type { LlavaModel } from './llava.js';
import { createLlava, llavaTextForward } from './llava.js';
import type { ParamGroup } from './params.js';
import { PARAM_GROUPS } from './params.js';
import { exportWeights } from './weights.js';

const tok = proceduralTokenizer();

const tiny = (pool: number, width = 32, layers = 1): ModelConfig => ({
  name: `tiny-pool${pool}`,
  vision: { imageSize: 32, patchSize: 8, channels: 3, width: 32, layers: 1, heads: 2, mlpRatio: 2 },
  projector: { hidden: 32, pool },
  llm: { vocabSize: tok.vocab.length, width, layers, heads: 2, mlpRatio: 2, maxSeqLen: 16 + TEXT_LENGTH.qa },
});

/** Mean next-token cross-entropy over response labels (the test's own supervised loss). */
function crossEntropy(logits: tf.Tensor3D, batch: Batch): tf.Scalar {
  const v = logits.shape[2];
  const t = nextTokenTargets(batch.labels, batch.batchSize, batch.seqLen, v);
  const logProbs = tf.logSoftmax(tf.reshape(logits, [-1, v]));
  const picked = tf.sum(tf.mul(logProbs, tf.tensor2d(t.oneHot, [batch.batchSize * batch.seqLen, v])), -1);
  return tf.div(tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(t.weights)))), t.count) as tf.Scalar;
}

const lossOf = (model: LlavaModel, batch: Batch) => (): tf.Scalar => {
  const out = model.forward(batch);
  out.hidden?.dispose();
  return crossEntropy(out.logits, batch);
};

const batchFor = (config: ModelConfig, start: number, size: number): Batch =>
  collate(tok, proceduralSamples({ seed: 3 }, 'train', 'qa', start, size), {
    numVisionTokens: numVisionTokens(config),
    textLength: TEXT_LENGTH.qa,
  });

describe('training steps', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('release every tensor they make over 20 steps', () => {
    const config = tiny(2);
    const model = createLlava(config, { seed: 1 });
    const trainable = model.variablesOf(['projector', 'llm']);
    let state: AdamWState = initAdamW();
    // The first step creates the moments (two per trainable variable); count after it.
    const first = trainStep(lossOf(model, batchFor(config, 0, 4)), trainable, state, { lr: 1e-3, clipNorm: 1 });
    first.loss.dispose();
    state = first.state;
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 20; i++) {
      const r = trainStep(lossOf(model, batchFor(config, 4 * i, 4)), trainable, state, { lr: 1e-3, clipNorm: 1 });
      r.loss.dispose();
      state = r.state;
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeAdamW(state);
    expect(tf.memory().numTensors).toBe(before - 2 * trainable.size);
    model.dispose();
  });

  const stages: readonly (readonly ParamGroup[])[] = [['projector'], ['projector', 'llm'], ['vision', 'projector', 'llm']];
  it.each(stages.map((g) => [g.join('+'), g] as const))(
    'training %s: gradients reach exactly those groups, the frozen ones do not move',
    async (_label, groups) => {
      for (const pool of [1, 2]) {
        const config = tiny(pool);
        const model = createLlava(config, { seed: 4 });
        const batch = batchFor(config, 0, 4);
        const trainable = model.variablesOf(groups);
        const { value, grads } = namedGrads(lossOf(model, batch), trainable);
        expect([...grads.keys()].sort()).toEqual([...trainable.keys()].sort());
        for (const [name, g] of grads) {
          const norm = tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0] as number);
          expect(norm, `gradient of ${name} (pool ${pool})`).toBeGreaterThan(0);
        }
        value.dispose();
        for (const g of grads.values()) g.dispose();

        const before = await exportWeights(model);
        const r = trainStep(lossOf(model, batch), trainable, initAdamW(), { lr: 1e-2 });
        r.loss.dispose();
        const after = await exportWeights(model);
        for (const [name, entry] of before) {
          const group = model.groups.get(name) as ParamGroup;
          const moved = entry.data.some((x, i) => x !== after.get(name)?.data[i]);
          // Norm gains start at 1 and gradients flow into them, so every trainable tensor moves.
          expect(moved, `${name} (${group}, pool ${pool})`).toBe(groups.includes(group));
        }
        disposeAdamW(r.state);
        model.dispose();
      }
    },
  );

  it('the text-only forward runs the LM alone: gradients reach only the llm group', () => {
    const config = tiny(2);
    const model = createLlava(config, { seed: 4 });
    const samples = proceduralSamples({ seed: 3 }, 'train', 'caption', 0, 3);
    const text = collate(tok, samples, { numVisionTokens: 0, textLength: TEXT_LENGTH.caption });
    const { value, grads } = namedGrads(() => {
      const out = llavaTextForward(config, model.variables, text);
      expect(out.logits.shape).toEqual([3, TEXT_LENGTH.caption, tok.vocab.length]);
      out.hidden?.dispose();
      return crossEntropy(out.logits, text);
    }, model.variables);
    expect([...grads.keys()].every((name) => name.startsWith('llm.'))).toBe(true);
    expect(grads.size).toBe(model.variablesOf(['llm']).size);
    for (const t of [value, ...grads.values()]) t.dispose();
    const withImage = batchFor(config, 0, 2);
    expect(() => llavaTextForward(config, model.variables, withImage)).toThrow('inputs: row 0 has 4 visual positions but the model produces 0 vision tokens');
    model.dispose();
  });

  it('every group is one of vision, projector, llm', () => {
    const model = createLlava(tiny(1), { seed: 1 });
    expect(new Set(model.groups.values())).toEqual(new Set(PARAM_GROUPS));
    expect(model.variablesOf(['vision', 'projector', 'llm']).size).toBe(model.variables.size);
    model.dispose();
  });
});

describe('learning and evaluation', () => {
  it('a tiny model fits a small QA set; teacher-forced exact match equals greedy decoding', async () => {
    await useBackend('wasm');
    const config = tiny(1);
    const model = createLlava(config, { seed: 9 });
    const n = numVisionTokens(config);
    const train = proceduralSamples({ seed: 3 }, 'train', 'qa', 0, 8);
    const batch = collate(tok, train, { numVisionTokens: n, textLength: TEXT_LENGTH.qa });
    const trainable = model.variablesOf(['vision', 'projector', 'llm']);
    let state = initAdamW();
    const losses: number[] = [];
    const start = performance.now();
    for (let step = 0; step < 60; step++) {
      const r = trainStep(lossOf(model, batch), trainable, state, { lr: 5e-3 });
      losses.push((await r.loss.data())[0] as number);
      r.loss.dispose();
      state = r.state;
    }
    const seconds = (performance.now() - start) / 1000;
    const first = losses[0] as number;
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(first).toBeGreaterThan(2.5);
    expect(last, `loss ${first.toFixed(2)} → ${last.toFixed(3)} in ${seconds.toFixed(1)} s`).toBeLessThan(0.3);
    disposeAdamW(state);

    // Fitted training samples (mostly right) and unseen eval samples (mostly wrong): the two
    // evaluations must agree row by row.
    const unseen = proceduralSamples({ seed: 3 }, 'eval', 'qa', 0, 8);
    const all = [...train, ...unseen];
    const forced = await teacherForcedExactMatch(model.forward, collate(tok, all, { numVisionTokens: n, textLength: TEXT_LENGTH.qa }));
    const greedy: boolean[] = [];
    for (const s of all) {
      const emitted = await greedyDecode(model.forward, tok, s, n, 4);
      const gold = [...encode(tok, s.turns[0]?.answer ?? ''), tok.eos];
      greedy.push(emitted.length === gold.length && emitted.every((id, i) => id === gold[i]));
    }
    expect(forced).toEqual(greedy);
    expect(forced.slice(0, 8).filter(Boolean).length).toBeGreaterThanOrEqual(7);
    expect(forced.slice(8).some((x) => !x)).toBe(true);
    model.dispose();
  });
});

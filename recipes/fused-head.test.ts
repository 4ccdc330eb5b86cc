import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import type { BackendName } from '../backends/types.js';
import { objective } from '../core/combinators.js';
import { student as s } from '../core/views.js';
import { supervisedCE } from '../losses/index.js';
import { createLlava, type LlavaModel } from '../models/index.js';
import { expectClose, toleranceFor } from '../properties/tolerances.js';
import { runEnvironment } from './environment.js';
import { LLAVA_KD_PAPER_WEIGHTS, llavaKdObjective } from './objectives/llava-kd.js';
import type { Stage } from './recipe.js';
import { stageTrainer } from './stage-trainer.js';

const environment = runEnvironment({ evalSamples: 0 });
const SEED = 3;

const stageOf = (over: Partial<Stage>): Stage => ({
  name: 'dft',
  trainable: ['projector', 'llm'],
  // LLaVA-KD's DFT without RDist: supervised CE and forward KL on the response and visual logits.
  objective: llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS, { mdist: true, rdist: false }),
  data: 'qa',
  steps: 3,
  batchSize: 4,
  lr: 1e-3,
  warmupRatio: 0,
  weightDecay: 0,
  clipNorm: 1,
  ...over,
});

const valuesOf = async (model: LlavaModel) => new Map(await Promise.all([...model.variables].map(async ([name, v]) => [name, await v.data()] as const)));

/** Trains `steps` steps of `stage` from a fresh seeded student; losses and terms per step, and the final weights. */
async function train(stage: Stage, teacher: LlavaModel | undefined) {
  const model = createLlava(environment.configs.student, { seed: SEED });
  try {
    const before = tf.memory().numTensors;
    const trainer = stageTrainer({ environment, kind: 'student', seed: SEED, stage, model, ...(teacher ? { teacher } : {}) });
    const outcomes = [];
    const counts: number[] = [];
    try {
      for (let step = 0; step < stage.steps; step++) {
        outcomes.push(await trainer.step(step));
        counts.push(tf.memory().numTensors);
      }
    } finally {
      trainer.dispose();
    }
    // Nothing accumulates from step to step (the optimizer's moments exist from the first), and
    // nothing outlives the trainer: the head's transposed copies are released with each step.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    return { outcomes, weights: await valuesOf(model) };
  } finally {
    model.dispose();
  }
}

describe.each(['wasm', 'cpu'] as const satisfies readonly BackendName[])('a stage with fusedHead on %s', (backend) => {
  const compare = async (stage: Stage, teacher?: LlavaModel) => {
    const plain = await train(stage, teacher);
    const fused = await train({ ...stage, fusedHead: true }, teacher);
    const value = toleranceFor(backend, 'value');
    for (const [i, got] of fused.outcomes.entries()) {
      const want = plain.outcomes[i]!;
      expectClose(got.loss, want.loss, value, `step ${i} loss`);
      expect(Object.keys(got.terms).sort()).toEqual(Object.keys(want.terms).sort());
      for (const [name, v] of Object.entries(got.terms)) expectClose(v, want.terms[name]!, value, `step ${i} term ${name}`);
      expect(got.lr).toBe(want.lr);
    }
    let moved = false;
    for (const [name, got] of fused.weights) {
      const want = plain.weights.get(name)!;
      expectClose(got, want, value, `${name} after ${stage.steps} steps`);
      if (name === 'llm.head') moved = true;
    }
    expect(moved).toBe(true);
    return { plain, fused };
  };

  it('trains a distillation stage to the same losses and weights as the materialised logits', async () => {
    await useBackend(backend);
    const teacher = createLlava(environment.configs.teacher, { seed: 0 });
    try {
      const initialHead = Array.from((await teacher.variables.get('llm.head')!.data()) as Float32Array);
      const { fused } = await compare(stageOf({}), teacher);
      // The gradient reached the student's LM head (through the transpose), and the teacher is untouched.
      const start = createLlava(environment.configs.student, { seed: SEED });
      const startHead = await start.variables.get('llm.head')!.data();
      start.dispose();
      expect(Array.from(fused.weights.get('llm.head')!)).not.toEqual(Array.from(startHead));
      expect(Array.from(await teacher.variables.get('llm.head')!.data())).toEqual(initialHead);
    } finally {
      teacher.dispose();
    }
  });

  it('trains a text stage (the LM alone, no teacher) to the same losses and weights', async () => {
    await useBackend(backend);
    await compare(stageOf({ name: 'lm', trainable: ['llm'], data: 'text', objective: objective({ ce: supervisedCE(s.logits.next('response')) }), steps: 2 }));
  });

  it('refuses, when the trainer is made, an objective that reads the student logits other than through divergences and CE', async () => {
    await useBackend(backend);
    const teacher = createLlava(environment.configs.teacher, { seed: 0 });
    const model = createLlava(environment.configs.student, { seed: SEED });
    const before = tf.memory().numTensors;
    try {
      // The full LLaVA-KD DFT objective: RDist (relation) on the visual logits needs them whole.
      const stage = stageOf({ objective: llavaKdObjective(), fusedHead: true });
      expect(() => stageTrainer({ environment, kind: 'student', seed: SEED, stage, model, teacher })).toThrow(
        /student\.logits are an LM head's view \(hidden · weightᵀ\), which relation cannot read chunk by chunk/,
      );
      expect(tf.memory().numTensors).toBe(before);
      // The same stage on materialised logits is valid.
      stageTrainer({ environment, kind: 'student', seed: SEED, stage: { ...stage, fusedHead: false }, model, teacher }).dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
      teacher.dispose();
    }
  });
});

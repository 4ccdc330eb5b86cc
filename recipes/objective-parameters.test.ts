import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { objective, weighted } from '../core/combinators.js';
import { student as s, teacher as t } from '../core/views.js';
import type { HostTensor } from '../io/index.js';
import { feature, supervisedCE } from '../losses/index.js';
import { createLlava } from '../models/index.js';
import { readCheckpoint } from './checkpoint.js';
import { runEnvironment } from './environment.js';
import { readMetrics } from './metrics.js';
import { silentProgress } from './progress.js';
import type { Recipe } from './recipe.js';
import { type RunOptions, runRecipe, type TeacherHandle } from './runner.js';
import { stageTrainer } from './stage-trainer.js';

const root = mkdtempSync(join(tmpdir(), 'mmkd-objective-parameters-'));
const environment = runEnvironment({ evalSamples: 20 });

/**
 * One stage distilling the teacher's hidden states into the narrower student's through a learned
 * projection (student width 64 → teacher width 128): the objective owns W and c.
 */
const recipe: Recipe = {
  name: 'projected-features',
  description: 'feature distillation through a learned projection',
  model: 'student',
  visionFromTeacher: false,
  needsTeacher: true,
  stages: [
    {
      name: 'fd',
      trainable: ['projector', 'llm'],
      objective: objective({
        ce: supervisedCE(s.logits.next('response')),
        feat: weighted(0.5, feature.mse(t.hidden.at('response'), s.hidden.at('response'), { projection: true })),
      }),
      data: 'qa',
      steps: 6,
      batchSize: 4,
      lr: 1e-2,
      warmupRatio: 0,
      weightDecay: 0,
      clipNorm: 1,
    },
  ],
};

let teacher: TeacherHandle;

const options = (dir: string, extra: Partial<RunOptions> = {}): RunOptions => ({
  recipe,
  seed: 3,
  dir,
  resume: false,
  environment,
  backend: 'wasm',
  teacher,
  checkpointEvery: 2,
  progress: silentProgress,
  ...extra,
});

const values = (tensors: ReadonlyMap<string, HostTensor>) => Object.fromEntries([...tensors].map(([name, x]) => [name, Array.from(x.data as Float32Array)]));

describe('objective-owned parameters in recipes', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    // A seeded, untrained teacher is enough: the test is about the student side's bookkeeping.
    teacher = { model: createLlava(environment.configs.teacher, { seed: 0 }), fingerprint: 'seeded-teacher-0' };
  });

  it('train with the stage, are checkpointed, and a resumed run restores them exactly', async () => {
    // Their initial values, as the stage trainer creates them.
    const probeModel = createLlava(environment.configs.student, { seed: 3 });
    const probe = stageTrainer({ environment, kind: 'student', seed: 3, stage: recipe.stages[0]!, model: probeModel, teacher: teacher.model });
    const initial = Object.fromEntries(await Promise.all([...probe.parameters()].map(async ([name, v]) => [name, Array.from(await v.data())] as const)));
    probe.dispose();
    probeModel.dispose();
    expect(Object.keys(initial).sort()).toEqual(['objective.feat.projection.bias', 'objective.feat.projection.weight']);

    const before = tf.memory().numTensors;
    const whole = await runRecipe(options(join(root, 'whole')));
    expect(tf.memory().numTensors).toBe(before);
    const final = await readCheckpoint(whole.checkpoint);
    const trained = values(final.objective);
    expect(Object.keys(trained).sort()).toEqual(Object.keys(initial).sort());
    // Trained: both W and c moved away from where they started.
    for (const name of Object.keys(initial)) expect(trained[name]).not.toEqual(initial[name]);
    // Their AdamW moments are saved with the model's.
    expect([...final.optimizer.keys()].some((k) => k.includes('objective.feat.projection.weight'))).toBe(true);

    // A run that stops right after the checkpoint at step 2 (mid-stage) and is resumed.
    const dir = join(root, 'interrupted');
    const crash = new Error('stopped after the checkpoint at step 2');
    await expect(
      runRecipe(
        options(dir, {
          afterCheckpoint: (path) => {
            if (path.endsWith('00-fd-000002')) throw crash;
          },
        }),
      ),
    ).rejects.toBe(crash);
    const atTwo = await readCheckpoint(join(dir, 'checkpoints', '00-fd-000002'));
    expect(values(atTwo.objective)).not.toEqual(initial);
    const resumed = await runRecipe(options(dir, { resume: true }));

    const steps = async (d: string) =>
      (await readMetrics(join(d, 'metrics.jsonl'))).flatMap((r) => (r.type === 'step' ? [{ step: r.step, loss: r.loss, terms: r.terms }] : []));
    expect(await steps(dir)).toEqual(await steps(join(root, 'whole')));
    const resumedFinal = await readCheckpoint(resumed.checkpoint);
    expect(values(resumedFinal.objective)).toEqual(trained);
    expect(values(resumedFinal.weights)).toEqual(values(final.weights));
  });
});

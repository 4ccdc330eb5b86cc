import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { compile } from '../compile/compile.js';
import { createLlava } from '../models/index.js';
import { DEFAULT_SCALE, recipes } from './catalog.js';
import { runEnvironment, trainingBatch } from './environment.js';
import { forwardFor } from './text-forward.js';

describe('the recipe catalog', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const environment = runEnvironment({ evalSamples: 0 });
  for (const recipe of recipes(DEFAULT_SCALE).values()) {
    it(`${recipe.name}: every stage's objective validates against the models' outputs`, () => {
      const student = createLlava(environment.configs[recipe.model], { seed: 0 });
      const teacher = createLlava(environment.configs.teacher, { seed: 0 });
      try {
        for (const stage of recipe.stages) {
          tf.tidy(() => {
            const batch = trainingBatch(environment, stage.data, recipe.model, 0, 0, 2);
            const s = forwardFor(student, stage.data)(batch);
            const t = forwardFor(teacher, stage.data)(trainingBatch(environment, stage.data, 'teacher', 0, 0, 2));
            const compiled = compile(stage.objective, { teacher: recipe.needsTeacher ? t : s, student: s, labels: batch.labels });
            compiled.dispose();
          });
          expect(stage.trainable.length).toBeGreaterThan(0);
        }
      } finally {
        student.dispose();
        teacher.dispose();
      }
    });
  }
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { evaluateExactMatch } from '../data/eval.js';
import { createLlava } from '../models/index.js';
import { recipes } from './catalog.js';
import { evalBatches } from './environment.js';
import { readMetrics } from './metrics.js';
import { stageTrainer } from './stage-trainer.js';
import { loadTeacher, SHIPPED_CONTINUOUS_TEACHER, SHIPPED_TEACHERS } from './teacher.js';
import { scaleFor, worldEnvironment } from './world.js';

const shipped = fileURLToPath(SHIPPED_CONTINUOUS_TEACHER);

describe('the continuous world: where its shipped teacher is found', () => {
  it("is keyed by the continuous data's fingerprint, beside the grid world's", () => {
    expect(SHIPPED_TEACHERS.get(worldEnvironment('continuous', { evalSamples: 0 }).data.fingerprint)).toBe(SHIPPED_CONTINUOUS_TEACHER);
    expect(SHIPPED_TEACHERS.get(worldEnvironment('grid', { evalSamples: 0 }).data.fingerprint)?.pathname).toMatch(/assets\/teacher$/);
  });
});

describe.skipIf(!existsSync(join(shipped, 'state.json')))('the teacher mmkd ships for the continuous world', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('is reproducible: the first steps of `mmkd run teacher --world continuous --seed 0` give the losses its run recorded', async () => {
    const recorded = (await readMetrics(join(shipped, 'metrics-head.jsonl'))).flatMap((r) => (r.type === 'step' ? [r] : []));
    const recipe = recipes(scaleFor('continuous')).get('teacher')!;
    const environment = worldEnvironment('continuous', { evalSamples: 0 });
    const model = createLlava(environment.configs.teacher, { seed: 0 });
    const trainer = stageTrainer({ environment, kind: 'teacher', seed: 0, stage: recipe.stages[0]!, model });
    try {
      const first = recorded.filter((r) => r.stage === recipe.stages[0]!.name);
      expect(first.length).toBeGreaterThan(0);
      for (const record of first) {
        const outcome = await trainer.step(record.step);
        expect({ step: record.step, loss: outcome.loss, terms: outcome.terms }).toEqual({ step: record.step, loss: record.loss, terms: record.terms });
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it('scores on the 2000 held-out questions exactly what its run recorded', async () => {
    const recorded = (await readMetrics(join(shipped, 'metrics-head.jsonl'))).find((r) => r.type === 'eval');
    const environment = worldEnvironment('continuous');
    const teacher = await loadTeacher(shipped, environment.configs.teacher);
    try {
      const report = await evaluateExactMatch(teacher.model.forward, evalBatches(environment, 'teacher'));
      expect(report.samples).toBe(2000);
      expect(recorded?.type === 'eval' && recorded.report).toEqual(report);
    } finally {
      teacher.model.dispose();
    }
  }, 600_000);
});

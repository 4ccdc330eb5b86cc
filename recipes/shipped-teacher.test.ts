import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { evaluateExactMatch } from '../data/eval.js';
import { createLlava } from '../models/index.js';
import { DEFAULT_SCALE, recipes } from './catalog.js';
import { evalBatches, runEnvironment } from './environment.js';
import { readMetrics } from './metrics.js';
import { stageTrainer } from './stage-trainer.js';
import { loadTeacher, SHIPPED_TEACHER } from './teacher.js';

const shipped = fileURLToPath(SHIPPED_TEACHER);

describe.skipIf(!existsSync(join(shipped, 'state.json')))('the teacher mmkd ships', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('is reproducible: the first steps of `mmkd run teacher --seed 0` give the losses its run recorded', async () => {
    const recorded = (await readMetrics(join(shipped, 'metrics-head.jsonl'))).flatMap((r) => (r.type === 'step' ? [r] : []));
    const recipe = recipes(DEFAULT_SCALE).get('teacher')!;
    const environment = runEnvironment({ evalSamples: 0 });
    const model = createLlava(environment.configs.teacher, { seed: 0 });
    const trainer = stageTrainer({ environment, kind: 'teacher', seed: 0, stage: recipe.stages[0]!, model });
    try {
      for (const record of recorded.filter((r) => r.stage === recipe.stages[0]!.name)) {
        const outcome = await trainer.step(record.step);
        expect({ step: record.step, loss: outcome.loss, terms: outcome.terms }).toEqual({ step: record.step, loss: record.loss, terms: record.terms });
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it('scores on the held-out questions exactly what its run recorded', async () => {
    const recorded = (await readMetrics(join(shipped, 'metrics-head.jsonl'))).find((r) => r.type === 'eval');
    const environment = runEnvironment();
    const teacher = await loadTeacher(shipped, environment.configs.teacher);
    try {
      const report = await evaluateExactMatch(teacher.model.forward, evalBatches(environment, 'teacher'));
      expect(recorded?.type === 'eval' && recorded.report).toEqual(report);
    } finally {
      teacher.model.dispose();
    }
  });
});

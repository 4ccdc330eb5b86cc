import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { compile } from '../compile/compile.js';
import type { ObjectiveNode, ScalarNode } from '../core/graph.js';
import { countParams, createLlava, numVisionTokens } from '../models/index.js';
import { DEFAULT_SCALE, QUICK_SCALE, readsTeacher, recipes, studyComparisons } from './catalog.js';
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

/** Each term of an objective by name, with its weight (1 for an unweighted term). */
function termsOf(node: ScalarNode): Record<string, number> {
  if (node.kind !== 'objective') throw new Error(`expected an objective, got ${node.kind}`);
  return Object.fromEntries(Object.entries((node as ObjectiveNode).terms).map(([name, term]) => [name, term.kind === 'weighted' ? term.weight : 1]));
}

describe("the recipes' objectives have exactly the terms their names say", () => {
  const catalog = recipes(QUICK_SCALE);
  const lastStage = (name: string) => {
    const recipe = catalog.get(name);
    if (!recipe) throw new Error(`no recipe '${name}'`);
    return recipe.stages[recipe.stages.length - 1]!;
  };
  // EM-KD's incremental ablation (its table's order): baseline → +VLAD → +VSD → +RLD. Without RLD
  // the supervised term has weight 1; RLD splits the response term α = 0.5 / 1 − α = 0.5.
  const expected: Record<string, Record<string, number>> = {
    'em-kd-baseline': { ce: 1 },
    'em-kd-vlad': { sup: 1, vlad: 25 },
    'em-kd-vlad-vsd': { sup: 1, vlad: 25, vsd: 0.25 },
    'em-kd': { sup: 0.5, rld: 0.5, vlad: 25, vsd: 0.25 },
    'em-kd-pool': { sup: 0.5, rld: 0.5, vlad: 25, vsd: 0.25 },
    'em-kd-hidden': { sup: 0.5, rld: 0.5, vlad: 25, vsd: 0.25 },
    'full-token': { ce: 1 },
    baseline: { ce: 1 },
    'llava-kd': { reg: 1, res: 1, vis: 1, rel: 0.5 },
    'llava-kd-dft-mdist': { reg: 1, res: 1, vis: 1 },
    'llava-kd-dft-rdist': { reg: 1, rel: 0.5 },
  };
  for (const [name, terms] of Object.entries(expected)) {
    it(`${name}: its last stage's objective is ${Object.keys(terms).join(' + ')}`, () => {
      expect(termsOf(lastStage(name).objective)).toEqual(terms);
    });
  }

  it('the incremental ablation adds one term per step, each recipe compared with the step before', () => {
    const steps = ['em-kd-baseline', 'em-kd-vlad', 'em-kd-vlad-vsd', 'em-kd'];
    const sizes = steps.map((n) => Object.keys(termsOf(lastStage(n).objective)).length);
    expect(sizes).toEqual([1, 2, 3, 4]);
    expect(catalog.get('em-kd-vlad')?.baseline).toBe('em-kd-baseline');
    expect(catalog.get('em-kd-vlad-vsd')?.baseline).toBe('em-kd-vlad');
    expect(studyComparisons(catalog)).toContainEqual({ recipe: 'em-kd', against: 'em-kd-vlad-vsd', primary: false });
    // Every stage before phase 2 is the efficient baseline's, so the steps share them through the stage cache.
    for (const n of steps) expect(catalog.get(n)!.stages.slice(0, -1)).toEqual(catalog.get('em-kd-baseline')!.stages.slice(0, -1));
  });

  it("the full-token student is the efficient student's model without pooling, trained without a teacher", () => {
    const env = runEnvironment({ evalSamples: 0 });
    const full = catalog.get('full-token')!;
    expect(full.model).toBe('full-token');
    expect(full.needsTeacher).toBe(false);
    expect(full.stages.some((st) => readsTeacher(st.objective))).toBe(false);
    expect(full.stages).toEqual(catalog.get('em-kd-baseline')!.stages);
    const [efficient, fullConfig, teacher] = [env.configs.efficient, env.configs['full-token'], env.configs.teacher];
    expect(numVisionTokens(fullConfig)).toBe(numVisionTokens(teacher));
    expect(numVisionTokens(fullConfig)).toBe(4 * numVisionTokens(efficient));
    expect({ ...fullConfig.projector, pool: efficient.projector.pool }).toEqual(efficient.projector);
    expect({ ...fullConfig.llm, maxSeqLen: efficient.llm.maxSeqLen }).toEqual(efficient.llm);
    expect(fullConfig.vision).toEqual(efficient.vision);
    // Only the position table grows (by the extra vision tokens).
    const extra = (numVisionTokens(fullConfig) - numVisionTokens(efficient)) * efficient.llm.width;
    expect(countParams(fullConfig).total - countParams(efficient).total).toBe(extra);
  });

  it('the primary comparisons are the four the design names', () => {
    expect(studyComparisons(catalog).filter((c) => c.primary)).toEqual([
      { recipe: 'llava-kd', against: 'baseline', primary: true },
      { recipe: 'em-kd', against: 'em-kd-baseline', primary: true },
      { recipe: 'em-kd', against: 'em-kd-pool', primary: true },
      { recipe: 'em-kd', against: 'full-token', primary: true },
    ]);
  });
});

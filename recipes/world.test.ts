import { describe, expect, it } from 'vitest';
import { countParams, numVisionTokens } from '../models/index.js';
import { DEFAULT_SCALE, QUICK_SCALE, recipes } from './catalog.js';
import { evalBatches, runEnvironment, trainingBatch } from './environment.js';
import { proceduralData } from './training-data.js';
import { demoScaleFor, EVAL_SAMPLES, parseWorld, scaleFor, worldEnvironment } from './world.js';

describe('worlds', () => {
  it('the grid world is the default and unchanged: same data fingerprint and models as before worlds existed', () => {
    const grid = worldEnvironment('grid');
    const plain = runEnvironment();
    expect(grid.data.fingerprint).toBe('procedural-0');
    expect(grid.configs).toEqual(plain.configs);
    expect(grid.evalSamples).toBe(500);
    expect(scaleFor('grid')).toBe(DEFAULT_SCALE);
    expect(scaleFor('grid', QUICK_SCALE)).toBe(QUICK_SCALE);
    expect(
      recipes(scaleFor('grid'))
        .get('teacher')!
        .stages.map((st) => st.name),
    ).toEqual(['lm', 'pt', 'sft']);
    // The continuous teacher grounds its tokens between PT and SFT; its students are the grid's.
    expect(scaleFor('continuous')).toEqual({ ...DEFAULT_SCALE, groundSteps: 1500 });
    expect(scaleFor('continuous', QUICK_SCALE)).toEqual({ ...QUICK_SCALE, groundSteps: 5 });
    const continuousTeacher = recipes(scaleFor('continuous')).get('teacher')!;
    expect(continuousTeacher.stages.map((st) => [st.name, st.data, st.steps])).toEqual([
      ['lm', 'text', 300],
      ['pt', 'caption', 150],
      ['ground', 'cells', 1500],
      ['sft', 'mix', 8000],
    ]);
    expect(recipes(scaleFor('continuous')).get('llava-kd')!.stages).toEqual(recipes(DEFAULT_SCALE).get('llava-kd')!.stages);
    // The demo: the grid world's at the study's scale, the continuous world's students shorter.
    expect(demoScaleFor('grid')).toBe(DEFAULT_SCALE);
    expect(demoScaleFor('continuous')).toEqual({ ...scaleFor('continuous'), ptSteps: 100, sftSteps: 300, dftSteps: 150 });
  });

  it('the continuous world: 36 teacher vision tokens, 9 for the efficient student, 36 for the full-token student, ≥ 2000 held-out questions', () => {
    const env = worldEnvironment('continuous', { evalSamples: 10 });
    const { teacher, student, efficient } = env.configs;
    const full = env.configs['full-token'];
    expect([teacher, student, efficient, full].map(numVisionTokens)).toEqual([36, 36, 9, 36]);
    expect(EVAL_SAMPLES.continuous).toBeGreaterThanOrEqual(2000);
    expect(worldEnvironment('continuous').evalSamples).toBe(EVAL_SAMPLES.continuous);
    // The full-token student is the efficient student without pooling: only the position table grows.
    expect({ ...full.projector, pool: 2 }).toEqual(efficient.projector);
    expect(countParams(full).total - countParams(efficient).total).toBe(27 * efficient.llm.width);
    expect(countParams(student).total).toBeLessThan(countParams(teacher).total / 2);
    expect(env.data.fingerprint).toBe('continuous-v2-0');
    expect(env.data.world).toBe('continuous');
    const batch = trainingBatch(env, 'mix', 'efficient', 0, 0, 4);
    expect(batch.pixels.length).toBe(4 * 24 * 24 * 3);
    // A grounding batch: captions, with the shape word under each token at the visual positions.
    const cells = trainingBatch(env, 'cells', 'teacher', 0, 3, 4);
    expect(cells.kinds).toEqual(['caption', 'caption', 'caption', 'caption']);
    cells.sampleIds.forEach((id, row) => {
      const sample = env.data.train('caption', Number(id.split('-').at(-1)));
      expect(sample.id).toBe(id);
      const at = (p: number) => row * cells.seqLen + p;
      const visual = Array.from({ length: cells.seqLen }, (_, p) => p).filter((p) => cells.roles[at(p)] === 2);
      expect(visual).toHaveLength(36);
      expect(visual.map((p) => cells.labels[at(p)])).toEqual(sample.visualLabels!.words.map((w) => (w === null ? -100 : env.tokenizer.ids.get(w))));
      // The caption's own labels stay where a caption batch has them.
      const caption = trainingBatch(env, 'caption', 'teacher', 0, 3, 4);
      for (let p = 0; p < cells.seqLen; p++) if (!visual.includes(p)) expect(cells.labels[at(p)]).toBe(caption.labels[at(p)]);
    });
    expect(() => trainingBatch(runEnvironment(), 'cells', 'teacher', 0, 0, 2)).toThrow(
      /sample 'train-caption-\d+' has no visual labels \(what lies under each vision token\); only the continuous world's samples carry them/,
    );
    const held = evalBatches(env, 'teacher', 5);
    expect(held.map((b) => b.batchSize)).toEqual([5, 5]);
    expect(new Set(held.flatMap((b) => b.kinds))).toEqual(new Set(['color', 'shape', 'count', 'position', 'relation']));
  });

  it('a labelled set of n samples repeats every n, and is named in the fingerprint', () => {
    const data = proceduralData(0, { world: 'continuous', labelled: 10 });
    expect(data.train('qa', 13)).toEqual(data.train('qa', 3));
    expect(data.fingerprint).toBe('continuous-v2-0-labelled10');
    expect(data.sourceFingerprint).toBe('continuous-v2-0');
    expect(proceduralData(0, { world: 'continuous' }).sourceFingerprint).toBeUndefined();
    expect(() => proceduralData(0, { labelled: 0 })).toThrow(/positive integer/);
  });

  it('names the worlds it knows when given another', () => {
    expect(parseWorld('continuous')).toBe('continuous');
    expect(() => parseWorld('hex')).toThrow(/grid, continuous/);
  });
});

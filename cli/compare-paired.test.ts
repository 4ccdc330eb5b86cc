import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarize } from '../data/eval.js';
import { questionResults } from '../recipes/analysis.js';
import { runCli } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mmkd-compare-paired-'));
const ids = Array.from({ length: 40 }, (_, i) => `eval-${i}`);
const kinds = ids.map((_, i) => (i % 2 === 0 ? 'color' : 'shape'));

/** A finished run folder whose result.json records which of 40 questions it answered. */
function runFolder(recipe: string, seed: number, correct: (q: number) => boolean, questions = ids): string {
  const folder = join(dir, `${recipe}-seed${seed}`);
  mkdirSync(folder, { recursive: true });
  const right = questions.map((_, q) => correct(q));
  const result = {
    recipe,
    seed,
    backend: 'wasm',
    report: summarize(kinds, right),
    checkpoint: join(folder, 'checkpoints', '02-phase2-000010'),
    seconds: 1,
    questions: questionResults(questions, kinds, right),
  };
  writeFileSync(join(folder, 'result.json'), JSON.stringify(result));
  return folder;
}

describe('mmkd compare: paired differences', () => {
  it("prints each recipe minus its baseline, paired by seed and question, with the bootstrap interval and every seed's difference", async () => {
    // em-kd answers every colour question and its baseline none; on shapes both answer the same half.
    const runs = [0, 1].flatMap((seed) => [runFolder('em-kd-baseline', seed, (q) => q % 4 === 1), runFolder('em-kd', seed, (q) => q % 2 === 0 || q % 4 === 1)]);
    const result = await runCli(['compare', ...runs]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Paired differences');
    // Colour +100 points with no spread, shape 0: the mean over types is +50 exactly, in every replicate.
    expect(result.stdout).toContain(
      '| ★ em-kd − em-kd-baseline | 2 | +50.0 [+50.0, +50.0] | above 0 | +100.0 [+100.0, +100.0] | +0.0 [+0.0, +0.0] | 0: +50.0, 1: +50.0 |',
    );
  });

  it('refuses runs scored on other questions, naming them', async () => {
    const other = ids.map((id) => `${id}-other`);
    const runs = [runFolder('full-token', 3, () => true, other), runFolder('em-kd-baseline', 3, () => false)];
    const result = await runCli(['compare', ...runs]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^mmkd: em-kd-baseline seed 3 was scored on other questions than full-token seed 3/);
  });
});

describe('mmkd evaluate --json', () => {
  it('records which questions were answered, agreeing with the per-type scores', async () => {
    const result = await runCli(['evaluate', 'recipes/assets/teacher', '--backend', 'wasm', '--json'], { timeoutMs: 240_000 });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      samples: number;
      perKind: Record<string, { correct: number; total: number }>;
      questions: { ids: string[]; kinds: string[]; correct: string };
    };
    const { ids, kinds: types, correct } = report.questions;
    expect(ids.length).toBe(report.samples);
    expect(new Set(ids).size).toBe(ids.length);
    expect(correct).toMatch(/^[01]+$/);
    for (const [kind, score] of Object.entries(report.perKind)) {
      const mine = types.flatMap((k, q) => (k === kind ? [correct[q]] : []));
      expect(mine.length).toBe(score.total);
      expect(mine.filter((c) => c === '1').length).toBe(score.correct);
    }
  }, 300_000);
});

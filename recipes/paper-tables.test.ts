import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarize } from '../data/eval.js';
import { questionResults } from './analysis.js';
import { recipes } from './catalog.js';
import { PAPER_TABLES, paperTables } from './paper-tables.js';
import type { RunResult } from './run-folder.js';

const KINDS = Array.from({ length: 100 }, (_, i) => ['color', 'count', 'position', 'relation', 'shape'][i % 5]!);
const IDS = KINDS.map((_, i) => `eval-qa-${i}`);

/** A run that answers the first `right` questions of 100 correctly. */
function run(recipe: string, seed: number, right: number): RunResult {
  const correct = KINDS.map((_, i) => i < right);
  return {
    recipe,
    seed,
    backend: 'wasm',
    report: summarize(KINDS, correct),
    checkpoint: `runs/${recipe}-seed${seed}`,
    seconds: 1,
    questions: questionResults(IDS, KINDS, correct),
  };
}

describe("the papers' tables beside the study's runs (papers.md of `npm run results`)", () => {
  it('every row names a recipe mmkd ships, and each compared recipe too', () => {
    const names = new Set(recipes().keys());
    for (const t of PAPER_TABLES)
      for (const r of t.rows) for (const name of [r.recipe, r.against ?? r.recipe]) expect(names.has(name), `${t.title}: ${name}`).toBe(true);
  });

  it('reads results.json from disk: means, every seed, paired intervals; rows not run say so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmkd-papers-'));
    const results = [run('teacher', 0, 90), run('baseline', 0, 50), run('baseline', 1, 60), run('llava-kd', 0, 70), run('llava-kd', 1, 80)];
    await writeFile(join(dir, 'results.json'), JSON.stringify(results));
    const tables = paperTables(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResult[]);
    const line = (row: string) => tables.split('\n').find((l) => l.startsWith(`| ${row} |`))!;
    // llava-kd is right on 20 more of the same 100 questions in each seed (+20 points), the
    // questions differing between seeds; the question draw widens the interval around +20.
    const row = line('DPT+SFT+DFT');
    expect(row).toMatch(
      /^\| DPT\+SFT\+DFT \| 57\.9 \| `llava-kd` \| 2 \| 75\.0 ± 7\.1 \| 0: 70\.0, 1: 80\.0 \| \+20\.0 \[\+\d+\.\d, \+\d+\.\d\] vs `baseline` \| above 0 \|$/,
    );
    const [low, high] = [...row.matchAll(/\[\+([\d.]+), \+([\d.]+)\]/g)][0]!.slice(1).map(Number);
    expect(low).toBeLessThan(20);
    expect(high).toBeGreaterThan(20);
    expect(line('PT+SFT')).toContain('| (reference) | – |');
    expect(line('PT+DFT')).toContain('not run');
    expect(line('PT+DFT')).toContain('no paired runs');
    // The per-type mean weighs every type alike: seed 0 of the baseline is right on the first 50.
    expect(line('PT+SFT')).toContain('0: 50.0, 1: 60.0');
  });
});

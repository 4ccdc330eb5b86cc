/**
 * `npm run results [-- --seeds 3 --out runs/results]`: trains every recipe with each seed
 * against the teacher mmkd ships, on wasm, and writes the comparison table to <out>/table.md
 * (RESULTS.md quotes it). Finished runs are reused and killed ones resumed, so the script can be
 * stopped and started again; stages shared between recipes are trained once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../backends/index.js';
import { createAssignmentPool } from '../matching/index.js';
import { recipes } from '../recipes/catalog.js';
import { compareTable } from '../recipes/compare.js';
import { evaluateExactMatch } from '../data/eval.js';
import { evalBatches, runEnvironment } from '../recipes/environment.js';
import { exists } from '../recipes/files.js';
import { progressTo } from '../recipes/progress.js';
import { resolveTeacher } from '../recipes/resolve-teacher.js';
import { runRecipe, type RunResult } from '../recipes/runner.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const seeds = Number(option('seeds', '3'));
const out = option('out', 'runs/results');
const only = option('recipes', '');

await useBackend('wasm');
await mkdir(out, { recursive: true });
const catalog = recipes();
const environment = runEnvironment();
const progress = progressTo(process.stderr);
const pool = createAssignmentPool();
const teacher = await resolveTeacher({ environment, recipe: catalog.get('teacher')!, backend: 'wasm', cacheRoot: join(out, '.cache'), progress, pool });
const names = only ? only.split(',') : [...catalog.keys()].filter((n) => n !== 'teacher');
const results: RunResult[] = [
  {
    recipe: 'teacher',
    seed: 0,
    backend: 'wasm',
    report: await evaluateExactMatch(teacher.model.forward, evalBatches(environment, 'teacher')),
    checkpoint: teacher.source,
    seconds: 0,
  },
];
for (let seed = 0; seed < seeds; seed++) {
  for (const name of names) {
    const dir = join(out, `${name}-seed${seed}`);
    progress.note(`— ${name}, seed ${seed}`);
    results.push(
      await runRecipe({
        recipe: catalog.get(name)!,
        seed,
        dir,
        resume: await exists(join(dir, 'checkpoints')),
        environment,
        backend: 'wasm',
        teacher,
        cacheDir: join(out, '.cache'),
        checkpointEvery: 100,
        progress,
        pool,
      }),
    );
    await writeFile(join(out, 'table.md'), `${compareTable(results)}\n`);
  }
}
const table = compareTable(results);
await writeFile(join(out, 'table.md'), `${table}\n`);
await writeFile(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${table}\n`);
teacher.model.dispose();
await pool.close();

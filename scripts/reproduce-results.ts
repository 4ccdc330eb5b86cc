/**
 * `npm run results [-- --seeds 3 --first-seed 0 --recipes a,b --out runs/results]`: trains every
 * recipe with each seed against the teacher mmkd ships, on wasm, and writes the comparison table
 * to <out>/table.md (RESULTS.md quotes it). Finished runs are reused and killed ones resumed, so
 * the script can be stopped and started again; stages shared between recipes are trained once.
 * On a machine with spare cores, processes for different seeds (`--first-seed 1 --seeds 1`, ...)
 * can share one <out>; a final run over all seeds then only collects the finished runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../backends/index.js';
import { evaluateExactMatch } from '../data/eval.js';
import { createAssignmentPool } from '../matching/assignment/index.js';
import { recipes } from '../recipes/catalog.js';
import { compareTable } from '../recipes/compare.js';
import { evalBatches, runEnvironment } from '../recipes/environment.js';
import { progressTo } from '../recipes/progress.js';
import { resolveTeacher } from '../recipes/resolve-teacher.js';
import { runBegun } from '../recipes/run-folder.js';
import { type RunResult, runRecipe } from '../recipes/runner.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const seeds = Number(option('seeds', '3'));
const firstSeed = Number(option('first-seed', '0'));
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(firstSeed) || firstSeed < 0) {
  throw new Error(`--seeds must be a positive integer and --first-seed a non-negative one (got ${seeds}, ${firstSeed})`);
}
const out = option('out', 'runs/results');
const only = option('recipes', '');
// A process over some seeds writes its own table, so that parallel processes do not overwrite one another.
const tableName = firstSeed === 0 && seeds >= 3 ? 'table.md' : `table-seeds-${firstSeed}-${firstSeed + seeds - 1}.md`;

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
for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
  for (const name of names) {
    const dir = join(out, `${name}-seed${seed}`);
    progress.note(`— ${name}, seed ${seed}`);
    results.push(
      await runRecipe({
        recipe: catalog.get(name)!,
        seed,
        dir,
        resume: await runBegun(dir),
        environment,
        backend: 'wasm',
        teacher,
        cacheDir: join(out, '.cache'),
        checkpointEvery: 100,
        progress,
        pool,
      }),
    );
    await writeFile(join(out, tableName), `${compareTable(results)}\n`);
  }
}
const table = compareTable(results);
await writeFile(join(out, tableName), `${table}\n`);
await writeFile(join(out, tableName.replace(/^table/, 'results').replace(/\.md$/, '.json')), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${table}\n`);
teacher.model.dispose();
await pool.close();

/**
 * `npm run results [-- --world grid|continuous --seeds N --first-seed 0 --recipes a,b --out dir --quick]`:
 * trains every recipe with each seed against the world's teacher (the one mmkd ships), on wasm,
 * and writes to <out>: table.md (exact match per question type, mean ± std over seeds), seeds.md
 * (every run's average, seed by seed), paired.md (each recipe minus the one it is compared with,
 * paired by seed and question, with the design's 95% bootstrap interval; RESULTS.md, "Design of
 * the second study"), papers.md (the papers' tables, each row beside its recipe) and results.json (every run, with its per-question results). Seeds default
 * to 0–4 on the continuous world (the second study) and 0–2 on the grid world (the first). Finished runs are reused and killed ones resumed, so
 * the script can be stopped and started again; stages shared between recipes are trained once.
 * On a machine with spare cores, processes for different seeds (`--first-seed 1 --seeds 1`, ...)
 * can share one <out>; a final run over all seeds then only collects the finished runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../backends/index.js';
import { type AnswerReport, answerReport } from '../data/calibration.js';
import { createAssignmentPool } from '../matching/assignment/index.js';
import { DEFAULT_SCALE, QUICK_SCALE, recipes, studyComparisons } from '../recipes/catalog.js';
import { compareTable } from '../recipes/compare.js';
import { evalBatches } from '../recipes/environment.js';
import { evaluateQuestions } from '../recipes/evaluation.js';
import { pairedDifferences, pairedTable, seedTable } from '../recipes/paired.js';
import { paperTables } from '../recipes/paper-tables.js';
import { progressTo } from '../recipes/progress.js';
import { resolveTeacher } from '../recipes/resolve-teacher.js';
import { runBegun } from '../recipes/run-folder.js';
import { type RunResult, runRecipe } from '../recipes/runner.js';
import { DEFAULT_WORLD, parseWorld, scaleFor, worldEnvironment } from '../recipes/world.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const world = parseWorld(option('world', DEFAULT_WORLD));
/** The seeds each study fixed in advance: 0–4 for the second (continuous) study, 0–2 for the first. */
const studySeeds = world === 'continuous' ? 5 : 3;
const seeds = Number(option('seeds', String(studySeeds)));
const firstSeed = Number(option('first-seed', '0'));
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(firstSeed) || firstSeed < 0) {
  throw new Error(`--seeds must be a positive integer and --first-seed a non-negative one (got ${seeds}, ${firstSeed})`);
}
const out = option('out', world === 'grid' ? 'runs/results' : `runs/results-${world}`);
const only = option('recipes', '');
// A process over some seeds writes its own table, so that parallel processes do not overwrite one another.
const suffix = firstSeed === 0 && seeds >= studySeeds ? '' : `-seeds-${firstSeed}-${firstSeed + seeds - 1}`;
const tableName = `table${suffix}.md`;

await useBackend('wasm');
await mkdir(out, { recursive: true });
// --quick: the tiny scale, to try the machinery (its numbers mean nothing).
const catalog = recipes(scaleFor(world, args.includes('--quick') ? QUICK_SCALE : DEFAULT_SCALE));
const environment = worldEnvironment(world);
const progress = progressTo(process.stderr);
const pool = createAssignmentPool();
const teacher = await resolveTeacher({ environment, recipe: catalog.get('teacher')!, backend: 'wasm', cacheRoot: join(out, '.cache'), progress, pool });
const names = only ? only.split(',') : [...catalog.keys()].filter((n) => n !== 'teacher');
const results: RunResult[] = [
  {
    recipe: 'teacher',
    seed: 0,
    backend: 'wasm',
    report: (await evaluateQuestions(teacher.model.forward, evalBatches(environment, 'teacher'))).report,
    checkpoint: teacher.source,
    seconds: 0,
  },
];
// The design's preconditions: the teacher's accuracy, answer entropy and calibration.
const teacherAnswers = await answerReport(teacher.model.forward, evalBatches(environment, 'teacher'), environment.tokenizer);
await writeFile(join(out, 'teacher.md'), `${teacherTable(results[0]!, teacherAnswers)}\n`);
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
const paired = pairedTable(pairedDifferences(results, studyComparisons(catalog)));
await writeFile(join(out, tableName), `${table}\n`);
await writeFile(join(out, `seeds${suffix}.md`), `${seedTable(results)}\n`);
await writeFile(join(out, `paired${suffix}.md`), `${paired}\n`);
await writeFile(join(out, `papers${suffix}.md`), `${paperTables(results)}\n`);
await writeFile(join(out, `results${suffix}.json`), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${table}\n\n${seedTable(results)}\n\n${paired}\n`);
teacher.model.dispose();
await pool.close();

/**
 * The teacher's preconditions (RESULTS.md, "Design of the second study"): exact match, and over
 * its answer words the mean entropy (nats), the mean probability of the gold word and the expected
 * calibration error of the argmax word (15 bins), overall and per question type.
 */
function teacherTable(teacherRun: RunResult, answers: AnswerReport): string {
  const row = (name: string, accuracy: number | undefined, s: AnswerReport['overall']) =>
    `| ${name} | ${accuracy === undefined ? '–' : (100 * accuracy).toFixed(1)} | ${s.count} | ${s.meanEntropy.toFixed(3)} | ${s.meanGoldProb.toFixed(3)} | ${(100 * s.calibration.ece).toFixed(1)} |`;
  return [
    '| teacher | exact match | answer words | mean entropy (nats) | mean p(gold word) | ECE (points, 15 bins) |',
    '|---|---:|---:|---:|---:|---:|',
    row('all (mean over types)', teacherRun.report.average, answers.overall),
    ...Object.entries(answers.perKind).map(([k, s]) => row(k, teacherRun.report.perKind[k]?.accuracy, s)),
  ].join('\n');
}

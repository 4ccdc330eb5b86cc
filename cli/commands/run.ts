import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { MISSING_MASS, type MissingMass } from '../../core/outputs.js';
import { createAssignmentPool } from '../../matching/assignment/index.js';
import { DEFAULT_SCALE, QUICK_SCALE, recipes } from '../../recipes/catalog.js';
import { runEnvironment } from '../../recipes/environment.js';
import { progressTo } from '../../recipes/progress.js';
import { resolveTeacher, resolveTeacherVision } from '../../recipes/resolve-teacher.js';
import { runRecipe } from '../../recipes/runner.js';
import { openRecipeSignals, signalsRecipe, storedLogitRoles } from '../../recipes/signals/recipe-signals.js';
import { llavaJsonData } from '../../recipes/user-data.js';
import { DEFAULT_WORLD, scaleFor, WORLDS, type World, worldEnvironment } from '../../recipes/world.js';
import { backendFlag, chooseBackend } from '../backend.js';
import { CliError } from '../errors.js';

interface RunOptions {
  readonly backend?: string;
  readonly seed: string;
  readonly out?: string;
  readonly resume?: boolean;
  readonly quick?: boolean;
  readonly teacher?: string;
  readonly cache: string | false;
  readonly checkpointEvery: string;
  readonly data?: string;
  readonly imageRoot?: string;
  readonly world?: string;
  readonly teacherSignals?: string;
  readonly missingMass?: string;
}

export function runCommand(program: Command): void {
  program
    .command('run')
    .description('train a recipe (run `mmkd run --help` for the list), with checkpoints; --resume continues a killed run')
    .argument('<recipe>', `one of: ${[...recipes().keys()].join(', ')}`)
    .option(...backendFlag)
    .option('--seed <n>', 'seed of the initialisation and of the training data order', '0')
    .option('--out <dir>', 'the run folder (default runs/<recipe>-seed<n>)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--quick', 'a tiny version of the recipe (a smoke test, minutes → seconds)')
    .option(
      '--teacher <checkpoint>',
      'a teacher checkpoint folder (default: the one mmkd ships for the procedural data, else one trained on the data first and kept in the cache)',
    )
    .option('--cache <dir>', 'stage cache shared by runs that begin alike', 'runs/.cache')
    .option('--no-cache', 'train every stage, even one an earlier run already trained')
    .option('--checkpoint-every <steps>', 'steps between checkpoints (one is always written at the end of a stage)', '50')
    .option(
      '--data <conversations.json>',
      'train on LLaVA-format conversations instead of the procedural data (records with or without an image; a --teacher must have been trained on the same file)',
    )
    .option('--image-root <dir>', "folder the --data file's image paths are relative to (default: the file's folder)")
    .option(
      '--world <name>',
      `the procedural world: ${WORLDS.join(' or ')} (default ${DEFAULT_WORLD}; grid: objects centred in a 2×2 grid's patches; continuous: continuous positions and sizes, near hues, occlusion, noise)`,
    )
    .option(
      '--teacher-signals <dir>',
      "train from offline top-k teacher signals (`mmkd teacher-signals`) instead of running the teacher; the recipe's teacher terms must be divergences",
    )
    .option('--missing-mass <policy>', `with --teacher-signals: how divergences treat the mass outside the top k: ${MISSING_MASS.join(', ')}`, 'tailBucket')
    .action(async (name: string, options: RunOptions) => {
      const seed = wholeNumber(options.seed, '--seed');
      const checkpointEvery = wholeNumber(options.checkpointEvery, '--checkpoint-every', 1);
      const catalog = catalogFor(options);
      const named = catalog.get(name);
      if (named === undefined) throw new CliError(`unknown recipe '${name}': choose one of ${[...catalog.keys()].join(', ')}`);
      const missingMass = options.missingMass ?? 'tailBucket';
      if (!(MISSING_MASS as readonly string[]).includes(missingMass))
        throw new CliError(`--missing-mass must be one of ${MISSING_MASS.join(', ')}, got '${missingMass}'`);
      // From signals: the recipe's divergences read the teacher's top k (an error names any other teacher term).
      const selection = await chooseBackend(options.backend);
      const environment = await environmentFor(options);
      const recipe =
        options.teacherSignals === undefined
          ? named
          : signalsRecipe(named, missingMass as MissingMass, await storedLogitRoles(named, seed, environment, options.teacherSignals));
      const progress = progressTo(process.stderr);
      const pool = createAssignmentPool();
      const cacheRoot = options.cache === false ? join(process.cwd(), 'runs', '.cache') : options.cache;
      let teacher: Awaited<ReturnType<typeof resolveTeacher>> | undefined;
      try {
        const signals = options.teacherSignals === undefined ? undefined : await openRecipeSignals(recipe, seed, environment, options.teacherSignals);
        if (signals)
          progress.note(
            `teacher signals: ${options.teacherSignals} (${[...signals].map(([stage, s]) => `${stage}: k = ${s.manifest.k} of ${s.manifest.vocabulary.size}, T = ${s.manifest.temperature}`).join('; ')}), missing mass: ${missingMass}`,
          );
        // From signals, a recipe that starts from the teacher's vision encoder reads that alone.
        const teacherVision =
          signals && recipe.visionFromTeacher
            ? await resolveTeacherVision({
                ...(options.teacher ? { path: options.teacher } : {}),
                environment,
                recipe: catalog.get('teacher')!,
                backend: selection.backend.name,
                cacheRoot,
                progress,
                pool,
              })
            : undefined;
        if (teacherVision) progress.note(`teacher: ${teacherVision.described} (its vision encoder only; the teacher is not built)`);
        teacher =
          !signals && (recipe.needsTeacher || recipe.visionFromTeacher)
            ? await resolveTeacher({
                ...(options.teacher ? { path: options.teacher } : {}),
                environment,
                recipe: catalog.get('teacher')!,
                backend: selection.backend.name,
                cacheRoot,
                progress,
                pool,
              })
            : undefined;
        if (teacher) progress.note(`teacher: ${teacher.source}`);
        const dir = options.out ?? join('runs', `${recipe.name}${options.quick ? '-quick' : ''}-seed${seed}`);
        const result = await runRecipe({
          recipe,
          seed,
          dir,
          resume: options.resume === true,
          environment,
          backend: selection.backend.name,
          ...(teacher ? { teacher } : {}),
          ...(signals ? { signals } : {}),
          ...(teacherVision ? { teacherVision } : {}),
          ...(options.cache === false ? {} : { cacheDir: options.cache }),
          checkpointEvery,
          progress,
          pool,
          deviceLoss: selection.deviceLoss,
          ...killAfterCheckpoint(process.env['MMKD_KILL_AFTER_CHECKPOINT']),
        });
        const kinds = Object.entries(result.report.perKind).map(([k, s]) => `${k} ${(100 * s.accuracy).toFixed(1)}`);
        process.stdout.write(
          `${recipe.name} (seed ${seed}): exact match ${(100 * result.report.average).toFixed(1)} (${kinds.join(', ')}) in ${result.seconds.toFixed(0)} s\n` +
            `run folder: ${dir}\nfinal checkpoint: ${result.checkpoint}\n`,
        );
      } finally {
        teacher?.model.dispose();
        await pool.close();
        selection.webgpu?.release();
      }
    });
}

/**
 * A test hook for crash safety: with `MMKD_KILL_AFTER_CHECKPOINT=<checkpoint folder name>`
 * (e.g. `01-sft-000004`), the process kills itself with SIGKILL right after writing that
 * checkpoint, so a test can interrupt a run at a known point and check that --resume continues
 * from there.
 */
function killAfterCheckpoint(name: string | undefined): { afterCheckpoint?: (path: string) => void } {
  if (name === undefined || name === '') return {};
  return {
    afterCheckpoint: (path) => {
      if (basename(path) === name) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** The --world flag's value, checked. */
export function worldOption(name: string | undefined): World {
  if (name === undefined) return DEFAULT_WORLD;
  if ((WORLDS as readonly string[]).includes(name)) return name as World;
  throw new CliError(`--world must be one of ${WORLDS.join(', ')}, got '${name}'`);
}

/**
 * The recipes at the scale the options ask (--quick or not), for their world's data; a world's
 * scale (the continuous teacher's grounding stage) needs that world's samples, so --data gets the
 * plain recipes.
 */
export function catalogFor(options: { readonly quick?: boolean; readonly data?: string; readonly world?: string }) {
  const base = options.quick ? QUICK_SCALE : DEFAULT_SCALE;
  return recipes(options.data === undefined ? scaleFor(worldOption(options.world), base) : base);
}

/** The procedural data of a world, or the user's conversations (loaded and validated; errors name the record). */
export async function environmentFor(options: { readonly data?: string; readonly imageRoot?: string; readonly world?: string }) {
  if (options.data === undefined) return worldEnvironment(worldOption(options.world));
  if (options.world !== undefined) {
    throw new CliError(`--world ${options.world} chooses a procedural world; --data trains on ${options.data} instead: pass one of them`);
  }
  return runEnvironment({ data: await llavaJsonData(options.data, options.imageRoot ? { imageRoot: options.imageRoot } : {}) });
}

export function wholeNumber(text: string, flag: string, min = 0): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new CliError(`${flag} must be a whole number ≥ ${min}, got '${text}'`);
  return n;
}

import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { createAssignmentPool } from '../../matching/assignment/index.js';
import { progressTo } from '../../recipes/progress.js';
import { resolveTeacher } from '../../recipes/resolve-teacher.js';
import { LOGPROB_DTYPES, type LogprobDtype } from '../../recipes/signals/format.js';
import { writeRecipeSignals } from '../../recipes/signals/recipe-signals.js';
import { DEFAULT_WORLD, WORLDS } from '../../recipes/world.js';
import { backendFlag, chooseBackend } from '../backend.js';
import { CliError } from '../errors.js';
import { catalogFor, environmentFor, wholeNumber } from './run.js';

interface SignalsOptions {
  readonly backend?: string;
  readonly seed: string;
  readonly out?: string;
  readonly quick?: boolean;
  readonly teacher?: string;
  readonly cache: string;
  readonly k?: string;
  readonly temperature: string;
  readonly dtype: string;
  readonly shardSteps: string;
  readonly data?: string;
  readonly imageRoot?: string;
  readonly world?: string;
  readonly hidden?: boolean;
  readonly visualLogits?: boolean;
}

export function teacherSignalsCommand(program: Command): void {
  program
    .command('teacher-signals')
    .description("run a teacher once over a recipe's teacher batches and write its top-k signals (for `mmkd run <recipe> --teacher-signals DIR`)")
    .argument('<recipe>', 'the recipe whose teacher-reading stages the signals serve')
    .option(...backendFlag)
    .option('--seed <n>', 'the seed of the run the signals serve (it fixes which samples each step draws)', '0')
    .option('--out <dir>', 'the signals folder, one sub-folder per stage (default runs/signals/<recipe>-seed<n>); an unfinished one is resumed')
    .option('--quick', 'the tiny version of the recipe (as `mmkd run --quick`)')
    .option(
      '--teacher <checkpoint>',
      'a teacher checkpoint folder (default: the one mmkd ships for the procedural data, else one trained on the data and cached)',
    )
    .option('--cache <dir>', 'where a teacher trained on demand is kept', 'runs/.cache')
    .option('--k <n>', 'token log-probs kept per position (default 64, or V when the vocabulary is smaller)')
    .option('--temperature <t>', 'the temperature of the log-probs (the objective must use the same)', '1')
    .option('--dtype <dtype>', `log-prob precision: ${LOGPROB_DTYPES.join(' or ')} (float16: 6 bytes per kept token)`, 'float16')
    .option('--hidden', "also store the teacher's last hidden states (in --dtype), for feature, affinity or matching terms on teacher.hidden")
    .option(
      '--visual-logits',
      "also store the teacher's whole logits at its vision tokens (in --dtype), for matching and relation terms on them (V values a token)",
    )
    .option('--shard-steps <n>', 'training steps per shard (a kill loses at most one shard)', '10')
    .option('--data <conversations.json>', 'LLaVA-format conversations instead of the procedural data')
    .option('--image-root <dir>', "folder the --data file's image paths are relative to")
    .option('--world <name>', `the procedural world: ${WORLDS.join(' or ')} (default ${DEFAULT_WORLD})`)
    .action(async (name: string, options: SignalsOptions) => {
      const seed = wholeNumber(options.seed, '--seed');
      const shardSteps = wholeNumber(options.shardSteps, '--shard-steps', 1);
      const temperature = Number(options.temperature);
      if (!Number.isFinite(temperature) || temperature <= 0) throw new CliError(`--temperature must be a number > 0, got '${options.temperature}'`);
      if (!(LOGPROB_DTYPES as readonly string[]).includes(options.dtype))
        throw new CliError(`--dtype must be one of ${LOGPROB_DTYPES.join(', ')}, got '${options.dtype}'`);
      const catalog = catalogFor(options);
      const recipe = catalog.get(name);
      if (recipe === undefined) throw new CliError(`unknown recipe '${name}': choose one of ${[...catalog.keys()].join(', ')}`);
      const selection = await chooseBackend(options.backend);
      const environment = await environmentFor(options);
      const vocab = environment.configs.teacher.llm.vocabSize;
      const k = options.k === undefined ? Math.min(64, vocab) : wholeNumber(options.k, '--k', 1);
      if (k > vocab) throw new CliError(`--k ${k} is larger than the teacher's vocabulary (V = ${vocab})`);
      const progress = progressTo(process.stderr);
      const pool = createAssignmentPool();
      const dir = options.out ?? join('runs', 'signals', `${recipe.name}${options.quick ? '-quick' : ''}-seed${seed}`);
      let teacher: Awaited<ReturnType<typeof resolveTeacher>> | undefined;
      try {
        teacher = await resolveTeacher({
          ...(options.teacher ? { path: options.teacher } : {}),
          environment,
          recipe: catalog.get('teacher')!,
          backend: selection.backend.name,
          cacheRoot: options.cache,
          progress,
          pool,
        });
        progress.note(`teacher: ${teacher.source}`);
        const kill = process.env['MMKD_KILL_AFTER_SHARD'];
        const manifests = await writeRecipeSignals({
          recipe,
          seed,
          environment,
          teacher,
          dir,
          k,
          temperature,
          dtype: options.dtype as LogprobDtype,
          shardSteps,
          ...(options.hidden ? { hidden: options.dtype as LogprobDtype } : {}),
          ...(options.visualLogits ? { visualLogits: options.dtype as LogprobDtype } : {}),
          write: (text) => process.stderr.write(text),
          tty: process.stderr.isTTY === true,
          ...(kill ? { afterShard: (path: string) => (basename(path) === kill ? process.kill(process.pid, 'SIGKILL') : undefined) } : {}),
        });
        for (const [stage, m] of manifests) {
          const bytes = m.shards.reduce((n, s) => n + s.bytes, 0);
          process.stdout.write(
            `${stage}: ${m.data.sequences} sequences × ${m.sequenceLength} positions, k = ${m.k} of V = ${m.vocabulary.size}, T = ${m.temperature}, ${m.logprobDtype}${m.hidden ? `, hidden states ${m.hidden.width} wide` : ''}${m.denseLogits ? `, whole logits at ${m.denseLogits.roles.join(', ')} tokens` : ''} → ${join(dir, stage)} ` +
              `(${m.shards.length} shards, ${(bytes / 2 ** 20).toFixed(2)} MiB, ${(m.bytesPerToken ?? 0).toFixed(1)} bytes per token)\n`,
          );
        }
      } finally {
        teacher?.model.dispose();
        await pool.close();
        selection.webgpu?.release();
      }
    });
}

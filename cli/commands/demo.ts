import type { Command } from 'commander';
import { createAssignmentPool } from '../../matching/assignment/index.js';
import { runDemo } from '../../recipes/demo.js';
import { formatPrefill } from '../../recipes/prefill.js';
import { formatSeconds, progressTo } from '../../recipes/progress.js';
import { DEFAULT_WORLD, WORLDS } from '../../recipes/world.js';
import { backendFlag, chooseBackend } from '../backend.js';
import { worldOption } from './run.js';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "the main job: train the baseline, LLaVA-KD, efficient baseline and EM-KD students against the shipped teacher; print accuracy per question type, each distilled student's difference to its baseline with a 95% interval, and the efficient student's prefill-time ratio",
    )
    .option(...backendFlag)
    .option('--quick', 'a tiny version (under 2 minutes; numbers are meaningless, the pipeline is exercised)')
    .option('--out <dir>', 'where the runs go (default runs/demo, or runs/demo-quick)')
    .option('--teacher <checkpoint>', 'a teacher checkpoint folder instead of the shipped one')
    .option('--world <name>', `the procedural world: ${WORLDS.join(' or ')} (default continuous)`)
    .action(
      async (options: { readonly backend?: string; readonly quick?: boolean; readonly out?: string; readonly teacher?: string; readonly world?: string }) => {
        const started = performance.now();
        const world = worldOption(options.world);
        const selection = await chooseBackend(options.backend);
        const pool = createAssignmentPool();
        try {
          const { table, pairedTable, prefill, summary, folders } = await runDemo({
            quick: options.quick === true,
            world,
            out: options.out ?? `runs/demo${world === DEFAULT_WORLD ? '' : `-${world}`}${options.quick ? '-quick' : ''}`,
            backend: selection.backend.name,
            progress: progressTo(process.stderr),
            pool,
            deviceLoss: selection.deviceLoss,
            ...(options.teacher ? { teacher: options.teacher } : {}),
          });
          const width = Math.max(...folders.map((f) => f.recipe.length));
          process.stdout.write(
            `\nExact match on held-out questions (%), per question type (${world} world):\n\n${table}\n\n` +
              `Each distilled student minus its own baseline (points; one seed, 95% bootstrap interval over the questions):\n\n${pairedTable}\n\n` +
              `${formatPrefill(prefill, selection.backend.name)}\n\n${summary}\n\n` +
              `runs (metrics.jsonl, checkpoints/ and result.json in each student's folder):\n` +
              folders.map((f) => `  ${f.recipe.padEnd(width)}  ${f.path}\n`).join('') +
              `\ndemo finished in ${formatSeconds((performance.now() - started) / 1000)} on ${selection.backend.name}\n`,
          );
        } finally {
          await pool.close();
          selection.webgpu?.release();
        }
      },
    );
}

import type { Command } from 'commander';
import { createAssignmentPool } from '../../matching/assignment/index.js';
import { runDemo } from '../../recipes/demo.js';
import { formatSeconds, progressTo } from '../../recipes/progress.js';
import { backendFlag, chooseBackend } from '../backend.js';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('the main job: train the baseline, LLaVA-KD and EM-KD students against the shipped teacher and print the comparison table')
    .option(...backendFlag)
    .option('--quick', 'a tiny version (under 2 minutes; numbers are meaningless, the pipeline is exercised)')
    .option('--out <dir>', 'where the runs go (default runs/demo, or runs/demo-quick)')
    .option('--teacher <checkpoint>', 'a teacher checkpoint folder instead of the shipped one')
    .action(async (options: { readonly backend?: string; readonly quick?: boolean; readonly out?: string; readonly teacher?: string }) => {
      const started = performance.now();
      const selection = await chooseBackend(options.backend);
      const pool = createAssignmentPool();
      try {
        const { table, folders } = await runDemo({
          quick: options.quick === true,
          out: options.out ?? (options.quick ? 'runs/demo-quick' : 'runs/demo'),
          backend: selection.backend.name,
          progress: progressTo(process.stderr),
          pool,
          deviceLoss: selection.deviceLoss,
          ...(options.teacher ? { teacher: options.teacher } : {}),
        });
        const width = Math.max(...folders.map((f) => f.recipe.length));
        process.stdout.write(
          `\nExact match on held-out questions (%), per question type:\n\n${table}\n\n` +
            `runs (metrics.jsonl, checkpoints/ and result.json in each student's folder):\n` +
            folders.map((f) => `  ${f.recipe.padEnd(width)}  ${f.path}\n`).join('') +
            `\ndemo finished in ${formatSeconds((performance.now() - started) / 1000)} on ${selection.backend.name}\n`,
        );
      } finally {
        await pool.close();
        selection.webgpu?.release();
      }
    });
}

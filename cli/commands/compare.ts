import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { accuracyChart, runLabels } from '../../plot/plots.js';
import { chartFormatOf, writeChartFile } from '../../plot/render.js';
import { recipes, studyComparisons } from '../../recipes/catalog.js';
import { compareTable, runsSharingASeed } from '../../recipes/compare.js';
import { pairedDifferences, pairedTable } from '../../recipes/paired.js';
import { type RunResult, readResult } from '../../recipes/runner.js';
import { checkBackendName, ignoredBackendFlag } from '../backend.js';
import { CliError } from '../errors.js';

export function compareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'a Markdown table of finished runs: exact match per question type and average, mean ± std over seeds (one run per recipe and seed); then each recipe minus the one it is compared with, paired by seed and question, with a 95% bootstrap interval',
    )
    .argument('<runs...>', 'run folders (each with a result.json)')
    .option('--out <file.md>', 'also write the table to this file')
    .option('--plot <file>', 'also write a chart of exact match per question type, a bar per run (.svg or .png)')
    .option(...ignoredBackendFlag)
    .action(async (dirs: string[], options: { readonly out?: string; readonly plot?: string; readonly backend?: string }) => {
      checkBackendName(options.backend);
      if (options.plot) chartFormatOf(options.plot);
      const runs: { dir: string; result: RunResult }[] = [];
      for (const dir of dirs) {
        try {
          runs.push({ dir, result: await readResult(dir) });
        } catch {
          throw new CliError(`${dir} has no result.json: is it a finished run folder?`);
        }
      }
      // Refused rather than warned about: a mean ± std over seeds that counts one seed twice is a
      // wrong number, and the table would not show it.
      const shared = runsSharingASeed(runs);
      if (shared.length > 0) {
        throw new CliError(
          `runs of the same recipe and seed would count twice in the mean ± std over seeds:\n${shared
            .map((g) => `  ${g.recipe} seed ${g.seed}: ${g.dirs.join(', ')}`)
            .join('\n')}\npass one run per recipe and seed`,
        );
      }
      const results = runs.map((r) => r.result);
      // Each recipe against the one it is compared with, where both were run and recorded per-question results.
      let paired: ReturnType<typeof pairedDifferences>;
      try {
        paired = pairedDifferences(results, studyComparisons(recipes()));
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const table =
        paired.length === 0
          ? compareTable(results)
          : `${compareTable(results)}\n\nPaired differences (points; 95% bootstrap interval over seeds and questions, paired by seed and question; ★ primary):\n\n${pairedTable(paired)}`;
      process.stdout.write(`${table}\n`);
      if (options.out) await writeFile(options.out, `${table}\n`);
      if (options.plot) {
        const labels = runLabels(dirs);
        await writeChartFile(accuracyChart(runs.map((r, i) => ({ label: labels[i] as string, report: r.result.report }))), options.plot);
      }
    });
}

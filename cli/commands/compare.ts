import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { compareTable, runsSharingASeed } from '../../recipes/compare.js';
import { type RunResult, readResult } from '../../recipes/runner.js';
import { checkBackendName, ignoredBackendFlag } from '../backend.js';
import { CliError } from '../errors.js';

export function compareCommand(program: Command): void {
  program
    .command('compare')
    .description('a Markdown table of finished runs: exact match per question type and average, mean ± std over seeds (one run per recipe and seed)')
    .argument('<runs...>', 'run folders (each with a result.json)')
    .option('--out <file.md>', 'also write the table to this file')
    .option(...ignoredBackendFlag)
    .action(async (dirs: string[], options: { readonly out?: string; readonly backend?: string }) => {
      checkBackendName(options.backend);
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
      const table = compareTable(runs.map((r) => r.result));
      process.stdout.write(`${table}\n`);
      if (options.out) await writeFile(options.out, `${table}\n`);
    });
}

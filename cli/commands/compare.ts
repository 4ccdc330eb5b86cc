import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { compareTable } from '../../recipes/compare.js';
import { type RunResult, readResult } from '../../recipes/runner.js';
import { checkBackendName, ignoredBackendFlag } from '../backend.js';
import { CliError } from '../errors.js';

export function compareCommand(program: Command): void {
  program
    .command('compare')
    .description('a Markdown table of finished runs: exact match per question type and average, mean ± std over seeds')
    .argument('<runs...>', 'run folders (each with a result.json)')
    .option('--out <file.md>', 'also write the table to this file')
    .option(...ignoredBackendFlag)
    .action(async (dirs: string[], options: { readonly out?: string; readonly backend?: string }) => {
      checkBackendName(options.backend);
      const results: RunResult[] = [];
      for (const dir of dirs) {
        try {
          results.push(await readResult(dir));
        } catch {
          throw new CliError(`${dir} has no result.json: is it a finished run folder?`);
        }
      }
      const table = compareTable(results);
      process.stdout.write(`${table}\n`);
      if (options.out) await writeFile(options.out, `${table}\n`);
    });
}

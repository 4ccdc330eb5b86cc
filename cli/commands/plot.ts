import type { Command } from 'commander';
import { plotRuns } from '../../plot/plots.js';
import type { ChartFormat } from '../../plot/render.js';
import { CliError } from '../errors.js';

/** `--format svg,png` as a list, refusing anything else. */
export function parseFormats(value: string): ChartFormat[] {
  const formats = value.split(',').map((f) => f.trim().toLowerCase());
  const bad = formats.filter((f) => f !== 'svg' && f !== 'png');
  if (bad.length > 0 || formats.length === 0) throw new CliError(`--format takes svg, png or svg,png, not '${value}'`);
  return [...new Set(formats as ChartFormat[])];
}

export function plotCommand(program: Command): void {
  program
    .command('plot')
    .description(
      "charts of runs: each run's loss curves per term and stage (<out>/<run>-loss.svg and .png, from its metrics.jsonl), and exact match per question type of the finished runs, a bar per run (<out>/accuracy.svg and .png, from result.json)",
    )
    .argument('<runs...>', 'run folders (each with a metrics.jsonl; finished ones with a result.json)')
    .option('--out <dir>', 'the folder the charts are written to', 'plots')
    .option('--format <list>', 'svg, png, or svg,png', 'svg,png')
    .option('--log', 'a log-scaled loss axis')
    .action(async (dirs: string[], options: { readonly out: string; readonly format: string; readonly log?: boolean }) => {
      const formats = parseFormats(options.format);
      const outcome = await plotRuns(dirs, { out: options.out, formats, log: options.log === true });
      for (const note of outcome.notes) process.stderr.write(`note: ${note}\n`);
      for (const file of outcome.files) process.stdout.write(`${file}\n`);
    });
}

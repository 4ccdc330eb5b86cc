import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { standardRegistry } from '../../compile/standard-registry.js';
import { exportTorch } from '../../compile/torch/export.js';
import { GraphValidationError } from '../../core/errors.js';
import { OBJECTIVE_FORMAT } from '../../core/json.js';
import { CliError } from '../errors.js';
import { readObjective, readText } from '../files.js';

interface ExportOptions {
  readonly to: string;
  readonly out?: string;
}

const TARGETS = ['torch'] as const;

/**
 * `mmkd export --to torch <objective.json>`: the objective as one self-contained PyTorch module
 * (see `exportTorch`), on stdout or in `--out`.
 */
export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('write an objective as a self-contained PyTorch module (nn.Module: loss and every term, as mmkd computes them)')
    .argument('<objective.json>', 'an objective file (see examples/objectives)')
    .requiredOption('--to <target>', `what to export to: ${TARGETS.join(', ')}`)
    .option('--out <file.py>', 'write the module here instead of to stdout')
    .action(async (path: string, options: ExportOptions) => {
      if (!(TARGETS as readonly string[]).includes(options.to)) throw new CliError(`--to must be one of ${TARGETS.join(', ')}, got '${options.to}'`);
      const graph = await readObjective(path, standardRegistry);
      let source: string;
      try {
        source = exportTorch(graph, { source: path, ...descriptionOf(await readText(path, 'objective')) });
      } catch (e) {
        if (e instanceof GraphValidationError) throw new GraphValidationError(e.errors, `${path}: ${e.message.split(':\n')[0]}`);
        throw e;
      }
      if (options.out === undefined) process.stdout.write(source);
      else await writeFile(options.out, source);
    });
}

/** The file's description, when it has the format wrapper and one. */
function descriptionOf(text: string): { description?: string } {
  const json = JSON.parse(text) as unknown;
  if (typeof json === 'object' && json !== null && 'format' in json && json.format === OBJECTIVE_FORMAT && 'description' in json) {
    return typeof json.description === 'string' ? { description: json.description } : {};
  }
  return {};
}

import type { Command } from 'commander';
import { formatShape } from '../../core/errors.js';
import { readTensorFile, toFloat64 } from '../../io/index.js';
import { AssignmentError, type AssignmentResult, solveAssignment } from '../../matching/assignment/index.js';
import { checkBackendName, ignoredBackendFlag } from '../backend.js';
import { CliError } from '../errors.js';

interface MatchOptions {
  readonly cost: string;
  readonly maximize?: boolean;
  readonly json?: boolean;
  readonly backend?: string;
}

export function matchCommand(program: Command): void {
  program
    .command('match')
    .description('solve a minimum-cost (or --maximize) assignment for a cost matrix and print the pairs and the total')
    .requiredOption('--cost <file>', "an [n, m] matrix: a .npy file, or a .safetensors file with one tensor (or one named 'cost')")
    .option('--maximize', 'maximise the total instead')
    .option('--json', 'print {"rows", "cols", "total"} as JSON; a total that overflows is the string "Infinity" or "-Infinity"')
    .option(...ignoredBackendFlag)
    .action(async (options: MatchOptions) => {
      checkBackendName(options.backend);
      const tensors = await readTensorFile(options.cost);
      const tensor = tensors.size === 1 ? [...tensors.values()][0]! : tensors.get('cost');
      if (tensor === undefined) {
        throw new CliError(`${options.cost}: holds ${tensors.size} tensors (${[...tensors.keys()].join(', ')}); name the cost matrix 'cost'`);
      }
      if (tensor.shape.length !== 2) throw new CliError(`${options.cost}: the cost must be a matrix [n, m], got ${formatShape(tensor.shape)}`);
      const [n, m] = tensor.shape as [number, number];
      const result = solveIn(options.cost, () => solveAssignment(toFloat64(tensor, 'cost', options.cost), n, m, { maximize: options.maximize === true }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ rows: [...result.rows], cols: [...result.cols], total: jsonNumber(result.total) })}\n`);
        return;
      }
      const lines = [...result.rows].map((r, k) => `${r}\t${result.cols[k]}`);
      process.stdout.write(`row\tcolumn\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}total\t${result.total}\n`);
    });
}

/** Solves, naming the file in the solver's errors (`cost.npy: cost[0, 1] is NaN`). */
function solveIn(file: string, solve: () => AssignmentResult): AssignmentResult {
  try {
    return solve();
  } catch (e) {
    if (e instanceof AssignmentError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * `x` for a JSON document: the number itself when finite, else the string "Infinity",
 * "-Infinity" or "NaN". JSON has no literal for them (`JSON.stringify` would write `null`, which
 * reads as "no value"), and these are the spellings JavaScript's `Number("…")`, Python's
 * `float("…")` and NumPy read back.
 */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

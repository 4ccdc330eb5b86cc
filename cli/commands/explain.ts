import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { standardRegistry } from '../../compile/standard-registry.js';
import type { InputShapes } from '../../core/definitions.js';
import { explain } from '../../core/explain.js';
import { shapesOf } from '../../core/index.js';
import { validate } from '../../core/validate.js';
import { backendFlag, checkBackendName, chooseBackend } from '../backend.js';
import { objectiveNotValid, readObjective } from '../files.js';
import { disposeInputs, loadDistillInputs } from '../inputs.js';

/**
 * Shapes under which every shape rule holds: both sides have logits and hidden states of one
 * width (the teacher offline top-k signals too), one token, one sample, and labels are present. Validating against them reports exactly
 * what is wrong with the objective itself (parameters, roles, sides, unknown names) and nothing
 * that depends on data the command was not given.
 */
// Widths as large as any vocabulary, so that an option bounded by V (paddedVocab) fits too.
const ANY_WIDTH = 2 ** 30;
const SHAPES_THAT_FIT_ANY_OBJECTIVE: InputShapes = {
  teacher: { logits: [1, 1, ANY_WIDTH], hidden: [1, 1, ANY_WIDTH], topk: [1, 1, ANY_WIDTH] },
  student: { logits: [1, 1, ANY_WIDTH], hidden: [1, 1, ANY_WIDTH] },
  labels: true,
};

interface ExplainOptions {
  readonly inputs?: string;
  readonly backend?: string;
}

export function explainCommand(program: Command): void {
  program
    .command('explain')
    .description('check an objective file and print it as a formula tree (every problem is listed, as `mmkd loss` lists them)')
    .argument('<objective.json>', 'an objective file (see examples/objectives)')
    .option('--inputs <file.safetensors>', 'also check it against the shapes of these saved outputs (vocabularies, widths, labels)')
    .option(...backendFlag)
    .action(async (path: string, options: ExplainOptions) => {
      const graph = await readObjective(path, standardRegistry);
      let shapes = SHAPES_THAT_FIT_ANY_OBJECTIVE;
      // Without inputs there is no tensor work: the backend's name is checked, nothing activated.
      if (options.inputs === undefined) checkBackendName(options.backend);
      else shapes = await shapesOfFile(options.inputs, options.backend);
      const checked = validate(graph, shapes, standardRegistry);
      // The same error, and so the same message and exit status, as `mmkd loss` gives.
      if (E.isLeft(checked)) throw objectiveNotValid(path, checked.left);
      process.stdout.write(`${explain(graph, standardRegistry)}\n`);
    });
}

/** The shapes of an inputs file, read the way `mmkd loss` reads it (so its checks apply too). */
async function shapesOfFile(path: string, backendFlagValue: string | undefined): Promise<InputShapes> {
  const selection = await chooseBackend(backendFlagValue);
  try {
    const inputs = await loadDistillInputs(path);
    try {
      return shapesOf(inputs);
    } finally {
      disposeInputs(inputs);
    }
  } finally {
    selection.webgpu?.release();
  }
}

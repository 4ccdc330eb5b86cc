import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { HostTensor } from '../../io/index.js';
import { createLlava, loadWeights } from '../../models/index.js';
import { recipes } from '../../recipes/catalog.js';
import { readCheckpoint } from '../../recipes/checkpoint.js';
import { readCheckpointFile } from '../../recipes/checkpoint-file.js';
import { evalBatches } from '../../recipes/environment.js';
import { evaluateQuestions } from '../../recipes/evaluation.js';
import { MODEL_KINDS, type ModelKind } from '../../recipes/recipe.js';
import { trainingFileOf } from '../../recipes/run-folder.js';
import { DEFAULT_WORLD, WORLDS, type World, worldEnvironment } from '../../recipes/world.js';
import { backendFlag, chooseBackend } from '../backend.js';
import { CliError } from '../errors.js';
import { environmentFor, worldOption } from './run.js';

interface EvaluateOptions {
  readonly backend?: string;
  readonly model?: string;
  readonly json?: boolean;
  readonly data?: string;
  readonly imageRoot?: string;
  readonly world?: string;
}

const KINDS: readonly ModelKind[] = MODEL_KINDS;

export function evaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('score a checkpoint by exact match on the held-out questions, per question type')
    .argument(
      '<checkpoint>',
      'a checkpoint folder (runs/<run>/checkpoints/<index>-<stage>-<step>, e.g. 02-sft-000600), or a .safetensors checkpoint the studio downloaded',
    )
    .option(...backendFlag)
    .option('--model <kind>', `the model the checkpoint holds (${KINDS.join(', ')}); default: from the recipe that wrote it`)
    .option('--json', 'print the report as JSON')
    .option('--data <conversations.json>', 'score on the held-out records of LLaVA-format conversations (the ones the model was trained with)')
    .option('--image-root <dir>', "folder the --data file's image paths are relative to")
    .option(
      '--world <name>',
      `the procedural world the checkpoint was trained on: ${WORLDS.join(' or ')} (default: the world whose vocabulary the checkpoint's LM has, else ${DEFAULT_WORLD})`,
    )
    .action(async (path: string, options: EvaluateOptions) => {
      const contents = await readAnyCheckpoint(path);
      const kind = (options.model ?? recipes().get(contents.state.recipe)?.model) as ModelKind | undefined;
      if (kind === undefined || !KINDS.includes(kind)) {
        throw new CliError(`${path}: cannot tell which model it holds (recipe '${contents.state.recipe}'); pass --model ${KINDS.join('|')}`);
      }
      const trainedOn = await trainingFileOf(path, contents.state);
      if (options.data === undefined && trainedOn !== undefined) {
        throw new CliError(
          `${path} was trained on ${trainedOn}, not on the procedural data, so its vocabulary is that file's: pass --data ${trainedOn} (and the --image-root of that run, if it had one)`,
        );
      }
      const selection = await chooseBackend(options.backend);
      const vocabulary = vocabularyOf(contents.weights);
      const worlds = worldVocabularies(kind);
      const environment =
        options.data === undefined && options.world === undefined
          ? worldEnvironment(worlds.find(([, size]) => size === vocabulary)?.[0] ?? DEFAULT_WORLD)
          : await environmentFor(options);
      const model = createLlava(environment.configs[kind], { seed: 0 });
      try {
        // Checkpoints that do not record their data: the vocabulary still tells data apart.
        const expected = environment.configs[kind].llm.vocabSize;
        if (vocabulary !== undefined && vocabulary !== expected) {
          throw new CliError(
            options.data === undefined
              ? `${path} was trained on other data: its vocabulary has ${vocabulary} tokens, ${
                  options.world === undefined
                    ? `the procedural worlds' ${worlds.map(([w, size]) => `${size} (${w})`).join(' and ')}`
                    : `the ${worldOption(options.world)} world's ${expected}`
                }; pass --data <the conversations file it was trained on>${options.world === undefined ? '' : ', or the --world it was trained on'}`
              : `${path} was not trained on ${options.data}: its vocabulary has ${vocabulary} tokens, that file's ${expected}; pass the --data it was trained on${trainedOn === undefined ? ', or none if it was trained on the procedural data' : ` (${trainedOn})`}`,
          );
        }
        try {
          loadWeights(model, contents.weights, { source: path });
        } catch (e) {
          throw new CliError(`${path} does not hold a ${kind} model: ${(e as Error).message}`);
        }
        const { report, questions } = await evaluateQuestions(model.forward, evalBatches(environment, kind));
        if (options.json) {
          // The report, and which questions were answered exactly (ids, kinds, one '1'/'0' per question).
          process.stdout.write(`${JSON.stringify({ ...report, questions }, null, 2)}\n`);
          return;
        }
        const rows = Object.entries(report.perKind).map(
          ([k, s]) => `  ${k.padEnd(10)} ${(100 * s.accuracy).toFixed(1).padStart(5)}  (${s.correct}/${s.total})`,
        );
        process.stdout.write(
          `${path}: ${contents.state.recipe}, stage ${contents.state.stageName} step ${contents.state.step}\n` +
            `exact match on ${report.samples} held-out questions: ${(100 * report.average).toFixed(1)} (mean over types)\n${rows.join('\n')}\n`,
        );
      } finally {
        model.dispose();
        selection.webgpu?.release();
      }
    });
}

/** A checkpoint folder, or a single-file checkpoint (a file: the studio's download). */
async function readAnyCheckpoint(path: string): Promise<{
  readonly state: { readonly recipe: string; readonly stageName: string; readonly step: number; readonly dataFile?: string };
  readonly weights: ReadonlyMap<string, HostTensor>;
}> {
  const isFile = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  return isFile ? readCheckpointFile(new Uint8Array(await readFile(path)), path) : readCheckpoint(path);
}

/**
 * Each procedural world with the vocabulary of its `kind` model. The worlds' vocabularies differ
 * (the continuous world adds colour and shape words), so a checkpoint that names no world is scored
 * on the world whose vocabulary its LM has, else on the default one (whose vocabulary check then
 * names the mismatch).
 */
function worldVocabularies(kind: ModelKind): ReadonlyArray<readonly [World, number]> {
  return WORLDS.map((w) => [w, worldEnvironment(w, { evalSamples: 0 }).configs[kind].llm.vocabSize] as const);
}

/** The vocabulary size of a model's weights (rows of its token embedding), if they have one. */
function vocabularyOf(weights: ReadonlyMap<string, HostTensor>): number | undefined {
  const embed = weights.get('llm.embed');
  return embed?.shape.length === 2 ? embed.shape[0] : undefined;
}

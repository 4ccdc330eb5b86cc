import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { type Batch, batches, collate, withVisualLabels } from '../data/batch.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { efficientStudentConfig, fullTokenStudentConfig, type ModelConfig, numVisionTokens, studentConfig, teacherConfig } from '../models/index.js';
import type { ModelKind, StageData } from './recipe.js';
import { proceduralData, type TrainingData } from './training-data.js';

/**
 * What every run shares: the training data (procedural by default, or a user's LLaVA-format
 * conversations), its tokenizer, and the three model configurations built on that vocabulary.
 * Every run on the same data is scored on the same held-out samples; a run's own seed changes its
 * initialisation and which training samples each step draws.
 */
export interface RunEnvironment {
  readonly data: TrainingData;
  readonly tokenizer: Tokenizer;
  readonly configs: Readonly<Record<ModelKind, ModelConfig>>;
  /** Held-out samples scored by exact match. */
  readonly evalSamples: number;
}

/**
 * The grid world's environment (its procedural data and models) by default, or `options.data` (a user's
 * conversations, `llavaJsonData(file)`), with its tokenizer and the three model configurations
 * sized to its vocabulary; `evalSamples` held-out questions are scored (500 by default).
 */
export function runEnvironment(options: { readonly evalSamples?: number; readonly data?: TrainingData } = {}): RunEnvironment {
  const data = options.data ?? proceduralData(0, { world: 'grid' });
  const presets = { vocabSize: data.tokenizer.vocab.length, maxTextLen: Math.max(data.textLength.caption, data.textLength.qa) };
  return {
    data,
    tokenizer: data.tokenizer,
    configs: {
      teacher: teacherConfig(presets),
      student: studentConfig(presets),
      efficient: efficientStudentConfig(presets),
      'full-token': fullTokenStudentConfig(efficientStudentConfig(presets)),
    },
    evalSamples: options.evalSamples ?? 500,
  };
}

/**
 * The training batch of a stage's step, for one model: a pure function of (seed, data, step),
 * so a resumed run draws exactly the batches it would have drawn. Teacher and student batches
 * of the same step hold the same samples, laid out for each model's number of vision tokens.
 */
export function trainingBatch(env: RunEnvironment, data: StageData, kind: ModelKind, seed: number, step: number, batchSize: number): Batch {
  const first = seed * 10_000_019 + step * batchSize;
  const samplesOf = (task: 'caption' | 'qa') => Array.from({ length: batchSize }, (_, j) => env.data.train(task, first + j));
  if (data === 'text') return textBatch(env, samplesOf(step % 2 === 0 ? 'caption' : 'qa'));
  if (data === 'cells') {
    const samples = samplesOf('caption');
    const layout = {
      numVisionTokens: numVisionTokens(env.configs[kind]),
      textLength: env.data.textLength.caption,
      imageSize: env.configs[kind].vision.imageSize,
    };
    return withVisualLabels(env.tokenizer, collate(env.tokenizer, samples, layout), samples);
  }
  // A mix alternates tasks step by step, padded to the longer length so shapes never change.
  const task = data === 'mix' ? (step % 2 === 0 ? 'caption' : 'qa') : data;
  const textLength = data === 'mix' ? Math.max(env.data.textLength.caption, env.data.textLength.qa) : env.data.textLength[task];
  return collate(env.tokenizer, samplesOf(task), {
    numVisionTokens: numVisionTokens(env.configs[kind]),
    textLength,
    imageSize: env.configs[kind].vision.imageSize,
  });
}

/**
 * Text without the image, every token a next-token target: what pre-trains the LM before any
 * vision alignment (the papers start from a pretrained LLM). The `<image>` placeholder expands to
 * nothing, and prompt tokens are labelled as well as the answer.
 */
function textBatch(env: RunEnvironment, samples: Parameters<typeof collate>[1]): Batch {
  const textLength = Math.max(env.data.textLength.caption, env.data.textLength.qa);
  const batch = collate(env.tokenizer, samples, { numVisionTokens: 0, textLength });
  const labels = Int32Array.from(batch.tokens, (token, i) =>
    batch.roles[i] === ROLE_CODES.prompt || batch.roles[i] === ROLE_CODES.response ? token : IGNORE_LABEL,
  );
  return { ...batch, labels };
}

/** The held-out batches for a model. */
export function evalBatches(env: RunEnvironment, kind: ModelKind, batchSize = 100): Batch[] {
  const layout = { numVisionTokens: numVisionTokens(env.configs[kind]), textLength: env.data.textLength.qa, imageSize: env.configs[kind].vision.imageSize };
  return [...batches(env.tokenizer, env.data.heldOut(env.evalSamples), batchSize, layout)];
}

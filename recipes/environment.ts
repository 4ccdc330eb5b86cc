import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { batches, collate, type Batch } from '../data/batch.js';
import { TEXT_LENGTH, proceduralSamples, proceduralTokenizer } from '../data/procedural.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { efficientStudentConfig, numVisionTokens, studentConfig, teacherConfig, type ModelConfig } from '../models/index.js';
import type { ModelKind, StageData } from './recipe.js';

/**
 * What every run shares: the procedural data's tokenizer and seed, and the three model
 * configurations built on that vocabulary. The data seed is fixed, so every run is scored on the
 * same held-out questions; a run's own seed changes its initialisation and which training
 * samples each step draws.
 */
export interface RunEnvironment {
  readonly tokenizer: Tokenizer;
  readonly dataSeed: number;
  readonly configs: Readonly<Record<ModelKind, ModelConfig>>;
  /** Held-out questions scored by exact match. */
  readonly evalSamples: number;
}

export function runEnvironment(options: { readonly evalSamples?: number } = {}): RunEnvironment {
  const tokenizer = proceduralTokenizer();
  const presets = { vocabSize: tokenizer.vocab.length, maxTextLen: TEXT_LENGTH.caption };
  return {
    tokenizer,
    dataSeed: 0,
    configs: { teacher: teacherConfig(presets), student: studentConfig(presets), efficient: efficientStudentConfig(presets) },
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
  if (data === 'text') return textBatch(env, step % 2 === 0 ? 'caption' : 'qa', first, batchSize);
  // A mix alternates tasks step by step, padded to the captions' length so shapes never change.
  const task = data === 'mix' ? (step % 2 === 0 ? 'caption' : 'qa') : data;
  const samples = proceduralSamples({ seed: env.dataSeed }, 'train', task, first, batchSize);
  const textLength = data === 'mix' ? TEXT_LENGTH.caption : TEXT_LENGTH[task];
  return collate(env.tokenizer, samples, { numVisionTokens: numVisionTokens(env.configs[kind]), textLength });
}

/**
 * Text without the image, every token a next-token target: what pre-trains the LM before any
 * vision alignment (the papers start from a pretrained LLM). The `<image>` placeholder expands to
 * nothing, and prompt tokens are labelled as well as the answer.
 */
function textBatch(env: RunEnvironment, task: 'caption' | 'qa', first: number, batchSize: number): Batch {
  const samples = proceduralSamples({ seed: env.dataSeed }, 'train', task, first, batchSize);
  const batch = collate(env.tokenizer, samples, { numVisionTokens: 0, textLength: TEXT_LENGTH.caption });
  const labels = Int32Array.from(batch.tokens, (token, i) =>
    batch.roles[i] === ROLE_CODES.prompt || batch.roles[i] === ROLE_CODES.response ? token : IGNORE_LABEL,
  );
  return { ...batch, labels };
}

/** The held-out QA batches for a model. */
export function evalBatches(env: RunEnvironment, kind: ModelKind, batchSize = 100): Batch[] {
  const samples = proceduralSamples({ seed: env.dataSeed }, 'eval', 'qa', 0, env.evalSamples);
  return [...batches(env.tokenizer, samples, batchSize, { numVisionTokens: numVisionTokens(env.configs[kind]), textLength: TEXT_LENGTH.qa })];
}

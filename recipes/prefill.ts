import * as tf from '@tensorflow/tfjs-core';
import { greedyDecode } from '../data/eval.js';
import type { LlavaModel } from '../models/index.js';
import { numVisionTokens } from '../models/index.js';
import { evalBatches, type RunEnvironment } from './environment.js';
import type { ModelKind } from './recipe.js';

/** Questions timed one after another in each repetition of the time to first token (their mean). */
export const QUESTIONS_PER_REPETITION = 4;

/** One model's prefill times, medians over repetitions (milliseconds). */
export interface PrefillTiming {
  readonly kind: ModelKind;
  readonly visionTokens: number;
  /** Positions per row of the batch (vision tokens + text). */
  readonly seqLen: number;
  /** A teacher-forced forward of one held-out batch, logits' argmax read back. */
  readonly batchMs: number;
  /**
   * Time to the first answer token of one question: its prompt's forward and the argmax read back
   * (each repetition averages `QUESTIONS_PER_REPETITION` questions, one after another).
   */
  readonly firstTokenMs: number;
}

export interface PrefillComparison {
  readonly efficient: PrefillTiming;
  readonly full: PrefillTiming;
  /** full ÷ efficient: how many times faster the efficient student's prefill is. */
  readonly batchRatio: number;
  readonly firstTokenRatio: number;
  readonly batchSize: number;
  readonly repetitions: number;
}

export interface PrefillOptions {
  /** Rows of the teacher-forced batch (default 32). */
  readonly batchSize?: number;
  /** Timed repetitions of each measurement, after one untimed warm-up (default 10). */
  readonly repetitions?: number;
}

/**
 * EM-KD's efficiency headline, measured: the prefill time of the efficient student (pooled vision
 * tokens) against the full-token student (the same model without pooling), on the active backend,
 * in one process. Each repetition times both models back to back (alternating which goes first),
 * so load on a shared machine falls on both alike; the ratios are of the medians. Weights do not
 * change the time, so trained and freshly initialised models measure the same.
 */
export async function measurePrefill(
  env: RunEnvironment,
  models: { readonly efficient: LlavaModel; readonly full: LlavaModel },
  options: PrefillOptions = {},
): Promise<PrefillComparison> {
  const batchSize = options.batchSize ?? 32;
  const repetitions = options.repetitions ?? 10;
  const questions = env.data.heldOut(QUESTIONS_PER_REPETITION * (repetitions + 1)).filter((s) => s.turns.length === 1);
  if (questions.length === 0) throw new Error('measurePrefill: the held-out data have no single-turn question');
  const setups = (['efficient', 'full-token'] as const).map((kind) => {
    const model = kind === 'efficient' ? models.efficient : models.full;
    const batch = evalBatches({ ...env, evalSamples: batchSize }, kind, batchSize)[0];
    if (batch === undefined) throw new Error('measurePrefill: no held-out batch');
    const vision = numVisionTokens(env.configs[kind]);
    const forwardBatch = async () => {
      const out = model.forward(batch);
      const idx = tf.tidy(() => tf.argMax(out.logits, -1));
      await idx.data();
      idx.dispose();
      out.logits.dispose();
      out.hidden?.dispose();
    };
    const firstToken = async (r: number) => {
      for (let i = 0; i < QUESTIONS_PER_REPETITION; i++) {
        await greedyDecode(model.forward, env.tokenizer, questions[(r * QUESTIONS_PER_REPETITION + i) % questions.length]!, vision, 1);
      }
    };
    return { kind, vision, seqLen: batch.seqLen, forwardBatch, firstToken, batchTimes: [] as number[], tokenTimes: [] as number[] };
  });
  const time = async (f: () => Promise<void>) => {
    const start = performance.now();
    await f();
    return performance.now() - start;
  };
  for (const s of setups) {
    await s.forwardBatch();
    await s.firstToken(0);
  }
  for (let r = 0; r < repetitions; r++) {
    const order = r % 2 === 0 ? setups : [...setups].reverse();
    for (const s of order) s.batchTimes.push(await time(s.forwardBatch));
    for (const s of order) s.tokenTimes.push((await time(() => s.firstToken(r + 1))) / QUESTIONS_PER_REPETITION);
  }
  const [efficient, full] = setups.map(
    (s): PrefillTiming => ({ kind: s.kind, visionTokens: s.vision, seqLen: s.seqLen, batchMs: median(s.batchTimes), firstTokenMs: median(s.tokenTimes) }),
  ) as [PrefillTiming, PrefillTiming];
  return {
    efficient,
    full,
    batchRatio: full.batchMs / efficient.batchMs,
    firstTokenRatio: full.firstTokenMs / efficient.firstTokenMs,
    batchSize,
    repetitions,
  };
}

/** The comparison in one line per measurement. */
export function formatPrefill(p: PrefillComparison, backend: string): string {
  const line = (what: string, e: number, f: number, ratio: number) =>
    `  ${what.padEnd(40)} efficient ${e.toFixed(1).padStart(7)} ms   full-token ${f.toFixed(1).padStart(7)} ms   ratio ${ratio.toFixed(2)}×`;
  return [
    `prefill on ${backend}, efficient student (${p.efficient.visionTokens} vision tokens) vs full-token student (${p.full.visionTokens}), medians of ${p.repetitions}:`,
    line(`teacher-forced forward of ${p.batchSize} questions`, p.efficient.batchMs, p.full.batchMs, p.batchRatio),
    line('time to first answer token (1 question)', p.efficient.firstTokenMs, p.full.firstTokenMs, p.firstTokenRatio),
  ].join('\n');
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

import * as tf from '@tensorflow/tfjs-core';
import type { SideOutputs } from '../core/outputs.js';
import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import type { ModelInputs } from '../models/inputs.js';
import type { Batch } from './batch.js';
import type { Sample } from './sample.js';
import type { Tokenizer } from './tokenizer.js';
import { encode } from './tokenizer.js';

/** A model's forward pass, as the evaluation sees it. */
export type Forward = (inputs: ModelInputs) => SideOutputs;

/**
 * Per-row exact match by teacher forcing, from the argmax of the logits at every position.
 *
 * Why this equals exact match of greedy decoding: greedy decoding emits, at each step, the argmax
 * of the next-token distribution given what it emitted so far, and stops at `<eos>`. Its output
 * equals the gold answer followed by `<eos>` iff, for every answer step m, the argmax given the
 * gold prefix y_<m is y_m. (⇐) by induction greedy's prefix stays equal to the gold prefix, so it
 * emits y_m at every step, and stops exactly after the gold `<eos>`. (⇒) at the first step where
 * the argmax differs, greedy's prefix is still the gold prefix, so it emits a wrong token (or stops
 * early or late) and the outputs differ. With a causal model, the logits at position t − 1 of one
 * gold-filled sequence are exactly the next-token distribution given the gold prefix up to t − 1,
 * so one batched forward pass checks every step of every row at once. For multi-turn rows this is
 * exact match of every turn given the gold history.
 *
 * argmax [B·T] (argmax of the logits at each position), labels [B·T] → one boolean per row: true
 * iff argmax[t − 1] = labels[t] at every t with labels[t] ≠ IGNORE_LABEL. A row without any
 * labelled position is an error (nothing would be tested).
 */
export function exactMatchRows(argmax: Int32Array, labels: Int32Array, batchSize: number, seqLen: number): boolean[] {
  if (argmax.length !== batchSize * seqLen || labels.length !== batchSize * seqLen) {
    throw new Error(`exactMatchRows: argmax (${argmax.length}) and labels (${labels.length}) must hold ${batchSize}·${seqLen} values`);
  }
  const out: boolean[] = [];
  for (let b = 0; b < batchSize; b++) {
    let ok = true;
    let tested = 0;
    for (let t = 0; t < seqLen; t++) {
      const label = labels[b * seqLen + t] as number;
      if (label === IGNORE_LABEL) continue;
      if (t === 0) throw new Error(`exactMatchRows: row ${b} has a label at position 0, which no position predicts`);
      tested++;
      if (argmax[b * seqLen + t - 1] !== label) ok = false;
    }
    if (tested === 0) throw new Error(`exactMatchRows: row ${b} has no labelled position`);
    out.push(ok);
  }
  return out;
}

/** Argmax over the vocabulary at every position, read back asynchronously: [B, T, V] → [B·T]. */
async function argmaxOf(logits: tf.Tensor3D): Promise<Int32Array> {
  const idx = tf.tidy(() => tf.argMax(logits, -1));
  try {
    return Int32Array.from(await idx.data());
  } finally {
    idx.dispose();
  }
}

/** Teacher-forced exact match of every row of `batch`, from one forward pass. */
export async function teacherForcedExactMatch(forward: Forward, batch: Batch): Promise<boolean[]> {
  const out = forward(batch);
  try {
    return exactMatchRows(await argmaxOf(out.logits), batch.labels, batch.batchSize, batch.seqLen);
  } finally {
    out.logits.dispose();
    out.hidden?.dispose();
  }
}

export interface KindScore {
  readonly correct: number;
  readonly total: number;
  readonly accuracy: number;
}

export interface EvalReport {
  /** Exact match per sample kind (question type). */
  readonly perKind: Readonly<Record<string, KindScore>>;
  /** Mean of the per-kind accuracies (each type weighs the same, as benchmark averages in the papers). */
  readonly average: number;
  /** Accuracy over all samples. */
  readonly overall: number;
  readonly samples: number;
}

/** Aggregates per-row results into per-kind scores. */
export function summarize(kinds: readonly string[], correct: readonly boolean[]): EvalReport {
  if (kinds.length !== correct.length) throw new Error(`summarize: ${kinds.length} kinds for ${correct.length} results`);
  const tally = new Map<string, { correct: number; total: number }>();
  kinds.forEach((k, i) => {
    const t = tally.get(k) ?? { correct: 0, total: 0 };
    tally.set(k, { correct: t.correct + (correct[i] ? 1 : 0), total: t.total + 1 });
  });
  const perKind: Record<string, KindScore> = {};
  for (const [k, t] of [...tally.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    perKind[k] = { ...t, accuracy: t.correct / t.total };
  }
  const scores = Object.values(perKind);
  const hits = correct.filter(Boolean).length;
  return {
    perKind,
    average: scores.length === 0 ? 0 : scores.reduce((s, k) => s + k.accuracy, 0) / scores.length,
    overall: correct.length === 0 ? 0 : hits / correct.length,
    samples: correct.length,
  };
}

/** Teacher-forced exact match over batches, per kind and averaged. */
export async function evaluateExactMatch(forward: Forward, batches: Iterable<Batch>): Promise<EvalReport> {
  const kinds: string[] = [];
  const correct: boolean[] = [];
  for (const batch of batches) {
    kinds.push(...batch.kinds);
    correct.push(...(await teacherForcedExactMatch(forward, batch)));
  }
  return summarize(kinds, correct);
}

/**
 * Greedy decoding of the answer to a single-turn sample, one full forward pass per emitted token
 * (no cache: the reference for tests, not a fast path). Returns the emitted ids, `<eos>` included
 * when it was emitted within `maxNewTokens`.
 */
export async function greedyDecode(forward: Forward, tok: Tokenizer, sample: Sample, numVisionTokens: number, maxNewTokens: number): Promise<number[]> {
  if (sample.turns.length !== 1) throw new Error(`greedyDecode: sample '${sample.id}' has ${sample.turns.length} turns, expected 1`);
  const prompt = encode(tok, (sample.turns[0] as Sample['turns'][number]).prompt);
  const tokens: number[] = [tok.bos];
  const roles: number[] = [ROLE_CODES.prompt];
  for (const id of prompt) {
    if (id === tok.image) {
      for (let k = 0; k < numVisionTokens; k++) {
        tokens.push(tok.image);
        roles.push(ROLE_CODES.visual);
      }
    } else {
      tokens.push(id);
      roles.push(ROLE_CODES.prompt);
    }
  }
  tokens.push(tok.sep);
  roles.push(ROLE_CODES.prompt);
  const emitted: number[] = [];
  for (let step = 0; step < maxNewTokens; step++) {
    const out = forward({
      batchSize: 1,
      seqLen: tokens.length,
      tokens: Int32Array.from(tokens),
      roles: Int32Array.from(roles),
      pixels: sample.image?.pixels ?? new Float32Array(0),
    });
    let next: number;
    try {
      const argmax = await argmaxOf(out.logits);
      next = argmax[tokens.length - 1] as number;
    } finally {
      out.logits.dispose();
      out.hidden?.dispose();
    }
    emitted.push(next);
    if (next === tok.eos) break;
    tokens.push(next);
    roles.push(ROLE_CODES.response);
  }
  return emitted;
}

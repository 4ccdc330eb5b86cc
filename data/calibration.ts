import * as tf from '@tensorflow/tfjs-core';
import { IGNORE_LABEL } from '../core/roles.js';
import type { Batch } from './batch.js';
import type { Forward } from './eval.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * How much a model's answer distributions say beyond the label: their entropy, and whether their
 * confidence can be trusted (expected calibration error).
 *
 * An *answer distribution* is the model's next-token distribution at a position that predicts an
 * answer word, given the gold question and the gold answer so far (teacher forcing, as exact match
 * is scored): for single-word answers (colour, shape, count, yes/no) it is the distribution over
 * answers; a two-word position answer gives two. The `<eos>` that ends an answer is not an answer
 * word and is left out (it is near certain and would dilute both measures).
 */

/** Entropy in nats of a probability vector (0 · log 0 = 0). */
export function entropy(probs: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Softmax of one row of logits, in float64. */
export function softmaxRow(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, logits[offset + i] as number);
  const out = new Float64Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const e = Math.exp((logits[offset + i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

export interface CalibrationBin {
  /** [lo, hi) of confidence (the last bin includes 1). */
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean confidence and accuracy of the predictions in the bin (0 when empty). */
  readonly confidence: number;
  readonly accuracy: number;
}

export interface Calibration {
  /** Expected calibration error: Σ_bins (n_b / n) · |accuracy_b − confidence_b| (Guo et al., 2017). */
  readonly ece: number;
  readonly accuracy: number;
  readonly meanConfidence: number;
  readonly count: number;
  readonly bins: readonly CalibrationBin[];
}

/**
 * Expected calibration error over `bins` equal-width confidence bins (default 15, as Guo et al.).
 * `confidence[i]` is the probability of the predicted class, `correct[i]` whether it was right.
 * No predictions: every figure 0.
 */
export function calibration(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): Calibration {
  if (confidence.length !== correct.length) throw new Error(`calibration: ${confidence.length} confidences for ${correct.length} outcomes`);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`calibration: bins must be a positive integer, got ${bins}`);
  const n = confidence.length;
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  let totalConf = 0;
  let totalHits = 0;
  for (let i = 0; i < n; i++) {
    const c = confidence[i] as number;
    if (!(c >= 0 && c <= 1)) throw new Error(`calibration: confidence ${c} at index ${i} is not in [0, 1]`);
    const b = Math.min(bins - 1, Math.floor(c * bins));
    count[b]! += 1;
    conf[b]! += c;
    totalConf += c;
    if (correct[i]) {
      hits[b]! += 1;
      totalHits += 1;
    }
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const k = count[b] as number;
    const confidenceB = k === 0 ? 0 : (conf[b] as number) / k;
    const accuracyB = k === 0 ? 0 : (hits[b] as number) / k;
    if (k > 0) ece += (k / n) * Math.abs(accuracyB - confidenceB);
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: k, confidence: confidenceB, accuracy: accuracyB });
  }
  return { ece, accuracy: n === 0 ? 0 : totalHits / n, meanConfidence: n === 0 ? 0 : totalConf / n, count: n, bins: out };
}

/** One answer distribution: which row and kind it belongs to, the gold word, and the probabilities. */
export interface AnswerDistribution {
  readonly row: number;
  readonly kind: string;
  /** The gold answer word's id. */
  readonly label: number;
  /** Probabilities over the vocabulary (float64). */
  readonly probs: Float64Array;
}

/**
 * The answer distributions of every row of `batch`, from one forward pass: at each position
 * t − 1 whose next label (t) is an answer word (labelled, not `<eos>`).
 */
export async function answerDistributions(forward: Forward, batch: Batch, tok: Pick<Tokenizer, 'eos'>): Promise<AnswerDistribution[]> {
  const out = forward(batch);
  let logits: Float32Array;
  let vocab: number;
  try {
    vocab = out.logits.shape[2];
    logits = (await out.logits.data()) as Float32Array;
  } finally {
    tf.dispose([out.logits, out.hidden].filter((t) => t !== undefined));
  }
  const { batchSize, seqLen, labels } = batch;
  const dists: AnswerDistribution[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let t = 1; t < seqLen; t++) {
      const label = labels[b * seqLen + t] as number;
      if (label === IGNORE_LABEL || label === tok.eos) continue;
      const probs = softmaxRow(logits, (b * seqLen + t - 1) * vocab, vocab);
      dists.push({ row: b, kind: batch.kinds[b] as string, label, probs });
    }
  }
  return dists;
}

export interface AnswerStats {
  /** Answer distributions measured. */
  readonly count: number;
  /** Mean entropy (nats) of the answer distributions. */
  readonly meanEntropy: number;
  /** Mean probability of the gold word. */
  readonly meanGoldProb: number;
  /** Calibration of the argmax word (confidence = its probability, correct = it is the gold word). */
  readonly calibration: Calibration;
}

/** Entropy and calibration of a set of answer distributions. */
export function answerStats(dists: readonly AnswerDistribution[], bins = 15): AnswerStats {
  const confidence: number[] = [];
  const correct: boolean[] = [];
  let h = 0;
  let gold = 0;
  for (const d of dists) {
    let arg = 0;
    for (let i = 1; i < d.probs.length; i++) if ((d.probs[i] as number) > (d.probs[arg] as number)) arg = i;
    confidence.push(Math.min(1, d.probs[arg] as number));
    correct.push(arg === d.label);
    h += entropy(d.probs);
    gold += d.probs[d.label] as number;
  }
  const n = dists.length;
  return { count: n, meanEntropy: n === 0 ? 0 : h / n, meanGoldProb: n === 0 ? 0 : gold / n, calibration: calibration(confidence, correct, bins) };
}

export interface AnswerReport {
  readonly overall: AnswerStats;
  readonly perKind: Readonly<Record<string, AnswerStats>>;
}

/** Entropy and calibration of a model's answer distributions over held-out batches, overall and per question type. */
export async function answerReport(forward: Forward, batches: Iterable<Batch>, tok: Pick<Tokenizer, 'eos'>, bins = 15): Promise<AnswerReport> {
  const all: AnswerDistribution[] = [];
  for (const batch of batches) all.push(...(await answerDistributions(forward, batch, tok)));
  const kinds = [...new Set(all.map((d) => d.kind))].sort();
  return {
    overall: answerStats(all, bins),
    perKind: Object.fromEntries(
      kinds.map((k) => [
        k,
        answerStats(
          all.filter((d) => d.kind === k),
          bins,
        ),
      ]),
    ),
  };
}

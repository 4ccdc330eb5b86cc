import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import type { ModelInputs } from '../models/inputs.js';
import type { EncodedText } from './encode.js';
import { encodeSample } from './encode.js';
import type { Sample } from './sample.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * A batch laid out for one model: the `<image>` placeholder expanded to that model's number of
 * vision tokens, right-padded to a fixed length so shapes stay static across a split. A text-only
 * sample's row has no visual positions (its text starts right after `<bos>`) and zero pixels.
 *
 * Row layout: `<bos>`, N visual positions, prompt words, `<sep>`, answer, `<eos>`, `<pad>`…
 * T = textLength + N. Teacher and student batches of the same samples differ only in N, so their
 * text positions pair one to one: the same index before the image (`<bos>`), and an offset of
 * N_T − N_S after it (the `roles` arrays give the pairing without arithmetic).
 */
export interface Batch extends ModelInputs {
  /** [B·T] target ids aligned with positions: the token at response positions, IGNORE_LABEL elsewhere. */
  readonly labels: Int32Array;
  readonly sampleIds: readonly string[];
  /** Per-row sample kind (question type), for per-type evaluation. */
  readonly kinds: readonly string[];
  readonly numVisionTokens: number;
  /** Positions per row that are not vision tokens (text and padding). */
  readonly textLength: number;
}

export interface LayoutOptions {
  /** N: positions the `<image>` placeholder expands to (the model's vision-token count). */
  readonly numVisionTokens: number;
  /** Fixed per split; a sample needing more is an error naming it. */
  readonly textLength: number;
  /**
   * Side of the model's square images: text-only samples get zero pixels of this size (so the
   * vision tower runs on every batch alike). Default: the size of the batch's first image; a
   * batch without images and without it has no pixels at all.
   */
  readonly imageSize?: number;
}

/** One row's ids, roles and labels after expanding `<image>` and padding to textLength + N. */
export function layoutRow(
  tok: Tokenizer,
  encoded: EncodedText,
  o: LayoutOptions,
  sampleId: string,
): { tokens: Int32Array; roles: Int32Array; labels: Int32Array } {
  const textNeeded = encoded.roles.filter((r) => r !== ROLE_CODES.visual).length;
  if (textNeeded > o.textLength) {
    throw new Error(`sample '${sampleId}' needs ${textNeeded} text positions but the split's textLength is ${o.textLength}`);
  }
  const t = o.textLength + o.numVisionTokens;
  const tokens = new Int32Array(t).fill(tok.pad);
  const roles = new Int32Array(t).fill(ROLE_CODES.pad);
  const labels = new Int32Array(t).fill(IGNORE_LABEL);
  let p = 0;
  for (let i = 0; i < encoded.tokens.length; i++) {
    if (encoded.roles[i] === ROLE_CODES.visual) {
      for (let k = 0; k < o.numVisionTokens; k++, p++) {
        tokens[p] = tok.image;
        roles[p] = ROLE_CODES.visual;
      }
      continue;
    }
    tokens[p] = encoded.tokens[i] as number;
    roles[p] = encoded.roles[i] as number;
    labels[p] = encoded.labels[i] as number;
    p++;
  }
  return { tokens, roles, labels };
}

/** Collates samples into one batch for a model with `numVisionTokens` vision tokens. */
export function collate(tok: Tokenizer, samples: readonly Sample[], o: LayoutOptions): Batch {
  if (samples.length === 0) throw new Error('collate: no samples');
  const imageSize = o.imageSize ?? samples.find((s) => s.image !== undefined)?.image?.size ?? 0;
  const imageValues = imageSize * imageSize * 3;
  const t = o.textLength + o.numVisionTokens;
  const b = samples.length;
  const tokens = new Int32Array(b * t);
  const roles = new Int32Array(b * t);
  const labels = new Int32Array(b * t);
  const pixels = new Float32Array(b * imageValues);
  samples.forEach((s, row) => {
    if (s.image !== undefined && (s.image.size !== imageSize || s.image.pixels.length !== imageValues)) {
      throw new Error(
        `sample '${s.id}': image is ${s.image.size}×${s.image.size} with ${s.image.pixels.length} values, the batch's images are ${imageSize}×${imageSize}×3`,
      );
    }
    const r = layoutRow(tok, encodeSample(tok, s), o, s.id);
    tokens.set(r.tokens, row * t);
    roles.set(r.roles, row * t);
    labels.set(r.labels, row * t);
    if (s.image !== undefined) pixels.set(s.image.pixels, row * imageValues);
  });
  return {
    batchSize: b,
    seqLen: t,
    tokens,
    roles,
    labels,
    pixels,
    sampleIds: samples.map((s) => s.id),
    kinds: samples.map((s) => s.kind),
    numVisionTokens: o.numVisionTokens,
    textLength: o.textLength,
  };
}

/** Splits `samples` into consecutive batches of `batchSize` (the last may be smaller). */
export function* batches(tok: Tokenizer, samples: readonly Sample[], batchSize: number, o: LayoutOptions): Generator<Batch> {
  for (let i = 0; i < samples.length; i += batchSize) yield collate(tok, samples.slice(i, i + batchSize), o);
}

/**
 * The batch with each sample's `visualLabels` written at its visual positions (the word's id, or
 * IGNORE_LABEL over background), beside the labels it has: the targets of a grounding stage,
 * scored by `supervisedCE(student.logits.at('visual'))`. Every sample must carry labels for a
 * grid of exactly the batch's vision tokens, in words the tokenizer knows.
 */
export function withVisualLabels(tok: Tokenizer, batch: Batch, samples: readonly Sample[]): Batch {
  const labels = Int32Array.from(batch.labels);
  const t = batch.seqLen;
  samples.forEach((sample, row) => {
    const dense = sample.visualLabels;
    if (dense === undefined) {
      throw new Error(`sample '${sample.id}' has no visual labels (what lies under each vision token); only the continuous world's samples carry them`);
    }
    if (dense.words.length !== dense.side * dense.side || dense.words.length !== batch.numVisionTokens) {
      throw new Error(
        `sample '${sample.id}': visual labels for a ${dense.side}×${dense.side} grid (${dense.words.length} words), the model has ${batch.numVisionTokens} vision tokens`,
      );
    }
    let k = 0;
    for (let p = row * t; p < (row + 1) * t; p++) {
      if (batch.roles[p] !== ROLE_CODES.visual) continue;
      const word = dense.words[k++];
      if (word === null || word === undefined) continue;
      const id = tok.ids.get(word);
      if (id === undefined) throw new Error(`sample '${sample.id}': visual label '${word}' at token ${k - 1} is not in the vocabulary`);
      labels[p] = id;
    }
  });
  return { ...batch, labels };
}

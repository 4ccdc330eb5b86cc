import { createHash } from 'node:crypto';
import { textLengthOf } from '../data/encode.js';
import { DataError, loadLlavaJson } from '../data/llava-json.js';
import type { Sample } from '../data/sample.js';
import { tokenizerFromTexts } from '../data/tokenizer.js';
import { DEMO_VISION, hashKey, rng, shuffled } from '../models/index.js';
import type { TrainingData } from './training-data.js';

/**
 * A user's LLaVA-format conversations. One record in ten (chosen by a hash of its id) is held out
 * for evaluation; the rest are drawn in a fresh seeded order each epoch. Conversations serve as
 * both captions and instructions (the data has no such distinction). The vocabulary is every
 * word of the data, so a teacher for it must be trained on the same file.
 */
export async function llavaJsonData(file: string, options: { readonly imageRoot?: string } = {}): Promise<TrainingData> {
  const samples = await loadLlavaJson(file, { imageSize: DEMO_VISION.imageSize, ...(options.imageRoot ? { imageRoot: options.imageRoot } : {}) });
  const tokenizer = tokenizerFromTexts(samples.flatMap((s) => s.turns.flatMap((t) => [t.prompt, t.answer])));
  const heldOut = samples.filter((s) => hashKey(0, 'held-out', s.id) % 10 === 0);
  const train = samples.filter((s) => hashKey(0, 'held-out', s.id) % 10 !== 0);
  if (train.length === 0 || heldOut.length === 0) {
    throw new DataError(`${file}: ${samples.length} record(s) are too few to hold one in ten out for evaluation; give at least 10`);
  }
  const hash = createHash('sha256');
  for (const s of samples) {
    hash.update(JSON.stringify([s.id, s.kind, s.turns]));
    if (s.image !== undefined) hash.update(new Uint8Array(s.image.pixels.buffer, s.image.pixels.byteOffset, s.image.pixels.byteLength));
  }
  const longest = Math.max(...samples.map((s) => textLengthOf(tokenizer, s)));
  const epochs = new Map<number, readonly Sample[]>();
  const epoch = (e: number) => {
    if (!epochs.has(e)) epochs.set(e, shuffled(rng(hashKey(0, 'epoch', e)), train));
    return epochs.get(e)!;
  };
  return {
    name: file,
    file,
    fingerprint: `llava-json-${hash.digest('hex')}`,
    tokenizer,
    textLength: { caption: longest, qa: longest },
    train: (_task, index) => epoch(Math.floor(index / train.length))[index % train.length]!,
    heldOut: (count) => heldOut.slice(0, count),
  };
}

import { describe, expect, it } from 'vitest';
import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { batches, collate } from './batch.js';
import { encodeSample } from './encode.js';
import { exactMatchRows, summarize } from './eval.js';
import { proceduralSample, proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from './procedural.js';
import type { Sample } from './sample.js';
import { nextTokenTargets } from './targets.js';
import { decode } from './tokenizer.js';

const tok = proceduralTokenizer();
const { pad: P, prompt: Q, visual: V, response: R } = ROLE_CODES;
const id = (w: string): number => tok.ids.get(w) as number;

const sample: Sample = {
  id: 's1',
  kind: 'color',
  image: { size: 32, pixels: new Float32Array(32 * 32 * 3).fill(0.5) },
  turns: [{ prompt: '<image> what color is the circle', answer: 'red' }],
};

describe('batch layout', () => {
  it('lays out <bos>, vision tokens, question, <sep>, answer, <eos>, padding', () => {
    const b = collate(tok, [sample], { numVisionTokens: 4, textLength: 10 });
    expect(b.seqLen).toBe(14);
    expect(Array.from(b.roles)).toEqual([Q, V, V, V, V, Q, Q, Q, Q, Q, Q, R, R, P]);
    expect(decode(tok, b.tokens)).toBe('<bos> <image> <image> <image> <image> what color is the circle <sep> red <eos> <pad>');
    const L = IGNORE_LABEL;
    expect(Array.from(b.labels)).toEqual([L, L, L, L, L, L, L, L, L, L, L, id('red'), tok.eos, L]);
    expect(b.pixels.length).toBe(32 * 32 * 3);
    expect(b.kinds).toEqual(['color']);
  });

  it('teacher and student rows differ only in the number of vision tokens', () => {
    const samples = proceduralSamples({ seed: 1 }, 'train', 'qa', 0, 6);
    const t = collate(tok, samples, { numVisionTokens: 16, textLength: TEXT_LENGTH.qa });
    const s = collate(tok, samples, { numVisionTokens: 4, textLength: TEXT_LENGTH.qa });
    const text = (b: typeof t) =>
      Array.from(b.tokens)
        .map((tokId, i) => [tokId, b.roles[i], b.labels[i]])
        .filter((x) => x[1] !== V);
    expect(text(t)).toEqual(text(s));
    expect(t.seqLen - s.seqLen).toBe(12);
    expect(t.pixels).toEqual(s.pixels);
  });

  it('handles multi-turn conversations and an <image> placeholder anywhere in the first prompt', () => {
    const multi: Sample = {
      ...sample,
      turns: [
        { prompt: 'what color is the circle <image>', answer: 'red' },
        { prompt: 'where is it', answer: 'top left' },
      ],
    };
    const enc = encodeSample(tok, multi);
    expect(decode(tok, enc.tokens)).toBe('<bos> what color is the circle <image> <sep> red <eos> where is <unk> <sep> top left <eos>');
    expect(enc.roles).toEqual([Q, Q, Q, Q, Q, Q, V, Q, R, R, Q, Q, Q, Q, R, R, R]);
  });

  it('rejects a missing or repeated <image>, and text longer than the split, naming the sample', () => {
    const none = { ...sample, turns: [{ prompt: 'what color', answer: 'red' }] };
    expect(() => encodeSample(tok, none)).toThrow("sample 's1': the first prompt has no <image> placeholder");
    const twice = { ...sample, turns: [{ prompt: '<image> <image>', answer: 'red' }] };
    expect(() => encodeSample(tok, twice)).toThrow("sample 's1': the first prompt has 2 <image> placeholders");
    expect(() => collate(tok, [sample], { numVisionTokens: 4, textLength: 8 })).toThrow("sample 's1' needs 9 text positions but the split's textLength is 8");
  });

  it('splits into batches with a smaller last batch', () => {
    const samples = proceduralSamples({ seed: 1 }, 'eval', 'qa', 0, 7);
    const sizes = [...batches(tok, samples, 3, { numVisionTokens: 4, textLength: TEXT_LENGTH.qa })].map((b) => b.batchSize);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('builds next-token targets from position-aligned labels', () => {
    const b = collate(tok, [sample], { numVisionTokens: 1, textLength: 10 });
    const v = tok.vocab.length;
    const t = nextTokenTargets(b.labels, 1, b.seqLen, v);
    // Layout: <bos> <img> what color is the circle <sep> red <eos> <pad>: <sep> (7) predicts red, red (8) predicts <eos>.
    expect(t.count).toBe(2);
    expect(Array.from(t.weights)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
    expect(t.oneHot[7 * v + id('red')]).toBe(1);
    expect(t.oneHot[8 * v + tok.eos]).toBe(1);
    expect(t.oneHot.reduce((a, x) => a + x, 0)).toBe(2);
  });
});

describe('teacher-forced exact match', () => {
  const L = IGNORE_LABEL;
  it('needs the argmax right at every answer step, the end token included', () => {
    // Two rows of 5 positions; answers at positions 3–4.
    const labels = Int32Array.from([L, L, L, 7, 2, L, L, L, 9, 2]);
    const right = Int32Array.from([0, 0, 7, 2, 0, 0, 0, 9, 2, 0]);
    expect(exactMatchRows(right, labels, 2, 5)).toEqual([true, true]);
    const wrongEnd = Int32Array.from([0, 0, 7, 5, 0, 0, 0, 9, 2, 0]);
    expect(exactMatchRows(wrongEnd, labels, 2, 5)).toEqual([false, true]);
    const wrongFirst = Int32Array.from([0, 0, 7, 2, 0, 0, 0, 8, 2, 0]);
    expect(exactMatchRows(wrongFirst, labels, 2, 5)).toEqual([true, false]);
    expect(() => exactMatchRows(right, Int32Array.from([L, L, L, L, L, L, L, L, 9, 2]), 2, 5)).toThrow('row 0 has no labelled position');
  });

  it('reports accuracy per kind, their mean and the overall rate', () => {
    const r = summarize(['color', 'color', 'count', 'shape'], [true, false, true, true]);
    expect(r.perKind).toEqual({
      color: { correct: 1, total: 2, accuracy: 0.5 },
      count: { correct: 1, total: 1, accuracy: 1 },
      shape: { correct: 1, total: 1, accuracy: 1 },
    });
    expect(r.average).toBeCloseTo(2.5 / 3, 10);
    expect(r.overall).toBe(0.75);
  });

  it('a sample is the same whichever batch it is collated in', () => {
    const s = proceduralSample({ seed: 1 }, 'train', 'qa', 3);
    const alone = collate(tok, [s], { numVisionTokens: 16, textLength: TEXT_LENGTH.qa });
    const inBatch = collate(tok, proceduralSamples({ seed: 1 }, 'train', 'qa', 0, 5), { numVisionTokens: 16, textLength: TEXT_LENGTH.qa });
    const t = alone.seqLen;
    expect(inBatch.tokens.slice(3 * t, 4 * t)).toEqual(alone.tokens);
    expect(inBatch.labels.slice(3 * t, 4 * t)).toEqual(alone.labels);
  });
});

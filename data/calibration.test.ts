import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { ROLE_CODES } from '../core/roles.js';
import { hashKey, rng } from '../models/random.js';
import { collate } from './batch.js';
import { answerDistributions, answerReport, answerStats, calibration, entropy, softmaxRow } from './calibration.js';
import { createTokenizer, SPECIALS } from './tokenizer.js';

describe('entropy', () => {
  it('is ln V for the uniform distribution and 0 for a one-hot one', () => {
    expect(entropy([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(Math.log(4), 12);
    expect(entropy([0, 1, 0])).toBe(0);
    expect(entropy([0.5, 0.5])).toBeCloseTo(Math.LN2, 12);
  });
});

describe('softmaxRow', () => {
  it('normalizes a slice of a logits buffer and survives large logits', () => {
    const p = softmaxRow([9, 1000, 1000, 9], 1, 2);
    expect([...p]).toEqual([0.5, 0.5]);
  });
});

describe('calibration (expected calibration error)', () => {
  it('is the count-weighted gap between accuracy and confidence per bin, computed by hand', () => {
    // Bin [0.6, 0.8) with 5 bins: confidences 0.7, 0.7 — one right: gap |0.5 − 0.7| = 0.2.
    // Bin [0.8, 1]: 0.9, 1.0 — both right: gap |1 − 0.95| = 0.05. ECE = ½·0.2 + ½·0.05 = 0.125.
    const c = calibration([0.7, 0.7, 0.9, 1], [true, false, true, true], 5);
    expect(c.ece).toBeCloseTo(0.125, 12);
    expect(c.accuracy).toBe(0.75);
    expect(c.meanConfidence).toBeCloseTo(0.825, 12);
    expect(c.bins.map((b) => b.count)).toEqual([0, 0, 0, 2, 2]);
  });

  it('is near 0 for predictions that are right with the probability they state', () => {
    const r = rng(hashKey(7, 'calibrated'));
    const conf: number[] = [];
    const hit: boolean[] = [];
    for (let i = 0; i < 200_000; i++) {
      const c = 0.2 + 0.8 * r.uniform();
      conf.push(c);
      hit.push(r.uniform() < c);
    }
    expect(calibration(conf, hit).ece).toBeLessThan(0.01);
    // Overconfident: right only 60 % of the time whatever it says.
    const over = calibration(
      conf,
      conf.map((_, i) => hit[i] === true && i % 10 < 6),
    );
    expect(over.ece).toBeGreaterThan(0.2);
  });

  it('is 0 with nothing to measure, and refuses mismatched or out-of-range input', () => {
    expect(calibration([], []).ece).toBe(0);
    expect(() => calibration([0.5], [])).toThrow(/1 confidences for 0 outcomes/);
    expect(() => calibration([1.5], [true])).toThrow(/not in \[0, 1\]/);
  });
});

describe('answer distributions of a model', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  const tok = createTokenizer(['what', 'color', 'red', 'blue', 'top', 'left']);
  const id = (w: string) => tok.ids.get(w)!;
  const samples = [
    { id: 'a', kind: 'color', turns: [{ prompt: 'what color', answer: 'red' }] },
    { id: 'b', kind: 'position', turns: [{ prompt: 'what color', answer: 'top left' }] },
  ];
  const batch = collate(tok, samples, { numVisionTokens: 0, textLength: 8 });
  const V = tok.vocab.length;
  /** A fake model: at every position 0.7 on 'red' and 0.3 on 'top' (logits ln p). */
  const forward = () => {
    const row = new Float32Array(V).fill(-1e9);
    row[id('red')] = Math.log(0.7);
    row[id('top')] = Math.log(0.3);
    const data = new Float32Array(batch.batchSize * batch.seqLen * V);
    for (let i = 0; i < batch.batchSize * batch.seqLen; i++) data.set(row, i * V);
    return { logits: tf.tensor3d(data, [batch.batchSize, batch.seqLen, V]), roles: batch.roles };
  };

  it('are read at the positions predicting answer words, without <eos>', async () => {
    expect(batch.roles.filter((r) => r === ROLE_CODES.response).length).toBe(5); // red <eos> top left <eos>
    const dists = await answerDistributions(forward, batch, tok);
    expect(dists.map((d) => [d.row, d.kind, tok.vocab[d.label]])).toEqual([
      [0, 'color', 'red'],
      [1, 'position', 'top'],
      [1, 'position', 'left'],
    ]);
    expect(dists[0]!.probs[id('red')]).toBeCloseTo(0.7, 6);
    expect(tok.vocab[tok.eos]).toBe(SPECIALS.eos);
  });

  it('give entropy, gold probability and calibration, overall and per kind', async () => {
    const report = await answerReport(forward, [batch], tok, 10);
    const h = -(0.7 * Math.log(0.7) + 0.3 * Math.log(0.3));
    expect(report.overall.count).toBe(3);
    expect(report.overall.meanEntropy).toBeCloseTo(h, 6);
    expect(report.overall.meanGoldProb).toBeCloseTo((0.7 + 0.3 + 0) / 3, 6);
    // The argmax is always 'red' at 0.7: right once in three.
    expect(report.overall.calibration.accuracy).toBeCloseTo(1 / 3, 12);
    expect(report.overall.calibration.ece).toBeCloseTo(0.7 - 1 / 3, 6);
    expect(report.perKind['color']!.calibration.accuracy).toBe(1);
    expect(report.perKind['position']!.count).toBe(2);
    expect(answerStats([]).meanEntropy).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { formatInterval, mulberry32, pairedBootstrap, quantile, verdict } from './analysis.js';

const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const bits = (n: number, f: (i: number) => boolean) => repeat(n, f);

describe('the paired two-way bootstrap', () => {
  it('a recipe right wherever its baseline is wrong: +100 points, an interval of width 0', () => {
    const kinds = repeat(40, (i) => (i % 2 === 0 ? 'color' : 'shape'));
    const r = pairedBootstrap(kinds, ['1'.repeat(40), '1'.repeat(40)], ['0'.repeat(40), '0'.repeat(40)], { replicates: 200 });
    expect(r).toMatchObject({ estimate: 1, low: 1, high: 1, seeds: 2, questions: 40, perSeed: [1, 1] });
    expect(r.perKind).toEqual({ color: { estimate: 1, low: 1, high: 1 }, shape: { estimate: 1, low: 1, high: 1 } });
  });

  it('two seeds, one +1 everywhere and one 0: the seed draw alone gives {0, ½, 1} with probabilities ¼, ½, ¼, so the interval is [0, 1]', () => {
    // Hand check: every question is alike within a seed, so only the seed draw varies. Drawing
    // 2 of 2 seeds with replacement gives both "+1" seeds (¼), one of each (½) or both "0" (¼):
    // the 2.5% quantile is 0 and the 97.5% quantile is 1; the estimate is ½.
    const kinds = repeat(10, () => 'count');
    const r = pairedBootstrap(kinds, ['1'.repeat(10), '0'.repeat(10)], ['0'.repeat(10), '0'.repeat(10)], { replicates: 4000 });
    expect(r.estimate).toBe(0.5);
    expect(r.low).toBe(0);
    expect(r.high).toBe(1);
    expect(r.perSeed).toEqual([1, 0]);
  });

  it('one seed, 400 questions with difference +1 on half of them: the normal approximation 0.5 ± 1.96·√(¼/400) = [0.451, 0.549]', () => {
    // The bootstrap distribution of the mean of 400 draws from {0 (200×), 1 (200×)} is
    // Binomial(400, ½)/400, whose 2.5% and 97.5% quantiles are 0.5 ∓ 0.049 to within a draw.
    const kinds = repeat(400, () => 'position');
    const a = bits(400, (i) => i % 2 === 0);
    const b = bits(400, () => false);
    const r = pairedBootstrap(kinds, [a], [b], { replicates: 10_000, seed: 7 });
    expect(r.estimate).toBe(0.5);
    expect(r.low).toBeCloseTo(0.451, 2);
    expect(r.high).toBeCloseTo(0.549, 2);
  });

  it('pairs by question: the same correctness pattern shifted by one question is a difference of 0 on average, but not a zero interval', () => {
    const kinds = repeat(200, () => 'shape');
    const a = bits(200, (i) => i % 2 === 0);
    const b = bits(200, (i) => i % 2 === 1);
    const r = pairedBootstrap(kinds, [a], [b], { replicates: 2000 });
    expect(r.estimate).toBe(0);
    expect(r.low).toBeLessThan(-0.05);
    expect(r.high).toBeGreaterThan(0.05);
    // Identical runs differ by exactly 0 in every replicate.
    expect(pairedBootstrap(kinds, [a], [a], { replicates: 500 })).toMatchObject({ estimate: 0, low: 0, high: 0 });
  });

  it('weighs every question type the same (the mean over types, not over questions)', () => {
    // 10 colour questions all +1, 90 shape questions all 0: mean over types ½, over questions 0.1.
    const kinds = [...repeat(10, () => 'color'), ...repeat(90, () => 'shape')];
    const r = pairedBootstrap(kinds, ['1'.repeat(10) + '0'.repeat(90)], ['0'.repeat(100)], { replicates: 100 });
    expect(r.estimate).toBe(0.5);
    expect(r.perKind.color?.estimate).toBe(1);
    expect(r.perKind.shape?.estimate).toBe(0);
  });

  it('is reproducible from its seed, contains its estimate, and narrows as questions and seeds grow', () => {
    const random = mulberry32(123);
    const run = (seeds: number, questions: number) => {
      const kinds = repeat(questions, (i) => ['color', 'count', 'shape'][i % 3]!);
      // A: right with probability 0.7, B: 0.6, seed effects of ±3 points.
      const make = (p: number) => repeat(seeds, (s) => bits(questions, () => random() < p + 0.03 * Math.sin(s)));
      return pairedBootstrap(kinds, make(0.7), make(0.6), { replicates: 2000, seed: 1 });
    };
    const small = run(3, 150);
    const large = run(12, 2400);
    for (const r of [small, large]) {
      expect(r.low).toBeLessThanOrEqual(r.estimate);
      expect(r.high).toBeGreaterThanOrEqual(r.estimate);
      for (const k of Object.values(r.perKind)) {
        expect(k.low).toBeLessThanOrEqual(k.estimate);
        expect(k.high).toBeGreaterThanOrEqual(k.estimate);
      }
    }
    // 4× the seeds and 16× the questions: the interval is well over twice as narrow.
    expect(large.high - large.low).toBeLessThan((small.high - small.low) / 2);
    const kinds = repeat(90, (i) => (i % 2 ? 'a' : 'b'));
    const a = [bits(90, (i) => i % 3 === 0), bits(90, (i) => i % 5 === 0)];
    const b = [bits(90, (i) => i % 4 === 0), bits(90, (i) => i % 7 === 0)];
    expect(pairedBootstrap(kinds, a, b, { seed: 5, replicates: 500 })).toEqual(pairedBootstrap(kinds, a, b, { seed: 5, replicates: 500 }));
  });

  it('refuses mismatched inputs, naming the counts', () => {
    expect(() => pairedBootstrap(['a', 'b'], ['10'], ['10', '01'])).toThrow(/1 seeds of A and 2 of B/);
    expect(() => pairedBootstrap(['a', 'b'], ['101'], ['10'])).toThrow(/seed 0 has 3 results of A and 2 of B for 2 questions/);
  });
});

describe('quantiles and formatting', () => {
  it('quantile interpolates between order statistics (R type 7)', () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
  });
  it('prints points with signs and says what an interval resolves', () => {
    expect(formatInterval({ estimate: 0.031, low: -0.004, high: 0.059 })).toBe('+3.1 [−0.4, +5.9]');
    expect(verdict({ estimate: 0.031, low: -0.004, high: 0.059 })).toBe('not resolved');
    expect(verdict({ estimate: 0.031, low: 0.004, high: 0.059 })).toBe('above 0');
    expect(verdict({ estimate: -0.031, low: -0.05, high: -0.01 })).toBe('below 0');
  });
});

/** Closed-form checks of the per-token divergences and their token-level reduction. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openUnitInterval, simplexRows, temperature, unitInterval } from '../arbitraries.js';
import { aklWeights } from './akl.js';
import { crossEntropy, kl, logOfProbs } from './distributions.js';
import { aklRowWeights, divergenceLoss, divergencePerToken } from './divergence-loss.js';
import { type Divergence, divergenceOfLogProbs, tokenDivergence } from './divergences.js';
import { logSoftmax, logSumExp, softmax } from './log-softmax.js';

const LN2 = Math.LN2;
/** Logits whose softmax at temperature T is `p` (p > 0). */
const logitsOf = (p: readonly number[], T = 1): number[] => p.map((x) => T * Math.log(x));
const close = (a: number, b: number, digits = 12): void => expect(a).toBeCloseTo(b, digits);

describe('log-softmax', () => {
  it('is stable for large logits and sums to 1', () => {
    expect(Array.from(logSoftmax([1000, 0, -1000]))).toEqual([0, -1000, -2000]);
    close(
      softmax([3, 1, -2], 2).reduce((a, b) => a + b, 0),
      1,
      15,
    );
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
  });
  it('refuses non-finite logits and bad temperatures', () => {
    expect(() => logSoftmax([0, NaN])).toThrow('logits: value NaN at flat index 1 is not finite');
    expect(() => logSoftmax([0, 1], 0)).toThrow('temperature: 0 is not a finite number > 0');
  });
});

describe('KL of two 2-point distributions', () => {
  // p = (1/4, 3/4), q = (1/2, 1/2)
  const fkl = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
  const rkl = 0.5 * Math.log(4 / 3);
  it('forward and reverse, at T = 1 and T = 3', () => {
    for (const T of [1, 3]) {
      const a = logitsOf([0.25, 0.75], T);
      const b = logitsOf([0.5, 0.5], T);
      close(tokenDivergence({ kind: 'forwardKL' }, a, b, T), fkl);
      close(tokenDivergence({ kind: 'reverseKL' }, a, b, T), rkl);
    }
  });
  it('T² scaling multiplies by T²', () => {
    const T = 3;
    const a = logitsOf([0.25, 0.75], T);
    const b = logitsOf([0.5, 0.5], T);
    const input = { teacher: a, student: b, rows: 1, vocab: 2, temperature: T, divergence: { kind: 'forwardKL' } as const };
    close(divergenceLoss({ ...input, scaleByTemperatureSquared: true }), 9 * fkl);
    close(divergenceLoss(input), fkl);
  });
  it('is invariant to adding a constant to a row of logits', () => {
    close(tokenDivergence({ kind: 'forwardKL' }, [1, 2, 3], [0, 0, 5]), tokenDivergence({ kind: 'forwardKL' }, [11, 12, 13], [-7, -7, -2]));
  });
});

describe('disjoint supports', () => {
  const p = logOfProbs([1, 0]);
  const q = logOfProbs([0, 1]);
  it('JSD at β = ½ is ln 2, also from logits whose probabilities underflow to 0', () => {
    close(divergenceOfLogProbs({ kind: 'jsd', beta: 0.5 }, p, q), LN2, 15);
    close(tokenDivergence({ kind: 'jsd', beta: 0.5 }, [0, -1e4], [-1e4, 0]), LN2, 15);
  });
  it('JSD at any β ∈ (0, 1) is the binary entropy H(β)', () => {
    for (const beta of [0.1, 0.25, 0.9]) {
      close(divergenceOfLogProbs({ kind: 'jsd', beta }, p, q), -beta * Math.log(beta) - (1 - beta) * Math.log(1 - beta), 14);
    }
  });
  it('TVD is 1, and skew KL / skew reverse KL are −ln α', () => {
    expect(divergenceOfLogProbs({ kind: 'tvd' }, p, q)).toBe(1);
    close(divergenceOfLogProbs({ kind: 'skewKL', alpha: 0.25 }, p, q), -Math.log(0.25), 14);
    close(divergenceOfLogProbs({ kind: 'skewReverseKL', alpha: 0.25 }, p, q), -Math.log(0.25), 14);
  });
  it('forward KL is +∞ and no NaN appears', () => {
    expect(divergenceOfLogProbs({ kind: 'forwardKL' }, p, q)).toBe(Infinity);
    expect(divergenceOfLogProbs({ kind: 'forwardKL' }, p, p)).toBe(0);
  });
});

describe('endpoint conventions', () => {
  const a = [0.3, -1.2, 2.5, 0];
  const b = [1.1, 0.4, -0.7, 0.2];
  const f = (d: Divergence): number => tokenDivergence(d, a, b, 1.5);
  it('jsd(0) is forward KL and jsd(1) is reverse KL', () => {
    expect(f({ kind: 'jsd', beta: 0 })).toBe(f({ kind: 'forwardKL' }));
    expect(f({ kind: 'jsd', beta: 1 })).toBe(f({ kind: 'reverseKL' }));
  });
  it('skewKL(0) is forward KL, skewReverseKL(0) reverse KL, and both vanish at α = 1', () => {
    close(f({ kind: 'skewKL', alpha: 0 }), f({ kind: 'forwardKL' }), 14);
    close(f({ kind: 'skewReverseKL', alpha: 0 }), f({ kind: 'reverseKL' }), 14);
    close(f({ kind: 'skewKL', alpha: 1 }), 0, 15);
    close(f({ kind: 'skewReverseKL', alpha: 1 }), 0, 15);
  });
  it('refuses parameters outside [0, 1]', () => {
    expect(() => f({ kind: 'jsd', beta: 1.5 })).toThrow('jsd beta: 1.5 is outside [0, 1]');
    expect(() => f({ kind: 'skewKL', alpha: -0.1 })).toThrow('skewKL alpha: -0.1 is outside [0, 1]');
  });
});

describe('soft cross-entropy and TVD', () => {
  it('softCE of p = (1/4, 3/4) against uniform q is ln 2, and softCE = H(p) + KL(p ‖ q)', () => {
    close(tokenDivergence({ kind: 'softCE' }, logitsOf([0.25, 0.75]), [0, 0]), LN2);
    const a = [0.5, -2, 1];
    const b = [2, 0, -1];
    const lp = logSoftmax(a);
    close(tokenDivergence({ kind: 'softCE' }, a, b), crossEntropy(lp, lp) + kl(lp, logSoftmax(b)), 14);
  });
  it('TVD of (1/4, 3/4) and (1/2, 1/2) is 1/4', () => {
    close(tokenDivergence({ kind: 'tvd' }, logitsOf([0.25, 0.75]), [0, 0]), 0.25, 15);
  });
});

describe('AKL', () => {
  const lp = (p: number[]) => logOfProbs(p);
  it('first rank is always in the head: p = (0.6, 0.3, 0.1), q = (0.2, 0.5, 0.3) gives equal gaps', () => {
    const p = lp([0.6, 0.3, 0.1]);
    const q = lp([0.2, 0.5, 0.3]);
    const w = aklWeights(p, q);
    expect(w.headSize).toBe(1);
    close(w.head, 0.5, 14); // g_head = 0.4, g_tail = 0.2 + 0.2
    close(divergenceOfLogProbs({ kind: 'akl' }, p, q), 0.5 * kl(p, q) + 0.5 * kl(q, p), 14);
  });
  it('ties are broken by index and c_k = μ counts as head', () => {
    const p = lp([0.25, 0.25, 0.25, 0.25]);
    const q = lp([0.25, 0.25, 0.4, 0.1]); // head = {0, 1}: no gap there
    const w = aklWeights(p, q);
    expect(w.headSize).toBe(2);
    expect(w.head).toBe(0);
    expect(w.tail).toBe(1);
    close(divergenceOfLogProbs({ kind: 'akl' }, p, q), kl(q, p), 15);
    expect(w.margin).toBe(0); // c_2 = μ exactly: a float32 implementation may split otherwise
  });
  it('μ = 0: the head is the top token alone', () => {
    const p = lp([0.3, 0.5, 0.2]);
    const q = lp([0.4, 0.2, 0.4]);
    const w = aklWeights(p, q, 0);
    expect(w.headSize).toBe(1);
    close(w.head, 0.3 / (0.3 + 0.1 + 0.2), 14); // head = {1}: |0.5 − 0.2|; tail: |0.3 − 0.4| + |0.2 − 0.4|
    close(divergenceOfLogProbs({ kind: 'akl', mu: 0 }, p, q), w.head * kl(p, q) + w.tail * kl(q, p), 14);
  });
  it('μ = 1: the head is every token, so AKL is the forward KL, even where the cumulative sum rounds past 1', () => {
    const p = lp([0.21, 0.67, 0.12]); // its cumulative sum in float64 ends at 1.0000000000000002
    const q = lp([0.4, 0.3, 0.3]);
    const w = aklWeights(p, q, 1);
    expect([w.headSize, w.head, w.tail, w.margin]).toEqual([3, 1, 0, Infinity]);
    expect(divergenceOfLogProbs({ kind: 'akl', mu: 1 }, p, q)).toBe(kl(p, q));
  });
  it('equal distributions give weights ½ and a loss of 0', () => {
    const p = lp([0.7, 0.2, 0.1]);
    const w = aklWeights(p, p);
    expect([w.head, w.tail]).toEqual([0.5, 0.5]);
    expect(divergenceOfLogProbs({ kind: 'akl' }, p, p)).toBe(0);
  });
  it('held weights are used as given (the gradient treats them as constants)', () => {
    const a = [2, 0.5, -1];
    const b = [0, 1, 0.3];
    const input = { teacher: a, student: b, rows: 1, vocab: 3, divergence: { kind: 'akl' } as const };
    const w = aklRowWeights(input);
    close(divergenceLoss({ ...input, aklWeights: w }), divergenceLoss(input), 15);
    const fixed = [{ head: 1, tail: 0, headSize: 1, margin: 1 }];
    close(divergenceLoss({ ...input, aklWeights: fixed }), tokenDivergence({ kind: 'forwardKL' }, a, b), 15);
  });
});

describe('reductions of per-token divergences', () => {
  const teacher = [0, 0, 1, 2, 3, -1, 0.5, 0.5];
  const student = [1, 0, 0, 2, 0, 0, 0.5, -0.5];
  const input = { teacher, student, rows: 4, vocab: 2, sample: [0, 0, 0, 2], divergence: { kind: 'reverseKL' } as const };
  const l = divergencePerToken(input);
  it('mean, sum and sampleMean weigh the tokens as defined', () => {
    close(divergenceLoss({ ...input, reduction: 'mean' }), (l[0]! + l[1]! + l[2]! + l[3]!) / 4, 15);
    close(divergenceLoss({ ...input, reduction: 'sum' }), l[0]! + l[1]! + l[2]! + l[3]!, 15);
    // samples 0 (3 tokens) and 2 (1 token); sample 1 is empty, so B' = 2
    close(divergenceLoss({ ...input, reduction: 'sampleMean' }), (l[0]! + l[1]! + l[2]!) / 6 + l[3]! / 2, 15);
  });
  it('no tokens give a loss of 0', () => {
    for (const reduction of ['mean', 'sum', 'sampleMean'] as const) {
      expect(divergenceLoss({ teacher: [], student: [], rows: 0, vocab: 5, sample: [], divergence: { kind: 'forwardKL' }, reduction })).toBe(0);
    }
  });
  it('rejects inputs of the wrong size', () => {
    expect(() => divergenceLoss({ ...input, rows: 3 })).toThrow('teacher: expected 6 values for shape [3, 2], got 8');
    expect(() => divergenceLoss({ ...input, reduction: 'sampleMean', sample: undefined })).toThrow('sampleMean needs the sample of each of the 4 tokens');
  });
});

describe('the reference satisfies the laws it will check', () => {
  const V = 5;
  const rows = simplexRows(2, V).map((r) => [logOfProbs(r.subarray(0, V)), logOfProbs(r.subarray(V))] as const);
  it('KL ≥ 0, and KL(p ‖ p) = 0', () => {
    fc.assert(
      fc.property(rows, ([p, q]) => {
        expect(kl(p, q)).toBeGreaterThanOrEqual(0);
        expect(kl(p, p)).toBe(0);
      }),
    );
  });
  it('JSD(½) is symmetric and ≤ ln 2; TVD ∈ [0, 1]; JSD(β) ≤ H(β)', () => {
    fc.assert(
      fc.property(rows, openUnitInterval, ([p, q], beta) => {
        const j = divergenceOfLogProbs({ kind: 'jsd', beta: 0.5 }, p, q);
        close(j, divergenceOfLogProbs({ kind: 'jsd', beta: 0.5 }, q, p), 14);
        expect(j).toBeLessThanOrEqual(LN2 + 1e-15);
        const t = divergenceOfLogProbs({ kind: 'tvd' }, p, q);
        expect(t).toBeGreaterThanOrEqual(0);
        expect(t).toBeLessThanOrEqual(1 + 1e-15);
        const h = -beta * Math.log(beta) - (1 - beta) * Math.log(1 - beta);
        expect(divergenceOfLogProbs({ kind: 'jsd', beta }, p, q)).toBeLessThanOrEqual(h + 1e-12);
      }),
    );
  });
  it('every divergence is finite and ≥ 0 on bounded logits, at any temperature and weight', () => {
    fc.assert(
      fc.property(fc.float64Array({ minLength: 2 * V, maxLength: 2 * V, min: -20, max: 20, noNaN: true }), temperature, unitInterval, (x, T, w) => {
        for (const d of [
          { kind: 'forwardKL' },
          { kind: 'reverseKL' },
          { kind: 'jsd', beta: w },
          { kind: 'skewKL', alpha: w },
          { kind: 'skewReverseKL', alpha: w },
          { kind: 'tvd' },
          { kind: 'akl' },
          { kind: 'softCE' },
        ] as Divergence[]) {
          const value = tokenDivergence(d, x.subarray(0, V), x.subarray(V), T);
          expect(Number.isFinite(value), d.kind).toBe(true);
          expect(value, d.kind).toBeGreaterThanOrEqual(-1e-12);
        }
      }),
    );
  });
});

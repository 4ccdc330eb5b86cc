import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constant, cosineWithWarmup, warmupStepsFor } from './schedule.js';

describe('cosine schedule with linear warm-up', () => {
  it('warms up linearly, peaks, then follows half a cosine to the floor', () => {
    const lr = cosineWithWarmup({ peak: 1e-3, warmupSteps: 4, totalSteps: 14, floor: 1e-4 });
    expect([0, 1, 2, 3].map(lr)).toEqual([2.5e-4, 5e-4, 7.5e-4, 1e-3]);
    expect(lr(4)).toBeCloseTo(1e-3, 12);
    expect(lr(9)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 12); // halfway through the decay
    expect(lr(14)).toBeCloseTo(1e-4, 12);
    expect(lr(100)).toBeCloseTo(1e-4, 12);
    const noWarmup = cosineWithWarmup({ peak: 2, warmupSteps: 0, totalSteps: 4 });
    expect([0, 1, 2, 3, 4].map(noWarmup)).toEqual([2, 1 + Math.cos(Math.PI / 4), 1 + Math.cos(Math.PI / 2), 1 + Math.cos((3 * Math.PI) / 4), 0]);
  });

  it('rises during warm-up, never rises after it, and stays within [floor, peak] after it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (total, ratio) => {
        const warmup = warmupStepsFor(total, ratio);
        const lr = cosineWithWarmup({ peak: 1, warmupSteps: warmup, totalSteps: total, floor: 0.1 });
        for (let s = 0; s < total + 3; s++) {
          expect(lr(s)).toBeGreaterThan(0);
          expect(lr(s)).toBeLessThanOrEqual(1 + 1e-12);
          if (s > 0 && s < warmup) expect(lr(s)).toBeGreaterThan(lr(s - 1));
          if (s >= warmup) expect(lr(s)).toBeGreaterThanOrEqual(0.1 - 1e-12);
          if (s > warmup) expect(lr(s)).toBeLessThanOrEqual(lr(s - 1) + 1e-12);
        }
      }),
    );
  });

  it('rejects impossible settings, listing them', () => {
    expect(() => cosineWithWarmup({ peak: 0, warmupSteps: 5, totalSteps: 3, floor: 1 })).toThrow(
      'cosineWithWarmup: peak must be > 0, got 0; floor must be in [0, peak], got 1; warmupSteps must be an integer in [0, totalSteps], got 5',
    );
    expect(() => cosineWithWarmup({ peak: 1, warmupSteps: 0, totalSteps: 3 })(-1)).toThrow('step must be a non-negative integer');
    expect(warmupStepsFor(1000, 0.03)).toBe(30);
    expect(constant(0.5)(123)).toBe(0.5);
  });
});

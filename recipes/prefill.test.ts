import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { createLlava, numVisionTokens } from '../models/index.js';
import { runEnvironment } from './environment.js';
import { formatPrefill, measurePrefill } from './prefill.js';

describe('measurePrefill', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('times both students on the same questions and reports full ÷ efficient', async () => {
    const env = runEnvironment({ evalSamples: 0 });
    const efficient = createLlava(env.configs.efficient, { seed: 1 });
    const full = createLlava(env.configs['full-token'], { seed: 1 });
    try {
      const p = await measurePrefill(env, { efficient, full }, { batchSize: 4, repetitions: 2 });
      expect(p.efficient.visionTokens).toBe(numVisionTokens(env.configs.efficient));
      expect(p.full.visionTokens).toBe(4 * p.efficient.visionTokens);
      expect(p.full.seqLen - p.efficient.seqLen).toBe(p.full.visionTokens - p.efficient.visionTokens);
      for (const t of [p.efficient, p.full]) {
        expect(t.batchMs).toBeGreaterThan(0);
        expect(t.firstTokenMs).toBeGreaterThan(0);
      }
      expect(p.batchRatio).toBeCloseTo(p.full.batchMs / p.efficient.batchMs, 12);
      expect(p.firstTokenRatio).toBeCloseTo(p.full.firstTokenMs / p.efficient.firstTokenMs, 12);
      expect(formatPrefill(p, 'wasm')).toMatch(/teacher-forced forward of 4 questions .* ratio \d+\.\d\d×\n {2}time to first answer token/);
    } finally {
      efficient.dispose();
      full.dispose();
    }
  });
});

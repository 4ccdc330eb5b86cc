import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numVisionTokens } from '../models/index.js';
import { readMetrics } from '../recipes/metrics.js';
import { environmentFor, worldOption } from './commands/run.js';
import { runCli } from './testing/run-cli.js';

describe('mmkd run --world', () => {
  it('continuous is the default, with its own data, models and 2000 held-out questions; grid is chosen by name', async () => {
    const grid = await environmentFor({ world: 'grid' });
    expect(grid.data.fingerprint).toBe('procedural-0');
    expect(numVisionTokens(grid.configs.teacher)).toBe(16);
    expect(grid.evalSamples).toBe(500);
    const continuous = await environmentFor({});
    expect(continuous.data.fingerprint).toBe('continuous-v2-0');
    expect(numVisionTokens(continuous.configs.teacher)).toBe(36);
    expect(numVisionTokens(continuous.configs.efficient)).toBe(9);
    expect(continuous.evalSamples).toBe(2000);
  });

  it('refuses an unknown world, and a procedural world beside --data', async () => {
    expect(() => worldOption('hex')).toThrow("--world must be one of grid, continuous, got 'hex'");
    for (const world of ['continuous', 'grid']) {
      await expect(environmentFor({ world, data: 'conversations.json' })).rejects.toThrow(
        `--world ${world} chooses a procedural world; --data trains on conversations.json instead`,
      );
    }
  });
});

describe('mmkd evaluate and the worlds', () => {
  it("tells a checkpoint's world by its vocabulary, and names the mismatch when --world says otherwise", async () => {
    const grid = await runCli(['evaluate', 'recipes/assets/teacher', '--backend', 'wasm', '--json'], { timeoutMs: 120_000 });
    expect(grid.code, grid.stderr).toBe(0);
    const recorded = (await readMetrics('recipes/assets/teacher/metrics-head.jsonl')).find((r) => r.type === 'eval');
    expect(recorded?.type === 'eval' && JSON.parse(grid.stdout).average).toBe(recorded?.type === 'eval' && recorded.report.average);
    const wrong = await runCli(['evaluate', 'recipes/assets/teacher', '--world', 'continuous', '--backend', 'wasm'], { timeoutMs: 120_000 });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      "recipes/assets/teacher was trained on other data: its vocabulary has 47 tokens, the continuous world's 52; pass --data <the conversations file it was trained on>, or the --world it was trained on",
    );
    const unknown = await runCli(['evaluate', 'recipes/assets/teacher', '--world', 'hex', '--backend', 'wasm'], { timeoutMs: 120_000 });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("--world must be one of grid, continuous, got 'hex'");
  }, 300_000);
});

describe('mmkd run teacher --world continuous', () => {
  it('grounds the vision tokens between PT and SFT: a ground stage scored at the visual positions and on the caption', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mmkd-ground-')), 'teacher');
    const result = await runCli(['run', 'teacher', '--world', 'continuous', '--quick', '--backend', 'wasm', '--no-cache', '--out', out], {
      timeoutMs: 240_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).stages).toEqual(['lm', 'pt', 'ground', 'sft']);
    const ground = (await readMetrics(join(out, 'metrics.jsonl'))).flatMap((r) => (r.type === 'step' && r.stage === 'ground' ? [r] : []));
    expect(ground.map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    for (const r of ground) {
      expect(Object.keys(r.terms).sort()).toEqual(['ce', 'cells']);
      expect(r.loss).toBeCloseTo(r.terms['cells']! + r.terms['ce']!, 5);
    }
    // The shape words under the tokens are learnable from the first steps (a seeded run: exact).
    expect(ground.at(-1)!.terms['cells']!).toBeLessThan(ground[0]!.terms['cells']!);
  }, 300_000);
});

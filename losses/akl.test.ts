/**
 * AKL's μ is valid on all of [0, 1], endpoints included, on the paths a user takes: an objective
 * file explained by the CLI, and the library's `validate`. (Its values at the endpoints are laws
 * in properties/divergences.test.ts, on every backend.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/testing/run-cli.js';
import { akl, formatGraphError, graphToJson, objective, standardRegistry, student, teacher, validate } from '../index.js';

const node = (mu: number) => objective({ akl: akl(teacher.logits.next('response'), student.logits.next('response'), { mu }) });
const shapes = { teacher: { logits: [2, 8, 16] }, student: { logits: [2, 8, 16] }, labels: false };
const problems = (mu: number): string[] => {
  const result = validate(node(mu), shapes, standardRegistry);
  return E.isLeft(result) ? result.left.map(formatGraphError) : [];
};

describe('AKL accepts μ in [0, 1]', () => {
  it('validates μ = 0 and μ = 1 and rejects values outside, naming the parameter', () => {
    expect(problems(0)).toEqual([]);
    expect(problems(1)).toEqual([]);
    expect(problems(-0.25)).toEqual(['objective.akl: μ (mu) must be in [0, 1], got -0.25']);
    expect(problems(1.5)).toEqual(['objective.akl: μ (mu) must be in [0, 1], got 1.5']);
  });

  it('mmkd explain reads objective files with μ = 0 and μ = 1, and rejects μ = 1.5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmkd-akl-'));
    const file = (mu: number) => {
      const path = join(dir, `akl-${mu}.json`);
      writeFileSync(path, graphToJson(node(mu)));
      return path;
    };
    for (const mu of [0, 1]) {
      const explained = await runCli(['explain', file(mu)]);
      expect(explained.stderr).toBe('');
      expect(explained.code).toBe(0);
      expect(explained.stdout).toContain(`AKL_μ=${mu}(p, q)`);
    }
    const rejected = await runCli(['explain', file(1.5)]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('objective.akl: μ (mu) must be in [0, 1], got 1.5');
  }, 60_000);
});

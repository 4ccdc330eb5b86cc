import { createHash } from 'node:crypto';
import type { ModelConfig } from '../models/index.js';
import type { Recipe, Stage } from './recipe.js';

/**
 * Bumped whenever training code changes what a stage computes, so that cached stages and
 * checkpoints written by older code are not reused as if current.
 */
export const TRAINING_CODE_VERSION = 1;

/** SHA-256 of a value's canonical JSON (object keys sorted). */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What determines the weights after a recipe's first `stages` stages: the model, how it starts,
 * the seed, the teacher, the backend (float arithmetic differs between backends) and those
 * stages. Two recipes that agree on all of it share the result.
 */
export function prefixFingerprint(input: {
  readonly config: ModelConfig;
  readonly recipe: Recipe;
  readonly stages: number;
  readonly seed: number;
  readonly backend: string;
  readonly teacher: string | null;
}): string {
  const stages: Stage[] = input.recipe.stages.slice(0, input.stages);
  return fingerprintOf({
    version: TRAINING_CODE_VERSION,
    config: input.config,
    visionFromTeacher: input.recipe.visionFromTeacher,
    seed: input.seed,
    backend: input.backend,
    teacher: input.teacher,
    stages,
  });
}

import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/graph.js';
import type { ModelConfig } from '../models/index.js';
import type { Recipe, Stage } from './recipe.js';

/**
 * Bumped whenever training code changes what a stage computes, so that cached stages and
 * checkpoints written by older code are not reused as if current.
 */
export const TRAINING_CODE_VERSION = 1;

/** SHA-256 of a value's canonical JSON (object keys sorted). */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
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
  /** The training data's fingerprint. */
  readonly data: string;
}): string {
  const stages: Stage[] = input.recipe.stages.slice(0, input.stages);
  return fingerprintOf({
    version: TRAINING_CODE_VERSION,
    config: input.config,
    visionFromTeacher: input.recipe.visionFromTeacher,
    seed: input.seed,
    backend: input.backend,
    teacher: input.teacher,
    data: input.data,
    stages,
  });
}

import type { HostTensor } from '../io/index.js';
import { createLlava, loadWeights, type ModelConfig } from '../models/index.js';
import { CheckpointError, readCheckpoint } from './checkpoint.js';
import type { TeacherHandle } from './runner.js';
import { proceduralData } from './training-data.js';

/**
 * Loads a teacher from a checkpoint folder (a teacher run's final checkpoint, or the one mmkd
 * ships). The weights must fit the teacher configuration, vocabulary included; the fingerprint is
 * the SHA-256 of the weights file, so students record exactly which teacher taught them.
 */
export async function loadTeacher(path: string, config: ModelConfig): Promise<TeacherHandle> {
  const contents = await readCheckpoint(path);
  if (!contents.state.complete) {
    throw new CheckpointError(
      `${path} is an unfinished run (stage ${contents.state.stageName}, step ${contents.state.step}); a teacher must be a finished one`,
    );
  }
  const model = createLlava(config, { seed: 0 });
  try {
    loadWeights(model, contents.weights, { source: path });
  } catch (e) {
    model.dispose();
    throw new CheckpointError(
      `${path} does not hold a teacher for this model (vocabulary ${config.llm.vocabSize}, width ${config.llm.width}): ${(e as Error).message}`,
    );
  }
  return { model, fingerprint: contents.state.files['weights.safetensors']! };
}

/** A teacher's vision encoder alone, for a run from offline signals that starts from it. */
export interface TeacherVision {
  /** The vision group's weights by stable name (host tensors). */
  readonly weights: ReadonlyMap<string, HostTensor>;
  /** The teacher's fingerprint (SHA-256 of its weights file, as `loadTeacher` gives). */
  readonly fingerprint: string;
  readonly source: string;
}

/**
 * The vision encoder of the teacher in a checkpoint folder, read from its weights file without
 * building the teacher: what a student that starts from it needs when the teacher itself is
 * replaced by offline signals. The weights must fit the teacher configuration's vision group.
 */
export async function loadTeacherVision(path: string, config: ModelConfig): Promise<TeacherVision> {
  const contents = await readCheckpoint(path);
  if (!contents.state.complete) {
    throw new CheckpointError(
      `${path} is an unfinished run (stage ${contents.state.stageName}, step ${contents.state.step}); a teacher must be a finished one`,
    );
  }
  const probe = createLlava(config, { seed: 0 });
  try {
    const names = [...probe.variablesOf(['vision']).keys()];
    const missing = names.filter((n) => !contents.weights.has(n));
    if (missing.length > 0)
      throw new CheckpointError(`${path} holds no vision encoder for this model: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''} missing`);
    return { weights: new Map(names.map((n) => [n, contents.weights.get(n)!])), fingerprint: contents.state.files['weights.safetensors']!, source: path };
  } finally {
    probe.dispose();
  }
}

/** Where mmkd keeps the teacher it ships for the grid world (a finished run's final checkpoint, weights only). */
export const SHIPPED_TEACHER = new URL('./assets/teacher', import.meta.url);

/** The fingerprint of the data the shipped grid-world teacher was trained on (its vocabulary is that data's). */
export const SHIPPED_TEACHER_DATA = proceduralData(0, { world: 'grid' }).fingerprint;

/** Where mmkd keeps the teacher it ships for the continuous world (`mmkd run teacher --world continuous --seed 0`). */
export const SHIPPED_CONTINUOUS_TEACHER = new URL('./assets/teacher-continuous', import.meta.url);

/** The shipped teacher of each procedural world, by the fingerprint of the data it was trained on. */
export const SHIPPED_TEACHERS: ReadonlyMap<string, URL> = new Map([
  [SHIPPED_TEACHER_DATA, SHIPPED_TEACHER],
  [proceduralData(0, { world: 'continuous' }).fingerprint, SHIPPED_CONTINUOUS_TEACHER],
]);

/**
 * A checkpoint as one safetensors file: the model's weights, and what `mmkd evaluate` needs to
 * know about them (recipe, seed, stage, step) as string metadata under `mmkd.*` keys. It is what
 * the studio downloads from a browser tab, where a checkpoint folder cannot be written. Free of
 * Node's modules, so it runs in a page.
 */

import { UserError } from '../core/errors.js';
import type { HostTensor } from '../io/host-tensor.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';

/** A single-file checkpoint that cannot be read; the message names it. */
export class CheckpointFileError extends UserError {
  override readonly name = 'CheckpointFileError';
}

/** The value of `mmkd.format` in a single-file checkpoint. */
export const CHECKPOINT_FILE_FORMAT = 'mmkd.checkpoint-file/1';

/** What a single-file checkpoint records besides its weights. */
export interface CheckpointFileState {
  readonly recipe: string;
  readonly seed: number;
  readonly backend: string;
  readonly stage: number;
  readonly stageName: string;
  /** Steps of `stageName` trained. */
  readonly step: number;
  /** Whether every stage of the recipe was trained to its end. */
  readonly complete: boolean;
  /** The SHA-256 of the teacher's weights file, when the recipe had a teacher. */
  readonly teacher?: string;
}

/** The weights and state as one safetensors file's bytes. */
export function writeCheckpointFile(weights: ReadonlyMap<string, HostTensor>, state: CheckpointFileState): Uint8Array {
  const metadata: Record<string, string> = {
    'mmkd.format': CHECKPOINT_FILE_FORMAT,
    'mmkd.recipe': state.recipe,
    'mmkd.seed': String(state.seed),
    'mmkd.backend': state.backend,
    'mmkd.stage': String(state.stage),
    'mmkd.stageName': state.stageName,
    'mmkd.step': String(state.step),
    'mmkd.complete': String(state.complete),
    ...(state.teacher === undefined ? {} : { 'mmkd.teacher': state.teacher }),
  };
  return writeSafetensors(weights, metadata);
}

/** Reads a single-file checkpoint; `source` names it in errors (a file without mmkd's metadata among them). */
export function readCheckpointFile(
  bytes: Uint8Array,
  source: string,
): { readonly state: CheckpointFileState; readonly weights: ReadonlyMap<string, HostTensor> } {
  const { tensors, metadata } = readSafetensors(bytes, source);
  if (metadata['mmkd.format'] !== CHECKPOINT_FILE_FORMAT) {
    throw new CheckpointFileError(
      `${source} is a safetensors file but not an mmkd checkpoint (its metadata has no "mmkd.format": "${CHECKPOINT_FILE_FORMAT}"); pass a checkpoint folder or a checkpoint the studio downloaded`,
    );
  }
  const text = (key: string): string => {
    const value = metadata[`mmkd.${key}`];
    if (value === undefined) throw new CheckpointFileError(`${source}: checkpoint metadata lacks "mmkd.${key}"`);
    return value;
  };
  const whole = (key: string): number => {
    const n = Number(text(key));
    if (!Number.isInteger(n) || n < 0) throw new CheckpointFileError(`${source}: checkpoint metadata "mmkd.${key}" is not a whole number`);
    return n;
  };
  const teacher = metadata['mmkd.teacher'];
  return {
    state: {
      recipe: text('recipe'),
      seed: whole('seed'),
      backend: text('backend'),
      stage: whole('stage'),
      stageName: text('stageName'),
      step: whole('step'),
      complete: text('complete') === 'true',
      ...(teacher === undefined ? {} : { teacher }),
    },
    weights: tensors,
  };
}

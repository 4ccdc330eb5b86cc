import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { type HostTensor, readSafetensors, writeSafetensors } from '../io/index.js';
import { parseCheckpointName } from './checkpoint-name.js';

/**
 * A checkpoint is a folder written atomically (a temporary folder, then one rename) holding:
 * - `weights.safetensors`: the model's weights by stable name;
 * - `optimizer.safetensors`: AdamW's moments;
 * - `objective.safetensors`, only when the stage's objective owns parameters (a feature
 *   projection): their values, by the objective's names; they train with the model;
 * - `state.json`: where the run stands (stage, step, optimizer step count), what produced it
 *   (recipe, seed, backend, configuration fingerprint) and the SHA-256 of every tensor file, so
 *   a truncated or altered file is detected and named rather than loaded.
 * A run killed mid-write leaves the previous checkpoint untouched.
 */
export interface CheckpointState {
  readonly format: 'mmkd.checkpoint/1';
  readonly recipe: string;
  readonly seed: number;
  readonly backend: string;
  /** Fingerprint of what must match to resume: model configuration, stages, data. */
  readonly fingerprint: string;
  /** The stage the checkpoint is in, and how many of its steps are done. */
  readonly stage: number;
  readonly stageName: string;
  readonly step: number;
  /** Whether every stage is finished. */
  readonly complete: boolean;
  readonly optimizerStep: number;
  /**
   * The conversations file the run trained on (`--data`; a model knows only its data's
   * vocabulary, so `evaluate` needs the same file). Absent for procedural data, and in
   * checkpoints written before it was recorded.
   */
  readonly dataFile?: string;
  readonly files: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export class CheckpointError extends UserError {
  override readonly name = 'CheckpointError';
}

export interface CheckpointContents {
  readonly state: CheckpointState;
  readonly weights: ReadonlyMap<string, HostTensor>;
  readonly optimizer: ReadonlyMap<string, HostTensor>;
  /** The objective's own parameters (empty when the objective has none). */
  readonly objective: ReadonlyMap<string, HostTensor>;
}

const WEIGHTS = 'weights.safetensors';
const OPTIMIZER = 'optimizer.safetensors';
const OBJECTIVE = 'objective.safetensors';
const STATE = 'state.json';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Writes a checkpoint folder `dir` atomically; an existing folder of that name is replaced. */
export async function writeCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'files' | 'format' | 'createdAt'>,
  weights: ReadonlyMap<string, HostTensor>,
  optimizer: ReadonlyMap<string, HostTensor>,
  objective: ReadonlyMap<string, HostTensor> = new Map(),
): Promise<void> {
  const weightBytes = writeSafetensors(weights, { kind: 'mmkd weights', recipe: state.recipe });
  const optimizerBytes = writeSafetensors(optimizer, { kind: 'mmkd AdamW moments', recipe: state.recipe });
  // Written only when there is something in it, so checkpoints without one stay as they were.
  const objectiveBytes = objective.size > 0 ? writeSafetensors(objective, { kind: 'mmkd objective parameters', recipe: state.recipe }) : undefined;
  const full: CheckpointState = {
    format: 'mmkd.checkpoint/1',
    ...state,
    files: {
      [WEIGHTS]: sha256(weightBytes),
      [OPTIMIZER]: sha256(optimizerBytes),
      ...(objectiveBytes ? { [OBJECTIVE]: sha256(objectiveBytes) } : {}),
    },
    createdAt: new Date().toISOString(),
  };
  const temporary = `${dir}.partial-${process.pid}`;
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary, { recursive: true });
  await writeFile(join(temporary, WEIGHTS), weightBytes);
  await writeFile(join(temporary, OPTIMIZER), optimizerBytes);
  if (objectiveBytes) await writeFile(join(temporary, OBJECTIVE), objectiveBytes);
  await writeFile(join(temporary, STATE), `${JSON.stringify(full, null, 2)}\n`);
  const old = `${dir}.old-${process.pid}`;
  await rm(old, { recursive: true, force: true });
  try {
    await rename(dir, old);
  } catch {
    // No earlier checkpoint of this name.
  }
  await rename(temporary, dir);
  await rm(old, { recursive: true, force: true });
}

/** Reads and verifies a checkpoint folder: every problem names the file and what is wrong. */
export async function readCheckpoint(dir: string): Promise<CheckpointContents> {
  const statePath = join(dir, STATE);
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch {
    throw new CheckpointError(`${dir} is not a checkpoint: ${STATE} is missing`);
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(text) as CheckpointState;
  } catch (e) {
    throw new CheckpointError(`${statePath} is corrupt: ${(e as Error).message}`);
  }
  if (state.format !== 'mmkd.checkpoint/1') throw new CheckpointError(`${statePath}: unsupported checkpoint format ${JSON.stringify(state.format)}`);
  const load = async (name: string): Promise<ReadonlyMap<string, HostTensor>> => {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch {
      throw new CheckpointError(`${path} is missing`);
    }
    const expected = state.files?.[name];
    if (expected !== sha256(bytes)) throw new CheckpointError(`${path} is corrupt: its SHA-256 does not match the one recorded in ${STATE}`);
    return readSafetensors(bytes, path).tensors;
  };
  return {
    state,
    weights: await load(WEIGHTS),
    optimizer: await load(OPTIMIZER),
    objective: state.files?.[OBJECTIVE] === undefined ? new Map() : await load(OBJECTIVE),
  };
}

/**
 * The checkpoint folders under `root` (named by `formatCheckpointName`), newest last.
 * Leftovers of interrupted writes (`.partial-…`, `.old-…`) are ignored.
 */
export async function listCheckpoints(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => parseCheckpointName(n) !== undefined)
    .sort()
    .map((n) => join(root, n));
}

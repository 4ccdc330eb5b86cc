import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EvalReport } from '../data/eval.js';
import type { HostTensor } from '../io/index.js';
import type { QuestionResults } from './analysis.js';
import { type CheckpointContents, CheckpointError, type CheckpointState, listCheckpoints, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { type CheckpointPosition, formatCheckpointName, parseCheckpointName } from './checkpoint-name.js';
import { MetricsLog } from './metrics.js';
import type { Progress } from './progress.js';

/**
 * A run's folder: `run.json` (what the run is), `metrics.jsonl` (every step, stage and the final
 * evaluation), `checkpoints/` (named by `formatCheckpointName`) and, once finished, `result.json`.
 */
export interface RunFolder {
  readonly dir: string;
  readonly checkpointsDir: string;
  readonly metrics: MetricsLog;
}

/** What `run.json` records. */
export interface RunHeader {
  readonly recipe: string;
  readonly seed: number;
  readonly backend: string;
  readonly teacher: string | null;
  readonly stages: readonly string[];
  /** The conversations file the run trains on (`--data`); absent for procedural data. */
  readonly dataFile?: string;
}

/** A finished run, as `result.json` holds it. */
export interface RunResult {
  readonly recipe: string;
  readonly seed: number;
  readonly backend: string;
  readonly report: EvalReport;
  /** The final checkpoint. */
  readonly checkpoint: string;
  readonly seconds: number;
  /**
   * Which held-out questions were answered exactly, in evaluation order (absent in results
   * written before it was recorded): what paired comparisons between runs are computed from.
   */
  readonly questions?: QuestionResults;
}

/** The checkpoints folder of the run folder `dir`. */
export const checkpointsDirOf = (dir: string): string => join(dir, 'checkpoints');

/** Whether `dir` holds a run that has begun (so `resume` continues it rather than starting anew). */
export async function runBegun(dir: string): Promise<boolean> {
  return (await listCheckpoints(checkpointsDirOf(dir))).length > 0;
}

/**
 * Opens `dir` as a run folder (creating `checkpoints/`) after refusing misuse; returns the
 * folder and the checkpoints it already holds, oldest first.
 */
export async function openRunFolder(dir: string, header: RunHeader, resume: boolean): Promise<{ folder: RunFolder; existing: string[] }> {
  await checkRunFolder(dir, header.recipe, header.seed, resume);
  const folder: RunFolder = { dir, checkpointsDir: checkpointsDirOf(dir), metrics: new MetricsLog(join(dir, 'metrics.jsonl')) };
  await mkdir(folder.checkpointsDir, { recursive: true });
  const existing = await listCheckpoints(folder.checkpointsDir);
  if (!resume && existing.length > 0) {
    throw new CheckpointError(`${dir} already holds a run (${existing.length} checkpoint(s)); pass --resume to continue it, or choose another --out`);
  }
  return { folder, existing };
}

/** Starts a fresh run in an opened folder: an empty metrics log and `run.json`. */
export async function beginRun(folder: RunFolder, header: RunHeader): Promise<void> {
  await writeFile(folder.metrics.path, '');
  await writeFile(join(folder.dir, 'run.json'), `${JSON.stringify(header, null, 2)}\n`);
}

/**
 * Refuses a run folder used the wrong way before anything is written to it: a path that is a
 * file, `resume` on a folder that holds files but no run (no run.json), or on the run of another
 * recipe or seed. A missing or empty folder with `resume` starts the run, so a script may always
 * pass it.
 */
async function checkRunFolder(dir: string, recipe: string, seed: number, resume: boolean): Promise<void> {
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? 'folder' : 'file'),
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return 'missing';
      throw e;
    },
  );
  if (kind === 'file') throw new CheckpointError(`${dir} is a file, not a run folder; choose another --out`);
  if (!resume || kind === 'missing' || (await readdir(dir)).length === 0) return;
  let run: { readonly recipe?: unknown; readonly seed?: unknown };
  try {
    run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as typeof run;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CheckpointError(
        `${dir} is not a run folder (it holds files but no run.json), so there is nothing to resume; pass the folder of the run to continue, or choose an empty --out`,
      );
    }
    throw new CheckpointError(`${join(dir, 'run.json')} is unreadable: ${(e as Error).message}`);
  }
  if (run.recipe !== recipe || run.seed !== seed) {
    throw new CheckpointError(
      `${dir} holds a run of recipe '${String(run.recipe)}' with seed ${String(run.seed)}, not '${recipe}' with seed ${seed}; ` +
        `resume that one with \`mmkd run ${String(run.recipe)} --seed ${String(run.seed)} --out ${dir} --resume\`, or choose another --out`,
    );
  }
}

/**
 * The newest checkpoint that reads cleanly and belongs to this run (its fingerprint is the one
 * `fingerprintAt(stage index)` expects); an error says why none does.
 */
export async function newestUsableCheckpoint(
  paths: readonly string[],
  fingerprintAt: (stage: number) => string,
  progress: Progress,
): Promise<{ path: string; contents: CheckpointContents }> {
  const problems: string[] = [];
  for (const path of [...paths].reverse()) {
    try {
      const contents = await readCheckpoint(path);
      if (contents.state.fingerprint !== fingerprintAt(contents.state.stage)) {
        throw new CheckpointError(`${path} was written by a different recipe, seed, backend, teacher or model configuration (fingerprint mismatch)`);
      }
      if (problems.length > 0) progress.note(`skipped unusable checkpoints:\n  ${problems.join('\n  ')}`);
      return { path, contents };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      problems.push(e.message);
    }
  }
  throw new CheckpointError(`no usable checkpoint to resume from:\n  ${problems.join('\n  ')}`);
}

/** What a run checkpoint records besides its position and tensors. */
export type CheckpointFacts = Omit<CheckpointState, 'files' | 'format' | 'createdAt' | keyof CheckpointPosition>;

/**
 * Writes the checkpoint at `position` into the run folder and returns its path. Periodic
 * checkpoints of the same stage are superseded by it and removed; stage ends (`step` equal to
 * `stageSteps`) are kept.
 */
export async function saveCheckpoint(
  folder: RunFolder,
  position: CheckpointPosition,
  stageSteps: number,
  facts: CheckpointFacts,
  tensors: {
    readonly weights: ReadonlyMap<string, HostTensor>;
    readonly optimizer: ReadonlyMap<string, HostTensor>;
    readonly objective?: ReadonlyMap<string, HostTensor>;
  },
): Promise<string> {
  const name = formatCheckpointName(position);
  const path = join(folder.checkpointsDir, name);
  await writeCheckpoint(path, { ...facts, ...position }, tensors.weights, tensors.optimizer, tensors.objective);
  for (const other of await listCheckpoints(folder.checkpointsDir)) {
    const at = parseCheckpointName(basename(other));
    if (at === undefined || at.stage !== position.stage || other === path) continue;
    if (at.step < position.step && at.step !== stageSteps) await rm(other, { recursive: true, force: true });
  }
  return path;
}

/** The run's newest checkpoint; an error when it has none (a finished run always has one). */
export async function finalCheckpoint(folder: RunFolder): Promise<string> {
  const last = (await listCheckpoints(folder.checkpointsDir)).at(-1);
  if (last === undefined) throw new Error(`${folder.dir}: the run finished without a checkpoint in ${folder.checkpointsDir}`);
  return last;
}

export async function writeResult(folder: RunFolder, result: RunResult): Promise<void> {
  await writeFile(join(folder.dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
}

/** `{ dataFile }` for a run on a user's conversations file, nothing for procedural data. */
export const dataFileOf = (environment: { readonly data: { readonly file?: string } }): { dataFile?: string } =>
  environment.data.file === undefined ? {} : { dataFile: environment.data.file };

/**
 * The conversations file a checkpoint's run trained on, as its state records it, else as the
 * `run.json` of the run folder it sits in (`<run>/checkpoints/<name>`); undefined for procedural
 * data, or when neither says.
 */
export async function trainingFileOf(checkpoint: string, state: { readonly dataFile?: string }): Promise<string | undefined> {
  if (state.dataFile !== undefined) return state.dataFile;
  try {
    const header = JSON.parse(await readFile(join(checkpoint, '..', '..', 'run.json'), 'utf8')) as { readonly dataFile?: unknown };
    return typeof header.dataFile === 'string' ? header.dataFile : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a run's result. */
export async function readResult(dir: string): Promise<RunResult> {
  return JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;
}

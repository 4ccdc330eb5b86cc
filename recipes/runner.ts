import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import { evaluateExactMatch, type EvalReport } from '../data/eval.js';
import { hostTensor, type HostTensor } from '../io/index.js';
import type { AssignmentPool } from '../matching/pool.js';
import { copyGroups, createLlava, exportWeights, loadWeights, type LlavaModel } from '../models/index.js';
import { restoreAdamW, saveAdamW, type AdamWState } from './optim/index.js';
import { CheckpointError, checkpointName, listCheckpoints, readCheckpoint, writeCheckpoint, type CheckpointContents } from './checkpoint.js';
import { evalBatches, type RunEnvironment } from './environment.js';
import { prefixFingerprint } from './fingerprint.js';
import { MetricsLog, readMetrics, type MetricRecord } from './metrics.js';
import type { Progress } from './progress.js';
import type { Recipe, Stage } from './recipe.js';
import { stageTrainer } from './stage-trainer.js';

/** A frozen teacher, with the fingerprint of its weights (students' results depend on them). */
export interface TeacherHandle {
  readonly model: LlavaModel;
  readonly fingerprint: string;
}

export interface RunOptions {
  readonly recipe: Recipe;
  readonly seed: number;
  /** The run's folder: run.json, metrics.jsonl, checkpoints/, result.json. */
  readonly dir: string;
  /** Continue from the newest checkpoint in `dir` (else `dir` must not hold a run already). */
  readonly resume: boolean;
  readonly environment: RunEnvironment;
  /** The backend's name, for fingerprints (results differ slightly between backends). */
  readonly backend: string;
  readonly teacher?: TeacherHandle;
  /** Shares finished stages between runs that begin alike; none when absent. */
  readonly cacheDir?: string;
  /** Steps between checkpoints (there is always one at the end of a stage). */
  readonly checkpointEvery: number;
  readonly progress: Progress;
  /** Solves matchers' assignments on worker threads. */
  readonly pool?: AssignmentPool;
  /** Stops with an error naming the stage and step when the device is lost (WebGPU). */
  readonly deviceLoss?: DeviceLossWatch;
}

export interface RunResult {
  readonly recipe: string;
  readonly seed: number;
  readonly backend: string;
  readonly report: EvalReport;
  /** The final checkpoint. */
  readonly checkpoint: string;
  readonly seconds: number;
}

/** Where a run starts: a stage and the steps of it already done, with weights and optimizer. */
interface Start {
  readonly stage: number;
  readonly step: number;
  readonly optimizer?: CheckpointContents['optimizer'];
  readonly optimizerStep?: number;
}

/**
 * Trains a recipe's stages in order and scores the result by exact match on the held-out
 * questions. Checkpoints are written every `checkpointEvery` steps and at the end of each stage;
 * a run killed at any point resumes from its last checkpoint with `resume` and ends with the
 * same metrics as one never interrupted (same backend). Every tensor a stage makes is released.
 */
export async function runRecipe(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { recipe, seed, dir, environment } = options;
  if ((recipe.needsTeacher || recipe.visionFromTeacher) && options.teacher === undefined) {
    throw new Error(`recipe '${recipe.name}' needs a teacher checkpoint`);
  }
  const config = environment.configs[recipe.model];
  const fingerprint = (stages: number) =>
    prefixFingerprint({ config, recipe, stages, seed, backend: options.backend, teacher: options.teacher?.fingerprint ?? null, data: environment.data.fingerprint });
  const checkpointsDir = join(dir, 'checkpoints');
  await mkdir(checkpointsDir, { recursive: true });
  const metrics = new MetricsLog(join(dir, 'metrics.jsonl'));
  const stageNames = recipe.stages.map((s) => s.name);

  const model = createLlava(config, { seed });
  try {
    if (recipe.visionFromTeacher) copyGroups(options.teacher!.model, model, ['vision']);
    let start: Start = { stage: 0, step: 0 };
    const existing = await listCheckpoints(checkpointsDir);
    if (options.resume && existing.length > 0) {
      const contents = await newestValid(existing, fingerprint, options.progress);
      loadInto(model, contents.weights, contents.state.stage, existing.at(-1)!);
      start = contents.state.complete
        ? { stage: recipe.stages.length, step: 0 }
        : { stage: contents.state.stage, step: contents.state.step, optimizer: contents.optimizer, optimizerStep: contents.state.optimizerStep };
      await metrics.truncateTo(stageNames, start.stage, start.step);
      options.progress.note(`resuming ${recipe.name} from ${contents.state.stageName} step ${contents.state.step}`);
    } else {
      if (existing.length > 0) {
        throw new CheckpointError(`${dir} already holds a run (${existing.length} checkpoint(s)); pass --resume to continue it, or choose another --out`);
      }
      await writeFile(join(dir, 'metrics.jsonl'), '');
      await writeFile(
        join(dir, 'run.json'),
        `${JSON.stringify({ recipe: recipe.name, seed, backend: options.backend, teacher: options.teacher?.fingerprint ?? null, stages: stageNames }, null, 2)}\n`,
      );
      start = await fromCache(options, model, fingerprint, metrics);
    }

    for (let index = start.stage; index < recipe.stages.length; index++) {
      const stage = recipe.stages[index]!;
      const resumed = index === start.stage ? start : { stage: index, step: 0 };
      await trainStage(options, model, index, stage, resumed, fingerprint(index + 1), metrics, checkpointsDir);
      if (options.cacheDir) await cacheStage(options.cacheDir, fingerprint(index + 1), model, metrics, stage.name);
    }

    const report = await evaluateExactMatch(model.forward, evalBatches(environment, recipe.model));
    await metrics.append({ type: 'eval', report });
    const last = (await listCheckpoints(checkpointsDir)).at(-1)!;
    const result: RunResult = { recipe: recipe.name, seed, backend: options.backend, report, checkpoint: last, seconds: (performance.now() - started) / 1000 };
    await writeFile(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    model.dispose();
  }
}

/** The newest checkpoint that reads cleanly and belongs to this run; an error says why none does. */
async function newestValid(paths: readonly string[], fingerprint: (stages: number) => string, progress: Progress): Promise<CheckpointContents> {
  const problems: string[] = [];
  for (const path of [...paths].reverse()) {
    try {
      const contents = await readCheckpoint(path);
      const expected = fingerprint(contents.state.stage + 1);
      if (contents.state.fingerprint !== expected) {
        throw new CheckpointError(`${path} was written by a different recipe, seed, backend, teacher or model configuration (fingerprint mismatch)`);
      }
      if (problems.length > 0) progress.note(`skipped unusable checkpoints:\n  ${problems.join('\n  ')}`);
      return contents;
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      problems.push(e.message);
    }
  }
  throw new CheckpointError(`no usable checkpoint to resume from:\n  ${problems.join('\n  ')}`);
}

function loadInto(model: LlavaModel, weights: ReadonlyMap<string, HostTensor>, stage: number, path: string): void {
  const flat = new Map([...weights].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]));
  try {
    loadWeights(model, flat);
  } catch (e) {
    throw new CheckpointError(`${path} (stage ${stage}) does not fit the model: ${(e as Error).message}`);
  }
}

/** Restores the longest run of leading stages that an earlier run already trained. */
async function fromCache(options: RunOptions, model: LlavaModel, fingerprint: (stages: number) => string, metrics: MetricsLog): Promise<Start> {
  if (!options.cacheDir) return { stage: 0, step: 0 };
  for (let stages = options.recipe.stages.length; stages >= 1; stages--) {
    const entry = join(options.cacheDir, fingerprint(stages));
    let contents: CheckpointContents;
    try {
      contents = await readCheckpoint(entry);
    } catch {
      continue;
    }
    loadInto(model, contents.weights, stages - 1, entry);
    const cached = await readMetrics(join(entry, 'metrics.jsonl')).catch(() => [] as MetricRecord[]);
    for (const record of cached) await metrics.append(record.type === 'stage' ? { ...record, from: 'cache' } : record);
    options.progress.note(`${options.recipe.stages.slice(0, stages).map((s) => s.name).join(' → ')}: reused from the stage cache`);
    return { stage: stages, step: 0 };
  }
  return { stage: 0, step: 0 };
}

async function cacheStage(cacheDir: string, key: string, model: LlavaModel, metrics: MetricsLog, stageName: string): Promise<void> {
  const entry = join(cacheDir, key);
  try {
    await readCheckpoint(entry);
    return; // already cached
  } catch {
    // not yet
  }
  await mkdir(cacheDir, { recursive: true });
  await writeCheckpoint(entry, { recipe: 'stage-cache', seed: 0, backend: '', fingerprint: key, stage: 0, stageName, step: 0, complete: true, optimizerStep: 0 }, await weightsOf(model), new Map());
  const records = await readMetrics(metrics.path);
  await writeFile(join(entry, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

async function weightsOf(model: LlavaModel): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, w] of await exportWeights(model)) out.set(name, hostTensor('float32', w.shape, w.data));
  return out;
}

async function trainStage(
  options: RunOptions,
  model: LlavaModel,
  index: number,
  stage: Stage,
  start: Start,
  fingerprint: string,
  metrics: MetricsLog,
  checkpointsDir: string,
): Promise<void> {
  const { recipe, progress } = options;
  const trainer = stageTrainer({
    environment: options.environment,
    kind: recipe.model,
    seed: options.seed,
    stage,
    model,
    ...(options.teacher ? { teacher: options.teacher.model } : {}),
    ...(start.optimizer ? { state: restoreAdamW(savedAdamW(start.optimizer, start.optimizerStep ?? 0)) } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.deviceLoss ? { deviceLoss: options.deviceLoss } : {}),
  });
  const stageStarted = performance.now();
  progress.stage(stage.name, stage.steps, start.step > 0 ? `continuing at step ${start.step}` : undefined);
  try {
    for (let step = start.step; step < stage.steps; step++) {
      const { loss, terms, lr } = await trainer.step(step);
      if (!Number.isFinite(loss)) {
        throw new Error(`the loss of ${recipe.name} became ${loss} in stage '${stage.name}' at step ${step}; the last checkpoint is in ${checkpointsDir}`);
      }
      await metrics.append({ type: 'step', stage: stage.name, step, loss, terms, lr, seconds: (performance.now() - stageStarted) / 1000 });
      progress.step(step, loss, terms);
      const done = step + 1;
      if (done === stage.steps || done % options.checkpointEvery === 0) {
        await checkpoint(options, model, trainer.state(), index, stage, done, fingerprint, checkpointsDir);
      }
    }
  } finally {
    trainer.dispose();
  }
  const seconds = (performance.now() - stageStarted) / 1000;
  await metrics.append({ type: 'stage', stage: stage.name, steps: stage.steps, seconds, from: 'trained' });
  progress.done(`${stage.steps} steps in ${seconds.toFixed(1)} s`);
}

async function checkpoint(
  options: RunOptions,
  model: LlavaModel,
  state: AdamWState,
  index: number,
  stage: Stage,
  step: number,
  fingerprint: string,
  checkpointsDir: string,
): Promise<void> {
  const saved = await saveAdamW(state);
  const optimizer = new Map([...saved.tensors].map(([name, t]) => [name, hostTensor('float32', t.shape, t.data)]));
  const complete = index === options.recipe.stages.length - 1 && step === stage.steps;
  const name = checkpointName(index, stage.name, step);
  await writeCheckpoint(
    join(checkpointsDir, name),
    { recipe: options.recipe.name, seed: options.seed, backend: options.backend, fingerprint, stage: index, stageName: stage.name, step, complete, optimizerStep: saved.step },
    await weightsOf(model),
    optimizer,
  );
  // Periodic checkpoints of this stage are superseded by the newer one; stage ends are kept.
  for (const path of await listCheckpoints(checkpointsDir)) {
    const match = /(\d{2})-[\w-]+-(\d{6})$/.exec(path);
    if (match === null || Number(match[1]) !== index || path.endsWith(name)) continue;
    if (Number(match[2]) < step && Number(match[2]) !== stage.steps) await rm(path, { recursive: true, force: true });
  }
}

function savedAdamW(tensors: ReadonlyMap<string, HostTensor>, step: number) {
  return { step, tensors: new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])) };
}

/** Reads a run's result. */
export async function readResult(dir: string): Promise<RunResult> {
  return JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;
}

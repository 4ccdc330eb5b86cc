import { basename, join } from 'node:path';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import { copyGroups, createLlava, type LlavaModel, loadWeights } from '../models/index.js';
import { evalBatches, type RunEnvironment } from './environment.js';
import { evaluateQuestions } from './evaluation.js';
import { prefixFingerprint } from './fingerprint.js';
import { loadCheckpointWeights, modelWeights } from './model-state.js';
import type { Progress } from './progress.js';
import type { Recipe } from './recipe.js';
import {
  beginRun,
  dataFileOf,
  finalCheckpoint,
  newestUsableCheckpoint,
  openRunFolder,
  type RunFolder,
  type RunHeader,
  type RunResult,
  readResult,
  saveCheckpoint,
  writeResult,
} from './run-folder.js';
import { signalsFingerprint } from './signals/recipe-signals.js';
import type { TeacherSignals } from './signals/store.js';
import { cacheStage, restoreFromCache } from './stage-cache.js';
import { type StageLoopOptions, type StageStart, trainStage } from './stage-loop.js';
import type { TeacherVision } from './teacher.js';

export { type RunResult, readResult } from './run-folder.js';

/** A frozen teacher, with the fingerprint of its weights (students' results depend on them). */
export interface TeacherHandle {
  readonly model: LlavaModel;
  readonly fingerprint: string;
}

/** What `runRecipe` trains, where, on what, and how it reports. */
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
  /** Called with each checkpoint's path once it is written (tests use it to stop a run there). */
  readonly afterCheckpoint?: (path: string) => void | Promise<void>;
  /**
   * Offline teacher signals by stage name (`openRecipeSignals`), read instead of running the
   * teacher; the recipe's objectives must read them (`signalsRecipe`). A `teacher` is then needed
   * only when the recipe starts from its vision encoder.
   */
  readonly signals?: ReadonlyMap<string, TeacherSignals>;
  /**
   * With `signals` and no `teacher`: the teacher's vision encoder alone (`loadTeacherVision`), for
   * a recipe that starts from it; the teacher is then never built.
   */
  readonly teacherVision?: TeacherVision;
}

/** Where a run starts: a stage, and how far into it (with what a checkpoint restores). */
interface Start extends StageStart {
  readonly stage: number;
}

/**
 * Trains a recipe's stages in order and scores the result by exact match on the held-out
 * questions. Checkpoints are written every `checkpointEvery` steps and at the end of each stage;
 * a run killed at any point resumes from its last checkpoint with `resume` and ends with the
 * same metrics as one never interrupted (same backend); a finished run resumed returns the result
 * it wrote without evaluating again (`keptResult`). A run folder always ends with a final
 * checkpoint, also when every stage came from the stage cache. Every tensor a stage makes is
 * released.
 */
export async function runRecipe(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { recipe, seed, environment } = options;
  if (
    ((recipe.visionFromTeacher && options.teacherVision === undefined) || (recipe.needsTeacher && options.signals === undefined)) &&
    options.teacher === undefined
  ) {
    throw new Error(`recipe '${recipe.name}' needs a teacher checkpoint`);
  }
  const config = environment.configs[recipe.model];
  // From the first stage that reads signals on, a run differs from one with the teacher in the
  // loop: its fingerprint says which signals. Stages before it are shared with the teacher's runs.
  const plainTeacher = options.teacher?.fingerprint ?? options.teacherVision?.fingerprint ?? null;
  const signals = options.signals;
  const teacherId = signals === undefined ? plainTeacher : `${plainTeacher ?? 'no teacher'}+signals:${signalsFingerprint(signals)}`;
  const teacherFor = (stages: number) => (recipe.stages.slice(0, stages).some((s) => signals?.has(s.name)) ? teacherId : plainTeacher);
  const fingerprint = (stages: number) =>
    prefixFingerprint({
      config,
      recipe,
      stages,
      seed,
      backend: options.backend,
      teacher: teacherFor(stages),
      data: environment.data.fingerprint,
    });
  const header: RunHeader = {
    recipe: recipe.name,
    seed,
    backend: options.backend,
    teacher: teacherId,
    stages: recipe.stages.map((s) => s.name),
    ...dataFileOf(environment),
  };
  const { folder, existing } = await openRunFolder(options.dir, header, options.resume);

  const model = createLlava(config, { seed });
  try {
    if (recipe.visionFromTeacher) {
      if (options.teacher) copyGroups(options.teacher.model, model, ['vision']);
      else loadWeights(model, options.teacherVision!.weights, { groups: ['vision'], source: options.teacherVision!.source });
    }
    // A resume with nothing to resume starts the run (so a script may always pass it), but says
    // so: a mistyped folder would otherwise train from scratch without a word.
    if (options.resume && existing.length === 0) options.progress.note(`no run in ${options.dir} yet: starting a new run`);
    const start =
      options.resume && existing.length > 0
        ? await resumeFrom(options, folder, existing, model, fingerprint)
        : await beginFresh(options, folder, header, model, fingerprint);

    // A finished run resumed (a study collecting its runs) keeps the result it wrote when it
    // finished, if that result is of the checkpoint the run ends with now: evaluating again
    // would give the same answers at the cost of a pass over the held-out questions, and would
    // overwrite how long the run took to train.
    if (start.stage === recipe.stages.length) {
      const kept = await keptResult(folder, options);
      if (kept !== undefined) {
        // Resuming dropped the evaluation from metrics.jsonl (as for any resume); it is the same.
        await folder.metrics.append({ type: 'eval', report: kept.report });
        options.progress.note(`${recipe.name} finished before: its result (${join(folder.dir, 'result.json')}) is kept`);
        return kept;
      }
    }

    const { teacher, ...shared } = options;
    const loop: StageLoopOptions = { ...shared, folder, ...(teacher ? { teacher: teacher.model } : {}) };
    for (let index = start.stage; index < recipe.stages.length; index++) {
      await trainStage(loop, model, index, index === start.stage ? start : { step: 0 }, fingerprint(index + 1));
      if (options.cacheDir) await cacheStage(options.cacheDir, fingerprint(index + 1), model, folder.metrics, recipe.stages[index]!.name);
    }

    const { report, questions } = await evaluateQuestions(model.forward, evalBatches(environment, recipe.model));
    await folder.metrics.append({ type: 'eval', report });
    const result: RunResult = {
      recipe: recipe.name,
      seed,
      backend: options.backend,
      report,
      checkpoint: await finalCheckpoint(folder),
      seconds: (performance.now() - started) / 1000,
      questions,
    };
    await writeResult(folder, result);
    return result;
  } finally {
    model.dispose();
  }
}

/**
 * The result a finished run wrote, when it belongs to this run (recipe, seed, backend), is of the
 * run's final checkpoint (by name: the folder may be reached by another path), was scored on as
 * many questions and holds the per-question results paired comparisons need; else undefined
 * (then the run is evaluated again).
 */
async function keptResult(folder: RunFolder, options: RunOptions): Promise<RunResult | undefined> {
  let result: RunResult;
  try {
    result = await readResult(folder.dir);
  } catch {
    return undefined;
  }
  const ours = result.recipe === options.recipe.name && result.seed === options.seed && result.backend === options.backend;
  // Scored on as many held-out questions as this environment asks for (else scored again: a
  // caller may have changed evalSamples; a smaller held-out set merely costs an evaluation).
  const sameQuestions = result.report.samples === options.environment.evalSamples;
  return ours && sameQuestions && result.questions !== undefined && basename(result.checkpoint) === basename(await finalCheckpoint(folder))
    ? result
    : undefined;
}

/** Continues from the newest usable checkpoint: its weights, and where it stood. */
async function resumeFrom(
  options: RunOptions,
  folder: RunFolder,
  existing: readonly string[],
  model: LlavaModel,
  fingerprint: (stages: number) => string,
): Promise<Start> {
  const { recipe } = options;
  const { path, contents } = await newestUsableCheckpoint(existing, (stage) => fingerprint(stage + 1), options.progress);
  loadCheckpointWeights(model, contents.weights, path);
  const { state } = contents;
  // A stage's last checkpoint ends it: the run continues with the next stage (fresh optimizer).
  const stageDone = state.complete || state.step >= recipe.stages[state.stage]!.steps;
  const start: Start = stageDone
    ? { stage: state.stage + 1, step: 0 }
    : { stage: state.stage, step: state.step, optimizer: contents.optimizer, optimizerStep: state.optimizerStep, objective: contents.objective, source: path };
  await folder.metrics.truncateTo(
    recipe.stages.map((s) => s.name),
    start.stage,
    start.step,
  );
  options.progress.note(`resuming ${recipe.name} from ${state.stageName} step ${state.step} (${path})`);
  return start;
}

/**
 * Starts a new run: the longest run of leading stages an earlier run trained comes from the
 * stage cache, and the end of the last of them is written as the run's own checkpoint (so a run
 * whose stages all come from the cache still ends with one, and a kill in the next stage
 * resumes from there).
 */
async function beginFresh(
  options: RunOptions,
  folder: RunFolder,
  header: RunHeader,
  model: LlavaModel,
  fingerprint: (stages: number) => string,
): Promise<Start> {
  const { recipe } = options;
  await beginRun(folder, header);
  if (!options.cacheDir) return { stage: 0, step: 0 };
  const restored = await restoreFromCache(options.cacheDir, recipe.stages.length, fingerprint, model, folder.metrics);
  if (restored === 0) return { stage: 0, step: 0 };
  const last = recipe.stages[restored - 1]!;
  const path = await saveCheckpoint(
    folder,
    { stage: restored - 1, stageName: last.name, step: last.steps },
    last.steps,
    {
      recipe: recipe.name,
      seed: options.seed,
      backend: options.backend,
      fingerprint: fingerprint(restored),
      complete: restored === recipe.stages.length,
      optimizerStep: 0,
      ...dataFileOf(options.environment),
    },
    { weights: await modelWeights(model), optimizer: new Map() },
  );
  options.progress.note(
    `${recipe.stages
      .slice(0, restored)
      .map((s) => s.name)
      .join(' → ')}: reused from the stage cache (checkpoint ${path})`,
  );
  return { stage: restored, step: 0 };
}

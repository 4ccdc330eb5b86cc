import type { DeviceLossWatch } from '../backends/device-loss.js';
import type { SignalOutputs } from '../core/outputs.js';
import { type HostTensor, hostTensor } from '../io/index.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import type { LlavaModel } from '../models/index.js';
import type { RunEnvironment } from './environment.js';
import type { MetricRecord } from './metrics.js';
import { float32Entries, modelWeights, variableValues } from './model-state.js';
import { restoreAdamW, saveAdamW } from './optim/index.js';
import type { Progress } from './progress.js';
import type { Recipe, Stage } from './recipe.js';
import { dataFileOf, type RunFolder, saveCheckpoint } from './run-folder.js';
import { signalOutputsAt } from './signals/recipe-signals.js';
import type { TeacherSignals } from './signals/store.js';
import { type StageTrainer, stageTrainer } from './stage-trainer.js';

/** What the loop of every stage of one run shares. */
export interface StageLoopOptions {
  readonly recipe: Recipe;
  readonly seed: number;
  readonly backend: string;
  readonly environment: RunEnvironment;
  readonly teacher?: LlavaModel;
  readonly folder: RunFolder;
  readonly checkpointEvery: number;
  readonly progress: Progress;
  readonly pool?: AssignmentPool;
  readonly deviceLoss?: DeviceLossWatch;
  /** Called with each checkpoint's path once it is written (tests use it to kill the process there). */
  readonly afterCheckpoint?: (path: string) => void | Promise<void>;
  /** Offline teacher signals by stage name, read instead of running the teacher (`signalsRecipe`). */
  readonly signals?: ReadonlyMap<string, TeacherSignals>;
}

/** Where a stage starts: the steps of it already done, and what a checkpoint restores with them. */
export interface StageStart {
  readonly step: number;
  readonly optimizer?: ReadonlyMap<string, HostTensor>;
  readonly optimizerStep?: number;
  /** The objective's own parameters (a feature projection), when it has any. */
  readonly objective?: ReadonlyMap<string, HostTensor>;
  /** The checkpoint the start comes from (names it in errors). */
  readonly source?: string;
}

/**
 * Trains stage `index` of the recipe from `start` to its end: one step at a time, a metrics line
 * per step, a checkpoint every `checkpointEvery` steps and at the end (model weights, optimizer
 * moments, objective parameters), then the stage's summary line and record.
 */
export async function trainStage(loop: StageLoopOptions, model: LlavaModel, index: number, start: StageStart, fingerprint: string): Promise<void> {
  const { recipe, progress, folder } = loop;
  const stage = recipe.stages[index]!;
  const source = start.source ?? folder.dir;
  const signals = loop.signals?.get(stage.name);
  const signalsSource = signals === undefined ? undefined : signalSource(signals, loop, stage);
  const trainer = stageTrainer({
    environment: loop.environment,
    kind: recipe.model,
    seed: loop.seed,
    stage,
    model,
    ...(loop.teacher ? { teacher: loop.teacher } : {}),
    ...(start.optimizer ? { state: restoreAdamW({ step: start.optimizerStep ?? 0, tensors: start.optimizer }, source) } : {}),
    ...(start.objective && start.objective.size > 0 ? { parameters: float32Entries(start.objective, source) } : {}),
    ...(loop.pool ? { pool: loop.pool } : {}),
    ...(loop.deviceLoss ? { deviceLoss: loop.deviceLoss } : {}),
    ...(signalsSource ? { signals: { probe: await signalsSource(0), at: signalsSource } } : {}),
  });
  const resumed = start.step > 0;
  const stageStarted = performance.now();
  let recorded = false;
  progress.stage(stage.name, stage.steps, resumed ? `continuing at step ${start.step}` : undefined, start.step);
  try {
    for (let step = start.step; step < stage.steps; step++) {
      const { loss, terms, lr } = await trainer.step(step);
      if (!Number.isFinite(loss)) {
        throw new Error(
          `the loss of ${recipe.name} became ${loss} in stage '${stage.name}' at step ${step}; the last checkpoint is in ${folder.checkpointsDir}`,
        );
      }
      await folder.metrics.append({ type: 'step', stage: stage.name, step, loss, terms, lr, seconds: (performance.now() - stageStarted) / 1000 });
      progress.step(step, loss, terms);
      const done = step + 1;
      // The stage's record goes in before its last checkpoint, so a run killed between the two
      // resumes from the checkpoint before, which drops the record and trains the steps again.
      if (done === stage.steps) {
        await folder.metrics.append(stageRecord(stage.name, stage.steps, stageStarted, start.step));
        recorded = true;
      }
      if (done === stage.steps || done % loop.checkpointEvery === 0) {
        const path = await checkpoint(loop, model, trainer, index, done, fingerprint);
        await loop.afterCheckpoint?.(path);
      }
    }
  } finally {
    trainer.dispose();
  }
  if (!recorded) await folder.metrics.append(stageRecord(stage.name, stage.steps, stageStarted, start.step)); // a stage with no steps left
  const seconds = (performance.now() - stageStarted) / 1000;
  // After a resume, say which steps this process trained (the time is theirs alone).
  progress.done(
    resumed
      ? `steps ${start.step + 1}–${stage.steps} (resumed at ${start.step}) in ${seconds.toFixed(1)} s`
      : `${stage.steps} steps in ${seconds.toFixed(1)} s`,
  );
}

/** Step `step`'s teacher side from the stage's signals. */
const signalSource =
  (signals: TeacherSignals, loop: StageLoopOptions, stage: Stage) =>
  (step: number): Promise<SignalOutputs> =>
    signalOutputsAt(signals, loop.environment, stage, loop.seed, step);

function stageRecord(name: string, steps: number, started: number, resumedAt: number): MetricRecord {
  const seconds = (performance.now() - started) / 1000;
  return { type: 'stage', stage: name, steps, seconds, from: 'trained', ...(resumedAt > 0 ? { resumedAt } : {}) };
}

async function checkpoint(loop: StageLoopOptions, model: LlavaModel, trainer: StageTrainer, index: number, step: number, fingerprint: string): Promise<string> {
  const stage = loop.recipe.stages[index]!;
  const saved = await saveAdamW(trainer.state());
  const optimizer = new Map([...saved.tensors].map(([name, t]) => [name, hostTensor('float32', t.shape, t.data)]));
  const complete = index === loop.recipe.stages.length - 1 && step === stage.steps;
  return saveCheckpoint(
    loop.folder,
    { stage: index, stageName: stage.name, step },
    stage.steps,
    { recipe: loop.recipe.name, seed: loop.seed, backend: loop.backend, fingerprint, complete, optimizerStep: saved.step, ...dataFileOf(loop.environment) },
    { weights: await modelWeights(model), optimizer, objective: await variableValues(trainer.parameters()) },
  );
}

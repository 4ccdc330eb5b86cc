/**
 * A training session of the studio: a recipe's stages trained in order against a teacher, step
 * by step, in whatever tfjs backend is active, as `mmkd run` trains them (the same models from
 * the same seeds, the same stage trainer, batches and optimizer), so a tab's numbers equal a Node
 * run's within the backends' tolerance. Stopping keeps the stage's trainer (weights, optimizer
 * moments) in memory; resuming continues at the next step. Free of Node's modules.
 */
import type { DeviceLossWatch } from '../backends/device-loss.js';
import { type EvalReport, summarize, teacherForcedExactMatch } from '../data/eval.js';
import type { HostTensor } from '../io/host-tensor.js';
import { copyGroups, createLlava, exportWeights, type LlavaModel, loadWeights } from '../models/index.js';
import { type CheckpointFileState, writeCheckpointFile } from '../recipes/checkpoint-file.js';
import type { RunEnvironment } from '../recipes/environment.js';
import { evalBatches } from '../recipes/environment.js';
import type { Recipe } from '../recipes/recipe.js';
import { type StageTrainer, stageTrainer } from '../recipes/stage-trainer.js';

/** One trained step, as metrics.jsonl records it. */
export interface StudioStep {
  readonly stage: string;
  readonly step: number;
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly lr: number;
}

export interface SessionOptions {
  readonly recipe: Recipe;
  readonly seed: number;
  readonly environment: RunEnvironment;
  /** The teacher's weights (the shipped teacher's weights.safetensors), when the recipe needs them. */
  readonly teacherWeights?: ReadonlyMap<string, HostTensor>;
  /** The teacher's fingerprint (SHA-256 of its weights file), recorded in checkpoints. */
  readonly teacherFingerprint?: string;
  /** The backend's name, recorded in checkpoints. */
  readonly backend: string;
  /**
   * The stage to start at (default 0, the first). Earlier stages are skipped: the student starts
   * from its seeded initialisation (and the teacher's vision encoder where the recipe copies it),
   * as the browser checks train a stage on its own.
   */
  readonly startStage?: number;
  /** WebGPU's device-loss watch: a step on a lost device fails with a message naming it. */
  readonly deviceLoss?: DeviceLossWatch;
}

/** Where training stands: the stage index and the steps of it done. */
export interface Position {
  readonly stage: number;
  readonly step: number;
}

export interface Session {
  readonly recipe: Recipe;
  /** Total steps of the stages this session trains, and steps done so far. */
  readonly total: number;
  done(): number;
  position(): Position;
  finished(): boolean;
  /**
   * Trains until the recipe ends, `stop()` is called, or `limit` more steps are done; calls
   * `onStep` after every step. Resolves once training pauses.
   */
  train(onStep: (step: StudioStep) => void, limit?: number): Promise<void>;
  /** Asks a running `train` to pause after its current step. */
  stop(): void;
  /** The student as a single-file checkpoint (`mmkd evaluate` reads it). */
  checkpoint(): Promise<Uint8Array>;
  /**
   * Exact match per question type of the student, or of the teacher, on the held-out questions
   * (batches of 100, as `mmkd evaluate`); `onBatch` sees the report so far after each batch.
   */
  evaluate(
    which: 'student' | 'teacher',
    onBatch?: (report: EvalReport, scored: number, total: number) => void | Promise<void>,
  ): Promise<{ report: EvalReport }>;
  readonly student: LlavaModel;
  readonly teacher: LlavaModel | undefined;
  dispose(): void;
}

/** Builds the models as `runRecipe` does (student from the seed, vision from the teacher where the recipe says). */
export function createSession(options: SessionOptions): Session {
  const { recipe, seed, environment } = options;
  if ((recipe.needsTeacher || recipe.visionFromTeacher) && options.teacherWeights === undefined) {
    throw new Error(`recipe '${recipe.name}' needs the teacher's weights`);
  }
  let teacher: LlavaModel | undefined;
  if (options.teacherWeights !== undefined && (recipe.needsTeacher || recipe.visionFromTeacher)) {
    teacher = createLlava(environment.configs.teacher, { seed: 0 });
    loadWeights(teacher, options.teacherWeights, { source: 'the shipped teacher' });
  }
  const student = createLlava(environment.configs[recipe.model], { seed });
  if (recipe.visionFromTeacher && teacher) copyGroups(teacher, student, ['vision']);

  const first = options.startStage ?? 0;
  if (!Number.isInteger(first) || first < 0 || first >= recipe.stages.length) {
    throw new Error(`recipe '${recipe.name}' has stages 0 to ${recipe.stages.length - 1}, not ${first}`);
  }
  const total = recipe.stages.slice(first).reduce((n, s) => n + s.steps, 0);
  let stage = first;
  let step = 0;
  let trainer: StageTrainer | undefined;
  let stopping = false;
  let running = false;

  const doneSteps = (): number => recipe.stages.slice(first, stage).reduce((n, s) => n + s.steps, 0) + step;
  const finished = (): boolean => stage >= recipe.stages.length;

  return {
    recipe,
    total,
    student,
    teacher,
    done: doneSteps,
    position: () => ({ stage, step }),
    finished,
    async train(onStep, limit = Number.POSITIVE_INFINITY) {
      if (running) throw new Error('this session is already training');
      running = true;
      stopping = false;
      let trained = 0;
      try {
        while (!finished() && !stopping && trained < limit) {
          const current = recipe.stages[stage]!;
          if (step >= current.steps) {
            trainer?.dispose();
            trainer = undefined;
            stage++;
            step = 0;
            continue;
          }
          trainer ??= stageTrainer({
            environment,
            kind: recipe.model,
            seed,
            stage: current,
            model: student,
            ...(teacher ? { teacher } : {}),
            ...(options.deviceLoss ? { deviceLoss: options.deviceLoss } : {}),
          });
          const outcome = await trainer.step(step);
          onStep({ stage: current.name, step, loss: outcome.loss, terms: outcome.terms, lr: outcome.lr });
          step++;
          trained++;
          if (step >= current.steps) {
            trainer.dispose();
            trainer = undefined;
            stage++;
            step = 0;
          }
        }
      } finally {
        running = false;
      }
    },
    stop() {
      stopping = true;
    },
    async checkpoint() {
      const last = Math.min(stage, recipe.stages.length - 1);
      const atEnd = stage >= recipe.stages.length;
      const state: CheckpointFileState = {
        recipe: recipe.name,
        seed,
        backend: options.backend,
        stage: last,
        stageName: recipe.stages[last]!.name,
        step: atEnd ? recipe.stages[last]!.steps : step,
        complete: atEnd,
        ...(options.teacherFingerprint === undefined ? {} : { teacher: options.teacherFingerprint }),
      };
      return writeCheckpointFile(await exportWeights(student), state);
    },
    async evaluate(which, onBatch) {
      const model = which === 'teacher' ? teacher : student;
      if (model === undefined) throw new Error('this recipe has no teacher');
      const kinds: string[] = [];
      const correct: boolean[] = [];
      for (const batch of evalBatches(environment, which === 'teacher' ? 'teacher' : recipe.model)) {
        kinds.push(...batch.kinds);
        correct.push(...(await teacherForcedExactMatch(model.forward, batch)));
        await onBatch?.(summarize(kinds, correct), correct.length, environment.evalSamples);
      }
      return { report: summarize(kinds, correct) };
    },
    dispose() {
      trainer?.dispose();
      student.dispose();
      teacher?.dispose();
    },
  };
}

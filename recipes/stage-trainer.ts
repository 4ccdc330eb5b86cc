import * as tf from '@tensorflow/tfjs-core';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import { compile } from '../compile/compile.js';
import { type DistillInputs, type SideInputs, type SideOutputs, type SignalOutputs, tensorsOf } from '../core/outputs.js';
import { emptyPlan } from '../core/plan.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import { matchesOf } from '../matching/planner.js';
import type { LlavaModel, ModelInputs } from '../models/index.js';
import { readsTeacher } from './catalog.js';
import { type RunEnvironment, trainingBatch } from './environment.js';
import { type AdamWState, cosineWithWarmup, DEFAULT_ADAMW, initAdamW, trainStep, warmupStepsFor } from './optim/index.js';
import type { ModelKind, Stage } from './recipe.js';
import { forwardFor, headForwardFor } from './text-forward.js';

export interface StepOutcome {
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly lr: number;
}

/** Trains one stage step by step; no files, so it runs in Node and in a browser tab alike. */
export interface StageTrainer {
  /** Trains step `step` (steps are pure functions of the seed, so any order replays exactly). */
  step(step: number): Promise<StepOutcome>;
  /** The optimizer state, for checkpoints (owned by the trainer). */
  readonly state: () => AdamWState;
  /**
   * The objective's own trainable parameters (a feature projection), by name, for checkpoints
   * (owned by the trainer; empty when the objective has none). They train with the stage's groups.
   */
  readonly parameters: () => ReadonlyMap<string, tf.Variable>;
  dispose(): void;
}

export interface StageTrainerOptions {
  readonly environment: RunEnvironment;
  readonly kind: ModelKind;
  readonly seed: number;
  readonly stage: Stage;
  readonly model: LlavaModel;
  readonly teacher?: LlavaModel;
  /** The optimizer state to continue from (a resumed run); a fresh one otherwise. */
  readonly state?: AdamWState;
  /**
   * Values of the objective's own parameters to continue from (a resumed run), by name; every
   * parameter the objective owns must be given, with its shape. Fresh (seeded) ones otherwise.
   */
  readonly parameters?: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
  readonly pool?: AssignmentPool;
  readonly deviceLoss?: DeviceLossWatch;
  /**
   * The teacher's side from offline top-k signals instead of running `teacher` (whose objective
   * reads `teacher.topk` views): step 0's for compiling, and any step's.
   */
  readonly signals?: StageSignalSource;
}

/** A stage's teacher signals, step by step (see `signalOutputsAt`). */
export interface StageSignalSource {
  readonly probe: SignalOutputs;
  at(step: number): Promise<SignalOutputs>;
}

/**
 * One training step of a stage: the teacher's forward pass (when the objective reads it), the
 * matchers' plan (when it has matchers: one extra forward pass of the student without gradients,
 * since matching compares the student's current outputs), then the loss, its gradients for the
 * stage's trainable groups and the objective's own parameters, and one AdamW update. Every
 * tensor a step makes is released.
 */
export function stageTrainer(options: StageTrainerOptions): StageTrainer {
  const { environment, kind, seed, stage, model } = options;
  const withTeacher = readsTeacher(stage.objective);
  if (withTeacher && options.teacher === undefined && options.signals === undefined)
    throw new Error(`stage '${stage.name}' reads the teacher, but none was given`);
  const matching = matchesOf(stage.objective).size > 0;
  // The student's forward: with `fusedHead`, hidden states and a transposed copy of `llm.head`.
  const forward: (inputs: ModelInputs) => SideInputs = stage.fusedHead === true ? headForwardFor(model, stage.data) : forwardFor(model, stage.data);
  const teacherForward = options.teacher ? forwardFor(options.teacher, stage.data) : undefined;
  const schedule = cosineWithWarmup({ peak: stage.lr, warmupSteps: warmupStepsFor(stage.steps, stage.warmupRatio), totalSteps: stage.steps });
  let state = options.state ?? initAdamW();
  const teacherAt = (step: number): SideOutputs | undefined =>
    withTeacher && !options.signals ? teacherForward!(trainingBatch(environment, stage.data, 'teacher', seed, step, stage.batchSize)) : undefined;
  // A head side's weight is the transposed copy `headForwardFor` made (never the variable itself).
  const release = (out: SideInputs | undefined) => {
    if (out) tf.dispose(tensorsOf(out));
  };

  // Compiled once, on the shapes of the stage's first batch (every batch of a stage has them).
  const probe = trainingBatch(environment, stage.data, kind, seed, 0, stage.batchSize);
  const probeStudent = forward(probe);
  const probeTeacher: SideInputs | undefined = options.signals && withTeacher ? options.signals.probe : teacherAt(0);
  let compiled: ReturnType<typeof compile>;
  try {
    compiled = compile(
      stage.objective,
      { teacher: probeTeacher ?? probeStudent, student: probeStudent, labels: probe.labels },
      options.pool ? { pool: options.pool } : {},
    );
  } finally {
    release(probeStudent);
    release(probeTeacher);
  }
  if (options.parameters) {
    try {
      restoreParameters(compiled.parameters, options.parameters, stage.name);
    } catch (e) {
      compiled.dispose();
      throw e;
    }
  }
  // The objective's parameters ("trained with the student") join the model's trainable groups.
  const trainable = new Map([...model.variablesOf(stage.trainable), ...compiled.parameters]);
  const guard = <T>(work: Promise<T>, step: number) => (options.deviceLoss ? options.deviceLoss.guard(work, { stage: stage.name, step }) : work);

  return {
    state: () => state,
    parameters: () => compiled.parameters,
    async step(step) {
      options.deviceLoss?.throwIfLost({ stage: stage.name, step });
      const batch = trainingBatch(environment, stage.data, kind, seed, step, stage.batchSize);
      const teacherOut: SideInputs | undefined = options.signals && withTeacher ? await options.signals.at(step) : teacherAt(step);
      try {
        const inputsWith = (student: SideInputs): DistillInputs => ({ teacher: teacherOut ?? student, student, labels: batch.labels });
        let plan = emptyPlan;
        if (matching) {
          const current = forward(batch);
          try {
            plan = await guard(compiled.prepare(inputsWith(current)), step);
          } finally {
            release(current);
          }
        }
        let terms: Record<string, tf.Tensor> = {};
        const lr = schedule(step);
        const result = trainStep(
          () => {
            // The student's outputs (with `fusedHead`, the head's transposed copy) are intermediates
            // of the gradients' tidy: released with the step, the variables kept.
            const out = compiled.loss(inputsWith(forward(batch)), plan);
            terms = Object.fromEntries(Object.entries(out.terms).map(([k, v]) => [k, tf.keep(tf.clone(v))]));
            return out.loss;
          },
          trainable,
          state,
          { lr, clipNorm: stage.clipNorm, config: { ...DEFAULT_ADAMW, weightDecay: stage.weightDecay } },
        );
        state = result.state;
        try {
          const loss = (await guard(result.loss.data(), step))[0]!;
          const values: Record<string, number> = {};
          for (const [k, v] of Object.entries(terms)) values[k] = (await v.data())[0]!;
          return { loss, terms: values, lr };
        } finally {
          tf.dispose([result.loss, ...Object.values(terms)]);
        }
      } finally {
        release(teacherOut);
      }
    },
    dispose() {
      compiled.dispose();
      for (const { m, v } of state.moments.values()) tf.dispose([m, v]);
    },
  };
}

/** Assigns saved values to the objective's parameters, all or nothing; one error lists every problem. */
function restoreParameters(parameters: ReadonlyMap<string, tf.Variable>, saved: NonNullable<StageTrainerOptions['parameters']>, stageName: string): void {
  const problems: string[] = [];
  for (const [name, variable] of parameters) {
    const value = saved.get(name);
    if (value === undefined) problems.push(`'${name}' is missing`);
    else if (value.shape.join() !== variable.shape.join())
      problems.push(`'${name}' has shape [${value.shape.join(', ')}], the objective's is [${variable.shape.join(', ')}]`);
  }
  for (const name of saved.keys()) if (!parameters.has(name)) problems.push(`'${name}' is not a parameter of the objective`);
  if (problems.length > 0) {
    throw new Error(`cannot restore the objective parameters of stage '${stageName}':\n  ${problems.join('\n  ')}`);
  }
  for (const [name, variable] of parameters) {
    const value = saved.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(value.data, [...value.shape], 'float32')));
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { evaluationContext } from './context.js';
import type { Registry } from './definitions.js';
import { diagnoseNonFinite } from './diagnose.js';
import { inputChecker } from './input-checks.js';
import { createParameters, interpret, studentFieldsOf } from './interpret.js';
import { type DistillInputs, type Field, hasHead } from './outputs.js';
import { emptyPlan, type Plan } from './plan.js';
import { genericLowering, type LoweringBackend } from './target.js';
import type { ValidGraph } from './validate.js';

export { shapesOf } from './input-checks.js';
export type { LoweringBackend, LoweringOverrides, LowerRule } from './target.js';

/** Options of `lower`: the registry, the backend lowered for, and how evaluations behave. */
export interface LowerOptions {
  readonly registry: Registry;
  /**
   * The backend lowered for: its kernels replace some losses' generic lowering and its
   * capabilities bound what one kernel may take. The generic lowering when absent.
   */
  readonly backend?: LoweringBackend;
  /**
   * When the loss comes out NaN or ±Infinity, find why (on by default): the first non-finite
   * entry of an input the objective reads is an `InputError` naming the tensor and its index;
   * with finite inputs, the error names the terms that are not finite. Checking the result rather
   * than scanning every input first costs nothing when the loss is finite.
   */
  readonly checkFinite?: boolean;
  /** Seed for objective-owned parameters (feature projections). */
  readonly seed?: number;
  /**
   * Prepares what is decided before the differentiable part (matchings). The default plans
   * nothing, which suits graphs without `aligned` expressions.
   */
  readonly planner?: (valid: ValidGraph, inputs: DistillInputs) => Promise<Plan>;
}

/** Loss and terms as numbers. Each term is its contribution to the loss (weights applied). */
export interface Evaluation {
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
}

/** Loss, terms and gradients as tensors; `dispose()` releases all of them. */
export interface ValueAndGrad {
  readonly loss: tf.Scalar;
  readonly terms: Readonly<Record<string, tf.Scalar>>;
  /**
   * d loss / d x for each student output the objective reads (`student.logits`,
   * `student.hidden`; for an LM head's logits view `student.hidden`, `student.head.weight` and
   * `student.head.bias`, never the logits) and each objective-owned parameter (by its name).
   */
  readonly grads: Readonly<Record<string, tf.Tensor>>;
  dispose(): void;
}

/** A validated graph compiled for one backend (its kernels and limits), on tfjs. */
export interface CompiledObjective {
  readonly valid: ValidGraph;
  /** Trainable parameters the objective itself owns (e.g. feature projections), by name. */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** The part decided before differentiation (matchings); async because costs are read back. */
  prepare(inputs: DistillInputs): Promise<Plan>;
  /**
   * The loss and its terms as tensors, synchronously, given a plan. For use inside
   * `tf.variableGrads` (training) or `tf.tidy`; everything else it makes is released by that scope.
   * Checks the inputs first, like every other path (a plan may be empty and never have checked).
   */
  loss(inputs: DistillInputs, plan: Plan): { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  evaluate(inputs: DistillInputs): Promise<Evaluation>;
  valueAndGrad(inputs: DistillInputs): Promise<ValueAndGrad>;
  /** Releases the objective's own parameters. */
  dispose(): void;
}

/**
 * Compiles a valid graph for `options.backend` (its kernels and limits; the generic lowering when
 * absent). The façade over the input checks, the interpreter and the non-finite diagnosis; shared subexpressions (a teacher log-softmax used by several terms) are computed once per
 * evaluation, and every tensor made inside an evaluation is released when it ends.
 */
export function lower(valid: ValidGraph, options: LowerOptions): CompiledObjective {
  const { registry } = options;
  const backend = options.backend ?? genericLowering;
  const parameters = createParameters(valid, registry, options.seed ?? 0);
  const studentFields = studentFieldsOf(valid, registry);
  const checkInputs = inputChecker(valid, registry);

  const explainNonFinite = async (inputs: DistillInputs, loss: number, terms: Readonly<Record<string, number>>): Promise<void> => {
    if (Number.isFinite(loss) || !(options.checkFinite ?? true)) return;
    await diagnoseNonFinite(inputs, loss, terms);
  };

  const prepare = async (inputs: DistillInputs): Promise<Plan> => {
    checkInputs(inputs);
    return options.planner ? options.planner(valid, inputs) : emptyPlan;
  };

  // Unchecked: callers check the inputs first (prepare, or the public `loss`).
  const lossOf = (inputs: DistillInputs, plan: Plan, differentiating: boolean) =>
    interpret(
      valid,
      registry,
      backend,
      evaluationContext(inputs, plan, parameters, differentiating, backend.capabilities.maxKernelInputs(), backend.capabilities.maxBindingBytes()),
    );

  return {
    valid,
    parameters,
    prepare,
    loss: (inputs, plan) => {
      checkInputs(inputs);
      return lossOf(inputs, plan, true);
    },

    async evaluate(inputs) {
      const plan = await prepare(inputs);
      const names: string[] = [];
      const tensors = tf.tidy(() => {
        const { loss, terms } = lossOf(inputs, plan, false);
        names.push(...Object.keys(terms));
        return [loss, ...names.map((n) => terms[n]!)];
      });
      try {
        const values = await Promise.all(tensors.map(async (t) => (await t.data())[0]!));
        const result = { loss: values[0]!, terms: Object.fromEntries(names.map((n, i) => [n, values[i + 1]!])) };
        await explainNonFinite(inputs, result.loss, result.terms);
        return result;
      } finally {
        tf.dispose(tensors);
      }
    },

    async valueAndGrad(inputs) {
      const plan = await prepare(inputs);
      const sources: { name: string; tensor: tf.Tensor }[] = [
        ...studentSources(inputs, studentFields),
        ...[...parameters].map(([name, tensor]) => ({ name, tensor })),
      ];
      let terms: Record<string, tf.Scalar> = {};
      // allowNoGradients: a source that the data leaves unused (an empty selection) gets zeros.
      const { value, grads } = tf.engine().gradients(
        () => {
          const out = lossOf(inputs, plan, true);
          terms = Object.fromEntries(Object.entries(out.terms).map(([n, t]) => [n, tf.keep(tf.clone(t))]));
          return out.loss;
        },
        sources.map((s) => s.tensor),
        undefined,
        true,
      );
      const gradients = Object.fromEntries(sources.map((s, i) => [s.name, grads[i] ?? tf.zerosLike(s.tensor)]));
      const dispose = () => tf.dispose([value, ...Object.values(terms), ...Object.values(gradients)]);
      const loss = (await value.data())[0]!;
      if (!Number.isFinite(loss)) {
        const termValues = Object.fromEntries(await Promise.all(Object.entries(terms).map(async ([n, t]) => [n, (await t.data())[0]!] as const)));
        try {
          await explainNonFinite(inputs, loss, termValues);
        } catch (e) {
          dispose();
          throw e;
        }
      }
      return { loss: value as tf.Scalar, terms, grads: gradients, dispose };
    },

    dispose: () => {
      for (const p of parameters.values()) p.dispose();
    },
  };
}

/**
 * The student tensors gradients are taken for, by name: each field the objective reads; for an LM
 * head's logits view, the head's factors (hidden states, weight, bias) instead of the logits.
 */
function studentSources(inputs: DistillInputs, fields: readonly Field[]): { name: string; tensor: tf.Tensor }[] {
  const s = inputs.student;
  const out = new Map<string, tf.Tensor>();
  for (const field of fields) {
    if (field === 'logits' && hasHead(s)) {
      out.set('student.hidden', s.hidden);
      out.set('student.head.weight', s.head.weight);
      if (s.head.bias !== undefined) out.set('student.head.bias', s.head.bias);
    } else {
      const t = field === 'logits' ? s.logits : s.hidden;
      if (t !== undefined) out.set(`student.${field}`, t);
    }
  }
  return [...out].map(([name, tensor]) => ({ name, tensor }));
}

import * as tf from '@tensorflow/tfjs-core';
import * as E from 'fp-ts/lib/Either.js';
import { evaluationContext } from './context.js';
import { GraphValidationError, InputError, joinPath } from './errors.js';
import { assertFinite } from './finite.js';
import type { ScalarNode, TokenExpr } from './graph.js';
import type { DistillInputs, Field } from './outputs.js';
import { emptyPlan, type Plan } from './plan.js';
import type { InputShapes, LossDefinition, Registry } from './registry.js';
import { addAll } from './tensor-ops.js';
import { validate, type ValidGraph } from './validate.js';

export interface LowerOptions {
  readonly registry: Registry;
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
  /**
   * Per-backend lowerings that replace a loss's generic one (JAX's platform-specific lowering
   * rules): fused kernels keyed by loss name. Backends carry theirs (`backend.overrides`).
   */
  readonly overrides?: LoweringOverrides;
}

/** Loss lowerings by loss name, overriding the registry's generic ones. */
export type LoweringOverrides = Readonly<Record<string, LossDefinition['lower']>>;

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
   * `student.hidden`) and each objective-owned parameter (by its name).
   */
  readonly grads: Readonly<Record<string, tf.Tensor>>;
  dispose(): void;
}

/** A validated graph compiled for tfjs: the same objective on any backend. */
export interface CompiledObjective {
  readonly valid: ValidGraph;
  /** Trainable parameters the objective itself owns (e.g. feature projections), by name. */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** The part decided before differentiation (matchings); async because costs are read back. */
  prepare(inputs: DistillInputs): Promise<Plan>;
  /**
   * The loss and its terms as tensors, synchronously, given a plan. For use inside
   * `tf.variableGrads` (training) or `tf.tidy`; everything else it makes is released by that scope.
   */
  loss(inputs: DistillInputs, plan: Plan): { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  evaluate(inputs: DistillInputs): Promise<Evaluation>;
  valueAndGrad(inputs: DistillInputs): Promise<ValueAndGrad>;
  /** Releases the objective's own parameters. */
  dispose(): void;
}

/**
 * Compiles a valid graph. The result evaluates the objective on whatever tfjs backend is active;
 * shared subexpressions (a teacher log-softmax used by several terms) are computed once per
 * evaluation, and every tensor made inside an evaluation is released when it ends.
 */
export function lower(valid: ValidGraph, options: LowerOptions): CompiledObjective {
  const { registry } = options;
  const parameters = createParameters(valid, registry, options.seed ?? 0);
  const studentFields = studentFieldsOf(valid.graph, registry);
  let validated = shapesKey(valid.shapes);

  const checkInputs = async (inputs: DistillInputs): Promise<void> => {
    const shapes = shapesOf(inputs);
    const key = shapesKey(shapes);
    if (key !== validated) {
      const again = validate(valid.graph, shapes, registry);
      if (E.isLeft(again)) throw new GraphValidationError(again.left, 'the objective does not fit these inputs');
      validated = key;
    }
    checkHostArrays(inputs);
  };

  const explainNonFinite = async (inputs: DistillInputs, loss: number, terms: Readonly<Record<string, number>>): Promise<void> => {
    if (Number.isFinite(loss) || !(options.checkFinite ?? true)) return;
    for (const side of ['teacher', 'student'] as const) {
      for (const field of ['logits', 'hidden'] as const) {
        const t = inputs[side][field];
        if (t !== undefined) await assertFinite(t, `${side}.${field}`);
      }
    }
    const bad = Object.entries(terms).filter(([, v]) => !Number.isFinite(v));
    throw new InputError(
      `the loss is ${loss} although every input is finite${bad.length > 0 ? `; non-finite terms: ${bad.map(([n, v]) => `${n} = ${v}`).join(', ')}` : ''}`,
    );
  };

  const prepare = async (inputs: DistillInputs): Promise<Plan> => {
    await checkInputs(inputs);
    return options.planner ? options.planner(valid, inputs) : emptyPlan;
  };

  const lossOf = (inputs: DistillInputs, plan: Plan, differentiating: boolean) => {
    const ctx = evaluationContext(inputs, plan, parameters, differentiating);
    const terms: Record<string, tf.Scalar> = {};
    const build = (node: ScalarNode, path: string, termName: string | undefined): tf.Scalar => {
      let value: tf.Scalar;
      if (node.kind === 'objective') {
        const parts = Object.entries(node.terms).map(([name, child]) =>
          build(child, joinPath(path, name), termName === undefined ? name : `${termName}.${name}`),
        );
        value = addAll(parts);
      } else if (node.kind === 'weighted') {
        value = tf.mul(build(node.term, path, undefined), node.weight);
      } else {
        const lowerLoss = options.overrides?.[node.loss] ?? registry.losses[node.loss]!.lower;
        value = lowerLoss(ctx, node, path);
      }
      if (termName !== undefined) terms[termName] = value;
      return value;
    };
    const loss = build(valid.graph, 'objective', undefined);
    return { loss, terms };
  };

  return {
    valid,
    parameters,
    prepare,
    loss: (inputs, plan) => lossOf(inputs, plan, true),

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
        ...studentFields.map((f) => ({ name: `student.${f}`, tensor: inputs.student[f]! })),
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
      const gradients = Object.fromEntries(
        sources.map((s, i) => [s.name, grads[i] ?? tf.zerosLike(s.tensor)]),
      );
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

/** The shapes of actual inputs, as `validate` takes them. */
export function shapesOf(inputs: DistillInputs): InputShapes {
  const side = (s: DistillInputs['teacher']) => ({
    logits: s.logits.shape,
    ...(s.hidden === undefined ? {} : { hidden: s.hidden.shape }),
  });
  return { teacher: side(inputs.teacher), student: side(inputs.student), labels: inputs.labels !== undefined };
}

const shapesKey = (s: InputShapes): string => JSON.stringify([s.teacher, s.student, s.labels]);

function checkHostArrays(inputs: DistillInputs): void {
  for (const side of ['teacher', 'student'] as const) {
    const [batch, length] = inputs[side].logits.shape;
    const roles = inputs[side].roles;
    if (roles.length !== batch * length) {
      throw new InputError(`${side}.roles has ${roles.length} entries, but ${side}.logits is [${batch}, ${length}, …] (needs ${batch * length})`);
    }
    for (let i = 0; i < roles.length; i++) {
      const r = roles[i]!;
      if (r < 0 || r > 3) {
        throw new InputError(`${side}.roles holds ${r} at [${Math.floor(i / length)}, ${i % length}]: codes are 0 pad, 1 prompt, 2 visual, 3 response`);
      }
    }
  }
  if (inputs.labels !== undefined) {
    const [batch, length] = inputs.student.logits.shape;
    if (inputs.labels.length !== batch * length) {
      throw new InputError(`labels has ${inputs.labels.length} entries, but student.logits is [${batch}, ${length}, …] (needs ${batch * length})`);
    }
  }
}

/** The student fields the losses read (matchers read without gradient and do not count). */
function studentFieldsOf(graph: ScalarNode, registry: Registry): Field[] {
  const fields = new Set<Field>();
  const visit = (node: ScalarNode): void => {
    if (node.kind === 'objective') Object.values(node.terms).forEach(visit);
    else if (node.kind === 'weighted') visit(node.term);
    else if (registry.losses[node.loss] !== undefined) {
      for (const expr of Object.values(node.inputs) as TokenExpr[]) {
        if (expr.kind === 'view' && expr.side === 'student') fields.add(expr.field);
      }
    }
  };
  visit(graph);
  return [...fields].sort();
}

function createParameters(valid: ValidGraph, registry: Registry, seed: number): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const visit = (node: ScalarNode, path: string): void => {
    if (node.kind === 'objective') {
      for (const [name, child] of Object.entries(node.terms)) visit(child, joinPath(path, name));
    } else if (node.kind === 'weighted') visit(node.term, path);
    else {
      const definition = registry.losses[node.loss]!;
      const shapes: Record<string, readonly number[]> = {};
      for (const [name, expr] of Object.entries(node.inputs)) {
        const field = expr.kind === 'view' ? expr.field : expr.source.field;
        const side = expr.kind === 'view' ? expr.side : 'teacher';
        const shape = valid.shapes[side][field];
        if (shape !== undefined) shapes[name] = shape;
      }
      for (const spec of definition.parameters?.(node, path, shapes) ?? []) {
        if (out.has(spec.name)) throw new InputError(`two objective parameters are named '${spec.name}'`);
        // Unnamed: tfjs variable names are global, and one process may compile an objective twice.
        out.set(spec.name, tf.variable(tf.tensor(spec.init(seed), [...spec.shape]), true));
      }
    }
  };
  visit(valid.graph, 'objective');
  return out;
}

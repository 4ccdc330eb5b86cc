import * as tf from '@tensorflow/tfjs-core';
import type { LoweringContext, Registry } from './definitions.js';
import { InputError } from './errors.js';
import type { TokenExpr } from './graph.js';
import type { Field } from './outputs.js';
import { type LoweringBackend, ruleFor } from './target.js';
import { addAll } from './tensor-ops.js';
import { foldScalar, lossesOf } from './traverse.js';
import type { ValidGraph } from './validate.js';

/** One evaluation's scalars: the loss, and each named term's contribution (weights applied). */
export interface Interpreted {
  readonly loss: tf.Scalar;
  readonly terms: Record<string, tf.Scalar>;
}

/**
 * The interpreter: a valid graph's loss as tfjs ops on `backend`. Each loss is lowered by the
 * backend's kernel for its definition, or by the definition's generic rule; sums of terms never
 * bind more inputs to one kernel than the backend allows. Tensors are made in the caller's scope.
 */
export function interpret(valid: ValidGraph, registry: Registry, backend: LoweringBackend, ctx: LoweringContext): Interpreted {
  const terms: Record<string, tf.Scalar> = {};
  const report = (value: tf.Scalar, term: string | undefined): tf.Scalar => {
    if (term !== undefined) terms[term] = value;
    return value;
  };
  const loss = foldScalar<tf.Scalar>(valid.graph, {
    objective: (_node, parts, site) =>
      report(
        addAll(
          parts.map(([, v]) => v),
          ctx.maxKernelInputs,
        ),
        site.term,
      ),
    weighted: (node, term, site) => report(tf.mul(term, node.weight), site.term),
    loss: (node, site) => report(ruleFor(backend, registry.losses[node.loss]!)(ctx, node, site.path), site.term),
  });
  return { loss, terms };
}

/** The student fields the losses read (matchers read without gradient and do not count). */
export function studentFieldsOf(valid: ValidGraph, registry: Registry): Field[] {
  const fields = new Set<Field>();
  for (const { node } of lossesOf(valid.graph)) {
    if (registry.losses[node.loss] === undefined) continue;
    for (const expr of Object.values(node.inputs) as TokenExpr[]) {
      if (expr.kind === 'view' && expr.side === 'student' && expr.field !== 'topk') fields.add(expr.field);
    }
  }
  return [...fields].sort();
}

/** The objective's own trainable parameters (feature projections), initialised from `seed`. */
export function createParameters(valid: ValidGraph, registry: Registry, seed: number): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const { node, path } of lossesOf(valid.graph)) {
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
      // A variable keeps its own reference to the values: the initial tensor is released here.
      const init = tf.tensor(spec.init(seed), [...spec.shape]);
      out.set(spec.name, tf.variable(init, true));
      init.dispose();
    }
  }
  return out;
}

/**
 * mmkd: knowledge distillation for multimodal LLMs. Objectives are pure combinators that build a
 * typed, serialisable graph; `compile` validates it against the inputs' shapes and lowers it to
 * the active TensorFlow.js backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as E from 'fp-ts/lib/Either.js';
import { nodeBackends } from './backends/index.js';
import { GraphValidationError } from './core/errors.js';
import type { ScalarNode } from './core/graph.js';
import { lower, shapesOf, type CompiledObjective, type LowerOptions, type LoweringOverrides } from './core/lower.js';
import type { DistillInputs } from './core/outputs.js';
import type { InputShapes, Registry } from './core/registry.js';
import { validate } from './core/validate.js';
import { standardMatchers } from './matching/matchers/index.js';
import { matchingPlanner } from './matching/planner.js';
import { standardRegistry } from './registry.js';

export * from './core/index.js';
export * from './losses/index.js';
export { standardRegistry } from './registry.js';
export { match, type CostOptions, type Matched } from './matching/builders.js';
export { matchingPlanner, type PlannerOptions } from './matching/planner.js';
export { standardMatchers } from './matching/matchers/index.js';
export { pairwiseCost, type CostMetric } from './matching/costs.js';
export { AssignmentError, solveAssignment, certifyAssignment, createAssignmentPool, solveBatchSequential } from './matching/index.js';
export type { AssignmentPool, AssignmentProblem, AssignmentResult } from './matching/index.js';
export { useBackend, nodeBackends, type Backend, type BackendName } from './backends/index.js';

/**
 * Validates `graph` against the shapes of `inputs` (or the shapes themselves) and lowers it for
 * the active backend, with that backend's fused kernels unless `options.overrides` says
 * otherwise. Throws a `GraphValidationError` listing every problem when it does not fit.
 */
export function compile(
  graph: ScalarNode,
  shapes: InputShapes | DistillInputs,
  options: Partial<LowerOptions> & { readonly registry?: Registry } = {},
): CompiledObjective {
  const registry = options.registry ?? standardRegistry;
  const overrides = options.overrides ?? activeBackendOverrides();
  const inputShapes = 'teacher' in shapes && 'roles' in shapes.teacher ? shapesOf(shapes as DistillInputs) : (shapes as InputShapes);
  const checked = validate(graph, inputShapes, registry);
  if (E.isLeft(checked)) throw new GraphValidationError(checked.left);
  const planner = options.planner ?? matchingPlanner({ matchers: standardMatchers });
  return lower(checked.right, { ...options, registry, planner, ...(overrides ? { overrides } : {}) });
}

/** The fused lowerings of the backend tfjs is running on, if mmkd knows it. */
function activeBackendOverrides(): LoweringOverrides | undefined {
  const active = tf.getBackend();
  return Object.values(nodeBackends).find((b) => b?.tfjsName === active)?.overrides;
}

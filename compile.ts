import * as tf from '@tensorflow/tfjs-core';
import * as E from 'fp-ts/lib/Either.js';
import { hostOverrides } from './backends/host-kernels/index.js';
import { GraphValidationError } from './core/errors.js';
import type { ScalarNode } from './core/graph.js';
import { lower, shapesOf, type CompiledObjective, type LowerOptions, type LoweringOverrides } from './core/lower.js';
import type { DistillInputs } from './core/outputs.js';
import type { InputShapes, Registry } from './core/registry.js';
import { validate } from './core/validate.js';
import { standardMatchers } from './matching/matchers/index.js';
import { matchingPlanner } from './matching/planner.js';
import { standardRegistry } from './registry.js';

/**
 * Fused lowerings by tfjs backend name: the host kernels where the host reads tensors
 * synchronously (cpu, wasm); the generic lowering everywhere else (webgpu, tensorflow).
 */
const FUSED: Readonly<Record<string, LoweringOverrides>> = { cpu: hostOverrides, wasm: hostOverrides };

/**
 * Validates `graph` against the shapes of `inputs` (or the shapes themselves) and lowers it for
 * the active backend, with that backend's fused kernels unless `options.overrides` says
 * otherwise, and with matchers planned on this thread unless `options.planner` says otherwise.
 * Throws a `GraphValidationError` listing every problem when it does not fit.
 */
export function compile(
  graph: ScalarNode,
  shapes: InputShapes | DistillInputs,
  options: Partial<LowerOptions> & { readonly registry?: Registry } = {},
): CompiledObjective {
  const registry = options.registry ?? standardRegistry;
  const overrides = options.overrides ?? FUSED[tf.getBackend()];
  const inputShapes = 'teacher' in shapes && 'roles' in shapes.teacher ? shapesOf(shapes as DistillInputs) : (shapes as InputShapes);
  const checked = validate(graph, inputShapes, registry);
  if (E.isLeft(checked)) throw new GraphValidationError(checked.left);
  const planner = options.planner ?? matchingPlanner({ matchers: standardMatchers });
  return lower(checked.right, { ...options, registry, planner, ...(overrides ? { overrides } : {}) });
}

import * as E from 'fp-ts/lib/Either.js';
import { activeBackend } from '../backends/active.js';
import type { InputShapes, Registry } from '../core/definitions.js';
import { GraphValidationError } from '../core/errors.js';
import type { ScalarNode } from '../core/graph.js';
import { type CompiledObjective, type LowerOptions, lower, shapesOf } from '../core/lower.js';
import type { DistillInputs } from '../core/outputs.js';
import { requireBackend } from '../core/require-backend.js';
import type { LoweringBackend } from '../core/target.js';
import { validate } from '../core/validate.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import type { MatcherImplementation } from '../matching/matcher.js';
import { matchingPlanner } from '../matching/planner.js';
import { standardRegistry } from './standard-registry.js';

/**
 * Options of `compile`: the backend lowered for (default: the active one), the registry of losses
 * and matchers (default: `standardRegistry`), and the lowering options (`checkFinite`, `seed`, `planner`).
 */
export interface CompileOptions extends Partial<Omit<LowerOptions, 'registry' | 'backend'>> {
  /**
   * The losses and matchers the graph is validated against and lowered with, matchers with their
   * `align` (one value for both). mmkd's own (`standardRegistry`) when absent.
   */
  readonly registry?: Registry<MatcherImplementation>;
  /**
   * The backend lowered for: its kernels (by loss definition) and capabilities. When absent, the
   * one behind tfjs's active backend (`activeBackend()`, what `useBackend` activated).
   */
  readonly backend?: LoweringBackend;
  /** Where the default planner solves assignment problems (worker threads); this thread otherwise. */
  readonly pool?: AssignmentPool;
}

/**
 * Validates `graph` against the shapes of `inputs` (or the shapes themselves) and lowers it for
 * `options.backend`, with matchers planned by the registry's own matchers unless
 * `options.planner` says otherwise. Throws a `GraphValidationError` listing every problem when it
 * does not fit, and a `UserError` saying to call `useBackend` first when no backend is active.
 */
export function compile(graph: ScalarNode, shapes: InputShapes | DistillInputs, options: CompileOptions = {}): CompiledObjective {
  requireBackend('compile');
  const { pool, ...rest } = options;
  const registry = options.registry ?? standardRegistry;
  const backend = options.backend ?? activeBackend();
  const inputShapes = 'teacher' in shapes && 'roles' in shapes.teacher ? shapesOf(shapes as DistillInputs) : (shapes as InputShapes);
  const checked = validate(graph, inputShapes, registry);
  if (E.isLeft(checked)) throw new GraphValidationError(checked.left);
  const planner = options.planner ?? matchingPlanner({ matchers: registry.matchers, ...(pool ? { pool } : {}) });
  return lower(checked.right, { ...rest, registry, backend, planner });
}

import * as tf from '@tensorflow/tfjs-core';
import { evaluationContext } from '../core/context.js';
import { GraphValidationError, graphError, joinPath } from '../core/errors.js';
import { type MatchNode, nodeKey, type ScalarNode } from '../core/graph.js';
import type { LowerOptions } from '../core/lower.js';
import { type Alignment, emptyPlan } from '../core/plan.js';
import { lossesOf } from '../core/traverse.js';
import { solveBatchSequential } from './assignment/pool/sequential.js';
import type { AssignmentPool } from './assignment/pool/worker-pool.js';
import type { AssignmentProblem } from './assignment/types.js';
import type { MatcherImplementation } from './matcher.js';

/** What `matchingPlanner` needs: the matchers it may meet, and optionally a worker pool. */
export interface PlannerOptions {
  /** The matchers of the registry the graph was validated with (`compile` passes its own). */
  readonly matchers: Readonly<Record<string, MatcherImplementation>>;
  /** Solves a step's assignment problems on worker threads; without one, on this thread. */
  readonly pool?: AssignmentPool;
}

/**
 * The planner `lower` calls before each evaluation: it finds every matcher the graph uses (each
 * once, however many terms share it), reads the tokens it compares, and aligns them. Everything
 * it makes on the backend is released before it returns; the plan holds host arrays only.
 */
export function matchingPlanner(options: PlannerOptions): NonNullable<LowerOptions['planner']> {
  const solve = (problems: readonly AssignmentProblem[]) =>
    options.pool ? options.pool.solveBatch(problems) : Promise.resolve(solveBatchSequential(problems));
  return async (valid, inputs) => {
    const matches = matchesOf(valid.graph);
    if (matches.size === 0) return emptyPlan;
    const alignments = new Map<string, Alignment>();
    tf.engine().startScope();
    try {
      const ctx = evaluationContext(inputs, emptyPlan, new Map(), false);
      for (const [key, { node, path }] of matches) {
        const matcher = options.matchers[node.method];
        // Validation against another registry, or a matcher given as a bare definition.
        if (typeof matcher?.align !== 'function') {
          throw new GraphValidationError(
            [graphError(path, `matcher "${node.method}" has no align(input) in the registry the planner was given`)],
            'the objective cannot be planned',
          );
        }
        const teacher = ctx.rows(node.teacher, joinPath(path, 'teacher'));
        const student = ctx.rows(node.student, joinPath(path, 'student'));
        alignments.set(key, await matcher.align({ node, path, teacher, student, solve }));
      }
    } finally {
      tf.engine().endScope();
    }
    return { alignments };
  };
}

/** The distinct matchers of a graph, keyed as the plan keys them, with the first path using each. */
export function matchesOf(graph: ScalarNode): Map<string, { node: MatchNode; path: string }> {
  const found = new Map<string, { node: MatchNode; path: string }>();
  for (const { node, path } of lossesOf(graph)) {
    for (const [name, expr] of Object.entries(node.inputs)) {
      if (expr.kind !== 'aligned') continue;
      const key = nodeKey(expr.match);
      if (!found.has(key)) found.set(key, { node: expr.match, path: joinPath(joinPath(path, name), 'match') });
    }
  }
  return found;
}

import type { MatcherDefinition, TokenRows } from '../core/definitions.js';
import { formatShape, type GraphError, graphError } from '../core/errors.js';
import type { JsonValue, MatchNode } from '../core/graph.js';
import type { Alignment } from '../core/plan.js';
import type { AssignmentProblem, AssignmentResult } from './assignment/types.js';
import { COST_METRICS, isCostMetric } from './costs.js';

/** What a matcher sees when it aligns one evaluation's tokens. */
export interface AlignInput {
  readonly node: MatchNode;
  readonly path: string;
  /** The rows of the matcher's teacher view (frozen; no gradient). */
  readonly teacher: TokenRows;
  /** The rows of the matcher's student view, read without gradient. */
  readonly student: TokenRows;
  /** Solves a batch of assignment problems (on worker threads when a pool was given). */
  readonly solve: (problems: readonly AssignmentProblem[]) => Promise<AssignmentResult[]>;
}

/**
 * A matcher: its graph-level definition (params, checks, explanation) and `align`, which pairs
 * each student token with teacher tokens for one evaluation. Matching is gradient-free and
 * happens once per evaluation, before the differentiable part.
 */
export interface MatcherImplementation extends MatcherDefinition {
  align(input: AlignInput): Promise<Alignment>;
}

/** Parameters of matchers that compare tokens by a cost. */
export const costDefaults = { cost: 'l1', probabilities: false } as const;

export function checkCostParams(params: Readonly<Record<string, JsonValue>>, path: string): GraphError[] {
  const errors: GraphError[] = [];
  if (!isCostMetric(params['cost'])) {
    errors.push(graphError(path, `cost must be one of ${COST_METRICS.join(', ')}, got ${JSON.stringify(params['cost'])}`));
  }
  if (typeof params['probabilities'] !== 'boolean') errors.push(graphError(path, 'probabilities must be true or false'));
  return errors;
}

/** Costs compare a teacher vector with a student vector, so both must have one width. */
export function sameWidthRule(node: MatchNode, teacher: readonly number[], student: readonly number[], path: string): GraphError[] {
  if (teacher[2] === student[2]) return [];
  return [
    graphError(
      path,
      `a ${node.method} matcher compares teacher and student vectors, which must have one width: ` +
        `${node.teacher.side}.${node.teacher.field} ${formatShape(teacher)} vs ${node.student.side}.${node.student.field} ${formatShape(student)}`,
    ),
  ];
}

export const describeCost = (params: Readonly<Record<string, JsonValue>>): string =>
  `${String(params['cost']).toUpperCase()}${params['probabilities'] === true ? ' of probabilities' : ''}`;

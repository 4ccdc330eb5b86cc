import type { TokenRows } from './definitions.js';
import type { Selection } from './selection.js';

/**
 * How a matcher lines the teacher's tokens up with the student's for one evaluation. It is
 * computed before the differentiable part (costs are read back from the backend and solved on
 * the host), then applied as a gather (or, for a soft plan, a mix) of the teacher's rows. The
 * teacher is frozen, so no gradient flows through it.
 */
export interface Alignment {
  /** The teacher's rows arranged as the student's selection: one row per student token. */
  apply(teacher: TokenRows, student: Selection): TokenRows;
}

/** Everything an evaluation needs that is decided before the differentiable part. */
export interface Plan {
  /** Keyed by the matcher node's key. */
  readonly alignments: ReadonlyMap<string, Alignment>;
}

/** A plan with no alignments, for graphs without matchers (`compiled.loss(inputs, emptyPlan)`). */
export const emptyPlan: Plan = { alignments: new Map() };

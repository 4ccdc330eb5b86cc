/**
 * The reference for the pool: solves the problems one after another on the calling thread.
 * A failure is reported as `problems[i]: <message>` for the first failing problem, as the pool
 * does.
 */
import { AssignmentError } from '../error.js';
import { solveAssignment } from '../solve.js';
import type { AssignmentProblem, AssignmentResult, SolveOptions } from '../types.js';

/** Solves `problems` one after another on this thread: the pool's reference, same results and errors. */
export function solveBatchSequential(problems: readonly AssignmentProblem[], options?: SolveOptions): AssignmentResult[] {
  return problems.map(({ cost, n, m }, index) => {
    try {
      return solveAssignment(cost, n, m, options);
    } catch (e) {
      if (e instanceof AssignmentError) throw new AssignmentError(`problems[${index}]: ${e.message}`);
      throw e;
    }
  });
}

/**
 * The matching API: matchers as graph nodes (`match.hungarian`, `match.pool`, …), the costs they
 * compare tokens by, the planner that runs them once per step, and the exact solver underneath.
 *
 * Everything here runs anywhere. The worker pools that solve a batch on all cores depend on the
 * transport: `createAssignmentPool` (worker_threads) from `./assignment/index.js` in Node,
 * `createBrowserAssignmentPool` (web workers) from `./assignment/browser.js` in a page.
 */

export { gatherAlignment, mixAlignment } from './alignment.js';
export { type Certificate, type CertifyOptions, certifyAssignment } from './assignment/certify.js';
export { AssignmentError } from './assignment/error.js';
export { solveBatchSequential } from './assignment/pool/sequential.js';
export { type AssignmentPool, createPoolOn } from './assignment/pool/worker-pool.js';
export { solveAssignment } from './assignment/solve.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './assignment/types.js';
export { type CostOptions, type Matched, match } from './builders.js';
export { COST_METRICS, type CostMetric, type CostParams, decodeCostParams, isCostMetric, pairwiseCost } from './costs.js';
export type { AlignInput, MatcherImplementation } from './matcher.js';
export { standardMatchers } from './matchers/index.js';
export { matchesOf, matchingPlanner, type PlannerOptions } from './planner.js';

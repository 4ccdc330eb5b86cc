/**
 * The matching API: matchers as graph nodes (`match.hungarian`, `match.pool`, …), the costs they
 * compare tokens by, the planner that runs them once per step, and the exact solver underneath.
 *
 * Everything here runs anywhere. The worker pools that solve a batch on all cores depend on the
 * transport: `createAssignmentPool` (worker_threads) from `./assignment/index.js` in Node,
 * `createBrowserAssignmentPool` (web workers) from `./assignment/browser.js` in a page.
 */
export { match, type CostOptions, type Matched } from './builders.js';
export { pairwiseCost, COST_METRICS, isCostMetric, decodeCostParams, type CostMetric, type CostParams } from './costs.js';
export { matchingPlanner, matchesOf, type PlannerOptions } from './planner.js';
export { standardMatchers } from './matchers/index.js';
export type { AlignInput, MatcherImplementation } from './matcher.js';
export { gatherAlignment, mixAlignment } from './alignment.js';
export { AssignmentError } from './assignment/error.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './assignment/types.js';
export { solveAssignment } from './assignment/solve.js';
export { certifyAssignment, type Certificate, type CertifyOptions } from './assignment/certify.js';
export { solveBatchSequential } from './assignment/pool/sequential.js';
export { createPoolOn, type AssignmentPool } from './assignment/pool/worker-pool.js';

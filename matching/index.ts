/**
 * Exact assignment solvers on typed arrays (Node entry). Browser code imports `browser.js`,
 * which has the same API with a web-worker pool instead of `worker_threads`.
 */
export { AssignmentError } from './assignment-error.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './assignment-types.js';
export { solveAssignment } from './solve-assignment.js';
export { certifyAssignment, type Certificate, type CertifyOptions } from './certify-assignment.js';
export { solveBatchSequential } from './batch-sequential.js';
export { createAssignmentPool } from './pool-node.js';
export { createPoolOn, type AssignmentPool } from './pool.js';
export type { HostEndpoint, HostMessage, WorkerEndpoint, WorkerMessage } from './batch-protocol.js';
export { serveAssignmentWorker } from './batch-worker.js';

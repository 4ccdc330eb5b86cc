/**
 * Exact assignment solvers on typed arrays (Node entry). Browser code imports `browser.js`,
 * which has the same API with a web-worker pool instead of `worker_threads`.
 */

export { type Certificate, type CertifyOptions, certifyAssignment } from './certify.js';
export { AssignmentError } from './error.js';
export { createAssignmentPool } from './pool/node.js';
export type { HostEndpoint, HostMessage, WorkerEndpoint, WorkerMessage } from './pool/protocol.js';
export { solveBatchSequential } from './pool/sequential.js';
export { serveAssignmentWorker } from './pool/serve-worker.js';
export { type AssignmentPool, createPoolOn } from './pool/worker-pool.js';
export { solveAssignment } from './solve.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './types.js';

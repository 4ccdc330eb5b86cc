/**
 * Exact assignment solvers on typed arrays (Node entry). Browser code imports `browser.js`,
 * which has the same API with a web-worker pool instead of `worker_threads`.
 */
export { AssignmentError } from './error.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './types.js';
export { solveAssignment } from './solve.js';
export { certifyAssignment, type Certificate, type CertifyOptions } from './certify.js';
export { solveBatchSequential } from './pool/sequential.js';
export { createAssignmentPool } from './pool/node.js';
export { createPoolOn, type AssignmentPool } from './pool/worker-pool.js';
export type { HostEndpoint, HostMessage, WorkerEndpoint, WorkerMessage } from './pool/protocol.js';
export { serveAssignmentWorker } from './pool/serve-worker.js';

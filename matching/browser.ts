/** Exact assignment solvers on typed arrays (browser entry: no Node modules). */
export { AssignmentError } from './assignment-error.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './assignment-types.js';
export { solveAssignment } from './solve-assignment.js';
export { certifyAssignment, type Certificate, type CertifyOptions } from './certify-assignment.js';
export { solveBatchSequential } from './batch-sequential.js';
export { createBrowserAssignmentPool, type BrowserPoolOptions } from './pool-browser.js';
export { createPoolOn, type AssignmentPool } from './pool.js';
export type { HostEndpoint, HostMessage, WorkerEndpoint, WorkerMessage } from './batch-protocol.js';
export { serveAssignmentWorker } from './batch-worker.js';

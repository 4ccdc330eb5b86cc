/** Exact assignment solvers on typed arrays (browser entry: no Node modules). */

export { type Certificate, type CertifyOptions, certifyAssignment } from './certify.js';
export { AssignmentError } from './error.js';
export { type BrowserPoolOptions, createBrowserAssignmentPool } from './pool/browser.js';
export type { HostEndpoint, HostMessage, WorkerEndpoint, WorkerMessage } from './pool/protocol.js';
export { solveBatchSequential } from './pool/sequential.js';
export { serveAssignmentWorker } from './pool/serve-worker.js';
export { type AssignmentPool, createPoolOn } from './pool/worker-pool.js';
export { solveAssignment } from './solve.js';
export type { AssignmentProblem, AssignmentResult, CostArray, SolveOptions } from './types.js';

/**
 * Worker side of the batched solver, for any transport: claims problems from the shared counter
 * until none is left, solves each with the same `solveAssignment` as the sequential path (so the
 * results are bit-identical), writes them to shared memory, and reports failures by index.
 */

import { solveAssignment } from '../solve.js';
import { type BatchFailure, type BatchRequest, type HostEndpoint, writeResult } from './protocol.js';

/**
 * Solves the problems of one batch that this worker claims. A claimed problem the host has not
 * finished copying is waited for with `Atomics.wait`, so this must run on a thread that may
 * block (a worker; in Node, any thread).
 */
export function runBatch(request: BatchRequest): BatchFailure[] {
  const counter = new Int32Array(request.control);
  const failures: BatchFailure[] = [];
  const options = { maximize: request.maximize };
  for (;;) {
    const index = Atomics.add(counter, 0, 1);
    if (index >= request.problems.length) break;
    for (let ready = Atomics.load(counter, 1); ready <= index; ready = Atomics.load(counter, 1)) {
      Atomics.wait(counter, 1, ready);
    }
    const spec = request.problems[index]!;
    const cells = spec.n * spec.m;
    const cost = spec.dtype === 'f64' ? new Float64Array(spec.buffer, spec.byteOffset, cells) : new Float32Array(spec.buffer, spec.byteOffset, cells);
    try {
      writeResult(request.output, request.i32ByteOffset, spec, solveAssignment(cost, spec.n, spec.m, options));
    } catch (e) {
      failures.push({ index, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return failures;
}

/** Serves batch requests on `endpoint` for the lifetime of the worker. */
export function serveAssignmentWorker(endpoint: HostEndpoint): void {
  endpoint.onMessage((request) => {
    endpoint.post({ type: 'done', id: request.id, failures: runBatch(request) });
  });
}

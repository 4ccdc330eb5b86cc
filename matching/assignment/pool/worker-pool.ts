/**
 * A persistent pool of workers that solves batches of assignment problems in parallel, over any
 * transport (see `protocol.ts`). `node.ts` and `browser.ts` plug in the workers.
 *
 * Contract: `solveBatch(problems)` resolves to exactly what `solveBatchSequential(problems)`
 * returns (the same solver runs on the same bytes), or rejects with the same `AssignmentError`
 * (the failing problem of lowest index, prefixed `problems[i]: `). Matrices whose storage is
 * already a SharedArrayBuffer are read in place; others are copied once into a staging buffer
 * that the pool keeps and reuses (a step of 64 × 576×144 float64 is 42 MB: allocate your costs on
 * a SharedArrayBuffer to skip that copy). The copy overlaps the solving: workers start on the
 * first matrices while the host still copies the next ones. Results are views into one fresh
 * shared buffer per batch. Batches run one at a time, in call order; the problems and their
 * costs must not change until the batch settles (shared ones are read in place). Idle workers
 * do not keep Node alive, and `close()` terminates them.
 */

import { checkShape } from '../check-input.js';
import { AssignmentError } from '../error.js';
import type { AssignmentProblem, AssignmentResult, SolveOptions } from '../types.js';
import { type BatchFailure, type OutputLayout, outputLayout, type ProblemSpec, readResult, type WorkerEndpoint } from './protocol.js';

/**
 * Solves batches of assignment problems on workers: `solveBatch` resolves with one result per
 * problem, in order (or rejects naming the first failing problem); `size` is the number of workers.
 */
export interface AssignmentPool {
  solveBatch(problems: readonly AssignmentProblem[], options?: SolveOptions): Promise<AssignmentResult[]>;
  close(): Promise<void>;
  readonly size: number;
}

interface InFlight {
  readonly id: number;
  pending: number;
  readonly failures: BatchFailure[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Builds a pool of `size` workers made by `spawn`. */
export function createPoolOn(spawn: () => WorkerEndpoint, size: number): AssignmentPool {
  if (!Number.isSafeInteger(size) || size < 1) throw new AssignmentError(`workers must be a positive integer, got ${String(size)}`);
  const workers: WorkerEndpoint[] = [];
  let inFlight: InFlight | undefined;
  let broken: Error | undefined;
  let closed = false;
  let nextId = 1;
  let staging = new SharedArrayBuffer(0);
  let tail: Promise<unknown> = Promise.resolve();

  const settle = (error?: Error): void => {
    const job = inFlight;
    if (job === undefined) return;
    inFlight = undefined;
    for (const w of workers) w.keepAlive(false);
    if (error === undefined) job.resolve();
    else job.reject(error);
  };

  for (let t = 0; t < size; t++) {
    const w = spawn();
    w.keepAlive(false);
    w.onMessage((message) => {
      const job = inFlight;
      if (job === undefined || message.id !== job.id) return;
      job.failures.push(...message.failures);
      if (--job.pending === 0) settle();
    });
    w.onError((error) => {
      broken ??= new AssignmentError(`an assignment worker failed: ${error.message}`);
      settle(broken);
    });
    workers.push(w);
  }

  /**
   * Shared-memory specs of the problems, and the copies still to make: problems not already in
   * a SharedArrayBuffer go to `staging` (grown as needed, kept for the next batch).
   */
  const place = (problems: readonly AssignmentProblem[], layout: OutputLayout): { specs: ProblemSpec[]; copies: (() => void)[] } => {
    let need = 0;
    for (const { cost } of problems) if (!(cost.buffer instanceof SharedArrayBuffer)) need += (cost.byteLength + 7) & ~7;
    if (staging.byteLength < need) staging = new SharedArrayBuffer(need);
    const target = staging;
    const copies: (() => void)[] = [];
    let at = 0;
    const specs = problems.map(({ cost, n, m }, index): ProblemSpec => {
      const dtype = cost instanceof Float64Array ? 'f64' : 'f32';
      const f64At = layout.f64At[index]!;
      const i32At = layout.i32At[index]!;
      if (cost.buffer instanceof SharedArrayBuffer) {
        copies.push(() => undefined);
        return { buffer: cost.buffer, byteOffset: cost.byteOffset, dtype, n, m, f64At, i32At };
      }
      const byteOffset = at;
      at += (cost.byteLength + 7) & ~7;
      copies.push(
        cost instanceof Float64Array
          ? () => new Float64Array(target, byteOffset, cost.length).set(cost)
          : () => new Float32Array(target, byteOffset, cost.length).set(cost),
      );
      return { buffer: target, byteOffset, dtype, n, m, f64At, i32At };
    });
    return { specs, copies };
  };

  const run = async (problems: readonly AssignmentProblem[], maximize: boolean): Promise<AssignmentResult[]> => {
    if (closed) throw new AssignmentError('the assignment pool is closed');
    if (broken !== undefined) throw broken;
    const layout = outputLayout(problems);
    const { specs, copies } = place(problems, layout);
    const output = new SharedArrayBuffer(layout.bytes);
    const control = new Int32Array(new SharedArrayBuffer(8));
    const id = nextId++;
    const active = workers.slice(0, Math.min(workers.length, problems.length));
    const failures: BatchFailure[] = [];
    const done = new Promise<void>((resolve, reject) => {
      inFlight = { id, pending: active.length, failures, resolve, reject };
    });
    const request = { type: 'batch', id, problems: specs, maximize, control: control.buffer, output, i32ByteOffset: layout.i32ByteOffset } as const;
    for (const w of active) {
      w.keepAlive(true);
      w.post(request);
    }
    // Copy in while the workers already solve: problem q becomes claimable once published.
    let copyError: unknown;
    try {
      for (let q = 0; q < copies.length; q++) {
        copies[q]!();
        Atomics.store(control, 1, q + 1);
        Atomics.notify(control, 1);
      }
    } catch (e) {
      copyError = e;
      Atomics.store(control, 1, copies.length); // release waiting workers; the batch is rejected below
      Atomics.notify(control, 1);
    }
    await done;
    if (copyError !== undefined) throw copyError;
    if (failures.length > 0) {
      const first = failures.reduce((a, b) => (b.index < a.index ? b : a));
      throw new AssignmentError(`problems[${first.index}]: ${first.message}`);
    }
    return problems.map(({ n, m }, index) => readResult(output, layout.i32ByteOffset, n, m, layout.f64At[index]!, layout.i32At[index]!));
  };

  return {
    size,
    solveBatch(problems, options) {
      for (let index = 0; index < problems.length; index++) {
        const { cost, n, m } = problems[index]!;
        try {
          checkShape(cost, n, m);
        } catch (e) {
          return Promise.reject(new AssignmentError(`problems[${index}]: ${e instanceof Error ? e.message : String(e)}`));
        }
      }
      if (problems.length === 0) return Promise.resolve([]);
      const result = tail.then(() => run(problems, options?.maximize === true));
      tail = result.catch(() => undefined);
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      settle(new AssignmentError('the assignment pool was closed while a batch was running'));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

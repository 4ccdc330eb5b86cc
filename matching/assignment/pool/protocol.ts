/**
 * The worker protocol of the batched solver, independent of the transport: plain messages whose
 * only non-JSON members are SharedArrayBuffers, so the same protocol runs over Node's
 * `worker_threads` and over browser web workers (which need a cross-origin-isolated page for
 * SharedArrayBuffer).
 *
 * A batch is one message to every worker. Matrices are read in place from shared memory (no
 * structured-clone copies); work is handed out dynamically through an atomic counter in
 * `control`, so a worker that drew easy matrices takes more of them, and may start before the
 * host has finished copying the input (a second counter publishes what is ready); results are written into
 * one shared `output` buffer at offsets fixed by the host. Each worker answers with one `done`
 * message listing the failures it met.
 */
import type { AssignmentResult } from '../types.js';

export interface ProblemSpec {
  /** Shared memory holding the matrix, row-major, at `byteOffset`. */
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly dtype: 'f64' | 'f32';
  readonly n: number;
  readonly m: number;
  /** Offsets of this problem's result in `output`: float64 and int32 element indices. */
  readonly f64At: number;
  readonly i32At: number;
}

export interface BatchRequest {
  readonly type: 'batch';
  readonly id: number;
  readonly problems: readonly ProblemSpec[];
  readonly maximize: boolean;
  /**
   * Two int32 counters: [0] the next problem index to claim (`Atomics.add`), [1] how many
   * problems, in index order, are ready in shared memory (the host publishes them as it copies;
   * a worker that claimed a later one waits on it with `Atomics.wait`).
   */
  readonly control: SharedArrayBuffer;
  readonly output: SharedArrayBuffer;
  /** Where the int32 part of `output` starts (see `outputLayout`). */
  readonly i32ByteOffset: number;
}

export interface BatchFailure {
  readonly index: number;
  readonly message: string;
}

export interface BatchDone {
  readonly type: 'done';
  readonly id: number;
  readonly failures: readonly BatchFailure[];
}

export type HostMessage = BatchRequest;
export type WorkerMessage = BatchDone;

/** Worker side of a transport. */
export interface HostEndpoint {
  post(message: WorkerMessage): void;
  onMessage(handler: (message: HostMessage) => void): void;
}

/** Host side of a transport: one worker. */
export interface WorkerEndpoint {
  post(message: HostMessage): void;
  onMessage(handler: (message: WorkerMessage) => void): void;
  onError(handler: (error: Error) => void): void;
  /** Whether this worker may keep the host process alive (Node); a no-op where meaningless. */
  keepAlive(on: boolean): void;
  terminate(): Promise<void>;
}

/**
 * Output layout of a batch. Per problem with k = min(n, m): float64 [total, u (n), v (m)] and
 * int32 [rows (k), cols (k)]. The float64 part comes first, so every view is aligned.
 */
export interface OutputLayout {
  readonly f64At: readonly number[];
  readonly i32At: readonly number[];
  readonly bytes: number;
  readonly i32ByteOffset: number;
}

export function outputLayout(shapes: readonly { readonly n: number; readonly m: number }[]): OutputLayout {
  const f64At: number[] = [];
  const i32At: number[] = [];
  let f = 0;
  let q = 0;
  for (const { n, m } of shapes) {
    f64At.push(f);
    i32At.push(q);
    f += 1 + n + m;
    q += 2 * Math.min(n, m);
  }
  return { f64At, i32At, i32ByteOffset: 8 * f, bytes: 8 * f + 4 * q };
}

/** Copies a result into its slots of the output buffer. */
export function writeResult(output: SharedArrayBuffer, i32ByteOffset: number, spec: ProblemSpec, result: AssignmentResult): void {
  const k = Math.min(spec.n, spec.m);
  const f = new Float64Array(output, 8 * spec.f64At, 1 + spec.n + spec.m);
  f[0] = result.total;
  f.set(result.rowPotentials, 1);
  f.set(result.colPotentials, 1 + spec.n);
  const q = new Int32Array(output, i32ByteOffset + 4 * spec.i32At, 2 * k);
  q.set(result.rows, 0);
  q.set(result.cols, k);
}

/** Views of a result in the output buffer; the buffer is fresh per batch, so they stay valid. */
export function readResult(output: SharedArrayBuffer, i32ByteOffset: number, n: number, m: number, f64At: number, i32At: number): AssignmentResult {
  const k = Math.min(n, m);
  const q = i32ByteOffset + 4 * i32At;
  return {
    total: new Float64Array(output, 8 * f64At, 1)[0]!,
    rowPotentials: new Float64Array(output, 8 * (f64At + 1), n),
    colPotentials: new Float64Array(output, 8 * (f64At + 1 + n), m),
    rows: new Int32Array(output, q, k),
    cols: new Int32Array(output, q + 4 * k, k),
  };
}

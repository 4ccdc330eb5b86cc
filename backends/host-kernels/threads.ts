/**
 * Threads for the host divergence kernels: rows are shared out between the calling thread and a
 * small pool of Node `worker_threads`, all reading chunks of the logits from SharedArrayBuffers
 * and writing their rows of the gradient and of the per-row losses into shared ones.
 *
 * Kernels are synchronous (tfjs asks for a value and a gradient function, not promises), so the
 * calling thread does not wait for the workers to start: every thread claims the next row from
 * an atomic counter, the caller included, and the caller then blocks (`Atomics.wait`, allowed on
 * Node's main thread) only until the rows that workers claimed are finished. Rows go through
 * shared memory a chunk at a time (`runRows`), so the shared copies stay a few MiB at any N. A
 * pool still starting leaves every row to the caller; a row is computed by the same function on
 * the same bytes whichever thread claims it, so results do not depend on the number of threads
 * or on who did what (bit for bit: tested).
 *
 * Node only: in a browser (no `process.getBuiltinModule`), or with `MMKD_HOST_THREADS=1`, the
 * caller computes every row itself.
 */
import { computeRows, type RowJob, rowOf, type Scratch } from './rows.js';

/** Slots of a job's control array: the next row to claim, and how many rows are finished. */
export const NEXT_ROW = 0;
export const ROWS_DONE = 1;

/** What a worker receives: the job (its arrays on SharedArrayBuffers), the control array, the row count. */
export interface JobMessage extends RowJob {
  readonly control: Int32Array;
  readonly rows: number;
}

/** Below this many entries (rows × vocabulary) a call stays on the calling thread. */
const MIN_THREADED_ENTRIES = 1 << 18;
/** A wait this long with no row finished means a worker died mid-row. */
const STALL_MS = 120_000;

interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): void;
  off(event: 'message', listener: (value: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface Pool {
  readonly workers: WorkerLike[];
  ready: Promise<void>;
  broken: boolean;
}

let requested: number | undefined;
let pool: Pool | undefined;
/** Rows computed by workers in the last threaded call (tests check that workers took part). */
let lastWorkerRows = 0;

/**
 * Threads a host kernel may use, the calling one included: `setHostThreads`, else the
 * MMKD_HOST_THREADS environment variable, else the machine's available parallelism; 1 where
 * Node's worker threads are not available.
 */
export function hostThreads(): number {
  if (nodeBuiltin('node:worker_threads') === undefined) return 1;
  if (requested !== undefined) return requested;
  const fromEnv = Number(globalThis.process?.env?.['MMKD_HOST_THREADS']);
  if (Number.isSafeInteger(fromEnv) && fromEnv >= 1) return fromEnv;
  const os = nodeBuiltin('node:os') as { availableParallelism?: () => number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}

/** Sets the number of threads host kernels use (1: the calling thread only), replacing the pool. */
export function setHostThreads(threads: number): void {
  if (!Number.isSafeInteger(threads) || threads < 1) throw new Error(`host threads must be a positive integer, got ${String(threads)}`);
  requested = threads;
  if (pool !== undefined && pool.workers.length !== threads - 1) closePool();
}

/** Starts the pool (when more than one thread is wanted) and resolves once every worker is ready. */
export async function hostThreadsReady(): Promise<void> {
  const p = poolFor(hostThreads());
  if (p !== undefined) await p.ready;
}

/** Rows that workers computed in the last threaded call. */
export function lastWorkerRowCount(): number {
  return lastWorkerRows;
}

/** Whether a call of `rows × vocab` entries should run threaded. */
export function threadedFor(rows: number, vocab: number): boolean {
  return rows > 1 && rows * vocab >= MIN_THREADED_ENTRIES && hostThreads() > 1 && typeof SharedArrayBuffer === 'function';
}

/**
 * Floats per array of one staged chunk (2 MiB): the workers' shared copies of the logits and of
 * their gradient rows are [chunk × width], never [N × width], so threads cost a few MiB beside the
 * tensors whatever N is.
 */
const CHUNK_ENTRIES = 1 << 19;
/** Chunks staged at once (a ring of shared arrays). */
const SLOTS = 4;

/** One slot's shared arrays, reused from call to call and grown as needed. */
interface Stage {
  a: Float32Array;
  b: Float32Array;
  grad: Float32Array;
  weights: Float32Array;
  rowLoss: Float64Array;
}
const stages: Stage[] = [];

function stageFor(slot: number, rows: number, widthA: number, widthB: number): Stage {
  const held = stages[slot];
  const floats = (n: number, have: Float32Array | undefined) =>
    have !== undefined && have.length >= n ? have : new Float32Array(new SharedArrayBuffer(4 * n));
  const stage: Stage = {
    a: floats(rows * widthA, held?.a),
    b: floats(rows * widthB, held?.b),
    grad: floats(rows * widthB, held?.grad),
    weights: floats(rows, held?.weights),
    rowLoss: held !== undefined && held.rowLoss.length >= rows ? held.rowLoss : new Float64Array(new SharedArrayBuffer(8 * rows)),
  };
  stages[slot] = stage;
  return stage;
}

/** A chunk of rows r0 … r0 + rows − 1 staged for the pool, with its own row counters. */
interface Chunk {
  readonly job: RowJob;
  readonly r0: number;
  readonly rows: number;
  readonly control: Int32Array;
}

/**
 * Computes every row of `job` (`rows` of them). Single-threaded, or when the pool is missing or
 * broken, on this thread straight from and into the job's own arrays. Threaded, through a ring of
 * SLOTS staged chunks: this thread copies a chunk's logits into shared memory and posts it, every
 * thread claims rows from the oldest chunk with rows left, and this thread copies a chunk's
 * gradient rows and losses out once all its rows are done, then stages the next chunk in its
 * slot. This thread blocks only when every staged row is claimed and the oldest chunk is not yet
 * finished: on a busy machine a descheduled worker then holds up at most its own row, not every
 * thread at every chunk.
 */
export function runRows(job: RowJob, rows: number, scratch: Scratch, threaded: boolean): void {
  const p = threaded ? poolFor(hostThreads()) : undefined;
  if (p === undefined || p.broken) {
    computeRows(job, scratch, 0, rows);
    return;
  }
  const perChunk = Math.max(1, Math.min(rows, Math.floor(CHUNK_ENTRIES / Math.max(job.widthA, job.widthB))));
  const chunks = Math.ceil(rows / perChunk);
  const live: Chunk[] = [];
  let staged = 0;
  let mine = 0;
  const stageIn = () => {
    const r0 = staged * perChunk;
    const n = Math.min(rows, r0 + perChunk) - r0;
    const s = stageFor(staged % SLOTS, perChunk, job.widthA, job.widthB);
    stageRows(s.a, job.a, job.rowsA, r0, n, job.widthA);
    stageRows(s.b, job.b, job.rowsB, r0, n, job.widthB);
    s.weights.set(job.weights.subarray(r0, r0 + n));
    const chunk: Chunk = {
      // Staged rows are consecutive: the chunk's job reads row i at i.
      job: { ...job, a: s.a, b: s.b, weights: s.weights, rowLoss: s.rowLoss, grad: job.grad === null ? null : s.grad, rowsA: null, rowsB: null },
      r0,
      rows: n,
      control: new Int32Array(new SharedArrayBuffer(8)),
    };
    const message: JobMessage = { ...chunk.job, control: chunk.control, rows: n };
    for (const w of p.workers) {
      w.postMessage(message);
      w.unref();
    }
    live.push(chunk);
    staged++;
  };
  const stageOut = ({ job: fromStage, r0, rows: n }: Chunk) => {
    job.rowLoss.set(fromStage.rowLoss.subarray(0, n), r0);
    const grad = job.grad;
    if (grad === null || fromStage.grad === null) return;
    const { widthB, vocab } = job;
    // Rows write their first `vocab` columns only; the rest of the caller's rows stay as they are.
    if (vocab === widthB && job.rowsB == null) grad.set(fromStage.grad.subarray(0, n * widthB), r0 * widthB);
    else for (let i = 0; i < n; i++) grad.set(fromStage.grad.subarray(i * widthB, i * widthB + vocab), rowOf(job.rowsB, r0 + i) * widthB);
  };
  while (staged < chunks && live.length < SLOTS) stageIn();
  while (live.length > 0) {
    let claimed = false;
    for (const chunk of live) {
      const i = Atomics.add(chunk.control, NEXT_ROW, 1);
      if (i < chunk.rows) {
        computeRows(chunk.job, scratch, i, i + 1);
        Atomics.add(chunk.control, ROWS_DONE, 1);
        mine++;
        claimed = true;
        break;
      }
    }
    const oldest = live[0]!;
    const done = Atomics.load(oldest.control, ROWS_DONE);
    if (done === oldest.rows) {
      stageOut(oldest);
      live.shift();
      if (staged < chunks) stageIn();
    } else if (!claimed && Atomics.wait(oldest.control, ROWS_DONE, done, STALL_MS) === 'timed-out' && Atomics.load(oldest.control, ROWS_DONE) === done) {
      p.broken = true;
      throw new Error(`internal: a host-kernel worker stopped mid-row (${oldest.r0 + done} of ${rows} rows finished)`);
    }
  }
  lastWorkerRows = rows - mine;
}

function poolFor(threads: number): Pool | undefined {
  if (threads <= 1) return undefined;
  if (pool !== undefined && pool.workers.length === threads - 1 && !pool.broken) return pool;
  if (pool !== undefined) closePool();
  const spawn = workerSpawner();
  if (spawn === undefined) return undefined;
  const workers: WorkerLike[] = [];
  const starts: Promise<void>[] = [];
  const created: Pool = { workers, ready: Promise.resolve(), broken: false };
  for (let k = 0; k < threads - 1; k++) {
    const w = spawn();
    w.unref();
    starts.push(
      new Promise<void>((resolve, reject) => {
        const onReady = (m: unknown) => {
          if (m !== 'ready') return;
          // A 'message' listener keeps the worker's port referenced, and so the process alive.
          w.off('message', onReady);
          w.unref();
          resolve();
        };
        w.on('message', onReady);
        w.on('error', (error) => {
          created.broken = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        });
        w.on('exit', () => {
          created.broken = true;
          reject(new Error('a host-kernel worker exited'));
        });
      }),
    );
    workers.push(w);
  }
  created.ready = Promise.all(starts).then(() => undefined);
  created.ready.catch(() => undefined);
  pool = created;
  return pool;
}

function closePool(): void {
  const old = pool;
  pool = undefined;
  if (old === undefined) return;
  for (const w of old.workers) void w.terminate();
}

/**
 * How to start a worker: the compiled `worker.js` beside this module, or, when running from the
 * TypeScript sources (tests, `npm run bench` through tsx), a two-line bootstrap that registers
 * tsx's loader inside the worker and imports `worker.ts` (as the assignment pool does).
 */
function workerSpawner(): (() => WorkerLike) | undefined {
  const threads = nodeBuiltin('node:worker_threads') as { Worker: new (url: URL | string, options?: { eval?: boolean }) => WorkerLike } | undefined;
  if (threads === undefined) return undefined;
  const { Worker } = threads;
  if (!import.meta.url.endsWith('.ts')) {
    const url = new URL('./worker.js', import.meta.url);
    return () => new Worker(url);
  }
  const api = tsxEsmApi();
  if (api === undefined) return undefined;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return () => new Worker(bootstrap, { eval: true });
}

/** URL of tsx's ESM API (`tsx/esm/api`, import condition), from tsx's package.json; undefined without tsx. */
function tsxEsmApi(): string | undefined {
  const module = nodeBuiltin('node:module') as { createRequire: (from: string) => { resolve: (id: string) => string } } | undefined;
  const fs = nodeBuiltin('node:fs') as { readFileSync: (path: string, encoding: 'utf8') => string } | undefined;
  const url = nodeBuiltin('node:url') as { pathToFileURL: (path: string) => URL } | undefined;
  const path = nodeBuiltin('node:path') as { dirname: (p: string) => string; join: (...p: string[]) => string } | undefined;
  if (module === undefined || fs === undefined || url === undefined || path === undefined) return undefined;
  try {
    const pkgPath = module.createRequire(import.meta.url).resolve('tsx/package.json');
    const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
    const target = pkg.exports?.['./esm/api']?.import?.default;
    return typeof target === 'string' ? url.pathToFileURL(path.join(path.dirname(pkgPath), target)).href : undefined;
  } catch {
    return undefined;
  }
}

/** A Node built-in module, synchronously, without a static import (so browsers bundle this file). */
function nodeBuiltin(name: string): unknown {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  return typeof get === 'function' ? get(name) : undefined;
}

/** Copies job rows r0 … r0 + n − 1 of `from` (rows `rowOf(rows, i)`, `width` floats each) into `to`, consecutively. */
function stageRows(to: Float32Array, from: Float32Array, rows: Int32Array | null | undefined, r0: number, n: number, width: number): void {
  if (rows == null) {
    to.set(from.subarray(r0 * width, (r0 + n) * width));
    return;
  }
  for (let i = 0; i < n; i++) {
    const o = rows[r0 + i]! * width;
    to.set(from.subarray(o, o + width), i * width);
  }
}

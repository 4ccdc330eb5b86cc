/**
 * Threads for the host divergence kernels: rows are shared out between the calling thread and a
 * small pool of Node `worker_threads`, all reading the logits from SharedArrayBuffers and
 * writing their rows of the gradient and of the per-row losses into shared ones.
 *
 * Kernels are synchronous (tfjs asks for a value and a gradient function, not promises), so the
 * calling thread does not wait for the workers to start: every thread claims the next row from
 * an atomic counter, the caller included, and the caller then blocks (`Atomics.wait`, allowed on
 * Node's main thread) only until the rows that workers claimed are finished. A pool still
 * starting leaves every row to the caller; a row is computed by the same function on the same
 * bytes whichever thread claims it, so results do not depend on the number of threads or on who
 * did what (bit for bit: tested).
 *
 * Node only: in a browser (no `process.getBuiltinModule`), or with `MMKD_HOST_THREADS=1`, the
 * caller computes every row itself.
 */
import { computeClaimedRows, computeRows, type RowJob, type Scratch } from './rows.js';

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

/** Whether a call of `rows × vocab` entries should run threaded (and so needs shared arrays). */
export function threadedFor(rows: number, vocab: number): boolean {
  return rows > 1 && rows * vocab >= MIN_THREADED_ENTRIES && hostThreads() > 1 && typeof SharedArrayBuffer === 'function';
}

/**
 * Computes every row of `job` (`rows` of them), on the pool when `threaded` (then every array of
 * the job must live on a SharedArrayBuffer), else on this thread.
 */
export function runRows(job: RowJob, rows: number, scratch: Scratch, threaded: boolean): void {
  const p = threaded ? poolFor(hostThreads()) : undefined;
  if (p === undefined || p.broken) {
    computeRows(job, scratch, 0, rows);
    return;
  }
  const control = new Int32Array(new SharedArrayBuffer(8));
  const message: JobMessage = { ...job, control, rows };
  for (const w of p.workers) {
    w.postMessage(message);
    w.unref();
  }
  const mine = computeClaimedRows(job, scratch, control, NEXT_ROW, rows);
  Atomics.add(control, ROWS_DONE, mine);
  let seen = Atomics.load(control, ROWS_DONE);
  while (seen < rows) {
    if (Atomics.wait(control, ROWS_DONE, seen, STALL_MS) === 'timed-out' && Atomics.load(control, ROWS_DONE) === seen) {
      p.broken = true;
      throw new Error(`internal: a host-kernel worker stopped mid-row (${seen} of ${rows} rows finished)`);
    }
    seen = Atomics.load(control, ROWS_DONE);
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

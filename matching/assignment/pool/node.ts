/**
 * Node transport of the assignment pool: `worker_threads` workers, one per core by default.
 * Workers are unref'd while idle, so an open pool never keeps the process alive; they are
 * ref'd only while a batch runs, so awaiting a batch does.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerEndpoint, WorkerMessage } from './protocol.js';
import { type AssignmentPool, createPoolOn } from './worker-pool.js';

/**
 * A pool of `worker_threads` (one per core by default, `options.workers` otherwise) that solves a
 * batch of assignment problems in parallel, with results identical to `solveBatchSequential`.
 * `close()` it when done.
 */
export function createAssignmentPool(options?: { readonly workers?: number }): AssignmentPool {
  const spawn = workerSpawner();
  return createPoolOn(() => nodeEndpoint(spawn()), options?.workers ?? availableParallelism());
}

/**
 * The compiled worker sits beside this module. When running from the TypeScript sources (tests,
 * `npm run bench` through tsx), Node cannot load a .ts worker by itself, and a worker does not
 * apply `--import tsx` to its entry, so a two-line bootstrap registers tsx's loader inside the
 * worker and then imports the .ts entry.
 */
function workerSpawner(): () => Worker {
  if (!import.meta.url.endsWith('.ts')) {
    const url = new URL('./worker-node.js', import.meta.url);
    return () => new Worker(url);
  }
  const entry = new URL('./worker-node.ts', import.meta.url).href;
  const api = tsxEsmApi();
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return () => new Worker(bootstrap, { eval: true });
}

/** URL of tsx's ESM API (`tsx/esm/api`, import condition), read from tsx's package.json. */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg: unknown = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const target = lookup(pkg, ['exports', './esm/api', 'import', 'default']);
  if (typeof target !== 'string') throw new Error('cannot locate tsx/esm/api to load the TypeScript worker');
  return pathToFileURL(join(dirname(pkgPath), target)).href;
}

function lookup(value: unknown, path: readonly string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function nodeEndpoint(worker: Worker): WorkerEndpoint {
  let terminating = false;
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => worker.on('message', (message: WorkerMessage) => handler(message)),
    onError: (handler) => {
      worker.on('error', handler);
      worker.on('exit', (code) => {
        if (!terminating) handler(new Error(`worker exited with code ${code}`));
      });
    },
    keepAlive: (on) => {
      if (on) worker.ref();
      else worker.unref();
    },
    terminate: async () => {
      terminating = true;
      await worker.terminate();
    },
  };
}

/**
 * Browser transport of the assignment pool: module web workers running `worker-browser.js`.
 *
 * SharedArrayBuffer, which the protocol needs, exists only on cross-origin-isolated pages
 * (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`); elsewhere this throws at creation. Web workers
 * cannot be unref'd, and a page does not wait for them, so `keepAlive` is a no-op here.
 */
import { AssignmentError } from '../error.js';
import type { WorkerEndpoint, WorkerMessage } from './protocol.js';
import { type AssignmentPool, createPoolOn } from './worker-pool.js';

export interface BrowserPoolOptions {
  /** Default: navigator.hardwareConcurrency, or 4 where unknown. */
  readonly workers?: number;
  /** Where the bundled `worker-browser.js` is served; default: beside this module. */
  readonly workerUrl?: URL | string;
}

export function createBrowserAssignmentPool(options?: BrowserPoolOptions): AssignmentPool {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (typeof SharedArrayBuffer === 'undefined' || isolated === false) {
    throw new AssignmentError(
      'the assignment pool needs SharedArrayBuffer: serve the page with Cross-Origin-Opener-Policy: same-origin ' +
        'and Cross-Origin-Embedder-Policy: require-corp',
    );
  }
  const url = options?.workerUrl ?? new URL('./worker-browser.js', import.meta.url);
  const size = options?.workers ?? (globalThis.navigator?.hardwareConcurrency || 4);
  return createPoolOn(() => webEndpoint(new Worker(url, { type: 'module' })), size);
}

function webEndpoint(worker: Worker): WorkerEndpoint {
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => handler(event.data)),
    onError: (handler) => worker.addEventListener('error', (event: ErrorEvent) => handler(new Error(event.message || 'worker error'))),
    keepAlive: () => undefined,
    terminate: async () => worker.terminate(),
  };
}

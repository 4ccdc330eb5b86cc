/**
 * Entry point of a browser web worker of the assignment pool. Load it as a module worker:
 * `new Worker(new URL('./worker-browser.js', import.meta.url), { type: 'module' })`.
 */
import type { HostMessage, WorkerMessage } from './protocol.js';
import { serveAssignmentWorker } from './serve-worker.js';

/** The part of a DedicatedWorkerGlobalScope this entry uses (the DOM lib types `self` as Window). */
interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  addEventListener(type: 'message', listener: (event: { readonly data: HostMessage }) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
serveAssignmentWorker({
  post: (message) => scope.postMessage(message),
  onMessage: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
});

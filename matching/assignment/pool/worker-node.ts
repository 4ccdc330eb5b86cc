/** Entry point of a Node `worker_threads` worker of the assignment pool. */
import { parentPort } from 'node:worker_threads';
import type { HostMessage } from './protocol.js';
import { serveAssignmentWorker } from './serve-worker.js';

const port = parentPort;
if (port === null) throw new Error('worker-node.js must run inside a worker_threads Worker');
serveAssignmentWorker({
  post: (message) => port.postMessage(message),
  onMessage: (handler) => port.on('message', (message: HostMessage) => handler(message)),
});

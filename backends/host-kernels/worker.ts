/** Entry point of a host-kernel worker thread (Node `worker_threads`): see `threads.ts`. */
import { parentPort } from 'node:worker_threads';
import { computeClaimedRows, type RowJob, type Scratch, scratchFor } from './rows.js';
import { type JobMessage, NEXT_ROW, ROWS_DONE } from './threads.js';

const port = parentPort;
if (port === null) throw new Error('worker.js must run inside a worker_threads Worker');
let scratch: Scratch | undefined;
port.on('message', (message: JobMessage) => {
  const { control, rows, ...fields } = message;
  const job: RowJob = { ...fields };
  scratch = scratchFor(job.vocab, scratch);
  const done = computeClaimedRows(job, scratch, control, NEXT_ROW, rows);
  if (done > 0) {
    Atomics.add(control, ROWS_DONE, done);
    Atomics.notify(control, ROWS_DONE);
  }
});
port.postMessage('ready');

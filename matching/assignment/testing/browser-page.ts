/**
 * Page script for `pool/browser.test.ts`: runs a batch through the web-worker pool and through
 * the sequential path, and leaves the comparison in `globalThis.poolCheck`.
 */
import { type AssignmentProblem, type AssignmentResult, createBrowserAssignmentPool, solveBatchSequential } from '../browser.js';
import { seededCosts } from './seeded-costs.js';

const key = (r: AssignmentResult): string =>
  JSON.stringify([Array.from(r.rows), Array.from(r.cols), r.total, Array.from(r.rowPotentials), Array.from(r.colPotentials)]);

async function check(): Promise<unknown> {
  const problems: AssignmentProblem[] = [];
  for (let s = 0; s < 12; s++) {
    const [n, m] = s % 3 === 0 ? [576, 144] : s % 3 === 1 ? [144, 576] : [50, 50];
    const plain = seededCosts(s % 2 === 0 ? 'float' : 'int', n, m, s);
    const shared = new Float64Array(new SharedArrayBuffer(plain.byteLength));
    shared.set(plain);
    problems.push({ cost: s % 4 === 0 ? shared : plain, n, m });
  }
  const pool = createBrowserAssignmentPool({ workers: 2, workerUrl: '/worker-browser.js' });
  try {
    const got = await pool.solveBatch(problems);
    const want = solveBatchSequential(problems);
    let error = '';
    try {
      await pool.solveBatch([{ cost: Float64Array.of(1, NaN), n: 1, m: 2 }]);
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    return {
      isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      count: got.length,
      identical: got.every((r, q) => key(r) === key(want[q]!)),
      error,
    };
  } finally {
    await pool.close();
  }
}

check().then(
  (result) => ((globalThis as { poolCheck?: unknown }).poolCheck = result),
  (e: unknown) => ((globalThis as { poolCheck?: unknown }).poolCheck = { failed: String(e) }),
);

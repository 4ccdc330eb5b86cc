/** The pool returns exactly what the sequential path returns, and never keeps Node alive. */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { AssignmentError } from '../error.js';
import { seededCosts } from '../testing/seeded-costs.js';
import type { AssignmentProblem, AssignmentResult } from '../types.js';
import { createAssignmentPool } from './node.js';
import type { HostMessage, WorkerEndpoint, WorkerMessage } from './protocol.js';
import { solveBatchSequential } from './sequential.js';
import { runBatch } from './serve-worker.js';
import { createPoolOn } from './worker-pool.js';

const shapes: readonly (readonly [number, number])[] = [
  [576, 144],
  [144, 576],
  [60, 60],
  [0, 7],
  [7, 0],
  [1, 1],
  [33, 20],
];

function problems(shared: boolean): AssignmentProblem[] {
  const out: AssignmentProblem[] = [];
  shapes.forEach(([n, m], s) => {
    for (const kind of ['float', 'int'] as const) {
      const buffer = shared ? new SharedArrayBuffer(8 * n * m) : new ArrayBuffer(8 * n * m);
      const cost = seededCosts(kind, n, m, 97 * s + (kind === 'int' ? 1 : 0), new Float64Array(buffer));
      out.push({ cost, n, m });
      out.push({ cost: Float32Array.from(cost), n, m });
    }
  });
  return out;
}

const plain = (r: AssignmentResult) => ({
  rows: Array.from(r.rows),
  cols: Array.from(r.cols),
  total: r.total,
  u: Array.from(r.rowPotentials),
  v: Array.from(r.colPotentials),
});

describe('assignment pool', () => {
  const pool = createAssignmentPool({ workers: 2 });
  afterAll(() => pool.close());

  it('a batch equals solving the problems one by one (copied-in and shared inputs, minimize and maximize)', async () => {
    for (const shared of [false, true]) {
      for (const maximize of [false, true]) {
        const batch = problems(shared);
        const got = await pool.solveBatch(batch, { maximize });
        const want = solveBatchSequential(batch, { maximize });
        expect(got.map(plain)).toEqual(want.map(plain));
      }
    }
  });

  it('concurrent batches are each answered correctly', async () => {
    const a = problems(false);
    const b = problems(true).reverse();
    const [ra, rb] = await Promise.all([pool.solveBatch(a), pool.solveBatch(b, { maximize: true })]);
    expect(ra.map(plain)).toEqual(solveBatchSequential(a).map(plain));
    expect(rb.map(plain)).toEqual(solveBatchSequential(b, { maximize: true }).map(plain));
  });

  it('fails like the sequential path: the first bad problem, by index', async () => {
    const batch = problems(false);
    const bad = seededCosts('float', 4, 4, 1);
    bad[6] = NaN;
    const infeasible = Float64Array.of(1, Infinity, 2, Infinity);
    const withErrors = [...batch.slice(0, 3), { cost: infeasible, n: 2, m: 2 }, ...batch.slice(3), { cost: bad, n: 4, m: 4 }];
    const message = 'problems[3]: infeasible cost matrix: column 1 could not be matched to any row without a forbidden pair (+Infinity)';
    expect(() => solveBatchSequential(withErrors)).toThrow(message);
    await expect(pool.solveBatch(withErrors)).rejects.toThrow(new AssignmentError(message));
    await expect(pool.solveBatch([{ cost: new Float64Array(3), n: 2, m: 2 }])).rejects.toThrow(
      'problems[0]: cost has 3 entries, but a 2×2 matrix needs n·m = 4',
    );
    // The pool is still usable afterwards.
    expect((await pool.solveBatch(batch.slice(0, 2))).map(plain)).toEqual(solveBatchSequential(batch.slice(0, 2)).map(plain));
  });

  it('an empty batch resolves to an empty list', async () => {
    expect(await pool.solveBatch([])).toEqual([]);
  });
});

/**
 * A transport with no threads at all: each "worker" answers on a later macrotask. Shows that the
 * pool needs nothing from its transport beyond the four calls of `WorkerEndpoint`.
 */
function inMemoryWorker(): WorkerEndpoint {
  let onMessage: (m: WorkerMessage) => void = () => undefined;
  return {
    post: (request: HostMessage) => {
      setTimeout(() => onMessage({ type: 'done', id: request.id, failures: runBatch(request) }), 0);
    },
    onMessage: (handler) => (onMessage = handler),
    onError: () => undefined,
    keepAlive: () => undefined,
    terminate: async () => undefined,
  };
}

describe('assignment pool over any transport', () => {
  it('an in-memory transport gives the same results as the sequential path', async () => {
    const pool = createPoolOn(inMemoryWorker, 3);
    const batch = problems(false);
    expect((await pool.solveBatch(batch)).map(plain)).toEqual(solveBatchSequential(batch).map(plain));
    await pool.close();
    await expect(pool.solveBatch(batch)).rejects.toThrow('the assignment pool is closed');
  });

  it('rejects a pool size that is not a positive integer', () => {
    expect(() => createPoolOn(inMemoryWorker, 0)).toThrow('workers must be a positive integer, got 0');
  });
});

describe('assignment pool lifecycle', () => {
  const run = (body: string): string =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      timeout: 30_000,
    });
  const prelude = `import { createAssignmentPool } from ${JSON.stringify(new URL('./node.ts', import.meta.url).href)};`;

  it('a process that creates, uses and closes a pool exits on its own', () => {
    const out = run(`${prelude}
      const pool = createAssignmentPool();
      const r = await pool.solveBatch([{ cost: Float64Array.of(4, 1, 3, 2, 0, 5, 3, 2, 2), n: 3, m: 3 }]);
      await pool.close();
      await pool.solveBatch([{ cost: Float64Array.of(1), n: 1, m: 1 }]).catch((e) => console.log(e.message));
      console.log('total', r[0].total);`);
    expect(out).toContain('total 5');
    expect(out).toContain('the assignment pool is closed');
  });

  it('a process that leaves an idle pool open still exits on its own', () => {
    const out = run(`${prelude}
      const pool = createAssignmentPool({ workers: 2 });
      const r = await pool.solveBatch([{ cost: Float64Array.of(4, 1, 3, 2, 0, 5, 3, 2, 2), n: 3, m: 3 }]);
      console.log('size', pool.size, 'total', r[0].total);`);
    expect(out).toContain('size 2 total 5');
  });
});

/**
 * `npm run bench -- matching [--quick] [--out FILE]`: the exact assignment solver against what a
 * user would otherwise pick, in one run, on the same seeded matrices.
 *
 * Solvers: mmkd `solveAssignment`; `munkres@2.0.4` (Float64Array row views, its fastest input);
 * `linear-sum-assignment@1.0.9` (same row views, `{ maximaze: false }` since it maximizes by
 * default); scipy's `linear_sum_assignment` in a persistent python3 child that reads the same
 * bytes from a temp file and times itself with `time.perf_counter` (skipped with a note when
 * python3 or scipy is missing). Conversions of the input are not timed.
 *
 * Fairness: each JS solver runs in its own fresh worker thread (a fresh V8 isolate) per cell, as
 * if in its own process: in one shared isolate, code tuned by the JIT on one shape deoptimizes on
 * the next, which cost munkres up to 4× in a first version of this benchmark.
 *
 * Noise: the machine may be shared, so solvers are interleaved (in every round every solver
 * solves every instance, in a rotating order, and scipy runs between them; only one solver runs
 * at a time), and each figure is a median over all instances and rounds. Slow (solver, cell)
 * pairs stop sampling once they have used their time budget. Every total is checked against
 * mmkd's.
 *
 * Prints a table with the ratios scipy/mmkd and munkres/mmkd, the batch of 64 × 576×144 (pool vs
 * sequential vs scipy), PASS/FAIL against the targets, and writes the same as Markdown to
 * runs/bench/results-matching.md (untracked), or to `--out <file>` (bench/results-matching.md is
 * the copy bench/RESULTS.md quotes: pass it to refresh that one).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { linearSumAssignment } from 'linear-sum-assignment';
import munkres from 'munkres';
import { type AssignmentProblem, createAssignmentPool, solveAssignment, solveBatchSequential } from '../matching/assignment/index.js';
import { type CostKind, seededCosts } from '../matching/assignment/testing/seeded-costs.js';

// ---------------------------------------------------------------------------------------------
// Configuration

interface Config {
  readonly quick: boolean;
  readonly out: string;
  readonly instances: number;
  readonly rounds: number;
  /** Seconds one (solver, cell) may spend before it stops sampling. */
  readonly budget: number;
  readonly batchRounds: number;
}

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--out');
  const out = at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : join('runs', 'bench', 'results-matching.md');
  return quick ? { quick, out, instances: 3, rounds: 3, budget: 1.5, batchRounds: 5 } : { quick, out, instances: 5, rounds: 7, budget: 6, batchRounds: 11 };
}

const SIZES: readonly (readonly [number, number])[] = [
  [64, 64],
  [144, 144],
  [576, 144],
  [576, 576],
  [1024, 1024],
];
const KINDS: readonly CostKind[] = ['float', 'int'];
const BATCH = { count: 64, n: 576, m: 144 } as const;

// ---------------------------------------------------------------------------------------------
// Data

interface Cell {
  readonly key: string;
  readonly n: number;
  readonly m: number;
  readonly kind: CostKind;
  /** The instances, back to back in shared memory, so solver workers read them without a copy. */
  readonly buffer: SharedArrayBuffer;
  readonly mats: readonly Float64Array[];
  /** mmkd's optimal totals, the reference for every other solver. */
  readonly totals: readonly number[];
}

function sharedMatrices(
  count: number,
  n: number,
  m: number,
  fill: (b: number, out: Float64Array) => void,
): { buffer: SharedArrayBuffer; mats: Float64Array[] } {
  const buffer = new SharedArrayBuffer(8 * count * n * m);
  const mats = Array.from({ length: count }, (_, b) => {
    const view = new Float64Array(buffer, 8 * b * n * m, n * m);
    fill(b, view);
    return view;
  });
  return { buffer, mats };
}

function makeCells(cfg: Config): Cell[] {
  const cells: Cell[] = [];
  for (const [n, m] of SIZES) {
    for (const kind of KINDS) {
      const seed0 = 1000 * n + m + (kind === 'int' ? 500_000 : 0);
      const { buffer, mats } = sharedMatrices(cfg.instances, n, m, (s, out) => seededCosts(kind, n, m, seed0 + s, out));
      cells.push({ key: `${n}x${m}-${kind}`, n, m, kind, buffer, mats, totals: mats.map((c) => solveAssignment(c, n, m).total) });
    }
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------
// JS solvers, each run in a worker of its own

const SOLVERS = {
  mmkd: (cost: Float64Array, _rows: Float64Array[], n: number, m: number): number => solveAssignment(cost, n, m).total,
  munkres: (cost: Float64Array, rows: Float64Array[], _n: number, m: number): number => {
    let t = 0;
    for (const [i, j] of munkres(rows)) t += cost[i * m + j]!;
    return t;
  },
  'linear-sum-assignment': (cost: Float64Array, rows: Float64Array[], n: number, m: number): number => {
    const { rowAssignments } = linearSumAssignment(rows, { maximaze: false });
    let t = 0;
    for (let i = 0; i < n; i++) {
      const j = rowAssignments[i]!;
      if (j >= 0) t += cost[i * m + j]!;
    }
    return t;
  },
} as const;

type SolverName = keyof typeof SOLVERS;
const SOLVER_NAMES = Object.keys(SOLVERS) as SolverName[];

/** linear-sum-assignment takes up to 1.75 s per integer 1024² solve (reference machine). */
const isSlow = (name: SolverName, n: number, m: number): boolean => name === 'linear-sum-assignment' && n * m > 400_000;
const WARM_UP_MS = 300;
/** Solves per (instance, round) are repeated up to this many milliseconds, at most 10 times. */
const REPEAT_MS = 10;

interface SolverWorkerData {
  readonly role: 'mmkd-bench-solver';
  readonly solver: SolverName;
  readonly buffer: SharedArrayBuffer;
  readonly n: number;
  readonly m: number;
  readonly count: number;
}

type SolverRequest = { readonly cmd: 'solve'; readonly index: number; readonly reps: number } | { readonly cmd: 'batch' };
/** Milliseconds of each solve (or of the whole batch pass), and the totals found. */
type SolverReply = { readonly ms: readonly number[]; readonly totals: readonly number[] };

const isSolverWorkerData = (x: unknown): x is SolverWorkerData => typeof x === 'object' && x !== null && (x as { role?: unknown }).role === 'mmkd-bench-solver';

/** Worker side: times single solves, or one sequential pass over all matrices. */
function serveSolverWorker(data: SolverWorkerData): void {
  const { n, m, count } = data;
  const solve = SOLVERS[data.solver];
  const mats = Array.from({ length: count }, (_, b) => new Float64Array(data.buffer, 8 * b * n * m, n * m));
  // Row views, the fastest input munkres accepts (about 12 µs to build for 576×144), not timed.
  const rows = mats.map((c) => Array.from({ length: n }, (_, i) => c.subarray(i * m, (i + 1) * m)));
  // Warm-up for the JIT: a few hundred milliseconds of untimed solves (one for the slowest).
  const until = performance.now() + WARM_UP_MS;
  for (let w = 0; w < 200 && (w === 0 || performance.now() < until); w++) {
    if (isSlow(data.solver, n, m)) break;
    solve(mats[w % count]!, rows[w % count]!, n, m);
  }
  parentPort!.on('message', (req: SolverRequest) => {
    let reply: SolverReply;
    if (req.cmd === 'solve') {
      const ms: number[] = [];
      let total = NaN;
      for (let r = 0; r < req.reps; r++) {
        const t0 = performance.now();
        total = solve(mats[req.index]!, rows[req.index]!, n, m);
        ms.push(performance.now() - t0);
      }
      reply = { ms, totals: [total] };
    } else {
      const t0 = performance.now();
      const totals = mats.map((c, b) => solve(c, rows[b]!, n, m));
      reply = { ms: [performance.now() - t0], totals };
    }
    parentPort!.postMessage(reply);
  });
  parentPort!.postMessage({ ms: [], totals: [] } satisfies SolverReply);
}

if (!isMainThread && isSolverWorkerData(workerData)) serveSolverWorker(workerData);

interface SolverWorker {
  ask(req: SolverRequest): Promise<SolverReply>;
  close(): Promise<void>;
}

/** Starts a solver in a fresh worker (this module, loaded through tsx when run from source). */
async function startSolverWorker(solver: SolverName, buffer: SharedArrayBuffer, n: number, m: number, count: number): Promise<SolverWorker> {
  const data: SolverWorkerData = { role: 'mmkd-bench-solver', solver, buffer, n, m, count };
  const self = import.meta.url;
  const worker = self.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(self)}); });`, {
        eval: true,
        workerData: data,
      })
    : new Worker(new URL(self), { workerData: data });
  const next = (): Promise<SolverReply> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      worker.once('error', onError);
      worker.once('message', (reply: SolverReply) => {
        worker.off('error', onError);
        resolve(reply);
      });
    });
  await next(); // ready (and warmed up)
  return {
    ask: (req) => {
      const reply = next();
      worker.postMessage(req);
      return reply;
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// scipy in a persistent child process

const PY = `
import json, sys, time
import numpy as np, scipy
from scipy.optimize import linear_sum_assignment as lsa
data = np.fromfile(sys.argv[1], dtype='<f8')
manifest = json.load(open(sys.argv[2]))
mats = {k: [data[o:o + e['n'] * e['m']].reshape(e['n'], e['m']) for o in e['offsets']] for k, e in manifest.items()}
print(json.dumps({'scipy': scipy.__version__, 'numpy': np.__version__}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == 'cell':
        times, totals = [], []
        for c in mats[cmd[1]]:
            t0 = time.perf_counter(); r, k = lsa(c); t1 = time.perf_counter()
            times.append(t1 - t0); totals.append(float(c[r, k].sum()))
        print(json.dumps({'times': times, 'totals': totals}), flush=True)
    elif cmd[0] == 'batch':
        t0 = time.perf_counter(); res = [lsa(c) for c in mats['batch']]; t1 = time.perf_counter()
        print(json.dumps({'time': t1 - t0, 'totals': [float(c[r, k].sum()) for c, (r, k) in zip(mats['batch'], res)]}), flush=True)
    else:
        break
`;

interface Scipy {
  readonly version: string;
  readonly numpy: string;
  ask(command: string): Promise<unknown>;
  close(): void;
}

/** Starts python3 with scipy on the given matrices, or returns the reason it cannot. */
async function startScipy(dir: string, groups: Record<string, { n: number; m: number; mats: readonly Float64Array[] }>): Promise<Scipy | string> {
  const manifest: Record<string, { n: number; m: number; offsets: number[] }> = {};
  const chunks: Float64Array[] = [];
  let at = 0;
  for (const [key, { n, m, mats }] of Object.entries(groups)) {
    manifest[key] = {
      n,
      m,
      offsets: mats.map((c) => {
        const offset = at;
        at += c.length;
        return offset;
      }),
    };
    chunks.push(...mats);
  }
  const all = new Float64Array(at);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  // Raw little-endian float64, as numpy's '<f8' reads it (every supported platform is little-endian).
  writeFileSync(join(dir, 'costs.f64'), new Uint8Array(all.buffer));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'scipy_bench.py'), PY);
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn('python3', [join(dir, 'scipy_bench.py'), join(dir, 'costs.f64'), join(dir, 'manifest.json')], { stdio: 'pipe' });
  } catch (e) {
    return `python3 could not be started (${e instanceof Error ? e.message : String(e)})`;
  }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: Interface = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const { value, done } = await iterator.next();
    if (done === true) throw new Error(`python3 ended: ${stderr.trim().split('\n').pop() ?? ''}`);
    return JSON.parse(value) as unknown;
  };
  const spawned = await new Promise<string | undefined>((resolve) => {
    child.once('error', (e) => resolve(`python3 is not available (${e.message})`));
    child.once('spawn', () => resolve(undefined));
  });
  if (spawned !== undefined) return spawned;
  let hello: unknown;
  try {
    hello = await next();
  } catch (e) {
    return `scipy is not available: ${e instanceof Error ? e.message : String(e)}`;
  }
  const { scipy, numpy } = hello as { scipy: string; numpy: string };
  return {
    version: scipy,
    numpy,
    ask: async (command) => {
      child.stdin.write(`${command}\n`);
      return next();
    },
    close: () => {
      child.stdin.end('quit\n');
      lines.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

const fmtTime = (ms: number): string =>
  Number.isNaN(ms) ? '–' : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 1000 ? `${ms.toFixed(ms < 10 ? 2 : 1)} ms` : `${(ms / 1000).toFixed(2)} s`;
const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const sameTotal = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

// ---------------------------------------------------------------------------------------------
// The run

/** Milliseconds per solve, by solver then cell key. */
type Samples = Map<string, Map<string, number[]>>;

function record(s: Samples, solver: string, cell: string, ms: number): void {
  let bySolver = s.get(solver);
  if (bySolver === undefined) s.set(solver, (bySolver = new Map()));
  let list = bySolver.get(cell);
  if (list === undefined) bySolver.set(cell, (list = []));
  list.push(ms);
}

const spent = (s: Samples, solver: string, cell: string): number => (s.get(solver)?.get(cell) ?? []).reduce((a, b) => a + b, 0) / 1000;

async function measureCells(cfg: Config, cells: readonly Cell[], scipy: Scipy | undefined, mismatches: string[]): Promise<Samples> {
  const s: Samples = new Map();
  const check = (solver: string, cell: Cell, k: number, total: number): void => {
    if (!sameTotal(total, cell.totals[k]!)) mismatches.push(`${solver} ${cell.key} #${k}: total ${total} vs mmkd ${cell.totals[k]}`);
  };
  for (const cell of cells) {
    const names = SOLVER_NAMES.filter((name) => !(cfg.quick && isSlow(name, cell.n, cell.m)));
    const workers = new Map<SolverName, SolverWorker>();
    for (const name of names) workers.set(name, await startSolverWorker(name, cell.buffer, cell.n, cell.m, cell.mats.length));
    for (let round = 0; round < cfg.rounds; round++) {
      const runScipy = async (): Promise<void> => {
        if (scipy === undefined) return;
        const { times, totals } = (await scipy.ask(`cell ${cell.key}`)) as { times: number[]; totals: number[] };
        times.forEach((t) => record(s, 'scipy', cell.key, t * 1000));
        if (round === 0) totals.forEach((t, k) => check('scipy', cell, k, t));
      };
      if (round % 2 === 0) await runScipy();
      for (let q = 0; q < names.length; q++) {
        const name = names[(q + round) % names.length]!;
        for (let k = 0; k < cell.mats.length; k++) {
          if (spent(s, name, cell.key) > cfg.budget) break;
          const sofar = median(s.get(name)?.get(cell.key) ?? []);
          const reps = Number.isNaN(sofar) ? 1 : Math.max(1, Math.min(10, Math.floor(REPEAT_MS / sofar)));
          const { ms, totals } = await workers.get(name)!.ask({ cmd: 'solve', index: k, reps });
          ms.forEach((x) => record(s, name, cell.key, x));
          if (round === 0) check(name, cell, k, totals[0]!);
        }
      }
      if (round % 2 === 1) await runScipy();
    }
    await Promise.all([...workers.values()].map((w) => w.close()));
    process.stdout.write(`  ${cell.key} done\n`);
  }
  return s;
}

interface BatchFigures {
  readonly poolShared: number;
  readonly poolCopied: number;
  readonly copyIn: number;
  readonly sequential: number;
  readonly munkres: number;
  readonly scipy: number;
  readonly poolStart: number;
  readonly workers: number;
}

async function measureBatch(
  cfg: Config,
  batch: { buffer: SharedArrayBuffer; mats: readonly Float64Array[] },
  scipy: Scipy | undefined,
  mismatches: string[],
): Promise<BatchFigures> {
  const { n, m, count } = BATCH;
  // The zero-copy path: costs already in shared memory, as a cost builder can write them.
  const shared: AssignmentProblem[] = batch.mats.map((cost) => ({ cost, n, m }));
  // The common path: ordinary arrays, which the pool copies into shared memory once per batch.
  const plain: AssignmentProblem[] = batch.mats.map((c) => ({ cost: c.slice(), n, m }));
  const reference = solveBatchSequential(plain);

  const t0 = performance.now();
  const pool = createAssignmentPool();
  await pool.solveBatch(shared); // starts the workers
  const poolStart = performance.now() - t0;
  for (let w = 0; w < 3; w++) {
    await pool.solveBatch(shared);
    await pool.solveBatch(plain);
  }
  (await pool.solveBatch(plain)).forEach((r, b) => {
    const ref = reference[b]!;
    if (r.total !== ref.total || r.cols.some((c, q) => c !== ref.cols[q])) mismatches.push(`pool #${b} differs from sequential`);
  });
  const sequential = await startSolverWorker('mmkd', batch.buffer, n, m, count);
  const munkresSeq = await startSolverWorker('munkres', batch.buffer, n, m, count);
  const staging = new SharedArrayBuffer(8 * n * m * count);

  type Key = 'poolShared' | 'poolCopied' | 'copyIn' | 'sequential' | 'munkres';
  const t: Record<Key | 'scipy', number[]> = { poolShared: [], poolCopied: [], copyIn: [], sequential: [], munkres: [], scipy: [] };
  const timed = async (f: () => unknown): Promise<number> => {
    const a = performance.now();
    await f();
    return performance.now() - a;
  };
  const steps: [Key, () => Promise<number>][] = [
    ['poolShared', () => timed(() => pool.solveBatch(shared))],
    ['poolCopied', () => timed(() => pool.solveBatch(plain))],
    // What the pool does to non-shared input, alone: one 42 MB copy into shared memory.
    ['copyIn', () => timed(() => plain.forEach(({ cost }, b) => new Float64Array(staging, 8 * n * m * b, n * m).set(cost)))],
    ['sequential', async () => (await sequential.ask({ cmd: 'batch' })).ms[0]!],
    ['munkres', async () => (await munkresSeq.ask({ cmd: 'batch' })).ms[0]!],
  ];
  for (let round = 0; round < cfg.batchRounds; round++) {
    for (let q = 0; q < steps.length; q++) {
      const [key, step] = steps[(q + round) % steps.length]!;
      t[key].push(await step());
    }
    if (scipy !== undefined) {
      const { time: seconds, totals } = (await scipy.ask('batch')) as { time: number; totals: number[] };
      t.scipy.push(seconds * 1000);
      if (round === 0)
        totals.forEach((x, b) => {
          if (!sameTotal(x, reference[b]!.total)) mismatches.push(`scipy batch #${b}: ${x} vs mmkd ${reference[b]!.total}`);
        });
    }
  }
  await Promise.all([pool.close(), sequential.close(), munkresSeq.close()]);
  return {
    poolShared: median(t.poolShared),
    poolCopied: median(t.poolCopied),
    copyIn: median(t.copyIn),
    sequential: median(t.sequential),
    munkres: median(t.munkres),
    scipy: median(t.scipy),
    poolStart,
    workers: pool.size,
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const cfg = parseArgs(argv);
  const loadStart = loadavg();
  console.log(`matching benchmark${cfg.quick ? ' (--quick)' : ''}: ${cfg.instances} instances × ${cfg.rounds} rounds per cell`);
  const cells = makeCells(cfg);
  const batch = sharedMatrices(BATCH.count, BATCH.n, BATCH.m, (b, out) => seededCosts('float', BATCH.n, BATCH.m, 7_000_000 + b, out));

  const dir = mkdtempSync(join(tmpdir(), 'mmkd-bench-matching-'));
  const groups: Record<string, { n: number; m: number; mats: readonly Float64Array[] }> = { batch: { n: BATCH.n, m: BATCH.m, mats: batch.mats } };
  for (const c of cells) groups[c.key] = c;
  const started = await startScipy(dir, groups);
  const scipy = typeof started === 'string' ? undefined : started;
  if (typeof started === 'string') console.log(`note: scipy skipped: ${started}`);

  const mismatches: string[] = [];
  let samples: Samples;
  let b: BatchFigures;
  try {
    samples = await measureCells(cfg, cells, scipy, mismatches);
    console.log('  batch…');
    b = await measureBatch(cfg, batch, scipy, mismatches);
  } finally {
    scipy?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const loadEnd = loadavg();

  const med = (solver: string, cell: Cell): number => median(samples.get(solver)?.get(cell.key) ?? []);
  const count = (solver: string, cell: Cell): number => samples.get(solver)?.get(cell.key)?.length ?? 0;
  const cellTable = table(
    ['size', 'costs', 'mmkd', 'scipy', 'munkres', 'linear-sum-assignment', 'scipy/mmkd', 'munkres/mmkd', 'lsa/mmkd', 'samples mmkd/scipy/munkres/lsa'],
    cells.map((c) => {
      const mmkd = med('mmkd', c);
      return [
        `${c.n}×${c.m}`,
        c.kind,
        fmtTime(mmkd),
        fmtTime(med('scipy', c)),
        fmtTime(med('munkres', c)),
        fmtTime(med('linear-sum-assignment', c)),
        fmtRatio(med('scipy', c) / mmkd),
        fmtRatio(med('munkres', c) / mmkd),
        fmtRatio(med('linear-sum-assignment', c) / mmkd),
        `${count('mmkd', c)}/${count('scipy', c)}/${count('munkres', c)}/${count('linear-sum-assignment', c)}`,
      ];
    }),
  );
  const batchTable = table(
    ['64 × 576×144 float, one step', 'time', 'scipy sequential / this'],
    [
      [`mmkd pool, ${b.workers} workers, input already in shared memory`, fmtTime(b.poolShared), fmtRatio(b.scipy / b.poolShared)],
      [`mmkd pool, ${b.workers} workers, input copied in`, fmtTime(b.poolCopied), fmtRatio(b.scipy / b.poolCopied)],
      ['(the copy-in alone: 42 MB into shared memory)', fmtTime(b.copyIn), '–'],
      ['mmkd sequential', fmtTime(b.sequential), fmtRatio(b.scipy / b.sequential)],
      ['munkres sequential (row views)', fmtTime(b.munkres), fmtRatio(b.scipy / b.munkres)],
      ['scipy sequential', fmtTime(b.scipy), scipy === undefined ? '–' : '1.00×'],
    ],
  );

  const target = cells.find((c) => c.n === 576 && c.m === 144 && c.kind === 'float')!;
  const targetInt = cells.find((c) => c.n === 576 && c.m === 144 && c.kind === 'int')!;
  const verdict = (ratio: number, need: number): string => (Number.isNaN(ratio) ? 'SKIP (no data)' : ratio >= need ? 'PASS' : 'FAIL');
  const checks: [string, number, number][] = [
    ['576×144 float: ≥ 2× faster than scipy', med('scipy', target) / med('mmkd', target), 2],
    ['576×144 float: ≥ 2× faster than munkres', med('munkres', target) / med('mmkd', target), 2],
    ['576×144 int: ≥ 2× faster than scipy', med('scipy', targetInt) / med('mmkd', targetInt), 2],
    ['576×144 int: ≥ 2× faster than munkres', med('munkres', targetInt) / med('mmkd', targetInt), 2],
    ['batch of 64: ≥ 3× faster than scipy sequential (input in shared memory)', b.scipy / b.poolShared, 3],
    ['batch of 64: ≥ 3× faster than scipy sequential (input copied in)', b.scipy / b.poolCopied, 3],
    ...cells.map((c): [string, number, number] => [`${c.n}×${c.m} ${c.kind}: not slower than scipy`, med('scipy', c) / med('mmkd', c), 1]),
  ];
  const targetLines = checks.map(([what, ratio, need]) => `- ${verdict(ratio, need)} ${what} (${fmtRatio(ratio)})`);

  console.log(
    [
      '',
      ...cellTable,
      '',
      ...batchTable,
      '',
      `pool start (workers spawned and first batch): ${fmtTime(b.poolStart)}`,
      mismatches.length === 0 ? 'totals: every solver matched mmkd on every matrix' : `TOTAL MISMATCHES:\n${mismatches.join('\n')}`,
      '',
      'targets:',
      ...targetLines,
    ].join('\n'),
  );

  const fmtLoad = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ');
  const md = [
    '## Matching: exact assignment solver',
    '',
    `Machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}; Node ${process.version}; ` +
      (scipy === undefined ? 'scipy not available.' : `scipy ${scipy.version}, numpy ${scipy.numpy}.`),
    '',
    `Run: \`npm run bench -- matching${cfg.quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}; ` +
      `${cfg.instances} seeded matrices per cell (uniform [0, 1) floats; integers 0–9), ${cfg.rounds} interleaved rounds, ` +
      'median time per solve; each JS solver in a fresh worker thread per cell; scipy timed inside python with `time.perf_counter`.',
    '',
    `**This run shared the machine with other work** (load average ${fmtLoad(loadStart)} at the start, ${fmtLoad(loadEnd)} at the end), ` +
      'so absolute times are noisy; the ratios, measured side by side, are the meaningful figures. Final figures are to be re-measured on a quiet machine.',
    '',
    ...cellTable,
    '',
    ...batchTable,
    '',
    `Pool start (workers spawned, first batch): ${fmtTime(b.poolStart)}. Slow solvers stop sampling a cell after a ${cfg.budget} s budget.`,
    '',
    mismatches.length === 0
      ? "Every solver returned mmkd's optimal total on every matrix (relative tolerance 1e-9)."
      : `Total mismatches: ${mismatches.join('; ')}`,
    '',
    'Targets:',
    '',
    ...targetLines,
    '',
  ];
  mkdirSync(dirname(cfg.out), { recursive: true });
  writeFileSync(cfg.out, md.join('\n'));
  console.log(`\nwrote ${cfg.out}`);
}

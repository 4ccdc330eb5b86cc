/**
 * `npm run bench -- losses [--backends wasm,cpu] [--rows 1024] [--vocab 32000] [--reps 3] [--threads N] [--torch off]`
 *
 * For each divergence, the value and the gradient with respect to the student's logits, through
 * mmkd's compiled objective and through the plain tfjs composite a user would write (log-softmax,
 * exp, multiply, sum, differentiated by tfjs's autodiff), on the same inputs in the same run.
 * Prints the median time of each, the speed-up, the peak bytes of tensors alive during a call
 * (`tf.profile`'s count, and distinct buffers: `properties/buffer-peak.ts`), the process's peak
 * resident memory (host arrays and shared buffers included),
 * PyTorch eager on the same CPU when python3 has torch, and the relative difference of the two
 * loss values. `--threads` sets mmkd's host-kernel threads (default: one per core). Beside the
 * wall-clock times, the CPU time of each call (all its threads, `process.cpuUsage`): on a shared
 * machine the wall clock measures the other jobs as much as the code, the CPU time much less (with
 * `--threads 1` it is the single-core time an idle machine would show).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostThreads, hostThreadsReady, setHostThreads } from '../backends/host-kernels/threads.js';
import { useBackend } from '../backends/index.js';
import type { LossNode } from '../core/graph.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { compile, student as s, teacher as t } from '../index.js';
import { akl, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../losses/index.js';
import { trackBuffers } from '../properties/buffer-peak.js';
import { machineDescription, median, parseOptions, timeAsync } from './util.js';

type Composite = (teacher: tf.Tensor2D, student: tf.Tensor2D) => tf.Scalar;

interface Case {
  readonly name: string;
  readonly node: LossNode;
  /** What a tfjs user writes: the divergence from log-softmaxes, averaged over rows. */
  readonly composite: Composite;
  /** Work done outside autodiff (AKL's detached head/tail weights), timed with the composite. */
  readonly detached?: (teacher: tf.Tensor2D, student: tf.Tensor2D) => tf.Tensor;
}

const lsm = (x: tf.Tensor2D) => tf.logSoftmax(x);
const rowMean = (x: tf.Tensor) => tf.mean(tf.sum(x, 1)) as tf.Scalar;
/** log(w·x + (1−w)·y) from log x and log y, as a tfjs user writes it (no log-add-exp). */
const logMixture = (lx: tf.Tensor, ly: tf.Tensor, w: number) => tf.log(tf.add(tf.mul(tf.exp(lx), w), tf.mul(tf.exp(ly), 1 - w)));
/** KL(x ‖ y) from log x and log y, averaged over rows. */
const klOf = (lx: tf.Tensor, ly: tf.Tensor) => rowMean(tf.mul(tf.exp(lx), tf.sub(lx, ly)));

function cases(): Case[] {
  const T = t.logits.at('response');
  const S = s.logits.at('response');
  return [
    {
      name: 'forward KL',
      node: kl.forward(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(a)), tf.sub(lsm(a), lsm(b)))),
    },
    {
      name: 'reverse KL',
      node: kl.reverse(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(b)), tf.sub(lsm(b), lsm(a)))),
    },
    {
      name: 'JSD(0.5)',
      node: jsd(T, S, { beta: 0.5 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        const lm = logMixture(lp, lq, 0.5);
        return rowMean(tf.add(tf.mul(tf.mul(tf.exp(lp), tf.sub(lp, lm)), 0.5), tf.mul(tf.mul(tf.exp(lq), tf.sub(lq, lm)), 0.5)));
      },
    },
    {
      name: 'skew KL(0.1)',
      node: skewKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const lp = lsm(a);
        return klOf(lp, logMixture(lp, lsm(b), 0.1));
      },
    },
    {
      name: 'skew RKL(0.1)',
      node: skewReverseKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        return klOf(lq, logMixture(lq, lp, 0.1));
      },
    },
    {
      name: 'TVD',
      node: tvd(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.abs(tf.sub(tf.softmax(a), tf.softmax(b))), 0.5)),
    },
    {
      name: 'AKL(0.5)',
      node: akl(T, S),
      detached: aklHeadWeight,
      composite: (a, b) => {
        throw new Error(`AKL's composite needs its detached weights (${a.shape}, ${b.shape})`);
      },
    },
    {
      name: 'soft CE',
      node: softCE(T, S),
      composite: (a, b) => rowMean(tf.neg(tf.mul(tf.exp(lsm(a)), lsm(b)))),
    },
  ];
}

/** AKL's head weight per row, from detached probabilities (the authors' get_ratio). */
function aklHeadWeight(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor {
  const p = tf.softmax(a);
  const q = tf.softmax(b);
  const sorted = tf.topk(p, p.shape[1]);
  // A flat gather: tfjs-backend-wasm 4.22's gather with batchDims = 1 returns wrong values.
  const [rows, vocab] = p.shape;
  const flat = tf.add(sorted.indices, tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), [rows, 1]));
  const err = tf.abs(tf.sub(sorted.values, tf.reshape(tf.gather(tf.reshape(q, [-1]), tf.reshape(flat, [-1])), [rows, vocab])));
  const cum = tf.cumsum(sorted.values, 1);
  const first = tf.concat([tf.ones([p.shape[0], 1]), tf.zeros([p.shape[0], p.shape[1] - 1])], 1);
  const head = tf.maximum(tf.cast(tf.lessEqual(cum, 0.5), 'float32'), first);
  return tf.div(tf.sum(tf.mul(err, head), 1), tf.sum(err, 1));
}

function aklComposite(h: tf.Tensor): Composite {
  return (a, b) => {
    const [lp, lq] = [lsm(a), lsm(b)];
    const fkl = tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, lq)), 1);
    const rkl = tf.sum(tf.mul(tf.exp(lq), tf.sub(lq, lp)), 1);
    return tf.mean(tf.add(tf.mul(h, fkl), tf.mul(tf.sub(1, h), rkl))) as tf.Scalar;
  };
}

interface Measurement {
  readonly ms: number;
  /** Median CPU time of a call, every thread of the process counted. */
  readonly cpuMs: number;
  /** Peak bytes of live tensors during one call, as tfjs counts them (aliases of one buffer count twice). */
  readonly peakBytes: number;
  /** Peak bytes of distinct tensor buffers alive during one call, inputs included. */
  readonly bufferPeakBytes: number;
  /** wasm only: the heap's size at the end, its high-water mark in a fresh process (inputs included). */
  readonly heapBytes?: number;
  /**
   * The process's peak resident memory (inputs, wasm heap, host arrays and shared buffers of the
   * host kernels, the runtime itself): what the machine had to hold.
   */
  readonly rssBytes: number;
  readonly loss: number;
}

/** PyTorch's name of each case (bench/gpu_torch.py's divergences). */
const TORCH_NAMES: Readonly<Record<string, string>> = {
  'forward KL': 'forwardKL',
  'reverse KL': 'reverseKL',
  'JSD(0.5)': 'jsd',
  'skew KL(0.1)': 'skewKL',
  'skew RKL(0.1)': 'skewReverseKL',
  TVD: 'tvd',
  'AKL(0.5)': 'akl',
  'soft CE': 'softCE',
};

/**
 * Runs every (backend, divergence, implementation) in a process of its own: the wasm backend's
 * heap is capped at 4 GiB and a composite that overflows it aborts the process, which must cost
 * one table cell, not the run; and each measurement starts from an empty heap. PyTorch eager on
 * the CPU (bench/gpu_torch.py, its default threads) runs beside them when python3 has torch.
 */
export async function run(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv, { backends: 'wasm,cpu', rows: '1024', vocab: '32000', reps: '3', only: '', child: '', threads: '', torch: 'auto' });
  if (options['child']) return measureChild(options);
  const rows = Number(options['rows']);
  const vocab = Number(options['vocab']);
  const only = options['only'] ? options['only'].split(',') : undefined;
  const { loadavg } = await import('node:os');
  const threads = options['threads'] || String(hostThreads());
  console.log(`# losses: value + gradient w.r.t. the student's logits, B·T = ${rows}, V = ${vocab}, median of ${options['reps']} after a warm-up`);
  console.log(
    `# ${machineDescription()}; load average at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; mmkd host threads ${threads}`,
  );
  const torch = options['torch'] === 'off' ? undefined : await torchVersion();
  console.log(`# PyTorch: ${torch ?? 'not measured (python3 has no torch, or --torch off)'}`);
  console.log(
    '| backend | divergence | mmkd ms | tfjs composite ms | speed-up | mmkd CPU ms | composite CPU ms | CPU ratio | mmkd tensor peak MB | composite tensor peak MB | ratio | mmkd buffer peak MB | composite buffer peak MB | ratio | mmkd process peak MB | composite process peak MB | ratio | PyTorch eager ms | PyTorch process peak MB | mmkd vs PyTorch | |Δ loss| / loss |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const torchDone = new Map<string, TorchMeasurement | string>();
  for (const backend of options['backends']!.split(',')) {
    for (const c of cases()) {
      if (only && !only.some((o) => c.name.toLowerCase().includes(o.toLowerCase()))) continue;
      const ours = await inChild(backend, c.name, 'mmkd', options);
      const theirs = await inChild(backend, c.name, 'composite', options);
      if (torch !== undefined && !torchDone.has(c.name)) torchDone.set(c.name, await torchChild(c.name, options));
      const py = torchDone.get(c.name);
      const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
      const cell = (m: Measurement | string, f: (m: Measurement) => string) => (typeof m === 'string' ? m : f(m));
      const both = typeof ours !== 'string' && typeof theirs !== 'string';
      const ratio = (f: (m: Measurement) => number) => (both ? `${(f(theirs) / f(ours)).toFixed(2)}×` : '–');
      const pyMs = py === undefined ? '–' : typeof py === 'string' ? py : py.ms.toFixed(0);
      const pyRss = py === undefined || typeof py === 'string' ? '–' : mb(py.rssBytes);
      const vsTorch = py === undefined || typeof py === 'string' || typeof ours === 'string' ? '–' : `${(py.ms / ours.ms).toFixed(2)}×`;
      console.log(
        `| ${backend} | ${c.name} | ${cell(ours, (m) => m.ms.toFixed(0))} | ${cell(theirs, (m) => m.ms.toFixed(0))} | ${ratio((m) => m.ms)} | ${cell(ours, (m) => m.cpuMs.toFixed(0))} | ${cell(
          theirs,
          (m) => m.cpuMs.toFixed(0),
        )} | ${ratio((m) => m.cpuMs)} | ${cell(ours, (m) => mb(m.peakBytes))} | ${cell(theirs, (m) =>
          mb(m.peakBytes),
        )} | ${ratio((m) => m.peakBytes)} | ${cell(ours, (m) => mb(m.bufferPeakBytes))} | ${cell(theirs, (m) => mb(m.bufferPeakBytes))} | ${ratio(
          (m) => m.bufferPeakBytes,
        )} | ${cell(ours, (m) => mb(m.rssBytes))} | ${cell(theirs, (m) => mb(m.rssBytes))} | ${ratio((m) => m.rssBytes)} | ${pyMs} | ${pyRss} | ${vsTorch} | ${
          both ? (Math.abs(ours.loss - theirs.loss) / Math.abs(theirs.loss)).toExponential(1) : '–'
        } |`,
      );
    }
  }
  console.log(
    `# load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

interface TorchMeasurement {
  readonly ms: number;
  readonly rssBytes: number;
}

/** `torch x.y.z (N threads)`, or undefined when python3 has no torch. */
async function torchVersion(): Promise<string | undefined> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile('python3', ['-c', 'import torch; print(f"torch {torch.__version__} eager on the CPU, {torch.get_num_threads()} threads")'], (error, stdout) =>
      resolve(error ? undefined : stdout.trim()),
    );
  });
}

/** PyTorch eager, value + gradient, in a fresh python3 (bench/gpu_torch.py on the CPU), with its peak RSS. */
async function torchChild(name: string, options: Record<string, string>): Promise<TorchMeasurement | string> {
  const { execFile } = await import('node:child_process');
  const script = [
    'import json, resource, runpy, sys',
    `sys.argv = ['gpu_torch.py', '--device', 'cpu', '--no-compile', '--shapes', '${options['rows']}x${options['vocab']}', '--only', '${TORCH_NAMES[name]}', '--reps', '${options['reps']}']`,
    "runpy.run_path('bench/gpu_torch.py', run_name='__main__')",
    "print(json.dumps({'maxrss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))",
  ].join('\n');
  return new Promise((resolve) => {
    execFile('python3', ['-c', script], { maxBuffer: 1 << 24 }, (error, stdout) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { divergence?: string; ms?: number; error?: string; maxrss?: number });
      const row = lines.find((l) => l.divergence === TORCH_NAMES[name]);
      const rss = lines.find((l) => l.maxrss !== undefined)?.maxrss;
      if (row?.ms !== undefined && rss !== undefined) return resolve({ ms: row.ms, rssBytes: rss });
      resolve(row?.error ?? (error ? 'failed' : 'no result'));
    });
  });
}

/** One measurement in a fresh process; a failure comes back as a short description. */
async function inChild(backend: string, name: string, which: 'mmkd' | 'composite', options: Record<string, string>): Promise<Measurement | string> {
  const { execFile } = await import('node:child_process');
  const args = [
    // The child collects the host copies its inputs were made from before measuring (below).
    '--expose-gc',
    '--import',
    'tsx',
    'bench/main.ts',
    'losses',
    '--child',
    which,
    '--backends',
    backend,
    '--only',
    name,
    '--rows',
    options['rows']!,
    '--vocab',
    options['vocab']!,
    '--reps',
    options['reps']!,
    ...(options['threads'] ? ['--threads', options['threads']] : []),
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) return resolve(JSON.parse(line) as Measurement);
      const oom = /Aborted|out of memory|Array buffer allocation failed|RangeError: Invalid typed array length/i.test(`${stderr}${String(error)}`);
      resolve(oom ? `out of memory${backend === 'wasm' ? ' (4 GiB wasm heap)' : ''}` : 'failed');
    });
  });
}

async function measureChild(options: Record<string, string>): Promise<void> {
  const rows = Number(options['rows']);
  const vocab = Number(options['vocab']);
  const reps = Number(options['reps']);
  const backendName = options['backends']!;
  const c = cases().find((k) => k.name === options['only'])!;
  await useBackend(backendName);
  // Started before the inputs are made, so that they count in the peak (as in tf.profile's).
  const buffers = trackBuffers();
  const teacherLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 1) as tf.Tensor3D;
  const studentLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 2) as tf.Tensor3D;
  // tf.randomNormal fills a host array and copies it to the backend; on wasm those copies (one
  // [N × V] array per input) stay in the process until a collection, which a quiet process may
  // not run for a while, and would count in both sides' process peak though neither call made them.
  (globalThis as { gc?: () => void }).gc?.();
  const roles = new Int32Array(rows).fill(ROLE_CODES.response);
  const inputs: DistillInputs = { teacher: { logits: teacherLogits, roles }, student: { logits: studentLogits, roles } };
  let loss = 0;
  let f: () => Promise<void>;
  if (options['threads']) setHostThreads(Number(options['threads']));
  await hostThreadsReady();
  if (options['child'] === 'mmkd') {
    const compiled = compile(c.node, inputs);
    f = async () => {
      const r = await compiled.valueAndGrad(inputs);
      loss = (await r.loss.data())[0]!;
      await settled(r.grads['student.logits']!);
      r.dispose();
    };
  } else {
    // The composite's [N, V] operands: reshapes of the inputs, so made in its process only.
    const a2 = tf.reshape(teacherLogits, [rows, vocab]) as tf.Tensor2D;
    const b2 = tf.reshape(studentLogits, [rows, vocab]) as tf.Tensor2D;
    f = async () => {
      const h = c.detached ? tf.tidy(() => c.detached!(a2, b2)) : undefined;
      const g = h ? aklComposite(h) : c.composite;
      const { value, grads } = tf.tidy(() => tf.valueAndGrads((b: tf.Tensor) => g(a2, b as tf.Tensor2D))([b2]));
      loss = (await value.data())[0]!;
      await settled(grads[0]!);
      tf.dispose([value, ...grads, ...(h ? [h] : [])]);
    };
  }
  const cpuTimes: number[] = [];
  const cpuTimed = async () => {
    const start = process.cpuUsage();
    await f();
    const used = process.cpuUsage(start);
    cpuTimes.push((used.user + used.system) / 1000);
  };
  const times = await timeAsync(cpuTimed, reps);
  // timeAsync's warm-up call is the first.
  cpuTimes.shift();
  buffers.resetPeak();
  const peakBytes = (await tf.profile(f)).peakBytes;
  const bufferPeakBytes = buffers.peakBytes();
  // The emscripten module of tfjs-backend-wasm exposes its heap; it grows and never shrinks.
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength;
  const rssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      ms: median(times),
      cpuMs: median(cpuTimes),
      peakBytes,
      bufferPeakBytes,
      loss,
      rssBytes,
      ...(heap === undefined ? {} : { heapBytes: heap }),
    }),
  );
}

/**
 * Waits until a gradient is computed by reading one of its entries: on an asynchronous backend
 * that waits for the kernels writing it. Reading all of it would copy [N × V] floats to the host
 * on every call, which a training step never does, and leave that copy to the collector, inflating
 * both sides' process peak by the same amount.
 */
async function settled(gradient: tf.Tensor): Promise<void> {
  // A slice of the tensor itself, not of a reshape, which tfjs's count would add a second time.
  const first = tf.slice(
    gradient,
    gradient.shape.map(() => 0),
    gradient.shape.map(() => 1),
  );
  await first.data();
  first.dispose();
}

/**
 * `node --import tsx bench/gpu-losses.ts [--shapes 1024x32000,4096x151936] [--only forward,jsd]
 *   [--reps 5] [--composite 1] [--timeout-ms 60000]`
 *
 * WebGPU half of `bench/gpu.sh`: value + gradient with respect to the student's logits of each
 * divergence on the active WebGPU device, through mmkd's fused WGSL kernels and through the tfjs
 * composite (log-softmax, exp, multiply, sum, tfjs autodiff), on the same inputs. Prints one JSON
 * line per (shape, divergence, implementation): median ms after a warm-up, the loss, or why it
 * could not run (a tensor larger than one storage binding, a device error, a timeout).
 *
 * Timing waits for the device: the loss is read back, then the queue's submitted work (the
 * gradient's kernels) is awaited; the gradient itself is not copied to the host, as a training
 * step would not copy it either.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpuBackend } from '../backends/webgpu/backend.js';
import type { LossNode } from '../core/graph.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { compile, student as s, teacher as t } from '../index.js';
import { akl, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../losses/index.js';
import { median, parseOptions } from './util.js';

interface Case {
  readonly name: string;
  readonly node: LossNode;
  /** The composite, mean over rows; undefined where tfjs has no practical composite (AKL needs a full sort). */
  readonly composite?: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar;
}

const lsm = (x: tf.Tensor2D) => tf.logSoftmax(x);
const rowMean = (x: tf.Tensor) => tf.mean(tf.sum(x, 1)) as tf.Scalar;
const mixed = (lx: tf.Tensor, ly: tf.Tensor, w: number) => tf.log(tf.add(tf.mul(tf.exp(lx), w), tf.mul(tf.exp(ly), 1 - w)));

function cases(): Case[] {
  const T = t.logits.at('response');
  const S = s.logits.at('response');
  return [
    { name: 'forwardKL', node: kl.forward(T, S), composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(a)), tf.sub(lsm(a), lsm(b)))) },
    { name: 'reverseKL', node: kl.reverse(T, S), composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(b)), tf.sub(lsm(b), lsm(a)))) },
    {
      name: 'jsd',
      node: jsd(T, S, { beta: 0.5 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        const lm = mixed(lp, lq, 0.5);
        return rowMean(tf.add(tf.mul(tf.mul(tf.exp(lp), tf.sub(lp, lm)), 0.5), tf.mul(tf.mul(tf.exp(lq), tf.sub(lq, lm)), 0.5)));
      },
    },
    {
      name: 'skewKL',
      node: skewKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        return rowMean(tf.mul(tf.exp(lp), tf.sub(lp, mixed(lp, lq, 0.1))));
      },
    },
    {
      name: 'skewReverseKL',
      node: skewReverseKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        return rowMean(tf.mul(tf.exp(lq), tf.sub(lq, mixed(lq, lp, 0.1))));
      },
    },
    { name: 'tvd', node: tvd(T, S), composite: (a, b) => rowMean(tf.mul(tf.abs(tf.sub(tf.softmax(a), tf.softmax(b))), 0.5)) },
    { name: 'akl', node: akl(T, S) },
    { name: 'softCE', node: softCE(T, S), composite: (a, b) => rowMean(tf.neg(tf.mul(tf.exp(lsm(a)), lsm(b)))) },
  ];
}

interface Row {
  readonly rows: number;
  readonly vocab: number;
  readonly divergence: string;
  readonly impl: 'mmkd' | 'composite';
  readonly ms?: number;
  readonly loss?: number;
  readonly error?: string;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), {
    shapes: '1024x32000,1024x151936,4096x32000,4096x151936',
    only: '',
    reps: '5',
    composite: '1',
    'timeout-ms': '60000',
  });
  const backend = webgpuBackend({ cpuForward: false });
  const activation = await backend.open();
  await backend.activate();
  console.error(`# webgpu adapter: ${activation.adapter.description}`);
  const device = activation.device as unknown as { queue: { onSubmittedWorkDone(): Promise<void> } };
  const only = options['only'] ? options['only'].split(',') : undefined;
  const reps = Number(options['reps']);
  const timeoutMs = Number(options['timeout-ms']);
  for (const shape of options['shapes']!.split(',')) {
    const [rows, vocab] = shape.split('x').map(Number) as [number, number];
    const teacherLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 1) as tf.Tensor3D;
    const studentLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 2) as tf.Tensor3D;
    const roles = new Int32Array(rows).fill(ROLE_CODES.response);
    const inputs: DistillInputs = { teacher: { logits: teacherLogits, roles }, student: { logits: studentLogits, roles } };
    for (const c of cases()) {
      if (only && !only.some((o) => c.name.toLowerCase().includes(o.toLowerCase()))) continue;
      const compiled = compile(c.node, inputs);
      const ours = async (): Promise<number> => {
        const r = await compiled.valueAndGrad(inputs);
        const loss = (await r.loss.data())[0]!;
        await device.queue.onSubmittedWorkDone();
        r.dispose();
        return loss;
      };
      report(await measure({ rows, vocab, divergence: c.name, impl: 'mmkd' }, ours, reps, timeoutMs, activation));
      compiled.dispose();
      const composite = c.composite;
      if (options['composite'] !== '1' || composite === undefined) continue;
      // One [rows × V] tensor larger than a storage binding cannot be bound by any tfjs kernel:
      // say so instead of letting the device report a validation error and return garbage.
      const limit = (activation.device as unknown as { limits: { maxStorageBufferBindingSize: number } }).limits.maxStorageBufferBindingSize;
      if (rows * vocab * 4 > limit) {
        report({
          rows,
          vocab,
          divergence: c.name,
          impl: 'composite',
          error: `cannot run: one [${rows} x ${vocab}] tensor exceeds the ${limit / 2 ** 20} MiB binding limit`,
        });
        continue;
      }
      const a2 = tf.reshape(teacherLogits, [rows, vocab]) as tf.Tensor2D;
      const b2 = tf.reshape(studentLogits, [rows, vocab]) as tf.Tensor2D;
      const theirs = async (): Promise<number> => {
        const { value, grads } = tf.tidy(() => tf.valueAndGrads((b: tf.Tensor) => composite(a2, b as tf.Tensor2D))([b2]));
        const loss = (await value.data())[0]!;
        await device.queue.onSubmittedWorkDone();
        tf.dispose([value, ...grads]);
        return loss;
      };
      report(await measure({ rows, vocab, divergence: c.name, impl: 'composite' }, theirs, reps, timeoutMs, activation));
      tf.dispose([a2, b2]);
    }
    tf.dispose([teacherLogits, studentLogits]);
  }
  await activation.release();
}

/** A warm-up, then `reps` timed calls (fewer when one call is slow); a device error or a timeout is reported, not thrown. */
async function measure(
  row: Omit<Row, 'ms' | 'loss' | 'error'>,
  f: () => Promise<number>,
  reps: number,
  timeoutMs: number,
  activation: { uncapturedErrors(): readonly string[] },
): Promise<Row> {
  const errorsBefore = activation.uncapturedErrors().length;
  try {
    const started = performance.now();
    let loss = await f();
    const warm = performance.now() - started;
    const times: number[] = [];
    const n = warm > timeoutMs / 4 ? 1 : reps;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      loss = await f();
      times.push(performance.now() - t0);
    }
    const errors = activation.uncapturedErrors();
    if (errors.length > errorsBefore) return { ...row, error: `device error: ${errors.at(-1)!.split('\n')[0]}` };
    return { ...row, ms: median(times), loss };
  } catch (error) {
    return { ...row, error: `failed: ${String(error).split('\n')[0]}` };
  }
}

function report(row: Row): void {
  console.log(JSON.stringify({ suite: 'webgpu', ...row }));
}

await main();

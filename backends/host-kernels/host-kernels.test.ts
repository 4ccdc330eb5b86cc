/**
 * The host divergence kernels (cpu, wasm) at a real vocabulary, V = 32000:
 * - threaded and single-threaded calls give the same loss and gradient, bit for bit (a row is
 *   the same function of the same bytes whichever thread computes it, and losses are summed in
 *   row order), and workers do take rows; also over several staged chunks of rows, and with a
 *   truncated vocabulary (the student's columns past it get a zero gradient);
 * - the whole gradient, log-softmax step included, is float64 until its final rounding to
 *   float32: along random directions it matches central differences of the float64 reference to
 *   2e-6 relative (a float32 log-softmax step misses by ~5e-5 at this V; TVD, whose kinks the
 *   differences would cross, is left to properties/divergences.test.ts), and forward KL's
 *   gradient matches the exact float64 (q − p)/N in norm to 1e-6;
 * - the table-driven exponential and softplus are within 1e-15 of Math.exp and log1p(exp(z));
 * - the WebAssembly SIMD passes (rows-simd.ts) and the JavaScript ones give the same losses and
 *   gradients within the tolerance table, at V = 32000, at vocabularies that are not a multiple
 *   of 4 (padded rows) and at logits of ±1e4 (underflowing exponentials); the SIMD exponential
 *   and log are within 1e-15 of Math.exp and 4e-16 of Math.log; and the committed module
 *   (rows-wasm.ts) is what rows.wat assembles to, byte for byte.
 */

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compile/compile.js';
import type { LossNode } from '../../core/graph.js';
import type { DistillInputs } from '../../core/outputs.js';
import { ROLE_CODES } from '../../core/roles.js';
import { student as s, teacher as t } from '../../core/views.js';
import { akl, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../../losses/index.js';
import { type Divergence, tokenDivergence } from '../../properties/reference/divergences.js';
import { directionalCheck } from '../../properties/reference/finite-differences.js';
import { expectClose, toleranceFor } from '../../properties/tolerances.js';
import { generatedModule, MODULE_PATH, WAT_PATH } from '../../scripts/build-wasm-kernels.mjs';
import { type BackendName, useBackend } from '../index.js';
import { simdExpLog } from '../testing/simd-rows.js';
import { expNonPositive, softplus } from './rows.js';
import { hostSimd, setHostSimd, simdKernels } from './rows-simd.js';
import { hostThreads, hostThreadsReady, lastWorkerRowCount, setHostThreads } from './threads.js';

const ROWS = 24;
const V = 32000;
const T = () => t.logits.at('response');
const S = () => s.logits.at('response');

const cases: ReadonlyArray<{ name: string; node: (temperature: number) => LossNode; reference?: Divergence }> = [
  { name: 'forward KL', node: (temperature) => kl.forward(T(), S(), { temperature }), reference: { kind: 'forwardKL' } },
  { name: 'reverse KL', node: (temperature) => kl.reverse(T(), S(), { temperature }), reference: { kind: 'reverseKL' } },
  { name: 'JSD(0.3)', node: (temperature) => jsd(T(), S(), { temperature, beta: 0.3 }), reference: { kind: 'jsd', beta: 0.3 } },
  { name: 'skew KL(0.1)', node: (temperature) => skewKL(T(), S(), { temperature, alpha: 0.1 }), reference: { kind: 'skewKL', alpha: 0.1 } },
  {
    name: 'skew reverse KL(0.2)',
    node: (temperature) => skewReverseKL(T(), S(), { temperature, alpha: 0.2 }),
    reference: { kind: 'skewReverseKL', alpha: 0.2 },
  },
  { name: 'TVD', node: (temperature) => tvd(T(), S(), { temperature }), reference: { kind: 'tvd' } },
  { name: 'AKL(0.5)', node: (temperature) => akl(T(), S(), { temperature }) },
  { name: 'soft CE', node: (temperature) => softCE(T(), S(), { temperature }), reference: { kind: 'softCE' } },
];

/** Deterministic N(0, 3²)-ish logits with a few large ones, [ROWS × V]. */
function logits(seed: number): Float32Array {
  const out = new Float32Array(ROWS * V);
  let x = seed >>> 0;
  for (let k = 0; k < out.length; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const u = x / 2 ** 32;
    out[k] = (u - 0.5) * 10 + (k % 997 === 0 ? 12 : 0);
  }
  return out;
}

const teacherLogits = logits(1);
const studentLogits = logits(2);

async function lossAndGrad(
  node: LossNode,
  teacher: Float32Array = teacherLogits,
  student: Float32Array = studentLogits,
  rows = ROWS,
  vocab = V,
): Promise<{ loss: number; grad: Float32Array }> {
  const roles = new Int32Array(rows).fill(ROLE_CODES.response);
  const inputs: DistillInputs = {
    teacher: { logits: tf.tensor3d(teacher, [1, rows, vocab]), roles },
    student: { logits: tf.tensor3d(student, [1, rows, vocab]), roles },
  };
  try {
    const result = await compile(node, inputs).valueAndGrad(inputs);
    try {
      return { loss: (await result.loss.data())[0]!, grad: Float32Array.from(await result.grads['student.logits']!.data()) };
    } finally {
      result.dispose();
    }
  } finally {
    tf.dispose([inputs.teacher.logits, inputs.student.logits]);
  }
}

/** The float64 reference's mean over rows of a divergence, as a function of the student's logits. */
function referenceLoss(d: Divergence, temperature: number): (x: Float64Array) => number {
  return (x) => {
    let sum = 0;
    for (let i = 0; i < ROWS; i++) sum += tokenDivergence(d, teacherLogits.subarray(i * V, (i + 1) * V), x.subarray(i * V, (i + 1) * V), temperature);
    return sum / ROWS;
  };
}

const backends = (process.env['MMKD_TEST_BACKENDS'] ?? 'cpu,wasm').split(',').filter((b): b is BackendName => b === 'cpu' || b === 'wasm');
const initialThreads = hostThreads();

afterAll(() => {
  setHostThreads(initialThreads);
  setHostSimd(true);
});

describe.each(backends)('host divergence kernels on %s at V = 32000', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('threaded and single-threaded give identical losses and gradients, and workers take rows', async () => {
    let workerRows = 0;
    for (const c of cases) {
      for (const temperature of [1, 2]) {
        setHostThreads(1);
        const single = await lossAndGrad(c.node(temperature));
        setHostThreads(2);
        await hostThreadsReady();
        const threaded = await lossAndGrad(c.node(temperature));
        workerRows += lastWorkerRowCount();
        expect(threaded.loss, `${c.name}, T = ${temperature}`).toBe(single.loss);
        const differ = threaded.grad.findIndex((g, k) => !Object.is(g, single.grad[k]));
        expect(differ, `${c.name}, T = ${temperature}: first gradient entry that differs`).toBe(-1);
      }
    }
    expect(workerRows).toBeGreaterThan(0);
  }, 300_000);

  it('over several staged chunks and a truncated vocabulary, threaded = single-threaded bit for bit, and columns past the vocabulary get 0', async () => {
    // 100 rows of 32000: four chunks of shared rows (32 rows each); the student has 5 columns more.
    const rows = 100;
    const [vt, vs] = [V, V + 5];
    const fill = (n: number, seed: number) => {
      const out = new Float32Array(n);
      let x = seed >>> 0;
      for (let k = 0; k < n; k++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out[k] = (x / 2 ** 32 - 0.5) * 10;
      }
      return out;
    };
    const [ta, sb] = [fill(rows * vt, 3), fill(rows * vs, 4)];
    const run = async (node: LossNode) => {
      const roles = new Int32Array(rows).fill(ROLE_CODES.response);
      const inputs: DistillInputs = {
        teacher: { logits: tf.tensor3d(ta, [1, rows, vt]), roles },
        student: { logits: tf.tensor3d(sb, [1, rows, vs]), roles },
      };
      try {
        const result = await compile(node, inputs).valueAndGrad(inputs);
        try {
          return { loss: (await result.loss.data())[0]!, grad: Float32Array.from(await result.grads['student.logits']!.data()) };
        } finally {
          result.dispose();
        }
      } finally {
        tf.dispose([inputs.teacher.logits, inputs.student.logits]);
      }
    };
    const nodes: Array<[string, LossNode]> = [
      ['forward KL', kl.forward(T(), S(), { truncateVocab: true })],
      ['skew reverse KL(0.2)', skewReverseKL(T(), S(), { alpha: 0.2, truncateVocab: true, temperature: 2 })],
      ['TVD', tvd(T(), S(), { truncateVocab: true })],
    ];
    let workerRows = 0;
    for (const [name, node] of nodes) {
      setHostThreads(1);
      const single = await run(node);
      setHostThreads(2);
      await hostThreadsReady();
      const threaded = await run(node);
      workerRows += lastWorkerRowCount();
      expect(threaded.loss, name).toBe(single.loss);
      expect(
        threaded.grad.findIndex((g, k) => !Object.is(g, single.grad[k])),
        `${name}: first gradient entry that differs`,
      ).toBe(-1);
      const past = threaded.grad.findIndex((g, k) => k % vs >= vt && g !== 0);
      expect(past, `${name}: first nonzero gradient past the vocabulary`).toBe(-1);
    }
    expect(workerRows).toBeGreaterThan(0);
  }, 300_000);

  it('the gradient is float64 up to its rounding: directional derivatives of the float64 reference within 2e-6', async () => {
    setHostThreads(2);
    for (const c of cases) {
      // TVD has a kink wherever p_v = q_v; at V = 32000 a finite-difference step crosses some.
      if (c.reference === undefined || c.reference.kind === 'tvd') continue;
      for (const temperature of [1, 2]) {
        const { loss, grad } = await lossAndGrad(c.node(temperature));
        const f = referenceLoss(c.reference, temperature);
        const x = Float64Array.from(studentLogits);
        expectClose(loss, f(x), { atol: 1e-7, rtol: 1e-6 }, `${c.name} value, T = ${temperature}`);
        const check = directionalCheck(f, x, grad, { count: 2, seed: 7, stencil: 5 });
        expectClose(check.analytic, check.numeric, { atol: 1e-9, rtol: 2e-6 }, `${c.name} directional derivative, T = ${temperature}`);
      }
    }
  }, 300_000);

  it('the SIMD and the JavaScript passes agree within the tolerance table (V = 32000, odd vocabularies, logits of ±1e4)', async () => {
    expect(simdKernels(), 'WebAssembly SIMD compiles in Node ≥ 20').not.toBeNull();
    setHostThreads(1);
    const value = toleranceFor(backend, 'value');
    const gradient = toleranceFor(backend, 'gradient');
    const inputsFor = (rows: number, vocab: number, scale: number, seed: number) => {
      const out = new Float32Array(rows * vocab);
      let x = seed >>> 0;
      for (let k = 0; k < out.length; k++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out[k] = (x / 2 ** 32 - 0.5) * scale;
      }
      return out;
    };
    // [rows, vocab, logit range]: the test's V; vocabularies of 1, 2, 3 and 5 mod 4; ±1e4.
    const shapes: Array<[number, number, number]> = [
      [ROWS, V, 0],
      [3, 7, 8],
      [5, 1, 8],
      [4, 4097, 20],
      [3, 6, 8],
      [4, 33, 2e4],
    ];
    for (const [rows, vocab, range] of shapes) {
      const [ta, sb] = range === 0 ? [teacherLogits, studentLogits] : [inputsFor(rows, vocab, range, 5), inputsFor(rows, vocab, range, 6)];
      for (const c of cases) {
        for (const temperature of [1, 2]) {
          const run = async (simd: boolean) => {
            setHostSimd(simd);
            expect(hostSimd()).toBe(simd);
            return lossAndGrad(c.node(temperature), ta, sb, rows, vocab);
          };
          const js = await run(false);
          const simd = await run(true);
          const label = `${c.name}, ${rows} × ${vocab}, logits in ±${range === 0 ? 'test' : range / 2}, T = ${temperature}`;
          expect(Number.isFinite(simd.loss), label).toBe(true);
          expectClose(simd.loss, js.loss, value, `${label}: loss`);
          for (let k = 0; k < js.grad.length; k++) expectClose(simd.grad[k]!, js.grad[k]!, gradient, `${label}: gradient entry ${k}`);
        }
      }
    }
  }, 300_000);

  it("forward KL's gradient has the norm of the exact float64 (q − p)/N to 1e-6", async () => {
    const { grad } = await lossAndGrad(kl.forward(T(), S()));
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < ROWS; i++) {
      const softmax = (z: Float32Array) => {
        let max = -Infinity;
        for (const v of z) max = Math.max(max, v);
        const e = Float64Array.from(z, (v) => Math.exp(v - max));
        const sum = e.reduce((acc, v) => acc + v, 0);
        return e.map((v) => v / sum);
      };
      const p = softmax(teacherLogits.subarray(i * V, (i + 1) * V));
      const q = softmax(studentLogits.subarray(i * V, (i + 1) * V));
      for (let v = 0; v < V; v++) {
        const exact = (q[v]! - p[v]!) / ROWS;
        diff += (grad[i * V + v]! - exact) ** 2;
        norm += exact ** 2;
      }
    }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-6);
  }, 120_000);
});

describe('softplus', () => {
  it('is within 1e-15 of log1p(exp(z)): relative for −40 < z < 0, else relative to max(1, |value|)', () => {
    let worst = 0;
    for (let k = -300_000; k <= 300_000; k++) {
      const z = (k / 300_000) * 50;
      const exact = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      worst = Math.max(worst, Math.abs(softplus(z) - exact) / (z < 0 && z > -40 ? exact : Math.max(1, exact)));
    }
    expect(worst).toBeLessThan(1e-15);
    expect(softplus(-1e300)).toBe(0);
    expect(softplus(1e300)).toBe(1e300);
  });
});

describe('expNonPositive', () => {
  it('is within 1e-15 of Math.exp on [−700, 0], and 0 below −745', () => {
    let worst = 0;
    for (let k = 0; k <= 200_000; k++) {
      const x = -((k / 200_000) ** 2) * 700;
      worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    }
    expect(worst).toBeLessThan(1e-15);
    expect(expNonPositive(-746)).toBe(0);
    expect(expNonPositive(-Infinity)).toBe(0);
    expect(expNonPositive(0)).toBe(1);
  });
});

describe('the WebAssembly SIMD module', () => {
  it('is what rows.wat assembles to, byte for byte (npm run build:kernels)', async () => {
    expect(await generatedModule(readFileSync(WAT_PATH, 'utf8'))).toBe(readFileSync(MODULE_PATH, 'utf8'));
  });

  it('exponential: within 1e-15 of Math.exp on [−700, 0], 0 below −708', () => {
    const x = new Float64Array(200_002);
    for (let k = 0; k < x.length; k++) x[k] = -((k / 200_000) ** 2) * 700;
    const e = simdExpLog('exp', x);
    let worst = 0;
    for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(e[k]! / Math.exp(x[k]!) - 1));
    expect(worst).toBeLessThan(1e-15);
    expect(Array.from(simdExpLog('exp', Float64Array.of(0, -708.5, -1e300, -Infinity)))).toEqual([1, 0, 0, 0]);
  });

  it('log: within 4e-16 of Math.log on [1e-300, 1e10], relative to max(1, |log y|) (two ulp near 1)', () => {
    const y = new Float64Array(400_000);
    for (let k = 0; k < y.length; k++) y[k] = 10 ** (-300 + (310 * k) / y.length) * (1 + (k % 7) / 7);
    const l = simdExpLog('log', y);
    let worst = 0;
    for (let k = 0; k < y.length; k++) {
      const exact = Math.log(y[k]!);
      worst = Math.max(worst, Math.abs(l[k]! - exact) / Math.max(1, Math.abs(exact)));
    }
    expect(worst).toBeLessThan(4e-16);
    expect(Array.from(simdExpLog('log', Float64Array.of(1, 2)))).toEqual([0, Math.LN2]);
  });
});

/**
 * The fused WebGPU divergence kernels against the generic lowering on the same device, where the
 * property suite's small batches do not reach: vocabularies wider than a workgroup and not a
 * multiple of it, rows split into many row blocks (a binding shrunk to a few rows), truncated
 * vocabularies, masked tokens, temperatures and logits of ±1e4. The float64 laws themselves run
 * on the fused target in properties/divergences.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compile/compile.js';
import type { LossNode } from '../../core/graph.js';
import type { DistillInputs } from '../../core/outputs.js';
import { ROLE_CODES } from '../../core/roles.js';
import type { LoweringBackend } from '../../core/target.js';
import { student as s, teacher as t } from '../../core/views.js';
import { akl, type DivergenceOptions, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../../losses/index.js';
import { expectClose, toleranceFor } from '../../properties/tolerances.js';
import { skipGpuTests, withInstallHint } from '../testing/gpu-test-gate.js';
import { webgpuBackend } from './backend.js';
import { fusedDivergenceKernels, rowBlocks, workgroupFor } from './divergence-kernels.js';

const T = t.logits.at('response');
const S = s.logits.at('response');
const builders: Record<string, (o: DivergenceOptions) => LossNode> = {
  forwardKL: (o) => kl.forward(T, S, o),
  reverseKL: (o) => kl.reverse(T, S, o),
  jsd: (o) => jsd(T, S, { ...o, beta: 0.3 }),
  skewKL: (o) => skewKL(T, S, { ...o, alpha: 0.1 }),
  skewReverseKL: (o) => skewReverseKL(T, S, { ...o, alpha: 0.2 }),
  tvd: (o) => tvd(T, S, o),
  akl: (o) => akl(T, S, { ...o, mu: 0.5 }),
  softCE: (o) => softCE(T, S, o),
};

/** Seeded logits: N(0, scale²), with a few entries at ±1e4 when `extreme`. */
function logits(seed: number, shape: [number, number, number], scale: number, extreme: boolean): tf.Tensor3D {
  const values = tf.tidy(() => tf.randomNormal(shape, 0, scale, 'float32', seed).dataSync() as Float32Array);
  const data = Float32Array.from(values);
  if (extreme) for (let i = seed % 7; i < data.length; i += 997) data[i] = i % 2 === 0 ? 1e4 : -1e4;
  return tf.tensor3d(data, shape);
}

describe('rowBlocks', () => {
  it('splits rows so that each block fits one binding, slack for the offset alignment included', () => {
    const blocks = rowBlocks(1024, 151936, { maxStorageBufferBindingSize: 2 ** 27, minStorageBufferOffsetAlignment: 256 });
    expect(blocks.every((b) => (b.count * 151936 + 64) * 4 <= 2 ** 27)).toBe(true);
    expect(blocks.reduce((n, b) => n + b.count, 0)).toBe(1024);
    expect(blocks.length).toBe(5);
  });
  it('names the limit when one row does not fit', () => {
    expect(() => rowBlocks(1, 1000, { maxStorageBufferBindingSize: 1024, minStorageBufferOffsetAlignment: 256 })).toThrow(/does not fit one storage binding/);
  });
});

describe('workgroupFor', () => {
  const info = (device: string, description: string, isFallbackAdapter?: boolean) => ({
    adapterInfo: { vendor: 'mesa', architecture: '', device, description, ...(isFallbackAdapter === undefined ? {} : { isFallbackAdapter }) },
  });
  it('takes one SIMD vector on llvmpipe, from the width in its device name', () => {
    expect(workgroupFor(info('llvmpipe-llvm-15-0-6-256-bits-', 'llvmpipe: Mesa 25.0.7'))).toBe(8);
    expect(workgroupFor(info('llvmpipe-llvm-17-512-bits', 'llvmpipe: Mesa'))).toBe(16);
    expect(workgroupFor(info('SwiftShader Device', 'SwiftShader', true))).toBe(8);
  });
  it('keeps 256 on a GPU and where the device does not say what it is', () => {
    expect(workgroupFor(info('NVIDIA H100 80GB HBM3', 'NVIDIA'))).toBe(256);
    expect(workgroupFor({})).toBe(256);
  });
});

/** The loss and the student's gradient of `node` lowered for `lowering`. */
async function outcome(node: LossNode, inputs: DistillInputs, lowering: LoweringBackend): Promise<{ loss: number; grad: Float32Array }> {
  const compiled = compile(node, inputs, { backend: lowering });
  const r = await compiled.valueAndGrad(inputs);
  const loss = (await r.loss.data())[0]!;
  const grad = (await r.grads['student.logits']!.data()) as Float32Array;
  r.dispose();
  compiled.dispose();
  return { loss, grad };
}

describe.skipIf(skipGpuTests)('fused WebGPU divergences agree with the generic lowering', () => {
  const backend = webgpuBackend({ cpuForward: false });
  // A binding of 3 rows' worth: 13 rows of V = 1000 become five dispatches, at offsets that are
  // not multiples of the alignment.
  // Both workgroup sizes on every device: this adapter's own (8 on lavapipe) and a GPU's 256.
  const splitting = (workgroupSize?: number): LoweringBackend => ({
    kernels: fusedDivergenceKernels({ maxBindingBytes: 3 * 1000 * 4 + 256, ...(workgroupSize === undefined ? {} : { workgroupSize }) }),
    capabilities: backend.capabilities,
  });
  const generic: LoweringBackend = { kernels: new Map(), capabilities: backend.capabilities };

  beforeAll(async () => {
    try {
      await backend.activate();
    } catch (error) {
      throw withInstallHint(error);
    }
  });
  afterAll(async () => {
    await backend.current()?.release();
  });

  const settings = [
    { label: 'V = 1000, T = 1', vocab: [1000, 1000], scale: 3, extreme: false, options: {} },
    { label: 'V = 1000, T = 2.5, sum, T²', vocab: [1000, 1000], scale: 3, extreme: false, options: { temperature: 2.5, reduction: 'sum', scaleT2: true } },
    { label: 'logits of ±1e4', vocab: [1000, 1000], scale: 1, extreme: true, options: {} },
    { label: 'truncated vocabulary (1000 vs 1003)', vocab: [1003, 1000], scale: 2, extreme: false, options: { truncateVocab: true } },
  ] as const;

  for (const workgroupSize of [undefined, 256]) {
    for (const setting of settings) {
      for (const [name, build] of Object.entries(builders)) {
        it(`${name}: ${setting.label}, masked tokens, rows split into blocks, workgroup ${workgroupSize ?? "the adapter's"}`, async () => {
          const [B, Tn] = [2, 8];
          const roles = new Int32Array(B * Tn).map((_, i) => (i % 5 === 2 ? ROLE_CODES.pad : ROLE_CODES.response));
          const inputs: DistillInputs = {
            teacher: { logits: logits(1, [B, Tn, setting.vocab[0]], setting.scale, setting.extreme), roles },
            student: { logits: logits(2, [B, Tn, setting.vocab[1]], setting.scale, setting.extreme), roles },
          };
          const node = build(setting.options as DivergenceOptions);
          try {
            const fused = await outcome(node, inputs, splitting(workgroupSize));
            const reference = await outcome(node, inputs, generic);
            expectClose(fused.loss, reference.loss, toleranceFor('webgpu', 'value'), `${name} loss`);
            expectClose(fused.grad, reference.grad, toleranceFor('webgpu', 'gradient'), `${name} gradient`, [B, Tn, setting.vocab[1]]);
            const masked = Array.from(fused.grad).filter((_, i) => roles[Math.floor(i / setting.vocab[1])] === ROLE_CODES.pad);
            expect(masked.every((g) => g === 0)).toBe(true);
          } finally {
            tf.dispose([inputs.teacher.logits, inputs.student.logits]);
          }
        });
      }
    }
  }
});

describe.skipIf(skipGpuTests)('fused WebGPU divergences index the selected rows themselves', () => {
  const backend = webgpuBackend({ cpuForward: false });
  const generic: LoweringBackend = { kernels: new Map(), capabilities: backend.capabilities };

  beforeAll(async () => {
    try {
      await backend.activate();
    } catch (error) {
      throw withInstallHint(error);
    }
  });
  afterAll(async () => {
    await backend.current()?.release();
  });

  it('pairs teacher and student rows at different positions, groups split by a small binding, unselected rows zero', async () => {
    const [B, Tn, V] = [3, 9, 1000];
    // The same counts per sample, at positions shifted by one between the sides.
    const teacherRoles = new Int32Array(B * Tn).map((_, i) => (i % Tn >= 1 && i % Tn <= 6 && i % 4 !== 0 ? ROLE_CODES.response : ROLE_CODES.pad));
    const studentRoles = new Int32Array(B * Tn).map((_, i) => (i % Tn >= 2 && i % Tn <= 7 && (i - 1) % 4 !== 0 ? ROLE_CODES.response : ROLE_CODES.pad));
    const inputs: DistillInputs = {
      teacher: { logits: logits(3, [B, Tn, V], 3, false), roles: teacherRoles },
      student: { logits: logits(4, [B, Tn, V], 3, false), roles: studentRoles },
    };
    const splitting: LoweringBackend = { kernels: fusedDivergenceKernels({ maxBindingBytes: 4 * V * 4 + 256 }), capabilities: backend.capabilities };
    try {
      for (const [name, build] of Object.entries(builders)) {
        const node = build({ temperature: 1.5 });
        const fused = await outcome(node, inputs, splitting);
        const reference = await outcome(node, inputs, generic);
        expectClose(fused.loss, reference.loss, toleranceFor('webgpu', 'value'), `${name} loss`);
        expectClose(fused.grad, reference.grad, toleranceFor('webgpu', 'gradient'), `${name} gradient`, [B, Tn, V]);
        const unselected = Array.from(fused.grad).filter((_, i) => studentRoles[Math.floor(i / V)] !== ROLE_CODES.response);
        expect(unselected.every((g) => g === 0)).toBe(true);
      }
    } finally {
      tf.dispose([inputs.teacher.logits, inputs.student.logits]);
    }
  });

  it('forward KL of a masked selection of 1024 × 151936 logits (each larger than one binding) equals the selected rows on their own', async () => {
    const [N, V] = [1024, 151936];
    const selected = (i: number) => i % 5 === 1;
    const fill = (seed: number, rows: number, pick?: number[]) => {
      const out = new Float32Array(rows * V);
      for (let r = 0; r < rows; r++) {
        const source = pick === undefined ? r : pick[r]!;
        let x = (seed * 2654435761 + source * 40503) >>> 0;
        for (let v = 0; v < V; v++) {
          x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
          out[r * V + v] = (x / 2 ** 32) * 8 - 4;
        }
      }
      return out;
    };
    const roles = new Int32Array(N).map((_, i) => (selected(i) ? ROLE_CODES.response : ROLE_CODES.pad));
    const picked = Array.from({ length: N }, (_, i) => i).filter(selected);
    const node = kl.forward(T, S);
    const big: DistillInputs = {
      teacher: { logits: tf.tensor3d(fill(1, N), [1, N, V]), roles },
      student: { logits: tf.tensor3d(fill(2, N), [1, N, V]), roles },
    };
    const compact: DistillInputs = {
      teacher: { logits: tf.tensor3d(fill(1, picked.length, picked), [1, picked.length, V]), roles: new Int32Array(picked.length).fill(ROLE_CODES.response) },
      student: { logits: tf.tensor3d(fill(2, picked.length, picked), [1, picked.length, V]), roles: new Int32Array(picked.length).fill(ROLE_CODES.response) },
    };
    try {
      const fused = await outcome(node, big, { kernels: fusedDivergenceKernels(), capabilities: backend.capabilities });
      const reference = await outcome(node, compact, generic);
      expectClose(fused.loss, reference.loss, toleranceFor('webgpu', 'value'), 'loss');
      const rows = new Float32Array(picked.length * V);
      picked.forEach((i, k) => rows.set(fused.grad.subarray(i * V, (i + 1) * V), k * V));
      expectClose(rows, reference.grad, toleranceFor('webgpu', 'gradient'), 'selected gradient rows', [picked.length, V]);
      for (let i = 0; i < N; i += 7) if (!selected(i)) expect(fused.grad.subarray(i * V, (i + 1) * V).every((g) => g === 0)).toBe(true);
    } finally {
      tf.dispose([big.teacher.logits, big.student.logits, compact.teacher.logits, compact.student.logits]);
    }
  }, 300_000);
});

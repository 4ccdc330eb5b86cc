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
import { fusedDivergenceKernels, rowBlocks } from './divergence-kernels.js';

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

describe.skipIf(skipGpuTests)('fused WebGPU divergences agree with the generic lowering', () => {
  const backend = webgpuBackend({ cpuForward: false });
  // A binding of 3 rows' worth: 13 rows of V = 1000 become five dispatches, at offsets that are
  // not multiples of the alignment.
  const splitting: LoweringBackend = { kernels: fusedDivergenceKernels({ maxBindingBytes: 3 * 1000 * 4 + 256 }), capabilities: backend.capabilities };
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

  for (const setting of settings) {
    for (const [name, build] of Object.entries(builders)) {
      it(`${name}: ${setting.label}, masked tokens, rows split into blocks`, async () => {
        const [B, Tn] = [2, 8];
        const roles = new Int32Array(B * Tn).map((_, i) => (i % 5 === 2 ? ROLE_CODES.pad : ROLE_CODES.response));
        const inputs: DistillInputs = {
          teacher: { logits: logits(1, [B, Tn, setting.vocab[0]], setting.scale, setting.extreme), roles },
          student: { logits: logits(2, [B, Tn, setting.vocab[1]], setting.scale, setting.extreme), roles },
        };
        const node = build(setting.options as DivergenceOptions);
        const outcome = async (lowering: LoweringBackend) => {
          const compiled = compile(node, inputs, { backend: lowering });
          const r = await compiled.valueAndGrad(inputs);
          const loss = (await r.loss.data())[0]!;
          const grad = (await r.grads['student.logits']!.data()) as Float32Array;
          r.dispose();
          compiled.dispose();
          return { loss, grad };
        };
        try {
          const fused = await outcome(splitting);
          const reference = await outcome(generic);
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
});

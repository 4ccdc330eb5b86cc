/**
 * Kernel coverage of tfjs's WebGPU backend for what mmkd's losses need: every kernel check runs
 * on WebGPU (CPU forwarding off) and on cpu, and must agree. A missing kernel fails its check with
 * tfjs's exact error ("Kernel 'X' not registered for backend 'webgpu'").
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpu } from '../cpu.js';
import { skipGpuTests, withInstallHint } from '../testing/gpu-test-gate.js';
import { kernelChecks } from '../testing/kernel-checks.js';
import { type CheckResults, compareValues, FLOAT32_TOLERANCE, runChecks } from '../testing/numeric-checks.js';
import { webgpuBackend } from './backend.js';

describe.skipIf(skipGpuTests)('webgpu kernel coverage for distillation losses', () => {
  const backend = webgpuBackend({ cpuForward: false });
  let onGpu: CheckResults;
  let onCpu: CheckResults;

  beforeAll(async () => {
    try {
      await backend.activate();
    } catch (error) {
      throw withInstallHint(error);
    }
    onGpu = await runChecks(kernelChecks, () => performance.now());
    await cpu.activate();
    onCpu = await runChecks(kernelChecks, () => performance.now());
    const rows = kernelChecks.map((check) => {
      const gpu = onGpu[check.name];
      return `${check.name.padEnd(30)} ${gpu?.ok ? `${gpu.ms.toFixed(0).padStart(6)} ms` : `FAILED: ${gpu?.error}`}`;
    });
    console.info(`[webgpu kernels] time per check on WebGPU (first run includes shader compilation):\n${rows.join('\n')}`);
  });

  afterAll(async () => {
    await backend.current()?.release();
  });

  it('lists as missing exactly the kernels cpu has and webgpu lacks', () => {
    const webgpuKernels = new Set(tf.getKernelsForBackend('webgpu').map((k) => k.kernelName));
    const missing = tf
      .getKernelsForBackend('cpu')
      .map((k) => k.kernelName)
      .filter((name) => !webgpuKernels.has(name))
      // BatchNorm is FusedBatchNorm on webgpu: a naming difference, not a gap.
      .filter((name) => name !== 'FusedBatchNorm');
    expect([...missing].sort()).toEqual([...backend.capabilities.missingKernels].sort());
  });

  for (const check of kernelChecks) {
    it(`${check.name} (${check.kernels.join(', ')}) agrees with cpu`, () => {
      const gpu = onGpu[check.name];
      const reference = onCpu[check.name];
      if (!reference?.ok) throw new Error(`cpu reference failed: ${reference?.error}`);
      if (!gpu?.ok) throw new Error(`webgpu failed: ${gpu?.error}`);
      const comparison = compareValues(gpu.values, reference.values, check.tolerance ?? FLOAT32_TOLERANCE);
      expect(comparison.problem, `max |error| ${comparison.maxAbsError}`).toBeUndefined();
    });
  }
});

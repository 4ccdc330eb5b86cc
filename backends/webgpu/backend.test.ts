import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAll } from '../../core/tensor-ops.js';
import { cpu } from '../cpu.js';
import { DEVICE_ERROR_REASON, DeviceLostError } from '../device-loss.js';
import { skipGpuTests, withInstallHint } from '../testing/gpu-test-gate.js';
import { kernelChecks } from '../testing/kernel-checks.js';
import { compareValues, FLOAT32_TOLERANCE, type NumericCheck } from '../testing/numeric-checks.js';
import { type WebGPUActivation, webgpuBackend } from './backend.js';

/** Without a GPU device node the only adapter Dawn can find is a software one (lavapipe). */
function machineHasGpuDevice(): boolean {
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').some((name) => name.startsWith('renderD')) : false;
  return dri || existsSync('/dev/nvidia0');
}

function named(name: string): NumericCheck {
  const found = kernelChecks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no kernel check named '${name}'`);
  return found;
}

describe.skipIf(skipGpuTests)('webgpu backend in Node (Dawn)', () => {
  // CPU forwarding off: otherwise tfjs runs kernels with small inputs on its CPU backend.
  const backend = webgpuBackend({ cpuForward: false });
  let activation: WebGPUActivation;

  async function runOn(name: 'webgpu' | 'cpu', check: NumericCheck): Promise<readonly number[]> {
    if (name === 'cpu') await cpu.activate();
    else await backend.activate();
    expect(tf.getBackend()).toBe(name);
    return check.run();
  }

  beforeAll(async () => {
    try {
      activation = await backend.open();
    } catch (error) {
      throw withInstallHint(error);
    }
  });

  afterAll(async () => {
    await backend.current()?.release();
  });

  it('reports the adapter it got, and classifies it', () => {
    const { adapter } = activation;
    console.info(`[webgpu] adapter: ${JSON.stringify({ ...adapter, features: adapter.features.length })}`);
    expect(activation.source).toBe('dawn');
    expect(adapter.vendor.length + adapter.description.length).toBeGreaterThan(0);
    if (/llvmpipe|lavapipe|swiftshader/i.test(`${adapter.device} ${adapter.description}`)) {
      expect(adapter.kind).toBe('software');
    }
    if (!machineHasGpuDevice()) {
      expect(adapter.kind).toBe('software');
      expect(adapter.softwareName).toBe('llvmpipe');
    }
  });

  it('runs kernels on the device: results are GPU-resident and readable only asynchronously', async () => {
    await backend.activate();
    expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
    expect(backend.capabilities.syncRead).toBe(false);
    const y = tf.exp(tf.tensor1d([0, 1, 2]));
    // A synchronous read of a GPU buffer goes through OffscreenCanvas, which Node does not have;
    // that it throws shows the kernel ran on the device rather than being forwarded to the CPU.
    expect(() => y.dataSync()).toThrow(/OffscreenCanvas/);
    const values = await y.data();
    expect(values[0]).toBeCloseTo(1, 6);
    expect(values[1]).toBeCloseTo(Math.E, 5);
    expect(values[2]).toBeCloseTo(Math.E ** 2, 4);
    y.dispose();
  });

  for (const name of ['logSoftmax', 'matMul', 'kl.forward.grad']) {
    it(`${name} agrees with cpu within float32 tolerance`, async () => {
      const check = named(name);
      const onGpu = await runOn('webgpu', check);
      const onCpu = await runOn('cpu', check);
      const comparison = compareValues(onGpu, onCpu, check.tolerance ?? FLOAT32_TOLERANCE);
      expect(comparison.problem).toBeUndefined();
      expect(comparison.ok).toBe(true);
    });
  }

  it('leaves no tensor behind after a check', async () => {
    await backend.activate();
    const before = tf.memory().numTensors;
    await named('kl.forward.grad').run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('makes device loss observable, with the stage and step in the error', async () => {
    const watch = activation.deviceLoss;
    expect(watch.current()).toBeUndefined();
    const pending = watch.guard(new Promise<never>(() => undefined), { stage: 'dpt', step: 12 });
    let heard: string | undefined;
    watch.onLost((lost) => (heard = lost.reason));

    activation.device.destroy(); // what a GPU reset looks like to the runner
    const lost = await watch.lost;
    expect(lost).toMatchObject({ backend: 'webgpu', reason: 'destroyed', released: false });
    expect(heard).toBe('destroyed');
    await expect(pending).rejects.toThrow(/webgpu device was lost in stage 'dpt' at step 12/);
    expect(() => watch.throwIfLost({ stage: 'sft', step: 3 })).toThrow(DeviceLostError);
    expect(() => watch.throwIfLost({ stage: 'sft', step: 3 })).toThrow(/stage 'sft' at step 3 \(destroyed/);
  });

  it('release lets go of Dawn, and a fresh open() works after a loss', async () => {
    await activation.release();
    expect(backend.current()).toBeUndefined();
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    expect(tf.findBackendFactory('webgpu')).toBeNull();

    const again = await backend.open();
    expect(again).not.toBe(activation);
    const onGpu = await runOn('webgpu', named('logSoftmax'));
    const onCpu = await runOn('cpu', named('logSoftmax'));
    expect(compareValues(onGpu, onCpu).ok).toBe(true);
    await again.release();
  });

  it('sums many tensors within the storage-buffer limit, and stops a run on an uncaptured device error', async () => {
    const fresh = await backend.open();
    try {
      const terms = Array.from({ length: 36 }, (_, i) => tf.fill([3], i + 1));
      const total = addAll(terms, backend.capabilities.maxKernelInputs());
      expect(Array.from(await total.data())).toEqual([666, 666, 666]);
      expect(fresh.uncapturedErrors()).toEqual([]);
      expect(fresh.deviceLoss.current()).toBeUndefined();

      // tfjs's own AddN binds all 36 inputs to one shader: the device rejects the pipeline.
      const broken = tf.addN(terms);
      await broken.data().catch(() => undefined);
      const lost = await fresh.deviceLoss.lost;
      expect(lost.reason).toBe(DEVICE_ERROR_REASON);
      expect(fresh.uncapturedErrors().join('\n')).toMatch(/storage buffers/);
      expect(() => fresh.deviceLoss.throwIfLost({ stage: 'dpt', step: 7 })).toThrow(
        /webgpu device reported an error in stage 'dpt' at step 7 \(.*storage buffers/,
      );
      tf.dispose([...terms, total, broken]);
    } finally {
      await fresh.release();
    }
  });
});

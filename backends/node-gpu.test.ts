/**
 * @tensorflow/tfjs-node-gpu cannot be installed on these machines (its install script downloads
 * libtensorflow from storage.googleapis.com), so only the paths where it is missing or broken are
 * tested; the success path runs only where a user installed it.
 */
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './errors.js';
import { nodeGpu, nodeGpuBackend } from './node-gpu.js';

describe('node-gpu backend', () => {
  it('is not loaded until asked for, and a missing package is an error with the install recipe', async () => {
    const probe = await nodeGpu.probe();
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.error.code).toBe('package-missing');
    await expect(nodeGpu.activate()).rejects.toThrow(BackendUnavailableError);
    const message = probe.error.message;
    expect(message).toMatch(/^backend 'node-gpu' is unavailable: the optional package @tensorflow\/tfjs-node-gpu is not installed/);
    for (const needed of [
      'npm install @tensorflow/tfjs-node-gpu@4.22.0',
      'NVIDIA GPU and driver',
      'CUDA 11.2',
      'cuDNN 8.1',
      'storage.googleapis.com',
      'network access',
    ]) {
      expect(message).toContain(needed);
    }
  });

  it('tells a broken install (libtensorflow or CUDA libraries missing) from a missing one', async () => {
    const broken = nodeGpuBackend({
      load: () => Promise.reject(new Error('libcudnn.so.8: cannot open shared object file: No such file or directory')),
    });
    const probe = await broken.probe();
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.error.code).toBe('package-broken');
    expect(probe.error.reason).toContain('libcudnn.so.8');
    expect(probe.error.fix).toContain('CUDA 11.2');
  });
});

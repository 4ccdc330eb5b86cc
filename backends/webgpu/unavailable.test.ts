/**
 * The real no-adapter path: Dawn with the Vulkan loader pointed at a driver manifest that does not
 * exist (VK_DRIVER_FILES), as on a machine without any Vulkan driver. Its own file, because the
 * Vulkan loader reads the variable once per process.
 */
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../errors.js';
import { defaultCandidates, selectBackend } from '../select.js';
import { skipGpuTests } from '../testing/gpu-test-gate.js';
import { webgpuBackend } from './backend.js';

describe.skipIf(skipGpuTests || process.platform !== 'linux')('webgpu without a Vulkan driver', () => {
  it('fails naming the missing driver and the bookworm-backports steps; auto falls back to wasm saying so', async () => {
    process.env.VK_DRIVER_FILES = '/nonexistent/mmkd_test_icd.json';
    const backend = webgpuBackend();
    const error: unknown = await backend.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const unavailable = error as BackendUnavailableError;
    expect(unavailable.code).toBe('vulkan-driver-missing');
    expect(unavailable.message).toContain("backend 'webgpu' is unavailable: the Vulkan loader is installed");
    expect(unavailable.message).toContain('/nonexistent/mmkd_test_icd.json');
    expect(unavailable.fix).toContain('apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
    // Nothing left behind: navigator.gpu was removed again.
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();

    const selection = await selectBackend('auto', { ...defaultCandidates, webgpu: backend });
    expect(selection.summary).toMatch(
      /^wasm: no WebGPU adapter \(the Vulkan loader is installed .* but no Vulkan driver is: .*\); tfjs-node-gpu not installed$/,
    );
  });
});

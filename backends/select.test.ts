import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { noDeviceLoss } from './device-loss.js';
import { BackendUnavailableError } from './errors.js';
import type { NodeGpuBackend } from './node-gpu.js';
import {
  BACKEND_FLAG_HELP,
  defaultCandidates,
  parseBackendChoice,
  resolveBackendChoice,
  type SelectionCandidates,
  selectBackend,
  selectBackendFrom,
} from './select.js';
import type { Backend, BackendName } from './types.js';
import type { AdapterReport } from './webgpu/adapter.js';
import { type WebGPUActivation, type WebGPUBackend, type WebGPUProbe, webgpuBackend } from './webgpu/backend.js';

/** Node's error for `import('webgpu')` when the package is not installed. */
function moduleNotFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /work/main/backends/webgpu/dawn.ts`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

function fakeBackend(name: BackendName, activated: string[]): Backend {
  return {
    name,
    tfjsName: name,
    capabilities: { syncRead: true, missingKernels: [], maxKernelInputs: () => Number.POSITIVE_INFINITY, maxBindingBytes: () => Number.POSITIVE_INFINITY },
    kernels: new Map(),
    activate: () => {
      activated.push(name);
      return Promise.resolve();
    },
  };
}

const h100: AdapterReport = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'NVIDIA H100 80GB HBM3',
  description: 'NVIDIA H100 80GB HBM3',
  kind: 'hardware',
  isFallbackAdapter: false,
  features: [],
};

function fakeWebGPU(probe: WebGPUProbe, activated: string[], openFails?: BackendUnavailableError): WebGPUBackend {
  const activation: WebGPUActivation = {
    adapter: probe.ok ? probe.adapter : h100,
    source: 'dawn',
    device: { lost: new Promise(() => undefined), destroy: () => undefined },
    deviceLoss: noDeviceLoss,
    uncapturedErrors: () => [],
    release: () => Promise.resolve(),
  };
  return {
    ...fakeBackend('webgpu', activated),
    name: 'webgpu',
    capabilities: { syncRead: false, missingKernels: [], maxKernelInputs: () => 7, maxBindingBytes: () => 128 * 2 ** 20 },
    probe: () => Promise.resolve(probe),
    open: () => (openFails ? Promise.reject(openFails) : Promise.resolve(activation)),
    current: () => undefined,
  };
}

function fakeNodeGpu(installed: boolean, activated: string[]): NodeGpuBackend {
  const missing = new BackendUnavailableError('node-gpu', 'package-missing', 'not installed', 'npm install it');
  return {
    ...fakeBackend('node-gpu', activated),
    name: 'node-gpu',
    probe: () => Promise.resolve(installed ? { ok: true } : { ok: false, error: missing }),
  };
}

function fakes(options: { nodeGpu?: boolean; webgpu?: WebGPUProbe; webgpuOpenFails?: BackendUnavailableError }): {
  candidates: SelectionCandidates;
  activated: string[];
} {
  const activated: string[] = [];
  const softwareProbe: WebGPUProbe = { ok: true, adapter: { ...h100, kind: 'software', softwareName: 'llvmpipe' } };
  return {
    activated,
    candidates: {
      cpu: fakeBackend('cpu', activated),
      wasm: fakeBackend('wasm', activated),
      webgpu: fakeWebGPU(options.webgpu ?? softwareProbe, activated, options.webgpuOpenFails),
      nodeGpu: fakeNodeGpu(options.nodeGpu ?? false, activated),
      inNode: true,
    },
  };
}

describe('backend choice: flag, option and MMKD_BACKEND', () => {
  it('resolves by precedence: flag, then option, then MMKD_BACKEND, then auto', () => {
    const env = { MMKD_BACKEND: 'webgpu' };
    expect(resolveBackendChoice({ flag: 'cpu', option: 'wasm', env })).toEqual({ choice: 'cpu', source: 'flag' });
    expect(resolveBackendChoice({ option: 'wasm', env })).toEqual({ choice: 'wasm', source: 'option' });
    expect(resolveBackendChoice({ env })).toEqual({ choice: 'webgpu', source: 'env' });
    expect(resolveBackendChoice({ env: { MMKD_BACKEND: '' } })).toEqual({ choice: 'auto', source: 'default' });
    expect(resolveBackendChoice({})).toEqual({ choice: 'auto', source: 'default' });
    expect(resolveBackendChoice({ env: { MMKD_BACKEND: ' Node-GPU ' } })).toEqual({ choice: 'node-gpu', source: 'env' });
  });

  it('rejects unknown names, saying where they came from and what is valid', () => {
    expect(() => resolveBackendChoice({ env: { MMKD_BACKEND: 'cuda' } })).toThrow(
      "unknown backend 'cuda' (from MMKD_BACKEND): choose one of auto, cpu, wasm, webgpu, node-gpu",
    );
    expect(() => parseBackendChoice('tpu', 'flag')).toThrow("unknown backend 'tpu' (from --backend)");
    expect(BACKEND_FLAG_HELP).toContain('auto|cpu|wasm|webgpu|node-gpu');
  });
});

describe('selectBackend by name (real backends)', () => {
  for (const name of ['cpu', 'wasm'] as const) {
    it(`${name}: activates exactly that backend`, async () => {
      const selection = await selectBackendFrom({ flag: name });
      expect(tf.getBackend()).toBe(name);
      expect(selection.backend.name).toBe(name);
      expect(selection.summary).toBe(`${name}: asked for by --backend`);
    });
  }

  it('takes MMKD_BACKEND from the environment', async () => {
    const selection = await selectBackendFrom({ env: { MMKD_BACKEND: 'cpu' } });
    expect(selection.summary).toBe('cpu: asked for by MMKD_BACKEND');
  });

  it('node-gpu, not installed: fails with the install recipe and activates nothing else', async () => {
    await selectBackend('cpu');
    const error: unknown = await selectBackend({ choice: 'node-gpu', source: 'flag' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).message).toMatch(
      /^backend 'node-gpu' is unavailable: the optional package @tensorflow\/tfjs-node-gpu is not installed\.\nTo fix: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/,
    );
    expect((error as Error).message).toContain('CUDA 11.2 and cuDNN 8.1');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('webgpu with the webgpu package unresolvable: fails saying how to install it, no fallback', async () => {
    await selectBackend('cpu');
    const unresolvable = webgpuBackend({ source: 'dawn', loadDawn: () => Promise.reject(moduleNotFound('webgpu')) });
    const candidates = { ...defaultCandidates, webgpu: unresolvable };
    const error: unknown = await selectBackend('webgpu', candidates).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).code).toBe('package-missing');
    expect((error as Error).message).toMatch(
      /^backend 'webgpu' is unavailable: the optional package 'webgpu' \(Dawn's WebGPU for Node\) is not installed\.\nTo fix: npm install webgpu@0\.6\.2/,
    );
    expect(tf.getBackend()).toBe('cpu');
  });

  it('webgpu with a broken native module is told apart from a missing package', async () => {
    const broken = webgpuBackend({
      source: 'dawn',
      loadDawn: () => Promise.reject(new Error("Cannot find module '/x/node_modules/webgpu/dist/freebsd-x64/dawn.node'")),
    });
    const probe = await broken.probe();
    expect(probe.ok).toBe(false);
    if (!probe.ok) expect(probe.error.code).toBe('package-broken');
  });
});

describe('auto', () => {
  it('on this machine: wasm, saying why (software WebGPU adapter or none; tfjs-node-gpu not installed)', async () => {
    const probe = await defaultCandidates.webgpu.probe();
    const selection = await selectBackend('auto');
    console.info(`[select] auto on this machine -> ${selection.summary}`);
    if (probe.ok && probe.adapter.kind === 'hardware') {
      expect(selection.backend.name).toBe('webgpu');
      await selection.webgpu?.release();
      return;
    }
    expect(selection.backend.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.summary).toMatch(/; tfjs-node-gpu not installed$/);
    if (probe.ok && probe.adapter.softwareName === 'llvmpipe') {
      expect(selection.summary).toBe('wasm: no hardware WebGPU adapter (found llvmpipe, a software rasterizer); tfjs-node-gpu not installed');
      expect(selection.adapter?.kind).toBe('software');
    }
  });

  it('prefers node-gpu when it is installed', async () => {
    const { candidates, activated } = fakes({ nodeGpu: true, webgpu: { ok: true, adapter: h100 } });
    const selection = await selectBackend('auto', candidates);
    expect(selection.backend.name).toBe('node-gpu');
    expect(activated).toEqual(['node-gpu']);
  });

  it('then webgpu on a hardware adapter, naming it', async () => {
    const { candidates, activated } = fakes({ webgpu: { ok: true, adapter: h100 } });
    const selection = await selectBackend({ choice: 'auto', source: 'env' }, candidates);
    expect(selection.backend.name).toBe('webgpu');
    expect(selection.summary).toBe('webgpu: hardware adapter NVIDIA H100 80GB HBM3 (nvidia, hardware); tfjs-node-gpu not installed');
    expect(activated).toEqual(['webgpu']);
  });

  it('passes over a software adapter and a missing WebGPU package, with the reasons', async () => {
    const software = fakes({});
    expect((await selectBackend('auto', software.candidates)).summary).toBe(
      'wasm: no hardware WebGPU adapter (found llvmpipe, a software rasterizer); tfjs-node-gpu not installed',
    );
    const missing = new BackendUnavailableError('webgpu', 'package-missing', "the optional package 'webgpu' is not installed.", 'npm i webgpu');
    const noPackage = fakes({ webgpu: { ok: false, error: missing } });
    expect((await selectBackend('auto', noPackage.candidates)).summary).toBe(
      "wasm: WebGPU unavailable (the optional package 'webgpu' is not installed); tfjs-node-gpu not installed",
    );
  });

  it('falls through to wasm when a hardware adapter fails to start, saying so', async () => {
    const failure = new BackendUnavailableError('webgpu', 'device-request-failed', 'the adapter refused to create a device.', 'update the driver');
    const { candidates, activated } = fakes({ webgpu: { ok: true, adapter: h100 }, webgpuOpenFails: failure });
    const selection = await selectBackend('auto', candidates);
    expect(selection.summary).toBe('wasm: WebGPU failed to start (the adapter refused to create a device); tfjs-node-gpu not installed');
    expect(activated).toEqual(['wasm']);
  });
});

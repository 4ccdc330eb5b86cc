/**
 * The WebGPU backend as a value: in a browser through `navigator.gpu`, in Node through Dawn.
 *
 * mmkd requests the adapter and device itself rather than letting tfjs's self-registered factory
 * do it, so that it can (1) explain a missing adapter instead of failing inside tfjs with "Cannot
 * read properties of null", (2) report which adapter it got, software or hardware, and (3) watch
 * the device for loss.
 */
import { env, findBackend, findBackendFactory, type KernelBackend, registerBackend, removeBackend, setBackend } from '@tensorflow/tfjs-core';
import { DEVICE_ERROR_REASON, type DeviceLossWatch, type DeviceLost, watchDeviceLoss } from '../device-loss.js';
import { BackendUnavailableError, describeError, isModuleNotFound } from '../errors.js';
import { ensureGradients } from '../gradients.js';
import type { Backend } from '../types.js';
import { type AdapterReport, adapterInfo, describeAdapter } from './adapter.js';
import { type GpuAdapterInfoLike, type GpuAdapterLike, type GpuDeviceLike, type GpuLike, TFJS_DEVICE_LIMITS, type TfjsDeviceLimit } from './api.js';
import type { GpuProvider, PackageLoader } from './dawn.js';
import { webgpuKernels } from './divergence-kernels.js';
import { applyWebGPUKernelFixes } from './kernel-fixes.js';
import type { Diagnosis } from './vulkan-diagnosis.js';

export interface WebGPUOptions {
  /**
   * Where the `GPU` object comes from: `navigator` (a browser, or one a Node program installed),
   * `dawn` (the `webgpu` package), or `auto`: `navigator.gpu` if present, else Dawn in Node.
   */
  readonly source?: 'auto' | 'navigator' | 'dawn';
  /** Loads the `webgpu` package; tests inject failures here. */
  readonly loadDawn?: PackageLoader;
  /** Dawn toggles for `create()`, e.g. `['backend=vulkan']` or `['adapter=NVIDIA H100']`. */
  readonly dawnToggles?: readonly string[];
  readonly powerPreference?: 'high-performance' | 'low-power';
  /**
   * tfjs runs a kernel on its CPU backend when all inputs are CPU-resident and small (< 1000
   * elements), so small tests may never touch the GPU. `false` turns that off (tests do);
   * undefined leaves tfjs's default.
   */
  readonly cpuForward?: boolean;
}

/** What activating WebGPU got, and the handles a training runner needs. */
export interface WebGPUActivation {
  readonly adapter: AdapterReport;
  /** `dawn` in Node, `navigator` in a browser. */
  readonly source: 'dawn' | 'navigator';
  /** The device tfjs runs on. Destroying it is how tests simulate a loss. */
  readonly device: GpuDeviceLike;
  readonly deviceLoss: DeviceLossWatch;
  /** Validation / out-of-memory / internal errors the device raised that no scope caught (last 20). */
  uncapturedErrors(): readonly string[];
  /**
   * Removes tfjs's webgpu backend (disposing its buffers), destroys the device and, in Node,
   * lets go of Dawn so the process can exit. Dispose tensors that live on WebGPU first.
   */
  release(): Promise<void>;
}

export type WebGPUProbe = { readonly ok: true; readonly adapter: AdapterReport } | { readonly ok: false; readonly error: BackendUnavailableError };

export interface WebGPUBackend extends Backend {
  readonly name: 'webgpu';
  /** Sets up WebGPU (once; later calls return the same activation) and makes it tfjs's backend. */
  open(): Promise<WebGPUActivation>;
  /** Asks for an adapter without touching tfjs, to decide (`auto`) or to report. */
  probe(): Promise<WebGPUProbe>;
  /** The live activation, if any. */
  current(): WebGPUActivation | undefined;
}

/** tfjs's WebGPU module as we use it. */
interface TfjsWebGPUModule {
  readonly WebGPUBackend: new (device: GpuDeviceLike, info?: GpuAdapterInfoLike) => KernelBackend;
}

async function loadTfjsWebGPU(): Promise<TfjsWebGPUModule> {
  try {
    const module = await import('@tensorflow/tfjs-backend-webgpu');
    // tfjs types the constructor with its own copy of @webgpu/types, whose branded GPUDevice no
    // structural type matches; the object we pass is that same device.
    return module as unknown as TfjsWebGPUModule;
  } catch (error) {
    const missing = isModuleNotFound(error, '@tensorflow/tfjs-backend-webgpu');
    throw new BackendUnavailableError(
      'webgpu',
      missing ? 'package-missing' : 'package-broken',
      missing ? "the package '@tensorflow/tfjs-backend-webgpu' is not installed." : `'@tensorflow/tfjs-backend-webgpu' failed to load: ${describeError(error)}`,
      'npm install @tensorflow/tfjs-backend-webgpu@4.22.0 (a dependency of mmkd; its version must match @tensorflow/tfjs-core).',
      { cause: error },
    );
  }
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu ?? undefined;
}

function explainNoBrowserAdapter(): Promise<Diagnosis> {
  return Promise.resolve({
    code: 'no-adapter',
    reason: 'the browser exposes WebGPU but offered no adapter (GPU blocklisted, or WebGPU disabled).',
    fix:
      'look at chrome://gpu (or about:support) for why; headless Chromium needs --enable-unsafe-webgpu, ' +
      'and on Linux Chrome may need --enable-features=Vulkan.',
  });
}

/**
 * The specifier is a variable so that bundlers (Vite, esbuild) do not follow this Node-only module
 * into a browser bundle; in a browser `navigator.gpu` is used and this import never runs.
 */
const dawnModule: string = './dawn.js';

async function acquireGpu(options: WebGPUOptions): Promise<GpuProvider> {
  const source = options.source ?? 'auto';
  const existing = navigatorGpu();
  if (source !== 'dawn' && existing !== undefined) {
    return { gpu: existing, source: 'navigator', release: () => undefined, explainNoAdapter: explainNoBrowserAdapter };
  }
  if (source !== 'navigator' && isNode()) {
    const dawn: typeof import('./dawn.js') = await import(dawnModule);
    return dawn.openDawn(options.loadDawn ?? dawn.loadDawnPackage, options.dawnToggles ?? []);
  }
  throw new BackendUnavailableError(
    'webgpu',
    'no-webgpu-api',
    source === 'navigator'
      ? 'navigator.gpu is undefined here.'
      : 'this JavaScript environment has no WebGPU (navigator.gpu is undefined, and this is not Node).',
    'use a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+) on a secure origin (https or localhost), ' +
      "or Node 20+ with the 'webgpu' package.",
  );
}

async function requestAdapter(provider: GpuProvider, options: WebGPUOptions): Promise<GpuAdapterLike> {
  const request = options.powerPreference ? { powerPreference: options.powerPreference } : {};
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await provider.gpu.requestAdapter(request);
  } catch (error) {
    const diagnosis = await provider.explainNoAdapter();
    const reason = `requestAdapter() failed (${describeError(error)}); ${diagnosis.reason}`;
    throw new BackendUnavailableError('webgpu', diagnosis.code, reason, diagnosis.fix, { cause: error });
  }
  if (adapter === null) {
    const diagnosis = await provider.explainNoAdapter();
    throw new BackendUnavailableError('webgpu', diagnosis.code, diagnosis.reason, diagnosis.fix);
  }
  return adapter;
}

/** The same features and limits tfjs's own factory asks for (with its feature-list bug fixed). */
async function requestDevice(adapter: GpuAdapterLike, report: AdapterReport): Promise<GpuDeviceLike> {
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((feature) => adapter.features.has(feature));
  const requiredLimits: Partial<Record<TfjsDeviceLimit, number>> = {};
  for (const limit of TFJS_DEVICE_LIMITS) {
    const value = adapter.limits[limit];
    if (typeof value === 'number') requiredLimits[limit] = value;
  }
  try {
    return await adapter.requestDevice({ requiredFeatures, requiredLimits: requiredLimits as Record<TfjsDeviceLimit, number> });
  } catch (error) {
    throw new BackendUnavailableError(
      'webgpu',
      'device-request-failed',
      `the adapter ${report.device || report.vendor} refused to create a device: ${describeError(error)}`,
      'update the GPU driver; if the message names a limit or feature, the adapter is below what tfjs needs.',
      { cause: error },
    );
  }
}

/** The activation that currently owns tfjs's 'webgpu' registration (tfjs has one engine). */
let owner: { readonly release: () => Promise<void> } | undefined;

async function openWebGPU(options: WebGPUOptions, onRelease: () => void): Promise<WebGPUActivation> {
  if (owner !== undefined) await owner.release();
  // Order matters: the GPU object (and in Node, navigator.gpu) must exist before tfjs's module is
  // imported, because it registers itself, and checks again in its constructor, only if it does.
  const provider = await acquireGpu(options);
  let device: GpuDeviceLike | undefined;
  try {
    const adapter = await requestAdapter(provider, options);
    const info = await adapterInfo(adapter);
    const report = describeAdapter(adapter, info);
    device = await requestDevice(adapter, report);
    const gpuDevice = device;
    const tfjs = await loadTfjsWebGPU();
    ensureGradients();
    applyWebGPUKernelFixes();

    // Replace tfjs's self-registered factory (which would request an adapter of its own).
    if (findBackendFactory('webgpu') !== null) removeBackend('webgpu');
    let constructionError: unknown;
    registerBackend(
      'webgpu',
      () => {
        try {
          return new tfjs.WebGPUBackend(gpuDevice, info);
        } catch (error) {
          constructionError = error;
          throw error;
        }
      },
      3,
    );
    if (!(await setBackend('webgpu'))) {
      removeBackend('webgpu');
      throw new BackendUnavailableError(
        'webgpu',
        'init-failed',
        `tfjs could not initialise its WebGPU backend on ${report.device || report.vendor}: ${describeError(constructionError)}`,
        'check that @tensorflow/tfjs-backend-webgpu and @tensorflow/tfjs-core have the same version (4.22.0).',
        { cause: constructionError },
      );
    }
    if (options.cpuForward !== undefined) env().set('WEBGPU_CPU_FORWARD', options.cpuForward);

    let released = false;
    // An uncaptured error (a pipeline that failed validation, an allocation that failed) means
    // every result from then on may be garbage, while the device itself stays up. A run must stop
    // there as it does on a real loss, so the first one settles the same watch.
    let failed: (info: DeviceLost) => void = () => undefined;
    const firstError = new Promise<DeviceLost>((resolve) => {
      failed = resolve;
    });
    const lost = Promise.race([
      gpuDevice.lost.then((loss): DeviceLost => ({ backend: 'webgpu', reason: loss.reason, message: loss.message, released })),
      firstError,
    ]);
    const errors: string[] = [];
    gpuDevice.addEventListener?.('uncapturederror', (event) => {
      const message = event.error?.message ?? 'unknown error';
      errors.push(message);
      if (errors.length > 20) errors.shift();
      failed({ backend: 'webgpu', reason: DEVICE_ERROR_REASON, message: message.split('\n')[0]!.trim(), released });
    });

    const activation: WebGPUActivation = {
      adapter: report,
      source: provider.source,
      device: gpuDevice,
      deviceLoss: watchDeviceLoss(lost),
      uncapturedErrors: () => [...errors],
      async release() {
        if (released) return;
        released = true;
        if (owner === activation) owner = undefined;
        onRelease();
        if (findBackendFactory('webgpu') !== null) removeBackend('webgpu');
        gpuDevice.destroy();
        provider.release();
      },
    };
    owner = activation;
    return activation;
  } catch (error) {
    device?.destroy();
    provider.release();
    throw error;
  }
}

export function webgpuBackend(options: WebGPUOptions = {}): WebGPUBackend {
  let opening: Promise<WebGPUActivation> | undefined;
  let live: WebGPUActivation | undefined;

  const open = (): Promise<WebGPUActivation> => {
    if (opening === undefined) {
      const forget = (): void => {
        opening = undefined;
        live = undefined;
      };
      opening = openWebGPU(options, forget).then(
        (activation) => (live = activation),
        (error: unknown) => {
          forget();
          throw error;
        },
      );
    }
    return opening;
  };

  return {
    name: 'webgpu',
    tfjsName: 'webgpu',
    capabilities: {
      // Reading a GPU-resident tensor synchronously goes through OffscreenCanvas, which Node lacks
      // ("OffscreenCanvas is not defined"), and blocks a browser's main thread: read with data().
      syncRead: false,
      missingKernels: [
        'Unique',
        'BitwiseAnd',
        'NonMaxSuppressionV4',
        'RaggedGather',
        'RaggedRange',
        'RaggedTensorToTensor',
        'SparseFillEmptyRows',
        'SparseReshape',
        'StaticRegexReplace',
        'StringSplit',
        'StringToHashBucketFast',
      ],
      maxKernelInputs: webgpuKernelInputs,
      maxBindingBytes: webgpuBindingBytes,
    },
    // Fused WGSL kernels for the shipped divergences; every other loss runs on tfjs's kernels.
    kernels: webgpuKernels,
    async activate() {
      await open();
      // Another backend may have been made active since; make this one active again.
      if (!(await setBackend('webgpu'))) throw new Error("backend 'webgpu' failed to initialise");
    },
    open,
    current: () => live,
    async probe() {
      if (live !== undefined) return { ok: true, adapter: live.adapter };
      // Dawn prints warnings on stderr when it opens an adapter; probe it where they can be dropped.
      if (options.loadDawn === undefined && options.source !== 'navigator' && navigatorGpu() === undefined && isNode()) {
        const dawn: typeof import('./dawn.js') = await import(dawnModule);
        const quiet = await dawn.probeDawnQuietly(options.dawnToggles ?? [], options.powerPreference);
        if (quiet !== undefined)
          return { ok: true, adapter: describeAdapter({ features: new Set(quiet.features), isFallbackAdapter: quiet.isFallbackAdapter }, quiet.info) };
      }
      let provider: GpuProvider | undefined;
      try {
        provider = await acquireGpu(options);
        const adapter = await requestAdapter(provider, options);
        return { ok: true, adapter: describeAdapter(adapter, await adapterInfo(adapter)) };
      } catch (error) {
        if (error instanceof BackendUnavailableError) return { ok: false, error };
        throw error;
      } finally {
        provider?.release();
      }
    },
  };
}

/**
 * Inputs one kernel may bind on the device tfjs's WebGPU backend runs on. AddN binds every input
 * as a storage buffer and its output needs one too; adapters may allow as few as 8 per shader
 * stage (the WebGPU default, and what lavapipe and SwiftShader give), which is the fallback.
 */
function webgpuKernelInputs(): number {
  const instance = findBackend('webgpu') as { device?: { limits?: { maxStorageBuffersPerShaderStage?: number } } } | null;
  return Math.max(2, (instance?.device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1);
}

/**
 * The largest storage buffer one shader may bind (`maxStorageBufferBindingSize`): a tensor larger
 * than this cannot be an operand of any tfjs kernel. WebGPU's default, 128 MiB (what lavapipe
 * gives), until a device is open.
 */
function webgpuBindingBytes(): number {
  const instance = findBackend('webgpu') as { device?: { limits?: { maxStorageBufferBindingSize?: number } } } | null;
  return instance?.device?.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20;
}

/** WebGPU with tfjs's defaults. */
export const webgpu: WebGPUBackend = webgpuBackend();

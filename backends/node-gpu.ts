/**
 * CUDA through `@tensorflow/tfjs-node-gpu` (libtensorflow 2.9.1), an optional peer dependency
 * loaded only when asked for. It cannot be installed on machines that reach only the npm registry:
 * its install script downloads libtensorflow from Google's storage bucket.
 */
import { engine, setBackend } from '@tensorflow/tfjs-core';
import { BackendUnavailableError, describeError, isModuleNotFound } from './errors.js';
import { ensureGradients } from './gradients.js';
import type { Backend } from './types.js';
import { unbounded } from './unbounded.js';
import type { PackageLoader } from './webgpu/dawn.js';

export const NODE_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

/**
 * A variable, not a literal: tsc would otherwise require the optional package's typings, and
 * bundlers would try to include a native addon in browser builds.
 */
const nodeGpuSpecifier: string = NODE_GPU_PACKAGE;
export const loadNodeGpuPackage: PackageLoader = () => import(nodeGpuSpecifier);

/** What the package needs, stated once for both the missing and the broken case. */
export const NODE_GPU_REQUIREMENTS =
  'It needs Linux x86-64 (or Windows x64) with an NVIDIA GPU and driver (> 450.x), CUDA 11.2 and cuDNN 8.1 ' +
  '(libcudart.so.11.0 and libcudnn.so.8 on the library path); its install script downloads libtensorflow 2.9.1 ' +
  'from https://storage.googleapis.com/tensorflow/libtensorflow/, so the install needs network access to ' +
  "Google's storage bucket (or TFJS_NODE_CDN_STORAGE pointing at a mirror). On newer GPUs (Hopper) expect a slow " +
  'first start while CUDA compiles PTX. Without CUDA, use --backend webgpu or wasm.';

const INSTALL = `npm install ${NODE_GPU_PACKAGE}@4.22.0 (the version must match @tensorflow/tfjs-core).`;

export type NodeGpuProbe = { readonly ok: true } | { readonly ok: false; readonly error: BackendUnavailableError };

export interface NodeGpuBackend extends Backend {
  readonly name: 'node-gpu';
  /** Loads the package (which registers tfjs's 'tensorflow' backend) without activating it. */
  probe(): Promise<NodeGpuProbe>;
}

function unavailable(error: unknown): BackendUnavailableError {
  if (isModuleNotFound(error, NODE_GPU_PACKAGE)) {
    return new BackendUnavailableError(
      'node-gpu',
      'package-missing',
      `the optional package ${NODE_GPU_PACKAGE} is not installed.`,
      `${INSTALL} ${NODE_GPU_REQUIREMENTS}`,
      { cause: error },
    );
  }
  return new BackendUnavailableError(
    'node-gpu',
    'package-broken',
    `${NODE_GPU_PACKAGE} is installed but failed to load: ${describeError(error)}`,
    `reinstall it with network access so that libtensorflow is downloaded (npm rebuild ${NODE_GPU_PACKAGE}). ${NODE_GPU_REQUIREMENTS}`,
    { cause: error },
  );
}

export function nodeGpuBackend(options: { readonly load?: PackageLoader } = {}): NodeGpuBackend {
  const load = options.load ?? loadNodeGpuPackage;
  const probe = async (): Promise<NodeGpuProbe> => {
    try {
      await load();
      return { ok: true };
    } catch (error) {
      return { ok: false, error: unavailable(error) };
    }
  };
  return {
    name: 'node-gpu',
    tfjsName: 'tensorflow',
    capabilities: { syncRead: true, missingKernels: [], maxKernelInputs: unbounded, maxBindingBytes: unbounded },
    // No fused loss kernels: the generic lowering runs on TensorFlow's own.
    kernels: new Map(),
    probe,
    async activate() {
      const probed = await probe();
      if (!probed.ok) throw probed.error;
      ensureGradients();
      if (!(await setBackend('tensorflow'))) {
        throw new BackendUnavailableError(
          'node-gpu',
          'init-failed',
          `${NODE_GPU_PACKAGE} loaded but tfjs could not initialise its 'tensorflow' backend.`,
          `check that ${NODE_GPU_PACKAGE} and @tensorflow/tfjs-core are both 4.22.0 (npm ls @tensorflow/tfjs-core). ${NODE_GPU_REQUIREMENTS}`,
        );
      }
      // When libcudnn.so.8 or the driver is missing, TensorFlow quietly runs on the CPU
      // (tensorflow/tfjs#8269); asking for node-gpu must not end up there unnoticed.
      const usingGpu = (engine().backend as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
      if (usingGpu === false) {
        throw new BackendUnavailableError(
          'node-gpu',
          'no-cuda-device',
          'TensorFlow loaded but found no usable CUDA device, so it would run on the CPU.',
          `check nvidia-smi, and that CUDA 11.2's libcudart.so.11.0 and cuDNN 8.1's libcudnn.so.8 are on LD_LIBRARY_PATH. ${NODE_GPU_REQUIREMENTS}`,
        );
      }
    },
  };
}

export const nodeGpu: NodeGpuBackend = nodeGpuBackend();

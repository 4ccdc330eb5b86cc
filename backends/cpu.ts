import { findBackend, setBackend } from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';
import { hostKernels } from './host-kernels/index.js';
import type { Backend } from './types.js';
import { unbounded } from './unbounded.js';

/** The plain-JavaScript reference backend: slow, float32, every kernel present. */
export const cpu: Backend = {
  name: 'cpu',
  tfjsName: 'cpu',
  kernels: hostKernels,
  capabilities: { syncRead: true, missingKernels: [], maxKernelInputs: unbounded, maxBindingBytes: unbounded },
  async activate() {
    await import('@tensorflow/tfjs-backend-cpu');
    ensureGradients();
    if (!(await setBackend('cpu'))) throw new Error("backend 'cpu' failed to initialise");
    // On its first write in Node the CPU backend prints advice to install tfjs-node, which would
    // land in the middle of CLI output; it is a one-shot flag on the backend instance.
    const instance = findBackend('cpu') as { firstUse?: boolean } | null;
    if (instance && 'firstUse' in instance) instance.firstUse = false;
  },
};

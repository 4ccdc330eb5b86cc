import { setBackend } from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';
import { hostKernels } from './host-kernels/index.js';
import type { Backend } from './types.js';
import { unbounded } from './unbounded.js';

/**
 * XNNPACK compiled to WebAssembly (SIMD, single-threaded in Node): an order of magnitude faster
 * than `cpu` on small machines, and the default in Node. It lacks a few kernels; generic lowering
 * avoids them (no `gather` gradients through UnsortedSegmentSum, no einsum, no broadcastTo).
 */
export const wasm: Backend = {
  name: 'wasm',
  tfjsName: 'wasm',
  kernels: hostKernels,
  capabilities: {
    syncRead: true,
    missingKernels: ['UnsortedSegmentSum', 'Einsum', 'BroadcastTo', 'Conv2DBackpropFilter'],
    maxKernelInputs: unbounded,
    // One tensor may be as large as the heap; what the heap holds is checked where it is filled.
    maxBindingBytes: unbounded,
  },
  async activate() {
    await import('@tensorflow/tfjs-backend-wasm');
    ensureGradients();
    if (!(await setBackend('wasm'))) throw new Error("backend 'wasm' failed to initialise");
  },
};

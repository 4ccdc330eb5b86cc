import { getBackend } from '@tensorflow/tfjs-core';
import { genericLowering, type LoweringBackend } from '../core/target.js';
import { cpu } from './cpu.js';
import { nodeGpu } from './node-gpu.js';
import type { Backend } from './types.js';
import { wasm } from './wasm.js';
import { webgpu } from './webgpu/backend.js';

const shipped: readonly Backend[] = [cpu, wasm, webgpu, nodeGpu];

/**
 * What to lower for when `compile` is given no backend: the mmkd value behind tfjs's active
 * backend (the shipped one of that tfjs name; every value of a kind has the same kernels and
 * capabilities). A tfjs backend mmkd does not ship gets the generic lowering with no limits;
 * pass `backend` to `compile` to lower for a value of your own.
 */
export function activeBackend(): LoweringBackend {
  const name = getBackend();
  return shipped.find((b) => b.tfjsName === name) ?? genericLowering;
}

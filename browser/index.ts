/**
 * mmkd for browsers and other runtimes without Node's modules: `import … from 'mmkd/browser'`.
 *
 * Everything here is free of `node:` imports (a test bundles it for the browser and fails on
 * one): objectives and their graph, every loss, `compile`, matching (the exact solver on typed
 * arrays, a web-worker pool) and the backends that run in a page (cpu, wasm, WebGPU on
 * `navigator.gpu`). Tensor files are read and written from bytes (`readSafetensors(bytes)`);
 * reading paths, training recipes, the CLI and tfjs-node-gpu are Node's, in `mmkd`.
 *
 * The other files of this folder are the test page (browser.test.ts), not part of the package.
 */
import { cpu } from '../backends/cpu.js';
import { UnknownBackendError } from '../backends/errors.js';
import type { Backend } from '../backends/types.js';
import { wasm } from '../backends/wasm.js';
import { webgpu } from '../backends/webgpu/backend.js';

export { BackendUnavailableError, UnknownBackendError } from '../backends/errors.js';
export type { Backend, BackendName } from '../backends/types.js';
export { type WebGPUActivation, type WebGPUBackend, type WebGPUOptions, webgpuBackend } from '../backends/webgpu/backend.js';
export { type CompileOptions, compile, standardRegistry } from '../compile/index.js';
export * from '../core/index.js';
export { TensorFileError } from '../io/errors.js';
export { type HostTensor, hostTensor } from '../io/host-tensor.js';
export { readNpy, writeNpy } from '../io/npy.js';
export { readSafetensors, writeSafetensors } from '../io/safetensors.js';
export * from '../losses/index.js';
export {
  AssignmentError,
  type AssignmentPool,
  type AssignmentProblem,
  type AssignmentResult,
  type BrowserPoolOptions,
  certifyAssignment,
  createBrowserAssignmentPool,
  solveAssignment,
  solveBatchSequential,
} from '../matching/assignment/browser.js';
export {
  type CostMetric,
  type CostOptions,
  type Matched,
  match,
  matchingPlanner,
  type PlannerOptions,
  pairwiseCost,
  standardMatchers,
} from '../matching/index.js';
export { EM_KD_PAPER_WEIGHTS, emKdObjective } from '../recipes/objectives/em-kd.js';
export { LLAVA_KD_PAPER_WEIGHTS, llavaKdObjective } from '../recipes/objectives/llava-kd.js';
export { cpu, wasm, webgpu };

/** The backends that run in a browser, by name. */
export const browserBackends: Readonly<Record<'cpu' | 'wasm' | 'webgpu', Backend>> = { cpu, wasm, webgpu };

/**
 * Activates a backend by name: `webgpu` (the browser's `navigator.gpu`), `wasm` or `cpu`.
 * Call it, and await it, before making tensors. Unknown names are errors that list these three.
 */
export async function useBackend(name: string): Promise<Backend> {
  const backend = Object.hasOwn(browserBackends, name) ? browserBackends[name as keyof typeof browserBackends] : undefined;
  if (backend === undefined) {
    throw new UnknownBackendError(`unknown backend '${name}': available in a browser are ${Object.keys(browserBackends).join(', ')}`);
  }
  await backend.activate();
  return backend;
}

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

export * from '../core/index.js';
export * from '../losses/index.js';
export { compile, standardRegistry, type CompileOptions } from '../compile/index.js';
export { match, matchingPlanner, standardMatchers, pairwiseCost, type CostOptions, type Matched, type PlannerOptions, type CostMetric } from '../matching/index.js';
export {
  AssignmentError,
  certifyAssignment,
  createBrowserAssignmentPool,
  solveAssignment,
  solveBatchSequential,
  type AssignmentPool,
  type AssignmentProblem,
  type AssignmentResult,
  type BrowserPoolOptions,
} from '../matching/assignment/browser.js';
export { readSafetensors, writeSafetensors } from '../io/safetensors.js';
export { readNpy, writeNpy } from '../io/npy.js';
export { hostTensor, type HostTensor } from '../io/host-tensor.js';
export { TensorFileError } from '../io/errors.js';
export { cpu, wasm, webgpu };
export { webgpuBackend, type WebGPUActivation, type WebGPUBackend, type WebGPUOptions } from '../backends/webgpu/backend.js';
export { BackendUnavailableError, UnknownBackendError } from '../backends/errors.js';
export type { Backend, BackendName } from '../backends/types.js';
export { llavaKdObjective, LLAVA_KD_PAPER_WEIGHTS } from '../recipes/objectives/llava-kd.js';
export { emKdObjective, EM_KD_PAPER_WEIGHTS } from '../recipes/objectives/em-kd.js';

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

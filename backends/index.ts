import { cpu } from './cpu.js';
import { UnknownBackendError } from './errors.js';
import { nodeGpu } from './node-gpu.js';
import type { Backend, BackendName } from './types.js';
import { wasm } from './wasm.js';
import { webgpu } from './webgpu/backend.js';

export { activeBackend } from './active.js';
export { cpu } from './cpu.js';
export type { DeviceLossWatch, DeviceLost, StepLocation } from './device-loss.js';
export { DeviceLostError, noDeviceLoss, watchDeviceLoss } from './device-loss.js';
export type { UnavailableCode } from './errors.js';
export { BackendUnavailableError, isBackendUnavailable, UnknownBackendError } from './errors.js';
export { ensureGradients } from './gradients.js';
export type { NodeGpuBackend, NodeGpuProbe } from './node-gpu.js';
export { NODE_GPU_PACKAGE, NODE_GPU_REQUIREMENTS, nodeGpu, nodeGpuBackend } from './node-gpu.js';
export type { BackendChoice, BackendSelection, ChoiceSource, Rejection, ResolvedChoice, SelectionCandidates } from './select.js';
export {
  BACKEND_CHOICES,
  BACKEND_ENV_VAR,
  BACKEND_FLAG_HELP,
  defaultCandidates,
  isBackendChoice,
  parseBackendChoice,
  resolveBackendChoice,
  selectBackend,
  selectBackendFrom,
} from './select.js';
export type { Backend, BackendCapabilities, BackendName } from './types.js';
export { wasm } from './wasm.js';
export type { AdapterKind, AdapterReport } from './webgpu/adapter.js';
export { describeAdapter, formatAdapter } from './webgpu/adapter.js';
export type { WebGPUActivation, WebGPUBackend, WebGPUOptions, WebGPUProbe } from './webgpu/backend.js';
export { webgpu, webgpuBackend } from './webgpu/backend.js';

/**
 * The backends mmkd knows, as a value (nothing is registered by importing this module; webgpu
 * and node-gpu load their packages only when activated).
 */
export const nodeBackends: Readonly<Partial<Record<BackendName, Backend>>> = {
  cpu,
  wasm,
  webgpu,
  'node-gpu': nodeGpu,
};

/**
 * Activates a backend by name; unknown names are errors that say which exist, and unavailable
 * ones throw `BackendUnavailableError` with the reason and the fix. For `auto` and for the
 * flag / option / MMKD_BACKEND resolution, use `selectBackend` / `selectBackendFrom`.
 */
export async function useBackend(name: string, registry: Readonly<Partial<Record<BackendName, Backend>>> = nodeBackends): Promise<Backend> {
  // Own keys only: 'toString' must be an unknown backend, not Object.prototype's method.
  const backend = Object.hasOwn(registry, name) ? registry[name as BackendName] : undefined;
  if (backend === undefined) {
    const known = Object.keys(registry).join(', ');
    throw new UnknownBackendError(`unknown backend '${name}': available here are ${known}`);
  }
  await backend.activate();
  return backend;
}

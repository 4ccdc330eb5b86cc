import type { LoweringBackend, LoweringCapabilities, LoweringOverrides } from '../core/target.js';

/** The backends mmkd knows by name (`--backend`, `useBackend(name)`). */
export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'node-gpu';

/** What a backend can do, as data: lowering and tests read this rather than probing. */
export interface BackendCapabilities extends LoweringCapabilities {
  /** `dataSync()` works for tensors resident on the backend (false for WebGPU in Node). */
  readonly syncRead: boolean;
  /** Kernels tfjs lacks on this backend that generic code might reach for. */
  readonly missingKernels: readonly string[];
}

/**
 * A tfjs backend as a value, which `compile` lowers for (its kernels and capabilities reach the
 * interpreter). Nothing registers on import: `activate` loads the backend's package and makes it
 * the engine's active backend.
 */
export interface Backend extends LoweringBackend {
  readonly name: BackendName;
  /** The name tfjs knows the backend by. */
  readonly tfjsName: string;
  readonly capabilities: BackendCapabilities;
  /**
   * Fused lowerings that replace the generic one for some losses on this backend, keyed by the
   * loss definition they implement (so a user's loss that shares a built-in's name keeps its own).
   */
  readonly kernels: LoweringOverrides;
  activate(): Promise<void>;
}

import type { LoweringOverrides } from '../core/lower.js';

export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'node-gpu';

/** What a backend can do, as data: lowering and tests read this rather than probing. */
export interface BackendCapabilities {
  /** `dataSync()` works for tensors resident on the backend (false for WebGPU in Node). */
  readonly syncRead: boolean;
  /** Kernels tfjs lacks on this backend that generic code might reach for. */
  readonly missingKernels: readonly string[];
}

/**
 * A tfjs backend as a value. Nothing registers on import: `activate` loads the backend's package
 * and makes it the engine's active backend.
 */
export interface Backend {
  readonly name: BackendName;
  /** The name tfjs knows the backend by. */
  readonly tfjsName: string;
  readonly capabilities: BackendCapabilities;
  /** Fused lowerings that replace the generic one for some losses on this backend (by loss name). */
  readonly overrides?: LoweringOverrides;
  activate(): Promise<void>;
}

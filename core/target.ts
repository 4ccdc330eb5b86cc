import type { LossDefinition } from './definitions.js';

/** How a loss becomes a scalar: a definition's generic `lower`, or a backend's kernel for it. */
export type LowerRule = LossDefinition['lower'];

/**
 * A backend's lowerings that replace a loss's generic one (JAX's per-platform lowering rules),
 * keyed by the loss *definition* they were written for, never by its name: a user's own loss
 * registered under a built-in's name keeps its own lowering.
 */
export type LoweringOverrides = ReadonlyMap<LossDefinition, LowerRule>;

/** What lowering reads of a backend's limits. */
export interface LoweringCapabilities {
  /**
   * The most input tensors one kernel may bind; longer sums become trees of smaller ones.
   * A function because a GPU device's limits are known only once it is open.
   */
  maxKernelInputs(): number;
  /**
   * The most bytes one kernel may bind as a single input or output (WebGPU's
   * `maxStorageBufferBindingSize`; infinite where there is no such limit). Lowerings that touch
   * [rows × vocabulary] blocks slice them so that no tensor they make is larger.
   */
  maxBindingBytes(): number;
}

/**
 * What lowering needs of a backend: its kernels and its capabilities. Core names no backend;
 * `backends/` supplies values of this shape (tinygrad's renderers over one generic table).
 */
export interface LoweringBackend {
  readonly kernels: LoweringOverrides;
  readonly capabilities: LoweringCapabilities;
}

/** The generic lowering: every loss by its definition's own rule, sums of any length in one kernel. */
export const genericLowering: LoweringBackend = Object.freeze({
  kernels: new Map(),
  capabilities: { maxKernelInputs: () => Number.POSITIVE_INFINITY, maxBindingBytes: () => Number.POSITIVE_INFINITY },
});

/** The rule that lowers `definition` on `backend`: its kernel if it has one, else the generic rule. */
export function ruleFor(backend: LoweringBackend, definition: LossDefinition): LowerRule {
  return backend.kernels.get(definition) ?? definition.lower;
}

import type { LoweringOverrides } from '../../core/lower.js';
import { lowerDivergenceWith } from '../../losses/divergence.js';
import { divergenceRules } from '../../losses/index.js';
import { hostDivergenceKernel } from './divergence.js';

/** Fused host kernels for backends the host reads synchronously (cpu, wasm), by loss name. */
export const hostOverrides: LoweringOverrides = Object.freeze(
  Object.fromEntries(divergenceRules.map((rule) => [rule.name, lowerDivergenceWith(rule, hostDivergenceKernel)])),
);

import type { LoweringOverrides } from '../../core/target.js';
import { lowerDivergenceWith } from '../../losses/divergence.js';
import { divergenceRules, standardLosses } from '../../losses/index.js';
import { hostDivergenceKernel } from './divergence.js';

/**
 * Fused host kernels for backends the host reads synchronously (cpu, wasm), keyed by the shipped
 * divergences' definitions: a user's own loss is never replaced, whatever it is named.
 */
export const hostKernels: LoweringOverrides = new Map(
  divergenceRules.map((rule) => {
    const definition = standardLosses[rule.name];
    if (definition === undefined) throw new Error(`internal: no shipped loss definition for the divergence rule '${rule.name}'`);
    return [definition, lowerDivergenceWith(rule, hostDivergenceKernel)] as const;
  }),
);

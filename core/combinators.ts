import type { ObjectiveNode, ScalarNode, WeightedNode } from './graph.js';

/** `weight · term`. (−0 becomes 0: JSON cannot tell them apart, and neither can the loss.) */
export const weighted = (weight: number, term: ScalarNode): WeightedNode => Object.freeze({ kind: 'weighted', weight: weight === 0 ? 0 : weight, term });

/**
 * The sum of named terms. Each term's value is reported under its name, so terms are keyed by
 * name, not position (optax's `named_chain`).
 */
export const objective = (terms: Readonly<Record<string, ScalarNode>>): ObjectiveNode =>
  Object.freeze({ kind: 'objective', terms: Object.freeze({ ...terms }) });

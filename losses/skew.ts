import * as tf from '@tensorflow/tfjs-core';
import type { DivergenceOptions, DivergenceRule, RowView } from './divergence.js';
import { paramCodec, unitInterval } from './params.js';
import { divergenceRule, type TypedDivergenceRule } from './rule.js';

/** α of the skewed divergences: in [0, 1], DistiLLM's 0.1 by default. */
const skewParams = paramCodec({ alpha: unitInterval('α', 0.1) });

/** The options of a skewed divergence's builder. */
export type SkewOptions = DivergenceOptions & { readonly alpha?: number };

/**
 * What distinguishes one skewed divergence from another: its name, the divergence it is at α = 0,
 * and its value and ∂ℓ/∂log q for α strictly inside (0, 1). `skewRule` adds what every skewed
 * rule shares: the α parameter (default 0.1, DistiLLM's), its check, and the endpoints (α = 0
 * delegates to `atZero`; α = 1 mixes nothing of the other side in, so the divergence is 0).
 */
export interface SkewSpec {
  readonly name: string;
  readonly summary: string;
  readonly formula: (alpha: number) => string;
  readonly atZero: DivergenceRule;
  readonly perToken: (logP: tf.Tensor2D, logQ: tf.Tensor2D, alpha: number) => tf.Tensor1D;
  readonly gradLogQ: (logP: tf.Tensor2D, logQ: tf.Tensor2D, alpha: number) => tf.Tensor2D;
  readonly row: (row: RowView, h: Float64Array | null, alpha: number) => number;
}

export function skewRule(spec: SkewSpec): TypedDivergenceRule<{ readonly alpha: number }> {
  return divergenceRule({
    name: spec.name,
    summary: spec.summary,
    params: skewParams,
    formula: ({ alpha }) => spec.formula(alpha),
    perToken: (logP, logQ, params) => {
      if (params.alpha === 0) return spec.atZero.perToken(logP, logQ, params);
      if (params.alpha === 1) return tf.zeros([logP.shape[0]]) as tf.Tensor1D;
      return spec.perToken(logP, logQ, params.alpha);
    },
    gradLogQ: (logP, logQ, params) => {
      if (params.alpha === 0) return spec.atZero.gradLogQ(logP, logQ, params);
      if (params.alpha === 1) return tf.zerosLike(logQ);
      return spec.gradLogQ(logP, logQ, params.alpha);
    },
    row: (row, h, params) => {
      if (params.alpha === 0) return spec.atZero.row(row, h, params);
      if (params.alpha === 1) {
        h?.fill(0, 0, row.vocab);
        return 0;
      }
      return spec.row(row, h, params.alpha);
    },
  });
}

import * as tf from '@tensorflow/tfjs-core';
import { logMixtureOf, rowKL } from '../core/safe-math.js';
import type { DivergenceOptions, DivergenceRule, RowView } from './divergence.js';
import { paramCodec, unitInterval } from './params.js';
import { divergenceRule, type TypedDivergenceRule } from './rule.js';

/** α of the skewed divergences: in [0, 1], DistiLLM's 0.1 by default. */
const skewParams = paramCodec({ alpha: unitInterval('α', 0.1) });

/** The options of a skewed divergence's builder. */
export type SkewOptions = DivergenceOptions & { readonly alpha?: number };

/**
 * A skewed divergence is KL(own ‖ m) with m = α·own + (1−α)·other, `own` being the teacher's p
 * (skew KL) or the student's q (skew reverse KL). What distinguishes one from another: its name,
 * which side is its own, the divergence it is at α = 0, and, for α strictly inside (0, 1), its
 * ∂ℓ/∂log q (given log m) and its host row (given the mixture's log weights). `skewRule` adds
 * what every skewed rule shares: the α parameter (default 0.1, DistiLLM's), its check, the value
 * KL(own ‖ m), and the endpoints (α = 0 delegates to `atZero`; α = 1 mixes nothing of the other
 * side in, so the divergence is 0).
 */
export interface SkewSpec {
  readonly name: string;
  readonly summary: string;
  readonly formula: (alpha: number) => string;
  readonly own: 'teacher' | 'student';
  readonly atZero: DivergenceRule;
  readonly gradLogQ: (logP: tf.Tensor2D, logQ: tf.Tensor2D, logM: tf.Tensor, alpha: number) => tf.Tensor2D;
  readonly row: (row: RowView, h: Float64Array | null, mixture: MixtureWeights) => number;
}

/** α and the logs of the mixture's two weights, log α (own side) and log(1−α) (other side). */
export interface MixtureWeights {
  readonly alpha: number;
  readonly logOwn: number;
  readonly logOther: number;
}

export function skewRule(spec: SkewSpec): TypedDivergenceRule<{ readonly alpha: number }> {
  const sides = (logP: tf.Tensor2D, logQ: tf.Tensor2D) => (spec.own === 'teacher' ? { own: logP, other: logQ } : { own: logQ, other: logP });
  /** log m for α in (0, 1). */
  const logMixture = (logP: tf.Tensor2D, logQ: tf.Tensor2D, alpha: number) => {
    const { own, other } = sides(logP, logQ);
    return logMixtureOf(own, other, alpha);
  };
  return divergenceRule({
    name: spec.name,
    summary: spec.summary,
    params: skewParams,
    formula: ({ alpha }) => spec.formula(alpha),
    perToken: (logP, logQ, params) => {
      if (params.alpha === 0) return spec.atZero.perToken(logP, logQ, params);
      if (params.alpha === 1) return tf.zeros([logP.shape[0]]) as tf.Tensor1D;
      return rowKL(sides(logP, logQ).own, logMixture(logP, logQ, params.alpha));
    },
    gradLogQ: (logP, logQ, params) => {
      if (params.alpha === 0) return spec.atZero.gradLogQ(logP, logQ, params);
      if (params.alpha === 1) return tf.zerosLike(logQ);
      return spec.gradLogQ(logP, logQ, logMixture(logP, logQ, params.alpha), params.alpha);
    },
    row: (row, h, params) => {
      if (params.alpha === 0) return spec.atZero.row(row, h, params);
      if (params.alpha === 1) {
        h?.fill(0, 0, row.vocab);
        return 0;
      }
      const { alpha } = params;
      return spec.row(row, h, { alpha, logOwn: Math.log(alpha), logOther: Math.log(1 - alpha) });
    },
  });
}

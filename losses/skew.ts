import * as tf from '@tensorflow/tfjs-core';
import type { LossNode } from '../core/graph.js';
import { type DivergenceOptions, type DivergenceRule, divergenceNode, type RowView, type StudentLogits, type TeacherLogits } from './divergence.js';
import { paramCodec, unitInterval } from './params.js';

/** α of the skewed divergences: in [0, 1], DistiLLM's 0.1 by default. */
export const skewParams = paramCodec({ alpha: unitInterval('α', 0.1) });

/** The options of a skewed divergence's builder. */
export type SkewOptions = DivergenceOptions & { readonly alpha?: number };

/** The builder of a skewed divergence's graph node, α defaulted. */
export const skewNode =
  (rule: DivergenceRule) =>
  (teacher: TeacherLogits, student: StudentLogits, options: SkewOptions = {}): LossNode =>
    divergenceNode(rule, teacher, student, options, { alpha: options.alpha ?? skewParams.defaults.alpha });

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

export function skewRule(spec: SkewSpec): DivergenceRule {
  const alphaOf = (params: Parameters<DivergenceRule['formula']>[0]) => skewParams.decode(params).alpha;
  return {
    name: spec.name,
    summary: spec.summary,
    defaults: skewParams.defaults,
    checkParams: skewParams.check,
    formula: (params) => spec.formula(alphaOf(params)),
    perToken: (logP, logQ, params) => {
      const alpha = alphaOf(params);
      if (alpha === 0) return spec.atZero.perToken(logP, logQ, params);
      if (alpha === 1) return tf.zeros([logP.shape[0]]) as tf.Tensor1D;
      return spec.perToken(logP, logQ, alpha);
    },
    gradLogQ: (logP, logQ, params) => {
      const alpha = alphaOf(params);
      if (alpha === 0) return spec.atZero.gradLogQ(logP, logQ, params);
      if (alpha === 1) return tf.zerosLike(logQ);
      return spec.gradLogQ(logP, logQ, alpha);
    },
    row: (row, h, params) => {
      const alpha = alphaOf(params);
      if (alpha === 0) return spec.atZero.row(row, h, params);
      if (alpha === 1) {
        h?.fill(0, 0, row.vocab);
        return 0;
      }
      return spec.row(row, h, alpha);
    },
  };
}

import type * as tf from '@tensorflow/tfjs-core';
import type { JsonValue, LossNode } from '../core/graph.js';
import { type DivergenceOptions, type DivergenceRule, divergenceNode, type RowView, type StudentLogits, type TeacherLogits } from './divergence.js';
import { type ParamCodec, paramCodec } from './params.js';

/**
 * What a divergence rule file states: its name, its own parameters as a codec (β, α, μ; `noParams`
 * for none), and its formula, value, ∂ℓ/∂log q and host row, each given the parameters already
 * decoded. `divergenceRule` adds what every rule derives from the codec: `defaults`, `checkParams`
 * and the decoding.
 */
export interface RuleSpec<P extends OwnParams> {
  readonly name: string;
  readonly summary: string;
  readonly params: ParamCodec<P>;
  readonly formula: (params: P) => string;
  readonly perToken: (logP: tf.Tensor2D, logQ: tf.Tensor2D, params: P) => tf.Tensor1D;
  readonly gradLogQ: (logP: tf.Tensor2D, logQ: tf.Tensor2D, params: P) => tf.Tensor2D;
  readonly row: (row: RowView, h: Float64Array | null, params: P) => number;
}

/** A divergence rule together with the codec of its own parameters, which its builder defaults. */
export interface TypedDivergenceRule<P extends OwnParams> extends DivergenceRule {
  readonly params: ParamCodec<P>;
}

/** A rule's own parameters, decoded: JSON values by name. */
type OwnParams = Readonly<Record<string, JsonValue>>;

/** The codec of a rule without parameters of its own. */
export const noParams = paramCodec({});

export function divergenceRule<P extends OwnParams>(spec: RuleSpec<P>): TypedDivergenceRule<P> {
  const { params: codec } = spec;
  return {
    name: spec.name,
    summary: spec.summary,
    params: codec,
    defaults: codec.defaults,
    checkParams: codec.check,
    formula: (params) => spec.formula(codec.decode(params)),
    perToken: (logP, logQ, params) => spec.perToken(logP, logQ, codec.decode(params)),
    gradLogQ: (logP, logQ, params) => spec.gradLogQ(logP, logQ, codec.decode(params)),
    row: (row, h, params) => spec.row(row, h, codec.decode(params)),
  };
}

/** A divergence's public builder: its options are the common ones and `Own`, the rule's own (β, α, μ). */
export type DivergenceBuilder<Own extends object = object> = (teacher: TeacherLogits, student: StudentLogits, options?: DivergenceOptions & Own) => LossNode;

/**
 * The public builder of a rule's graph node: the common options (`DivergenceOptions`) and the
 * rule's own parameters, each defaulted from the rule's codec when not given.
 */
export const divergenceBuilder =
  <P extends OwnParams>(rule: TypedDivergenceRule<P>): DivergenceBuilder<Partial<P>> =>
  (teacher, student, options = {}) => {
    const given: Partial<OwnParams> = options;
    const own = Object.fromEntries(Object.entries(rule.params.defaults).map(([key, fallback]) => [key, given[key] ?? fallback]));
    return divergenceNode(rule, teacher, student, options, own);
  };

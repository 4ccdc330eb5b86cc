import * as tf from '@tensorflow/tfjs-core';
import type { LossDefinition } from '../core/definitions.js';
import { formatShape, graphError } from '../core/errors.js';
import type { LossNode, TokenExpr } from '../core/graph.js';
import { rowCosine } from '../core/safe-math.js';
import { type Reduction, reductionWeights } from '../core/selection.js';
import { zeroDependingOn } from '../core/tensor-ops.js';
import { boolean, describeReduction, paramCodec, tokenReduction } from './params.js';
import { pairedRows } from './tokens.js';

/** How `feature` compares hidden states: mean squared error or 1 − cosine. */
export type FeatureMetric = 'mse' | 'cosine';

/** Options of `feature.mse` and `feature.cosine`. */
export interface FeatureOptions {
  /**
   * Learn a linear map s ↦ s·W + c from the student's width to the teacher's before comparing
   * (DistillKit's and ModelOpt's projection); needed when the widths differ. W starts as a
   * scaled random matrix from the objective's seed; W and c train with the student.
   */
  readonly projection?: boolean;
  readonly reduction?: Reduction;
}

const featureParams = paramCodec({ projection: boolean(false), reduction: tokenReduction() });

/**
 * Feature distillation on hidden states (or logits), token by token:
 * - `featureMSE`: ℓ = (1/H) Σ_h (s_h − t_h)²;
 * - `featureCosine`: ℓ = 1 − ⟨s, t⟩ / (‖s‖·‖t‖), the safe cosine of `math.ts` (exact at any scale;
 *   1 with a zero gradient where either vector is zero).
 */
function featureLoss(metric: FeatureMetric): LossDefinition {
  const name = metric === 'mse' ? 'featureMSE' : 'featureCosine';
  return {
    name,
    summary: metric === 'mse' ? 'mean squared error between hidden states' : '1 − cosine between hidden states',
    inputs: { teacher: { side: 'teacher', fields: ['hidden', 'logits'] }, student: { side: 'student', fields: ['hidden', 'logits'] } },
    defaults: featureParams.defaults,
    pairing: 'tokens',
    needsLabels: false,
    checkParams: featureParams.check,
    shapeRule: ({ path, node, shapes }) => {
      const t = shapes['teacher']!;
      const s = shapes['student']!;
      if (t[2] === s[2] || featureParams.decode(node.params).projection) return [];
      return [graphError(path, `widths differ: teacher ${formatShape(t)} vs student ${formatShape(s)}; set projection to learn a linear map between them`)];
    },
    explain: (node, inputs) => {
      const { projection, reduction } = featureParams.decode(node.params);
      const s = projection ? 'W·s + c' : 's';
      const f = metric === 'mse' ? `MSE(${s}, t)` : `1 − cos(${s}, t)`;
      return `${f} with t = ${inputs['teacher']}, s = ${inputs['student']}   (${describeReduction(reduction)})`;
    },
    parameters: (node, path, shapes) => {
      if (!featureParams.decode(node.params).projection) return [];
      const hs = shapes['student']![2]!;
      const ht = shapes['teacher']![2]!;
      return [
        { name: `${path}.projection.weight`, shape: [hs, ht], init: (seed) => scaledRandom(hs * ht, 1 / Math.sqrt(hs), seed, path) },
        { name: `${path}.projection.bias`, shape: [ht], init: () => new Float32Array(ht) },
      ];
    },
    lower: (ctx, node, path) => {
      const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
      const { projection: projected, reduction } = featureParams.decode(node.params);
      const project = (s: tf.Tensor2D): tf.Tensor2D =>
        projected
          ? (tf.add(tf.matMul(s, ctx.parameter(`${path}.projection.weight`) as tf.Tensor2D), ctx.parameter(`${path}.projection.bias`)) as tf.Tensor2D)
          : s;
      if (student!.selection.positions.length === 0) return zeroDependingOn(student!.values);
      const s = project(student!.values);
      const t = teacher!.values;
      const perToken = metric === 'mse' ? tf.mean(tf.square(tf.sub(s, t)), 1) : tf.sub(1, rowCosine(s, t));
      const weights = reductionWeights(student!.selection, reduction);
      return tf.sum(tf.mul(perToken, tf.tensor1d(weights))) as tf.Scalar;
    },
  };
}

export const featureMSELoss = featureLoss('mse');
export const featureCosineLoss = featureLoss('cosine');

const featureNode =
  (definition: LossDefinition) =>
  (teacher: TokenExpr<'teacher'>, student: TokenExpr<'student'>, options: FeatureOptions = {}): LossNode =>
    Object.freeze({
      kind: 'loss',
      loss: definition.name,
      inputs: Object.freeze({ teacher, student }),
      params: Object.freeze({
        projection: options.projection ?? featureParams.defaults.projection,
        reduction: options.reduction ?? featureParams.defaults.reduction,
      }),
    });

/**
 * Feature distillation, token by token, between the teacher's and the student's hidden states
 * (or logits), as DistillKit and ModelOpt offer it:
 * - `feature.mse`: ℓ = (1/H) Σ_h (s_h − t_h)²;
 * - `feature.cosine`: ℓ = 1 − cos(s, t), the safe cosine (scale invariant; 1 with a zero
 *   gradient where either vector is zero).
 * With `projection`, the student's vectors first pass through a learned linear map s ↦ s·W + c
 * (W [H_s, H_t], trained with the student), which lets the widths differ.
 *
 * Shapes: `teacher` [B, T, H_t] and `student` [B, T, H_s] views selecting the same number of
 * tokens per sample; H_s = H_t unless `projection`. The loss is a scalar, reduced by `reduction`.
 *
 * @example
 * const hint = feature.cosine(teacher.hidden.at('visual'), student.hidden.at('visual'), { projection: true });
 * const compiled = compile(objective({ hint }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const feature = { mse: featureNode(featureMSELoss), cosine: featureNode(featureCosineLoss) };

/**
 * Deterministic N(0, scale²) values from the seed and the parameter's path (so two projections
 * in one objective differ): a 32-bit mix of both seeds a small xorshift generator, and
 * Box–Muller turns its uniforms into normals.
 */
function scaledRandom(n: number, scale: number, seed: number, salt: string): Float32Array {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < salt.length; i++) state = Math.imul(state ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  if (state === 0) state = 1; // xorshift's one fixed point
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()) * scale;
  return out;
}

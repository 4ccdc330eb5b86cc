import type { TokenExpr } from '../core/graph.js';
import type { LossDefinition } from '../core/registry.js';
import { affinityLoss } from './affinity.js';
import { aklRule } from './akl.js';
import { divergenceLoss, divergenceNode, type DivergenceOptions, type DivergenceRule } from './divergence.js';
import { featureCosineLoss, featureMSELoss } from './feature.js';
import { forwardKLRule } from './forward-kl.js';
import { jsdRule } from './jsd.js';
import { relationLoss } from './relation.js';
import { reverseKLRule } from './reverse-kl.js';
import { skewKLRule } from './skew-kl.js';
import { skewReverseKLRule } from './skew-reverse-kl.js';
import { softCERule } from './soft-ce.js';
import { supervisedCELoss } from './supervised-ce.js';
import { tvdRule } from './tvd.js';

export { affinity, smoothL1, type AffinityInputs } from './affinity.js';
export { feature, type FeatureMetric, type FeatureOptions } from './feature.js';
export { relation, type RelationMode } from './relation.js';
export { supervisedCE, type SupervisedCEOptions } from './supervised-ce.js';
export type { DivergenceOptions, DivergenceRule } from './divergence.js';

/** Every divergence rule mmkd ships, by name. */
export const divergenceRules: readonly DivergenceRule[] = [
  forwardKLRule,
  reverseKLRule,
  jsdRule,
  skewKLRule,
  skewReverseKLRule,
  tvdRule,
  aklRule,
  softCERule,
];

/** The losses mmkd ships, as a registry value for `decode`, `validate`, `explain` and `lower`. */
export const standardLosses: Readonly<Record<string, LossDefinition>> = Object.freeze(
  Object.fromEntries(
    [
      ...divergenceRules.map(divergenceLoss),
      supervisedCELoss,
      relationLoss,
      affinityLoss,
      featureMSELoss,
      featureCosineLoss,
    ].map((d) => [d.name, d]),
  ),
);

type Teacher = TokenExpr<'teacher', 'logits'>;
type Student = TokenExpr<'student', 'logits'>;

/** KL divergences between the teacher's and the student's token distributions. */
export const kl = {
  /** KL(p_teacher ‖ q_student): LLaVA-KD's MDist. */
  forward: (teacher: Teacher, student: Student, options: DivergenceOptions = {}) => divergenceNode('forwardKL', teacher, student, options),
  /** KL(q_student ‖ p_teacher): MiniLLM, EM-KD's VSD and RLD. */
  reverse: (teacher: Teacher, student: Student, options: DivergenceOptions = {}) => divergenceNode('reverseKL', teacher, student, options),
};

/** Generalised JSD(β) (GKD); β = 0 is the forward KL, β = 1 the reverse KL. */
export const jsd = (teacher: Teacher, student: Student, options: DivergenceOptions & { readonly beta?: number } = {}) =>
  divergenceNode('jsd', teacher, student, options, { beta: options.beta ?? 0.5 });

/** DistiLLM's skew KL, KL(p ‖ αp + (1−α)q). */
export const skewKL = (teacher: Teacher, student: Student, options: DivergenceOptions & { readonly alpha?: number } = {}) =>
  divergenceNode('skewKL', teacher, student, options, { alpha: options.alpha ?? 0.1 });

/** DistiLLM's skew reverse KL, KL(q ‖ αq + (1−α)p). */
export const skewReverseKL = (teacher: Teacher, student: Student, options: DivergenceOptions & { readonly alpha?: number } = {}) =>
  divergenceNode('skewReverseKL', teacher, student, options, { alpha: options.alpha ?? 0.1 });

/** Total variation distance ½Σ|p − q|. */
export const tvd = (teacher: Teacher, student: Student, options: DivergenceOptions = {}) => divergenceNode('tvd', teacher, student, options);

/** Adaptive KL (Wu et al. 2024) with head mass μ. */
export const akl = (teacher: Teacher, student: Student, options: DivergenceOptions & { readonly mu?: number } = {}) =>
  divergenceNode('akl', teacher, student, options, { mu: options.mu ?? 0.5 });

/** Soft cross-entropy −Σ p log q. */
export const softCE = (teacher: Teacher, student: Student, options: DivergenceOptions = {}) => divergenceNode('softCE', teacher, student, options);

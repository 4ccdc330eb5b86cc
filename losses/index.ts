/**
 * mmkd's losses: each builder lives with its rule, in one file per concept, with its docstring
 * (math, shapes, reference, example); this module gathers them into the public API and the
 * registry value `standardLosses`.
 */
import type { LossDefinition } from '../core/definitions.js';
import { affinityLoss } from './affinity.js';
import { aklRule } from './akl.js';
import { type DivergenceRule, divergenceLoss } from './divergence.js';
import { featureCosineLoss, featureMSELoss } from './feature.js';
import { forwardKL, forwardKLRule } from './forward-kl.js';
import { jsdRule } from './jsd.js';
import { relationLoss } from './relation.js';
import { reverseKL, reverseKLRule } from './reverse-kl.js';
import { skewKLRule } from './skew-kl.js';
import { skewReverseKLRule } from './skew-reverse-kl.js';
import { softCERule } from './soft-ce.js';
import { supervisedCELoss } from './supervised-ce.js';
import { tvdRule } from './tvd.js';
import { uldLoss } from './uld.js';

export { type AffinityInputs, affinity, smoothL1 } from './affinity.js';
export { akl } from './akl.js';
export type { DivergenceOptions, DivergenceRule, StudentLogits, TeacherLogits } from './divergence.js';
export { type FeatureMetric, type FeatureOptions, feature } from './feature.js';
export { forwardKL } from './forward-kl.js';
export { jsd } from './jsd.js';
export { type RelationMode, relation } from './relation.js';
export { reverseKL } from './reverse-kl.js';
export type { DivergenceBuilder } from './rule.js';
export type { SkewOptions } from './skew.js';
export { skewKL } from './skew-kl.js';
export { skewReverseKL } from './skew-reverse-kl.js';
export { softCE } from './soft-ce.js';
export { type SupervisedCEOptions, supervisedCE } from './supervised-ce.js';
export { tvd } from './tvd.js';
export { type ULDOptions, uld } from './uld.js';

/** Every divergence rule mmkd ships, by name. */
export const divergenceRules: readonly DivergenceRule[] = [forwardKLRule, reverseKLRule, jsdRule, skewKLRule, skewReverseKLRule, tvdRule, aklRule, softCERule];

/** The losses mmkd ships, as a registry value for `decode`, `validate`, `explain` and `lower`. */
export const standardLosses: Readonly<Record<string, LossDefinition>> = Object.freeze(
  Object.fromEntries(
    [...divergenceRules.map(divergenceLoss), supervisedCELoss, relationLoss, affinityLoss, featureMSELoss, featureCosineLoss, uldLoss].map((d) => [d.name, d]),
  ),
);

/** KL divergences between the teacher's and the student's token distributions. */
export const kl = {
  /** KL(p_teacher ‖ q_student): LLaVA-KD's MDist. See `forwardKL`. */
  forward: forwardKL,
  /** KL(q_student ‖ p_teacher): MiniLLM, EM-KD's VSD and RLD. See `reverseKL`. */
  reverse: reverseKL,
};

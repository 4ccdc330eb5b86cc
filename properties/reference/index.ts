/**
 * The float64 reference for mmkd's losses: plain TypeScript, no tfjs, written from the
 * mathematical definitions independently of `core/` and `losses/`, so the property suite can
 * check the float32 backends against it.
 */

export { type AffinityInput, affinityLoss, affinityLossFromBatch, affinityMatrix, type BatchAffinityInput, smoothL1 } from './affinity.js';
export { type AklWeights, aklFromLogProbs, aklWeights } from './akl.js';
export { crossEntropy, kl, logOfProbs, mixtureLogProbs, totalVariation } from './distributions.js';
export {
  aklRowWeights,
  type BatchDivergenceInput,
  type DivergenceOptions,
  divergenceLoss,
  divergenceLossFromBatch,
  divergencePerToken,
  type TokenPairs,
} from './divergence-loss.js';
export { checkDivergence, DIVERGENCE_KINDS, type Divergence, divergenceOfLogProbs, tokenDivergence } from './divergences.js';
export {
  type BatchFeatureInput,
  type FeatureInput,
  type FeatureKind,
  featureLoss,
  featureLossFromBatch,
  featurePerToken,
  type Projection,
} from './feature.js';
export {
  type DirectionalCheck,
  directionalCheck,
  directionalDerivative,
  type FiniteDifferenceOptions,
  gradient,
  randomDirection,
  STEP_3,
  STEP_5,
  stepOverRows,
} from './finite-differences.js';
export { logSoftmax, logSumExp, softmax } from './log-softmax.js';
export { type Reduction, reduce, reductionWeights } from './reduction.js';
export { type BatchRelationInput, type RelationInput, type RelationMode, relationLoss, relationLossFromBatch } from './relation.js';
export {
  gatherRows,
  IGNORE_INDEX,
  type PairedRows,
  type PairedSelection,
  pairedRows,
  pairSelections,
  ROLE_CODE,
  type Role,
  type Selection,
  type SequenceTensor,
  type SupervisedSelection,
  selectPositions,
  selectSupervised,
  type View,
} from './selection.js';
export {
  type BatchSupervisedInput,
  type SupervisedRows,
  supervisedCEFromBatch,
  supervisedCELoss,
  supervisedCEPerToken,
} from './supervised-ce.js';

/**
 * The float64 reference for mmkd's losses: plain TypeScript, no tfjs, written from the
 * mathematical definitions independently of `core/` and `losses/`, so the property suite can
 * check the float32 backends against it.
 */
export { aklFromLogProbs, aklWeights, type AklWeights } from './akl.js';
export { affinityLoss, affinityLossFromBatch, affinityMatrix, smoothL1, type AffinityInput, type BatchAffinityInput } from './affinity.js';
export {
  aklRowWeights,
  divergenceLoss,
  divergenceLossFromBatch,
  divergencePerToken,
  type BatchDivergenceInput,
  type DivergenceOptions,
  type TokenPairs,
} from './divergence-loss.js';
export { DIVERGENCE_KINDS, checkDivergence, divergenceOfLogProbs, tokenDivergence, type Divergence } from './divergences.js';
export { crossEntropy, kl, logOfProbs, mixtureLogProbs, totalVariation } from './distributions.js';
export {
  featureLoss,
  featureLossFromBatch,
  featurePerToken,
  type BatchFeatureInput,
  type FeatureInput,
  type FeatureKind,
  type Projection,
} from './feature.js';
export {
  STEP_3,
  STEP_5,
  directionalCheck,
  directionalDerivative,
  gradient,
  randomDirection,
  type DirectionalCheck,
  type FiniteDifferenceOptions,
} from './finite-differences.js';
export { logSoftmax, logSumExp, softmax } from './log-softmax.js';
export { reduce, reductionWeights, type Reduction } from './reduction.js';
export { relationLoss, relationLossFromBatch, type BatchRelationInput, type RelationInput, type RelationMode } from './relation.js';
export {
  IGNORE_INDEX,
  ROLE_CODE,
  gatherRows,
  pairSelections,
  pairedRows,
  selectPositions,
  selectSupervised,
  type PairedRows,
  type PairedSelection,
  type Role,
  type Selection,
  type SequenceTensor,
  type SupervisedSelection,
  type View,
} from './selection.js';
export {
  supervisedCEFromBatch,
  supervisedCELoss,
  supervisedCEPerToken,
  type BatchSupervisedInput,
  type SupervisedRows,
} from './supervised-ce.js';

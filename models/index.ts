export type { LmConfig, ModelConfig, ProjectorConfig, VisionConfig } from './config.js';
export { assertValidConfig, configErrors, numVisionTokens, visionGridSide } from './config.js';
export type { ModelInputs } from './inputs.js';
export type { CreateOptions, LlavaModel } from './llava.js';
export { createLlava, llavaForward, llavaHeadForward, llavaTextForward, llavaTextHeadForward } from './llava.js';
export type { Init, ParamGroup, ParamSpec } from './params.js';
export { countParams, initialValues, isParamGroup, PARAM_GROUPS, paramSpecs } from './params.js';
export type { PresetOptions, WorldPresets } from './presets.js';
export {
  CONTINUOUS_VISION,
  continuousPresets,
  DEMO_VISION,
  efficientStudentConfig,
  fullTokenStudentConfig,
  gridPresets,
  studentConfig,
  teacherConfig,
} from './presets.js';
export type { Rng } from './random.js';
export { hashKey, normalArray, pick, rng, shuffled } from './random.js';
export type { FlatWeights, LoadOptions, SelectOptions, WeightEntry } from './weights.js';
export { copyGroups, exportWeights, loadWeights, weightErrors } from './weights.js';

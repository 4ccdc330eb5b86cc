export type { AdamWConfig, AdamWState, ApplyOptions, DecayRule, Moments, SavedAdamW, SavedTensor } from './adamw.js';
export {
  adamwUpdate,
  applyAdamW,
  DEFAULT_ADAMW,
  decayMatrices,
  disposeAdamW,
  initAdamW,
  restoreAdamW,
  saveAdamW,
} from './adamw.js';
export { clipByGlobalNorm, globalNorm } from './clip.js';
export type { CosineWarmup, Schedule } from './schedule.js';
export { constant, cosineWithWarmup, warmupStepsFor } from './schedule.js';
export type { StepOptions, StepResult } from './step.js';
export { namedGrads, trainStep } from './step.js';

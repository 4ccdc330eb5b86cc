/**
 * mmkd: knowledge distillation for multimodal LLMs. Objectives are pure combinators that build a
 * typed, serialisable graph; `compile` validates it against the inputs' shapes and lowers it to
 * the active TensorFlow.js backend.
 */

export {
  activeBackend,
  type Backend,
  type BackendName,
  type BackendSelection,
  nodeBackends,
  selectBackend,
  selectBackendFrom,
  useBackend,
} from './backends/index.js';
export { type CompileOptions, compile, standardRegistry } from './compile/index.js';
export * from './core/index.js';
export { type HostTensor, readNpy, readSafetensors, readTensorFile, TensorFileError, writeNpy, writeSafetensors, writeTensorFile } from './io/index.js';
export * from './losses/index.js';
export { createAssignmentPool } from './matching/assignment/index.js';
export {
  AssignmentError,
  type AssignmentPool,
  type AssignmentProblem,
  type AssignmentResult,
  type CostMetric,
  type CostOptions,
  certifyAssignment,
  type Matched,
  match,
  matchingPlanner,
  type PlannerOptions,
  pairwiseCost,
  solveAssignment,
  solveBatchSequential,
  standardMatchers,
} from './matching/index.js';
export { DEFAULT_SCALE, QUICK_SCALE, recipes } from './recipes/catalog.js';
export { runDemo } from './recipes/demo.js';
export { EM_KD_PAPER_WEIGHTS, emKdObjective } from './recipes/objectives/em-kd.js';
export { LLAVA_KD_PAPER_WEIGHTS, llavaKdObjective } from './recipes/objectives/llava-kd.js';
export type { Recipe, Stage } from './recipes/recipe.js';
export { type RunOptions, type RunResult, runRecipe } from './recipes/runner.js';

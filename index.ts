/**
 * mmkd: knowledge distillation for multimodal LLMs. Objectives are pure combinators that build a
 * typed, serialisable graph; `compile` validates it against the inputs' shapes and lowers it to
 * the active TensorFlow.js backend.
 */
export * from './core/index.js';
export * from './losses/index.js';
export { compile, standardRegistry, type CompileOptions } from './compile/index.js';
export { activeBackend, useBackend, nodeBackends, selectBackend, selectBackendFrom, type Backend, type BackendName, type BackendSelection } from './backends/index.js';
export {
  match,
  matchingPlanner,
  standardMatchers,
  pairwiseCost,
  AssignmentError,
  solveAssignment,
  certifyAssignment,
  solveBatchSequential,
  type CostOptions,
  type Matched,
  type PlannerOptions,
  type CostMetric,
  type AssignmentPool,
  type AssignmentProblem,
  type AssignmentResult,
} from './matching/index.js';
export { createAssignmentPool } from './matching/assignment/index.js';
export { readSafetensors, writeSafetensors, readNpy, writeNpy, readTensorFile, writeTensorFile, TensorFileError, type HostTensor } from './io/index.js';
export { recipes, DEFAULT_SCALE, QUICK_SCALE } from './recipes/catalog.js';
export type { Recipe, Stage } from './recipes/recipe.js';
export { runRecipe, type RunOptions, type RunResult } from './recipes/runner.js';
export { runDemo } from './recipes/demo.js';
export { llavaKdObjective, LLAVA_KD_PAPER_WEIGHTS } from './recipes/objectives/llava-kd.js';
export { emKdObjective, EM_KD_PAPER_WEIGHTS } from './recipes/objectives/em-kd.js';

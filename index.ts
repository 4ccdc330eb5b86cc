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
export { exportTorch, type TorchExportOptions } from './compile/torch/export.js';
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
export { DEFAULT_SCALE, groundingObjective, QUICK_SCALE, type RecipeScale, recipes } from './recipes/catalog.js';
export { runDemo } from './recipes/demo.js';
export { type RunEnvironment, runEnvironment } from './recipes/environment.js';
export { EM_KD_PAPER_WEIGHTS, emKdObjective } from './recipes/objectives/em-kd.js';
export { LLAVA_KD_PAPER_WEIGHTS, llavaKdObjective } from './recipes/objectives/llava-kd.js';
export { type Progress, type ProgressStream, progressTo, silentProgress } from './recipes/progress.js';
export type { Recipe, Stage, StageData } from './recipes/recipe.js';
export { type ResolvedTeacher, resolveTeacher, type TeacherChoice } from './recipes/resolve-teacher.js';
export { type RunOptions, type RunResult, readResult, runRecipe, type TeacherHandle } from './recipes/runner.js';
export {
  LOGPROB_DTYPES,
  type LogprobDtype,
  SignalsError,
  type SignalsManifest,
  type SignalsSettings,
  type TopKBlock,
  topKOfLogits,
  vocabularyHash,
} from './recipes/signals/format.js';
export { openRecipeSignals, signalOutputsAt, signalsRecipe, storedLogitRoles, writeRecipeSignals } from './recipes/signals/recipe-signals.js';
export { openSignalsWriter, openTeacherSignals, type SignalsWriter, type TeacherSignals } from './recipes/signals/store.js';
export { loadTeacher, loadTeacherVision, SHIPPED_TEACHER, type TeacherVision } from './recipes/teacher.js';
export { proceduralData, type TrainingData } from './recipes/training-data.js';
export { llavaJsonData } from './recipes/user-data.js';

export type { Checked } from './checked.js';
export { objective, weighted } from './combinators.js';
export { decodeGraph } from './decode.js';
export type {
  InputShapes,
  LossDefinition,
  LoweringContext,
  MatcherDefinition,
  Registry,
  SideShapes,
  SignalShapes,
  TokenRows,
  TopKRows,
} from './definitions.js';
export { formatGraphError, type GraphError, GraphValidationError, InputError, UserError } from './errors.js';
export { describeTokens, explain } from './explain.js';
export type { AlignedNode, GraphNode, JsonValue, LossNode, MatchNode, ObjectiveNode, ScalarNode, TokenExpr, ViewNode, WeightedNode } from './graph.js';
export { nodeKey } from './graph.js';
export { graphFromJson, graphToJson, OBJECTIVE_FORMAT } from './json.js';
export { type CompiledObjective, type Evaluation, type LowerOptions, lower, shapesOf, type ValueAndGrad } from './lower.js';
export type {
  DistillInputs,
  Field,
  HeadOutputs,
  IntegerArray,
  LMHead,
  MissingMass,
  Side,
  SideInputs,
  SideOutputs,
  SignalOutputs,
  TopKSignals,
  ViewField,
} from './outputs.js';
export { hasHead, hasTopK, logitsShapeOf, MISSING_MASS } from './outputs.js';
export { type Alignment, emptyPlan, type Plan } from './plan.js';
export { IGNORE_LABEL, isRole, ROLE_CODES, ROLES, type Role } from './roles.js';
export { type Reduction, reductionWeights, type Selection, selectPositions } from './selection.js';
export { genericLowering, type LoweringBackend, type LoweringCapabilities, type LoweringOverrides, type LowerRule, ruleFor } from './target.js';
export { foldScalar, type LossSite, lossesOf, type ScalarFold, type Site } from './traverse.js';
export { assertValid, type ValidGraph, validate } from './validate.js';
export { type FieldViews, type SideViews, student, type TeacherViews, teacher } from './views.js';

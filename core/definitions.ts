import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import type { GraphError } from './errors.js';
import type { JsonValue, LossNode, MatchNode, TokenExpr, ViewNode } from './graph.js';
import type { MissingMass, Side, ViewField } from './outputs.js';
import type { Role } from './roles.js';
import type { Selection } from './selection.js';

/** What one input of a loss must be: whose tokens, and which field(s) they may come from. */
export interface InputSpec {
  readonly side: Side;
  readonly fields: readonly ViewField[];
  /**
   * Whether the lowering reads a logits input given as an LM head (`TokenRows.head`) chunk by
   * chunk. Validation refuses a head's logits view for inputs without it: their lowering would
   * need the whole [N × V] logits.
   */
  readonly head?: boolean;
}

/** The shapes a graph will see, for `validate`. Fields a side lacks are absent. */
export interface InputShapes {
  readonly teacher: SideShapes;
  readonly student: SideShapes;
  /** Whether `labels` are supplied (supervised cross-entropy needs them). */
  readonly labels: boolean;
}

/** The shapes of one side's outputs ([B, T, V] logits, [B, T, H] hidden states), those it has. */
export interface SideShapes {
  readonly logits?: readonly number[];
  readonly hidden?: readonly number[];
  /** The logits are an LM head's view (hidden · weightᵀ + bias), never materialised whole. */
  readonly head?: boolean;
  /** [B, T, V]: offline top-k signals standing for the logits (a teacher's), see `TopKSignals`. */
  readonly topk?: readonly number[];
  /** The signals' k and temperature, when `topk` is given. */
  readonly signals?: SignalShapes;
  /** With `topk`: the roles whose positions `logits` holds (offline signals store those whole). */
  readonly logitsRoles?: readonly Role[];
}

/** What validation knows of offline top-k signals beyond their [B, T, V]. */
export interface SignalShapes {
  readonly k: number;
  readonly temperature: number;
}

/** What a loss's shape rule sees: each input's source tensor shape ([B, T, D]) and the params. */
export interface ShapeContext {
  readonly path: string;
  readonly node: LossNode;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly labels: boolean;
  /** The teacher's offline signals' k and temperature, when the teacher is given by them. */
  readonly signals?: SignalShapes;
}

/** Selected rows of a token expression, for one evaluation. */
export interface TokenRows {
  /**
   * [N, D]: one row per selected token (differentiable for the student's views). For a logits
   * view of an LM head there are no such rows: reading them is an internal error (validation
   * admits head views only for inputs whose lowering reads `head`).
   */
  readonly values: Tensor2D;
  readonly selection: Selection;
  /** For a logits view of an LM head: the selected rows' logits are hidden · weightᵀ + bias. */
  readonly head?: HeadRows;
  /**
   * For a view's rows: the [B·T, D] tensor they are rows `selection.positions` of. `values` is
   * then gathered only when read, so a kernel that indexes rows itself (WebGPU's fused
   * divergences, for tensors larger than one storage binding, which no gather can bind) never
   * makes the copy.
   */
  readonly source?: Tensor2D;
  /** For a `topk` view: the selected positions' offline top-k signals (no logits rows exist). */
  readonly topk?: TopKRows;
}

/** The selected positions' offline top-k signals, host-side, row-major [N, k]. */
export interface TopKRows {
  readonly ids: Int32Array;
  readonly logProbs: Float32Array;
  /** [N] */
  readonly logTail: Float32Array;
  readonly k: number;
  readonly vocab: number;
  readonly temperature: number;
  readonly missingMass: MissingMass;
}

/** The selected rows of an LM head's logits view, as factors. */
export interface HeadRows {
  /** [N, H]: the hidden states of the selected tokens (differentiable for the student). */
  readonly hidden: Tensor2D;
  /** [V, H] */
  readonly weight: Tensor2D;
  /** [V] */
  readonly bias?: Tensor1D;
}

/** [N, V] of a token expression's rows, materialised or an LM head's view. */
export function rowsShape(rows: TokenRows): [number, number] {
  if (rows.topk !== undefined) return [rows.selection.positions.length, rows.topk.vocab];
  if (rows.head !== undefined) return [rows.head.hidden.shape[0], rows.head.weight.shape[0]];
  // A sourced view's shape, without gathering its rows.
  return rows.source === undefined ? rows.values.shape : [rows.selection.positions.length, rows.source.shape[1]];
}

/**
 * What a lowering rule may use while it builds its scalar. Everything it creates is released when
 * the evaluation ends; shared subexpressions are computed once per evaluation.
 */
export interface LoweringContext {
  /** Rows selected by a token expression. `path` names the input in error messages. */
  rows(expr: TokenExpr, path: string): TokenRows;
  /** A tensor computed once per evaluation under `key`, reused by every rule that asks for it. */
  shared<T extends Tensor>(key: string, make: () => T): T;
  /** Supervised targets at a student view's selected positions (the label at t + shift). */
  labels(view: ViewNode<'student'>, path: string): Int32Array;
  /** A trainable parameter owned by the objective (e.g. a feature projection), by its name. */
  parameter(name: string): Tensor;
  /** Whether gradients are wanted in this evaluation (fused rules may skip work otherwise). */
  readonly differentiating: boolean;
  /** The most inputs one kernel may bind on the backend (pass it to `addAll`). */
  readonly maxKernelInputs: number;
  /** The most bytes one tensor a kernel binds may hold on the backend (see `LoweringCapabilities`). */
  readonly maxBindingBytes: number;
}

/**
 * A loss, as data the core can use without knowing it: parameter defaults and checks, a shape
 * rule, a one-line explanation and a lowering to tfjs ops. Losses live in `losses/`; a registry of
 * them is passed to `decode`, `validate`, `explain` and `lower`.
 */
export interface LossDefinition {
  readonly name: string;
  /** One line for listings: what it computes and where it comes from. */
  readonly summary: string;
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Parameters with their defaults; a node's params are these, overridden. */
  readonly defaults: Readonly<Record<string, JsonValue>>;
  /** How inputs pair up: token by token (same count per sample), per sample, or not at all. */
  readonly pairing: 'tokens' | 'samples' | 'none';
  readonly needsLabels: boolean;
  /** Range and type checks of the params; every problem, not the first. */
  checkParams(params: Readonly<Record<string, JsonValue>>, path: string): readonly GraphError[];
  /** Shape checks beyond the generic ones (vocabulary and width agreement, …). */
  shapeRule(ctx: ShapeContext): readonly GraphError[];
  /** A short formula, given the descriptions of its inputs (`KL(teacher ‖ student)`). */
  explain(node: LossNode, inputs: Readonly<Record<string, string>>): string;
  /** The scalar, built from tfjs ops (and custom gradients) on the context's rows. */
  lower(ctx: LoweringContext, node: LossNode, path: string): Scalar;
  /** Names of the objective-owned parameters this loss creates (for checkpointing). */
  parameters?(node: LossNode, path: string, shapes: ShapeContext['shapes']): readonly ParameterSpec[];
}

export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Initial values, deterministic in the seed. */
  init(seed: number): Float32Array;
}

/** A matcher method, as data: its params, checks and (host-side) solution. */
export interface MatcherDefinition {
  readonly method: string;
  readonly summary: string;
  readonly defaults: Readonly<Record<string, JsonValue>>;
  checkParams(params: Readonly<Record<string, JsonValue>>, path: string): readonly GraphError[];
  shapeRule(node: MatchNode, teacher: readonly number[], student: readonly number[], path: string): readonly GraphError[];
  explain(node: MatchNode, teacher: string, student: string): string;
}

/**
 * Losses and matchers by name, as one value. Core reads matchers as definitions only (params,
 * shapes, explanation); `compile` takes a registry whose matchers also align tokens
 * (`Registry<MatcherImplementation>` in `matching/`), so what validates is what runs.
 */
export interface Registry<M extends MatcherDefinition = MatcherDefinition> {
  readonly losses: Readonly<Record<string, LossDefinition>>;
  readonly matchers: Readonly<Record<string, M>>;
}

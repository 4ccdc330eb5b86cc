/**
 * Configurations of the LLaVA-style models: a patch ViT, a two-layer GELU projector (optionally
 * pooling the vision tokens) and a pre-LN decoder-only LM. Plain data, so a configuration can be
 * stored beside a checkpoint and compared.
 */

/** The patch-embedding vision transformer (LLaVA-KD §3.1: frozen, shared by teacher and student). */
export interface VisionConfig {
  /** Square input images, `imageSize × imageSize × channels`, values in [0, 1]. */
  readonly imageSize: number;
  /** Square patches; `imageSize` must be a multiple. Vision tokens: (imageSize / patchSize)². */
  readonly patchSize: number;
  /**
   * Pixels of context each patch takes from around its cell, on every side (default 0): a token
   * embeds a (patchSize + 2·overlap)² window centred on its cell, zero outside the image (an
   * overlapping patch embedding, a stride-p convolution with a wider kernel, as PVTv2's and
   * CvT's). Token count and grid are unchanged.
   */
  readonly patchOverlap?: number;
  readonly channels: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** MLP hidden width = mlpRatio · width. */
  readonly mlpRatio: number;
}

/** Linear(vision width → hidden) · GELU · Linear(hidden → LM width), after optional pooling. */
export interface ProjectorConfig {
  readonly hidden: number;
  /**
   * Average-pools the vision-token grid in `pool × pool` windows before the MLP (EM-KD's efficient
   * student: LLaVA-NeXT with average pooling). 1 keeps every token.
   */
  readonly pool: number;
}

/** The decoder-only LM (pre-LN, learned positions, untied LM head). */
export interface LmConfig {
  readonly vocabSize: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  readonly mlpRatio: number;
  /** Size of the learned position table: the longest sequence (vision + text) the model accepts. */
  readonly maxSeqLen: number;
}

export interface ModelConfig {
  /** A label for messages and checkpoints ("teacher", "student", ...). */
  readonly name: string;
  readonly vision: VisionConfig;
  readonly projector: ProjectorConfig;
  readonly llm: LmConfig;
}

/** Side of the vision-token grid before pooling. */
export const visionGridSide = (v: VisionConfig): number => v.imageSize / v.patchSize;

/** Side in pixels of the window each vision token embeds: its patch and the overlap around it. */
export const patchWindow = (v: VisionConfig): number => v.patchSize + 2 * (v.patchOverlap ?? 0);

/** Number of vision tokens the LM sees: (imageSize / patchSize / pool)². */
export function numVisionTokens(config: ModelConfig): number {
  const side = visionGridSide(config.vision) / config.projector.pool;
  return side * side;
}

/** Every inconsistency in a configuration, each naming the field (empty when valid). */
export function configErrors(config: ModelConfig): string[] {
  const errors: string[] = [];
  const at = (field: string, message: string): void => {
    errors.push(`${config.name}.${field}: ${message}`);
  };
  const positiveInt = (field: string, value: number): void => {
    if (!Number.isInteger(value) || value < 1) at(field, `must be a positive integer, got ${value}`);
  };
  const { vision: v, projector: p, llm: l } = config;
  for (const [k, value] of Object.entries(v)) if (k !== 'patchOverlap') positiveInt(`vision.${k}`, value);
  if (v.patchOverlap !== undefined && (!Number.isInteger(v.patchOverlap) || v.patchOverlap < 0)) {
    at('vision.patchOverlap', `must be a non-negative integer, got ${v.patchOverlap}`);
  }
  for (const [k, value] of Object.entries(p)) positiveInt(`projector.${k}`, value);
  for (const [k, value] of Object.entries(l)) positiveInt(`llm.${k}`, value);
  if (v.imageSize % v.patchSize !== 0) {
    at('vision.patchSize', `${v.patchSize} does not divide imageSize ${v.imageSize}`);
  }
  if (v.width % v.heads !== 0) at('vision.heads', `${v.heads} does not divide width ${v.width}`);
  if (l.width % l.heads !== 0) at('llm.heads', `${l.heads} does not divide width ${l.width}`);
  const side = v.imageSize / v.patchSize;
  if (Number.isInteger(side) && side % p.pool !== 0) {
    at('projector.pool', `${p.pool} does not divide the ${side}×${side} vision-token grid`);
  }
  if (Number.isInteger(side) && l.maxSeqLen <= (side / p.pool) ** 2) {
    at('llm.maxSeqLen', `${l.maxSeqLen} leaves no room for text after ${(side / p.pool) ** 2} vision tokens`);
  }
  return errors;
}

/** Throws one error listing every problem of `config`. */
export function assertValidConfig(config: ModelConfig): void {
  const errors = configErrors(config);
  if (errors.length > 0) throw new Error(`invalid model configuration:\n  ${errors.join('\n  ')}`);
}

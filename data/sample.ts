/**
 * One multimodal training example: an image and a conversation about it (LLaVA's format reduced
 * to what the models read). Procedural data and the LLaVA JSON loader both produce these.
 */

/** An RGB image already at the model's resolution: pixels [size·size·3], row-major HWC, in [0, 1]. */
export interface RgbImage {
  readonly size: number;
  readonly pixels: Float32Array;
}

/** One exchange: the human's prompt and the assistant's answer. */
export interface Turn {
  readonly prompt: string;
  readonly answer: string;
}

export interface Sample {
  /** Unique within its dataset (procedural: `${split}-${task}-${index}`; LLaVA JSON: the record's id). */
  readonly id: string;
  /** What the sample tests, for per-type evaluation: a question kind, 'caption', or a user label. */
  readonly kind: string;
  readonly image: RgbImage;
  /** At least one turn; the first prompt holds the `<image>` placeholder exactly once, no other prompt holds it. */
  readonly turns: readonly Turn[];
}

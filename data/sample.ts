/**
 * One multimodal training example: an image and a conversation about it, or a conversation alone
 * (LLaVA's format reduced to what the models read; LLaVA's instruction mix holds text-only
 * ShareGPT conversations beside the image ones). Procedural data and the LLaVA JSON loader both
 * produce these.
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
  /** Absent for a text-only sample: its rows get no visual positions. */
  readonly image?: RgbImage;
  /**
   * At least one turn. With an image, the first prompt holds the `<image>` placeholder exactly
   * once and nothing else holds it; without one, nothing holds it.
   */
  readonly turns: readonly Turn[];
}

/** A sample with its image (every procedural sample is one). */
export type ImageSample = Sample & { readonly image: RgbImage };

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

/**
 * What lies under each vision token of an image, as words: the dense labels of a grounding stage
 * (`StageData` 'cells'). `words[k]` names token k of a `side` × `side` grid in row-major order,
 * or is null where the token shows background.
 */
export interface VisualLabels {
  readonly side: number;
  readonly words: readonly (string | null)[];
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
  /** The words under the image's vision tokens, where the data know them (the continuous world). */
  readonly visualLabels?: VisualLabels;
}

/** A sample with its image (every procedural sample is one). */
export type ImageSample = Sample & { readonly image: RgbImage };

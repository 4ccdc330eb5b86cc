import type { ScalarNode } from '../core/graph.js';
import type { ParamGroup } from '../models/index.js';

/** Which model a recipe trains. */
export type ModelKind = 'teacher' | 'student' | 'efficient';

/**
 * What a stage trains on:
 * - `text`: the captions' and questions' text alone, no image (pre-training the LM, standing in
 *   for the pretrained LLM the papers start from);
 * - `caption`: images with captions (PT, DPT, EM-KD phase 1);
 * - `qa`: images with instruction questions and answers;
 * - `mix`: caption and QA batches in turn, the instruction mix of SFT, DFT and EM-KD phase 2
 *   (LLaVA's 665k mix holds captions and conversations; small models learn the questions faster
 *   with captions beside them).
 */
export type StageData = 'text' | 'caption' | 'qa' | 'mix';

/**
 * One stage of a recipe: which parameter groups train, on what, towards which objective, with
 * which optimizer settings. Objectives that read the teacher's outputs make the runner run the
 * frozen teacher on every batch.
 */
export interface Stage {
  /** Unique within the recipe: `lm`, `pt`, `sft`, `dpt`, `dft`, `phase1`, `phase2`. */
  readonly name: string;
  readonly trainable: readonly ParamGroup[];
  readonly objective: ScalarNode;
  readonly data: StageData;
  readonly steps: number;
  readonly batchSize: number;
  /** Peak learning rate of AdamW's cosine schedule. */
  readonly lr: number;
  /** Fraction of the steps spent warming up linearly (TinyLLaVA: 0.03). */
  readonly warmupRatio: number;
  readonly weightDecay: number;
  /** Clip the gradients' global norm (HF Trainer's max_grad_norm). */
  readonly clipNorm: number;
}

/**
 * A recipe: the model it trains, where its weights start, and its stages in order. Stages that a
 * recipe shares with another (same model, start, seed and stages so far) are trained once and
 * reused through the stage cache.
 */
export interface Recipe {
  readonly name: string;
  readonly description: string;
  readonly model: ModelKind;
  /**
   * Start from the teacher's trained vision encoder (LLaVA-KD's students share the teacher's
   * frozen encoder); otherwise every group starts from its seeded initialisation.
   */
  readonly visionFromTeacher: boolean;
  /** Whether any stage reads the teacher (so the recipe needs a teacher checkpoint). */
  readonly needsTeacher: boolean;
  readonly stages: readonly Stage[];
  /** The row of the papers' tables this recipe reproduces, for the results table. */
  readonly paperRow?: string;
}

import type { ScalarNode } from '../core/graph.js';
import type { ParamGroup } from '../models/index.js';

/**
 * Which model a recipe trains: the teacher, LLaVA-KD's smaller student, EM-KD's efficient student
 * (2×2-pooled vision tokens), or the full-token student (the efficient student's model without
 * pooling: as many vision tokens as the teacher, EM-KD's "vanilla" comparison).
 */
export type ModelKind = 'teacher' | 'student' | 'efficient' | 'full-token';

/** Every model kind, in a fixed order. */
export const MODEL_KINDS: readonly ModelKind[] = ['teacher', 'student', 'efficient', 'full-token'];

/**
 * What a stage trains on:
 * - `text`: the captions' and questions' text alone, no image (pre-training the LM, standing in
 *   for the pretrained LLM the papers start from);
 * - `caption`: images with captions (PT, DPT, EM-KD phase 1);
 * - `qa`: images with instruction questions and answers;
 * - `mix`: caption and QA batches in turn, the instruction mix of SFT, DFT and EM-KD phase 2
 *   (LLaVA's 665k mix holds captions and conversations; small models learn the questions faster
 *   with captions beside them);
 * - `cells`: images with captions and, at each vision token, the word for what lies under it
 *   (`Sample.visualLabels`, the continuous world's shape words): the continuous teacher's
 *   grounding stage, whose objective scores the logits at the visual positions against them.
 */
export type StageData = 'text' | 'caption' | 'qa' | 'mix' | 'cells';

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
  /**
   * Fused LM head for the trained model: its forward pass stops at the final hidden states and
   * hands the objective its LM head (`HeadOutputs`), so the student's [B·T × V] logits are never
   * held; divergences and supervised cross-entropy make them chunk by chunk, and the gradient
   * reaches `llm.head` through the head. Suits objectives that read the student's logits only
   * through divergences and supervised CE: features, relation, affinity or matchers on the
   * student's logits cannot read a head's view, and such a stage fails validation when its
   * trainer is made. Same loss and gradients as without it within float32 rounding (not bit for
   * bit). Off by default.
   */
  readonly fusedHead?: boolean;
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
  /**
   * The recipe this one is compared with, seed by seed and question by question (the paired
   * difference and its bootstrap interval): the baseline trained without a teacher on the same
   * model, or the previous step of an incremental ablation.
   */
  readonly baseline?: string;
}

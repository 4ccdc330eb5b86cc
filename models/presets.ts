import type { ModelConfig, VisionConfig } from './config.js';

/**
 * The three demo configurations, sized so that the LLaVA-KD and EM-KD recipes run end to end on
 * two CPU cores with the wasm backend (timings in models/README.md).
 *
 * - teacher: the l-MLLM, a wider and deeper LM;
 * - student: the s-MLLM, a smaller LM, the same vision encoder (LLaVA-KD shares the teacher's
 *   trained, frozen encoder) and the same tokenizer;
 * - efficientStudent: a projector that average-pools the 4×4 vision-token grid 2×2 (EM-KD: 16 → 4
 *   vision tokens, 4× fewer than the teacher) and an LM as wide as the teacher's but shallower.
 */
export interface PresetOptions {
  /** The tokenizer's vocabulary size (teacher and students must share it). */
  readonly vocabSize: number;
  /** Longest text part of a sequence (every position that is not a vision token). */
  readonly maxTextLen: number;
}

/** 32×32 RGB images, 8×8 patches: 16 vision tokens. */
export const DEMO_VISION: VisionConfig = {
  imageSize: 32,
  patchSize: 8,
  channels: 3,
  width: 64,
  layers: 2,
  heads: 2,
  mlpRatio: 2,
};

const visionTokens = (v: VisionConfig, pool: number): number => (v.imageSize / v.patchSize / pool) ** 2;

export function teacherConfig(o: PresetOptions): ModelConfig {
  return {
    name: 'teacher',
    vision: DEMO_VISION,
    projector: { hidden: 128, pool: 1 },
    llm: {
      vocabSize: o.vocabSize,
      width: 128,
      layers: 3,
      heads: 4,
      mlpRatio: 2,
      maxSeqLen: visionTokens(DEMO_VISION, 1) + o.maxTextLen,
    },
  };
}

export function studentConfig(o: PresetOptions): ModelConfig {
  return {
    name: 'student',
    vision: DEMO_VISION,
    projector: { hidden: 64, pool: 1 },
    llm: {
      vocabSize: o.vocabSize,
      width: 64,
      layers: 2,
      heads: 2,
      mlpRatio: 2,
      maxSeqLen: visionTokens(DEMO_VISION, 1) + o.maxTextLen,
    },
  };
}

export function efficientStudentConfig(o: PresetOptions): ModelConfig {
  const base = studentConfig(o);
  const teacher = teacherConfig(o);
  // EM-KD's efficient student keeps the teacher's LM width (both are Qwen2-0.5B in the paper) and
  // differs in its vision tokens; one width also lets vision tokens be matched on hidden states.
  return {
    ...base,
    name: 'efficient-student',
    projector: { hidden: teacher.projector.hidden, pool: 2 },
    llm: { ...base.llm, width: teacher.llm.width, heads: teacher.llm.heads, maxSeqLen: visionTokens(DEMO_VISION, 2) + o.maxTextLen },
  };
}

/**
 * The full-token student: the efficient student's model without pooling (as many vision tokens as
 * the teacher), its position table grown by the extra vision tokens. EM-KD's efficiency claim
 * compares the two: same parameters but for the position table, 4× fewer vision tokens.
 */
export function fullTokenStudentConfig(efficient: ModelConfig): ModelConfig {
  const pooled = visionTokens(efficient.vision, efficient.projector.pool);
  const full = visionTokens(efficient.vision, 1);
  return {
    ...efficient,
    name: 'full-token-student',
    projector: { ...efficient.projector, pool: 1 },
    llm: { ...efficient.llm, maxSeqLen: efficient.llm.maxSeqLen - pooled + full },
  };
}

/** Every model a world's recipes train, by the recipes' model kind. */
export interface WorldPresets {
  readonly teacher: ModelConfig;
  readonly student: ModelConfig;
  readonly efficient: ModelConfig;
  readonly 'full-token': ModelConfig;
}

/** The grid world's models (the configurations above). */
export function gridPresets(o: PresetOptions): WorldPresets {
  const efficient = efficientStudentConfig(o);
  return { teacher: teacherConfig(o), student: studentConfig(o), efficient, 'full-token': fullTokenStudentConfig(efficient) };
}

/**
 * The continuous world's vision: 24×24 RGB images in 4×4 patches, 6 × 6 = 36 vision tokens (the
 * efficient student pools them 2×2 to 3 × 3 = 9). 36 rather than 64 tokens (32-pixel images) was
 * chosen by measured cost: on this machine's wasm backend, under load, a teacher training step at
 * batch 32 took 1.46 s with 36 vision tokens and 2.77 s with 64 (models/README.md).
 *
 * Each token embeds the 8 × 8 window around its 4 × 4 cell (`patchOverlap: 2`). With plain 4 × 4
 * patches an object (6 to 10 pixels across) is cut into pieces no token sees whole, and the
 * teacher's shape answers stayed at chance (30 % at SFT step 1700, 28 % at 500) while colour and
 * position climbed; a small convolutional network told the four shapes of single objects apart on
 * 99.5 % of held-out images after two epochs, so the shapes are visible in the pixels.
 */
export const CONTINUOUS_VISION: VisionConfig = {
  imageSize: 24,
  patchSize: 4,
  patchOverlap: 2,
  channels: 3,
  width: 64,
  layers: 2,
  heads: 2,
  mlpRatio: 2,
};

/**
 * The continuous world's models: the teacher as in the grid world (LM 128 × 3) over 36 vision
 * tokens; the student smaller (LM 64 × 2, the same 36 tokens and the teacher's encoder); the
 * efficient student with the teacher's LM width, 2 layers and 9 pooled tokens; the full-token
 * student, the efficient student without pooling.
 */
export function continuousPresets(o: PresetOptions): WorldPresets {
  const withVision = (c: ModelConfig, pool: number): ModelConfig => ({
    ...c,
    vision: CONTINUOUS_VISION,
    llm: { ...c.llm, maxSeqLen: visionTokens(CONTINUOUS_VISION, pool) + o.maxTextLen },
  });
  const efficient = withVision(efficientStudentConfig(o), 2);
  return {
    teacher: withVision(teacherConfig(o), 1),
    student: withVision(studentConfig(o), 1),
    efficient,
    'full-token': fullTokenStudentConfig(efficient),
  };
}

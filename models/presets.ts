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

export type { Batch, LayoutOptions } from './batch.js';
export { batches, collate, layoutRow } from './batch.js';
export type { AnswerDistribution, AnswerReport, AnswerStats, Calibration, CalibrationBin } from './calibration.js';
export { answerDistributions, answerReport, answerStats, calibration, entropy, softmaxRow } from './calibration.js';
export type { ContinuousColor, ContinuousObject, ContinuousOptions, ContinuousScene, ContinuousShape, Difficulty } from './continuous.js';
export {
  askContinuous,
  CONTINUOUS_COLORS,
  CONTINUOUS_IMAGE_SIZE,
  CONTINUOUS_SHAPES,
  continuousCaption,
  continuousSample,
  continuousTokenizer,
  DEFAULT_DIFFICULTY,
  HUES,
  renderContinuousScene,
  sampleContinuousScene,
} from './continuous.js';
export type { EncodedText } from './encode.js';
export { encodeSample, imagePlacementError, textLengthOf } from './encode.js';
export type { EvalReport, Forward, KindScore } from './eval.js';
export { evaluateExactMatch, exactMatchRows, greedyDecode, summarize, teacherForcedExactMatch } from './eval.js';
export type { RgbaImage } from './image.js';
export { decodeImage, sniffFormat, toRgbSquare } from './image.js';
export type { LlavaJsonOptions } from './llava-json.js';
export { DataError, loadLlavaJson, parseLlavaJson } from './llava-json.js';
export type { ProceduralOptions, Split, Task } from './procedural.js';
export {
  EVAL_SHARE,
  kindOfIndex,
  MAX_OBJECTS,
  PROCEDURAL_WORDS,
  proceduralSample,
  proceduralSamples,
  proceduralTokenizer,
  splitOfLayout,
  TEXT_LENGTH,
} from './procedural.js';
export type { QuestionAnswer, QuestionKind } from './questions.js';
export { askQuestion, CAPTION_PROMPT, caption, QUESTION_KINDS } from './questions.js';
export type { ImageSample, RgbImage, Sample, Turn } from './sample.js';
export type { Color, Scene, SceneObject, Shape } from './scene.js';
export { COLOR_RGB, COLORS, GRID, positionWords, renderScene, SHAPES, sampleScene } from './scene.js';
export type { Tokenizer } from './tokenizer.js';
export { createTokenizer, decode, encode, normalizeText, SPECIALS, splitWords, tokenizerFromTexts } from './tokenizer.js';

export type { ImageSample, RgbImage, Sample, Turn } from './sample.js';
export type { Tokenizer } from './tokenizer.js';
export { SPECIALS, createTokenizer, decode, encode, normalizeText, splitWords, tokenizerFromTexts } from './tokenizer.js';
export type { EncodedText } from './encode.js';
export { encodeSample, imagePlacementError, textLengthOf } from './encode.js';
export type { Batch, LayoutOptions } from './batch.js';
export { batches, collate, layoutRow } from './batch.js';
export type { Color, Scene, SceneObject, Shape } from './scene.js';
export { COLORS, COLOR_RGB, GRID, SHAPES, positionWords, renderScene, sampleScene } from './scene.js';
export type { QuestionAnswer, QuestionKind } from './questions.js';
export { CAPTION_PROMPT, QUESTION_KINDS, askQuestion, caption } from './questions.js';
export type { ProceduralOptions, Split, Task } from './procedural.js';
export {
  EVAL_SHARE,
  MAX_OBJECTS,
  PROCEDURAL_WORDS,
  TEXT_LENGTH,
  kindOfIndex,
  proceduralSample,
  proceduralSamples,
  proceduralTokenizer,
  splitOfLayout,
} from './procedural.js';
export type { EvalReport, Forward, KindScore } from './eval.js';
export { evaluateExactMatch, exactMatchRows, greedyDecode, summarize, teacherForcedExactMatch } from './eval.js';
export type { RgbaImage } from './image.js';
export { decodeImage, sniffFormat, toRgbSquare } from './image.js';
export type { LlavaJsonOptions } from './llava-json.js';
export { DataError, loadLlavaJson, parseLlavaJson } from './llava-json.js';

import { hashKey, rng } from '../models/random.js';
import type { QuestionKind } from './questions.js';
import { askQuestion, CAPTION_PROMPT, caption, minObjects, NUMBER_WORDS, QUESTION_KINDS } from './questions.js';
import type { ImageSample } from './sample.js';
import type { Scene } from './scene.js';
import { COL_WORDS, COLORS, ROW_WORDS, renderScene, SHAPE_PLURALS, SHAPES, sampleScene } from './scene.js';
import type { Tokenizer } from './tokenizer.js';
import { createTokenizer, SPECIALS } from './tokenizer.js';

/**
 * The procedural multimodal dataset: images of coloured shapes with captions (pre-training, DPT)
 * or one instruction question per image (SFT, DFT, evaluation).
 *
 * Sample i of a split is a pure function of (seed, split, task, i): resuming needs no RNG state,
 * and any sample can be regenerated on its own. The eval split is held out by layout: a scene's
 * layout (its objects' cells, colours and shapes) belongs to exactly one split, decided by a hash,
 * so no eval image repeats a training layout.
 */

export type Split = 'train' | 'eval';
export type Task = 'caption' | 'qa';

export interface ProceduralOptions {
  readonly seed: number;
  /** Image side in pixels, a multiple of 32 (default 32). */
  readonly imageSize?: number;
}

/** One layout in `EVAL_SHARE` goes to the eval split. */
export const EVAL_SHARE = 5;

/** Every word the procedural data uses, in a fixed order: token ids must never move, checkpoints depend on them. */
export const PROCEDURAL_WORDS: readonly string[] = [
  ...COLORS,
  ...SHAPES,
  ...SHAPES.map((s) => SHAPE_PLURALS[s]),
  ...ROW_WORDS,
  ...COL_WORDS,
  ...NUMBER_WORDS,
  'yes',
  'no',
  'what',
  'color',
  'shape',
  'shapes',
  'is',
  'the',
  'at',
  'object',
  'how',
  'many',
  'are',
  'there',
  'where',
  'of',
  'above',
  'below',
  'and',
  'describe',
  'image',
];

/** The tokenizer of the procedural data (shared by teacher and students). */
export const proceduralTokenizer = (): Tokenizer => createTokenizer(PROCEDURAL_WORDS);

/**
 * Text positions (all but the vision tokens) that every sample of a task fits in:
 * `<bos>`, prompt words, `<sep>`, answer words, `<eos>`.
 * qa: 1 + 9 ("is the purple triangle right of the yellow circle") + 1 + 2 ("top left") + 1;
 * caption: 1 + 3 ("describe the image") + 1 + 14 (3 objects: 3 × 4 words + 2 × "and") + 1.
 */
export const TEXT_LENGTH: Readonly<Record<Task, number>> = { qa: 14, caption: 20 };

/** Objects per scene: 1 to 3. */
export const MAX_OBJECTS = 3;

const layoutKey = (scene: Scene): string => scene.objects.map((o) => `${o.row}${o.col}:${o.color}:${o.shape}`).join('|');

/** The split a scene's layout belongs to. */
export function splitOfLayout(seed: number, scene: Scene): Split {
  return hashKey(seed, 'layout', layoutKey(scene)) % EVAL_SHARE === 0 ? 'eval' : 'train';
}

/** The question type of QA sample i: cycles through the types, so any window of 5 is balanced. */
export const kindOfIndex = (index: number): QuestionKind => QUESTION_KINDS[index % QUESTION_KINDS.length] as QuestionKind;

/** Sample `index` of (split, task). */
export function proceduralSample(options: ProceduralOptions, split: Split, task: Task, index: number): ImageSample {
  if (!Number.isInteger(index) || index < 0) throw new Error(`proceduralSample: index must be a non-negative integer, got ${index}`);
  const imageSize = options.imageSize ?? 32;
  const kind = task === 'qa' ? kindOfIndex(index) : undefined;
  // Redraw until the layout falls in the requested split; attempt j has its own stream, so the
  // result is still a pure function of the keys (≈1.25 draws for train, ≈5 for eval).
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const r = rng(hashKey(options.seed, split, task, index, attempt));
    const least = kind === undefined ? 1 : minObjects(kind);
    const count = least + r.int(MAX_OBJECTS - least + 1);
    const scene = sampleScene(r, imageSize, count);
    if (splitOfLayout(options.seed, scene) !== split) continue;
    const image = { size: imageSize, pixels: renderScene(scene) };
    const id = `${split}-${task}-${index}`;
    if (kind === undefined) {
      return { id, kind: 'caption', image, turns: [{ prompt: `${SPECIALS.image} ${CAPTION_PROMPT}`, answer: caption(scene) }] };
    }
    const qa = askQuestion(r, scene, kind);
    return { id, kind, image, turns: [{ prompt: `${SPECIALS.image} ${qa.question}`, answer: qa.answer }] };
  }
  throw new Error(`proceduralSample: no '${split}' layout found for sample ${index}`);
}

/** Samples [start, start + count) of (split, task). */
export function proceduralSamples(options: ProceduralOptions, split: Split, task: Task, start: number, count: number): ImageSample[] {
  return Array.from({ length: count }, (_, i) => proceduralSample(options, split, task, start + i));
}

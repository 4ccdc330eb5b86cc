import type { Rng } from '../models/random.js';
import { hashKey, pick, rng, shuffled } from '../models/random.js';
import { NUMBER_WORDS, type QuestionAnswer, type QuestionKind } from './questions.js';
import type { ImageSample, VisualLabels } from './sample.js';
import { COL_WORDS, ROW_WORDS } from './scene.js';
import type { Tokenizer } from './tokenizer.js';
import { createTokenizer, SPECIALS } from './tokenizer.js';

/**
 * The continuous world: coloured shapes at continuous positions and sizes, drawn anti-aliased
 * with pixel noise, so that vision tokens do not line up with objects and the right answer is
 * often hard to see. It exists so that a teacher's answer distributions carry knowledge beyond
 * the label (issue 9):
 *
 * - **Near hues.** Eight colour words on a hue circle (red 0°, orange 30°, yellow 60°, green 120°,
 *   cyan 180°, blue 225°, purple 275°, pink 320°); each object's hue is its word's ± 15° (so
 *   red, orange and yellow meet halfway), its saturation and brightness vary, and every pixel
 *   gets Gaussian noise. An orange object may be taken for red or yellow, never for blue: the
 *   wrong alternatives are graded (a test checks that an ideal observer of the object's visible
 *   pixels errs only towards hue-neighbours; measured: on 1.1 % of 7,999 objects).
 * - **Similar shapes.** circle, square, diamond, triangle, 3 to 5 pixels in radius (at 24
 *   pixels), matched in extent rather than area so that their outlines differ where a small
 *   model can see it (a square fills its box's corners, a diamond reaches past the circle on the
 *   axes and stops short of it on the diagonals); at the small end, with noise and overlap, they
 *   still differ by only a few pixels.
 * - **Partial occlusion.** Objects may overlap (centres at least 0.8 · (r₁ + r₂) apart), the later
 *   one on top, so a count or a shape can be partly hidden.
 * - **Regions, not cells.** Position answers name the quadrant of the object's centre ("top
 *   left"); an object near the middle lines is ambiguous. Relations compare centres and are asked
 *   only where the centres differ by at least `RELATION_MARGIN` pixels along the axis.
 * - **Tokens that mix objects.** With 4-pixel patches a 24-pixel image gives 6 × 6 vision tokens;
 *   an object's box (6 to 10 pixels a side, more for a diamond's tips) overlaps 2 to 4 of them per side, depending on
 *   where it lands, and a 2 × 2-pooled token (8 × 8 pixels) can hold parts of two objects and
 *   background.
 *
 * Sample i of a split is a pure function of (seed, split, task, i). The eval split is held out by
 * coarse layout: the objects' (quadrant, colour, shape) set belongs to exactly one split.
 */

export const CONTINUOUS_COLORS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink'] as const;
export type ContinuousColor = (typeof CONTINUOUS_COLORS)[number];

/** Hue of each colour word, in degrees. Neighbours on this circle are the likely confusions. */
export const HUES: Readonly<Record<ContinuousColor, number>> = {
  red: 0,
  orange: 30,
  yellow: 60,
  green: 120,
  cyan: 180,
  blue: 225,
  purple: 275,
  pink: 320,
};

export const CONTINUOUS_SHAPES = ['circle', 'square', 'diamond', 'triangle'] as const;
export type ContinuousShape = (typeof CONTINUOUS_SHAPES)[number];

export const CONTINUOUS_SHAPE_PLURALS: Readonly<Record<ContinuousShape, string>> = {
  circle: 'circles',
  square: 'squares',
  diamond: 'diamonds',
  triangle: 'triangles',
};

/**
 * How hard the world is to see. The defaults are what the shipped teacher was trained on;
 * changing any of them changes the data (and its fingerprint).
 */
export interface Difficulty {
  /** An object's hue is its word's ± this many degrees (uniform). */
  readonly hueJitter: number;
  /** Saturation and brightness ranges (uniform). */
  readonly saturation: readonly [number, number];
  readonly value: readonly [number, number];
  /** Object radius range as a fraction of the image side. */
  readonly radius: readonly [number, number];
  /** Standard deviation of the Gaussian noise added to every pixel channel. */
  readonly noise: number;
  /** Least distance between two centres, as a multiple of the sum of their radii (< 1: overlap). */
  readonly spacing: number;
}

export const DEFAULT_DIFFICULTY: Difficulty = {
  hueJitter: 15,
  saturation: [0.55, 0.95],
  value: [0.6, 1],
  radius: [3 / 24, 5 / 24],
  noise: 0.06,
  spacing: 0.8,
};

/** Relations are asked only about centres at least this far apart (pixels at 24) along the axis. */
export const RELATION_MARGIN = 1.5 / 24;

/** Objects per scene: 1 to 3 (captions of three objects fit the grid world's 20 text positions). */
export const CONTINUOUS_MAX_OBJECTS = 3;

export interface ContinuousObject {
  readonly color: ContinuousColor;
  readonly shape: ContinuousShape;
  /** Centre and radius in pixels. */
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
  /** The rendered colour (jittered around the word's hue), RGB in [0, 1]. */
  readonly rgb: readonly [number, number, number];
}

export interface ContinuousScene {
  readonly imageSize: number;
  /** In drawing order (later ones on top); distinct (colour, shape) pairs. */
  readonly objects: readonly ContinuousObject[];
}

/** HSV (hue in degrees) to RGB. */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const [r, g, b] = hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  return [r + m, g + m, b + m];
}

const between = (r: Rng, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * r.uniform();

/** A random scene of `count` objects, or undefined when they could not be placed apart. */
export function sampleContinuousScene(r: Rng, imageSize: number, count: number, d: Difficulty = DEFAULT_DIFFICULTY): ContinuousScene | undefined {
  const kinds = shuffled(
    r,
    CONTINUOUS_COLORS.flatMap((color) => CONTINUOUS_SHAPES.map((shape) => ({ color, shape }))),
  ).slice(0, count);
  const objects: ContinuousObject[] = [];
  for (const { color, shape } of kinds) {
    const radius = between(r, d.radius) * imageSize;
    let placed: { cx: number; cy: number } | undefined;
    for (let attempt = 0; attempt < 50 && placed === undefined; attempt++) {
      const cx = radius + (imageSize - 2 * radius) * r.uniform();
      const cy = radius + (imageSize - 2 * radius) * r.uniform();
      if (objects.every((o) => Math.hypot(o.cx - cx, o.cy - cy) >= d.spacing * (o.radius + radius))) placed = { cx, cy };
    }
    if (placed === undefined) return undefined;
    const hue = HUES[color] + d.hueJitter * (2 * r.uniform() - 1);
    objects.push({ color, shape, ...placed, radius, rgb: hsvToRgb(hue, between(r, d.saturation), between(r, d.value)) });
  }
  return { imageSize, objects };
}

/**
 * Whether the point (px, py) lies inside the object. At radius r: the circle's radius is r, the
 * square's half-side 0.95 r (corners at 1.34 r), the diamond's tips 1.3 r (sides at 0.92 r from
 * the centre), the triangle's apex r above the centre and its base r below, 1.15 r to each side.
 * Areas: circle 3.14 r², square 3.61 r², diamond 3.38 r², triangle 2.3 r². An earlier world matched
 * areas (square 0.85 r, diamond 1.2 r, radii 2.4 to 4.2 pixels): its teacher's shape answers were
 * still at chance (24 %) after 700 SFT steps, where its colour answers had reached 55 %.
 */
export function coversContinuous(o: Pick<ContinuousObject, 'shape' | 'cx' | 'cy' | 'radius'>, px: number, py: number): boolean {
  const dx = px - o.cx;
  const dy = py - o.cy;
  const r = o.radius;
  switch (o.shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return Math.abs(dx) <= 0.95 * r && Math.abs(dy) <= 0.95 * r;
    case 'diamond':
      return Math.abs(dx) + Math.abs(dy) <= 1.3 * r;
    case 'triangle':
      return dy >= -r && dy <= r && Math.abs(dx) <= 1.15 * ((dy + r) / 2);
  }
}

export const CONTINUOUS_BACKGROUND = 0.12;

/** Supersamples per pixel side (anti-aliasing: a pixel on an edge mixes object and background). */
const SUPERSAMPLE = 3;

/** RGB pixels [S·S·3] in [0, 1], anti-aliased, with Gaussian noise drawn from `r`. */
export function renderContinuousScene(scene: ContinuousScene, r: Rng, noise: number): Float32Array {
  const s = scene.imageSize;
  const out = new Float32Array(s * s * 3);
  const inv = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let [cr, cg, cb] = [0, 0, 0];
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const px = x + (sx + 0.5) / SUPERSAMPLE;
          const py = y + (sy + 0.5) / SUPERSAMPLE;
          let rgb: readonly number[] = [CONTINUOUS_BACKGROUND, CONTINUOUS_BACKGROUND, CONTINUOUS_BACKGROUND];
          for (const o of scene.objects) if (coversContinuous(o, px, py)) rgb = o.rgb;
          cr += rgb[0] as number;
          cg += rgb[1] as number;
          cb += rgb[2] as number;
        }
      }
      const i = (y * s + x) * 3;
      out[i] = clamp01(cr * inv + noise * r.normal());
      out[i + 1] = clamp01(cg * inv + noise * r.normal());
      out[i + 2] = clamp01(cb * inv + noise * r.normal());
    }
  }
  return out;
}

const clamp01 = (v: number): number => Math.min(Math.max(v, 0), 1);

/** Quadrant of a centre: row 0 = top, col 0 = left. */
export function regionOf(o: Pick<ContinuousObject, 'cx' | 'cy'>, imageSize: number): { row: number; col: number } {
  return { row: o.cy < imageSize / 2 ? 0 : 1, col: o.cx < imageSize / 2 ? 0 : 1 };
}

const regionWords = (o: ContinuousObject, size: number): string => {
  const { row, col } = regionOf(o, size);
  return `${ROW_WORDS[row]} ${COL_WORDS[col]}`;
};

const RELATIONS: readonly { readonly phrase: string; readonly axis: 'x' | 'y'; readonly sign: 1 | -1 }[] = [
  { phrase: 'left of', axis: 'x', sign: -1 },
  { phrase: 'right of', axis: 'x', sign: 1 },
  { phrase: 'above', axis: 'y', sign: -1 },
  { phrase: 'below', axis: 'y', sign: 1 },
];

/**
 * One question of type `kind` about `scene`, or undefined when the scene has no object the
 * question can refer to unambiguously (the caller draws another scene). Referring expressions:
 * the shape or the colour alone when unique, the region when unique, else colour and shape.
 */
export function askContinuous(r: Rng, scene: ContinuousScene, kind: QuestionKind): QuestionAnswer | undefined {
  const { objects, imageSize } = scene;
  const unique = (same: (o: ContinuousObject) => boolean): boolean => objects.filter(same).length === 1;
  const regionUnique = (o: ContinuousObject): boolean => unique((x) => regionWords(x, imageSize) === regionWords(o, imageSize));
  switch (kind) {
    case 'color': {
      const options = objects.flatMap((o) => [
        ...(unique((x) => x.shape === o.shape) ? [{ o, question: `what color is the ${o.shape}` }] : []),
        ...(regionUnique(o) ? [{ o, question: `what color is the shape at the ${regionWords(o, imageSize)}` }] : []),
      ]);
      if (options.length === 0) return undefined;
      const { o, question } = pick(r, options);
      return { kind, question, answer: o.color };
    }
    case 'shape': {
      const options = objects.flatMap((o) => [
        ...(unique((x) => x.color === o.color) ? [{ o, question: `what shape is the ${o.color} object` }] : []),
        ...(regionUnique(o) ? [{ o, question: `what shape is at the ${regionWords(o, imageSize)}` }] : []),
      ]);
      if (options.length === 0) return undefined;
      const { o, question } = pick(r, options);
      return { kind, question, answer: o.shape };
    }
    case 'count': {
      const variant = r.int(3);
      if (variant === 0) return { kind, question: 'how many shapes are there', answer: NUMBER_WORDS[objects.length] as string };
      if (variant === 1) {
        // Half the time a colour in the scene, so that answers are not mostly "zero".
        const color = r.int(2) === 0 ? pick(r, objects).color : pick(r, CONTINUOUS_COLORS);
        return { kind, question: `how many ${color} shapes are there`, answer: NUMBER_WORDS[objects.filter((o) => o.color === color).length] as string };
      }
      const shape = r.int(2) === 0 ? pick(r, objects).shape : pick(r, CONTINUOUS_SHAPES);
      return {
        kind,
        question: `how many ${CONTINUOUS_SHAPE_PLURALS[shape]} are there`,
        answer: NUMBER_WORDS[objects.filter((o) => o.shape === shape).length] as string,
      };
    }
    case 'position': {
      const o = pick(r, objects);
      return { kind, question: `where is the ${o.color} ${o.shape}`, answer: regionWords(o, imageSize) };
    }
    case 'relation': {
      const margin = RELATION_MARGIN * imageSize;
      const options: { a: ContinuousObject; b: ContinuousObject; phrase: string; yes: boolean }[] = [];
      for (const a of objects) {
        for (const b of objects) {
          if (a === b) continue;
          for (const rel of RELATIONS) {
            const delta = rel.axis === 'x' ? a.cx - b.cx : a.cy - b.cy;
            if (Math.abs(delta) < margin) continue;
            options.push({ a, b, phrase: rel.phrase, yes: Math.sign(delta) === rel.sign });
          }
        }
      }
      if (options.length === 0) return undefined;
      const wantYes = r.int(2) === 1;
      const matching = options.filter((o) => o.yes === wantYes);
      const chosen = pick(r, matching.length > 0 ? matching : options);
      return {
        kind,
        question: `is the ${chosen.a.color} ${chosen.a.shape} ${chosen.phrase} the ${chosen.b.color} ${chosen.b.shape}`,
        answer: chosen.yes ? 'yes' : 'no',
      };
    }
  }
}

/** Objects in reading order: by region (row-major), then left to right. */
function readingOrder(scene: ContinuousScene): ContinuousObject[] {
  const key = (o: ContinuousObject) => {
    const { row, col } = regionOf(o, scene.imageSize);
    return (row * 2 + col) * scene.imageSize + o.cx;
  };
  return [...scene.objects].sort((a, b) => key(a) - key(b));
}

/** "orange circle top left and cyan diamond bottom right", in reading order. */
export function continuousCaption(scene: ContinuousScene): string {
  return readingOrder(scene)
    .map((o) => `${o.color} ${o.shape} ${regionWords(o, scene.imageSize)}`)
    .join(' and ');
}

/**
 * The continuous world's words: the grid world's (ids unchanged) followed by the new colours and
 * shape. Token ids must never move: checkpoints depend on them.
 */
export function continuousWords(gridWords: readonly string[]): string[] {
  return [...gridWords, 'orange', 'cyan', 'pink', 'diamond', 'diamonds'];
}

export const continuousTokenizer = (gridWords: readonly string[]): Tokenizer => createTokenizer(continuousWords(gridWords));

/** A token is labelled with an object when the object shows in at least this share of its cell. */
export const CELL_COVERAGE = 0.25;

/**
 * The object under each `patchSize` cell of the scene (row-major), as its index in
 * `scene.objects`, or null: the object whose visible pixels (pixel centres, the topmost object
 * where objects overlap) fill the largest share of the cell, when that share is at least
 * `CELL_COVERAGE`.
 */
export function cellObjects(scene: ContinuousScene, patchSize: number): { readonly side: number; readonly objects: readonly (number | null)[] } {
  const { imageSize: s, objects } = scene;
  if (!Number.isInteger(patchSize) || patchSize < 1 || s % patchSize !== 0) {
    throw new Error(`cellObjects: patch size ${patchSize} does not divide the image side ${s}`);
  }
  const side = s / patchSize;
  const under: (number | null)[] = [];
  for (let gy = 0; gy < side; gy++) {
    for (let gx = 0; gx < side; gx++) {
      const shown = new Array<number>(objects.length).fill(0);
      for (let y = gy * patchSize; y < (gy + 1) * patchSize; y++) {
        for (let x = gx * patchSize; x < (gx + 1) * patchSize; x++) {
          let top = -1;
          objects.forEach((o, i) => {
            if (coversContinuous(o, x + 0.5, y + 0.5)) top = i;
          });
          if (top >= 0) shown[top]! += 1;
        }
      }
      const best = shown.reduce((b, n, i) => (n > shown[b]! ? i : b), 0);
      under.push(objects.length > 0 && shown[best]! >= CELL_COVERAGE * patchSize * patchSize ? best : null);
    }
  }
  return { side, objects: under };
}

/**
 * The shape word under each `patchSize` cell of the scene (row-major), or null (`cellObjects`).
 * These are the dense labels of the teacher's grounding stage: they teach its vision encoder what
 * shape each token belongs to, the attribute that answer supervision alone leaves at chance
 * (models/README.md).
 */
export function cellShapeWords(scene: ContinuousScene, patchSize: number): VisualLabels {
  const { side, objects } = cellObjects(scene, patchSize);
  return { side, words: objects.map((i) => (i === null ? null : scene.objects[i]!.shape)) };
}

/** Vision tokens per side of the continuous world's models (4-pixel cells at 24 pixels). */
export const CONTINUOUS_TOKEN_SIDE = 6;

/**
 * The continuous world's generator version, part of its data fingerprint: bump it whenever a
 * change alters any sample (difficulty, shapes, placement, questions), so that stage caches,
 * checkpoints and the shipped teacher of an earlier world are never taken for this one's.
 * Version 1 had area-matched shapes of radius 2.4 to 4.2 pixels.
 */
export const CONTINUOUS_WORLD_VERSION = 2;

/** Image side of the continuous world (6 × 6 patches of 4 pixels). */
export const CONTINUOUS_IMAGE_SIZE = 24;

export interface ContinuousOptions {
  readonly seed: number;
  readonly imageSize?: number;
  readonly difficulty?: Difficulty;
}

/** One coarse layout in `EVAL_SHARE` goes to the eval split (as in the grid world). */
const EVAL_SHARE = 5;

/** The coarse layout a scene's split is decided by: its objects' (region, colour, shape), sorted. */
export function coarseLayout(scene: ContinuousScene): string {
  return scene.objects
    .map((o) => {
      const { row, col } = regionOf(o, scene.imageSize);
      return `${row}${col}:${o.color}:${o.shape}`;
    })
    .sort()
    .join('|');
}

export function continuousSplitOf(seed: number, scene: ContinuousScene): 'train' | 'eval' {
  return hashKey(seed, 'continuous-layout', coarseLayout(scene)) % EVAL_SHARE === 0 ? 'eval' : 'train';
}

const QUESTION_ORDER: readonly QuestionKind[] = ['color', 'shape', 'count', 'position', 'relation'];

/** Sample `index` of (split, task) in the continuous world. */
export function continuousSample(options: ContinuousOptions, split: 'train' | 'eval', task: 'caption' | 'qa', index: number): ImageSample {
  if (!Number.isInteger(index) || index < 0) throw new Error(`continuousSample: index must be a non-negative integer, got ${index}`);
  const imageSize = options.imageSize ?? CONTINUOUS_IMAGE_SIZE;
  const difficulty = options.difficulty ?? DEFAULT_DIFFICULTY;
  const kind = task === 'qa' ? (QUESTION_ORDER[index % QUESTION_ORDER.length] as QuestionKind) : undefined;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const r = rng(hashKey(options.seed, 'continuous', split, task, index, attempt));
    const least = kind === 'relation' ? 2 : 1;
    const count = least + r.int(CONTINUOUS_MAX_OBJECTS - least + 1);
    const scene = sampleContinuousScene(r, imageSize, count, difficulty);
    if (scene === undefined || continuousSplitOf(options.seed, scene) !== split) continue;
    const qa = kind === undefined ? undefined : askContinuous(r, scene, kind);
    if (kind !== undefined && qa === undefined) continue;
    const image = { size: imageSize, pixels: renderContinuousScene(scene, r, difficulty.noise) };
    const id = `${split}-${task}-${index}`;
    if (qa === undefined) {
      return {
        id,
        kind: 'caption',
        image,
        turns: [{ prompt: `${SPECIALS.image} describe the image`, answer: continuousCaption(scene) }],
        // An image side the token grid does not divide gets no dense labels (no model reads it).
        ...(imageSize % CONTINUOUS_TOKEN_SIDE === 0 ? { visualLabels: cellShapeWords(scene, imageSize / CONTINUOUS_TOKEN_SIDE) } : {}),
      };
    }
    return { id, kind: qa.kind, image, turns: [{ prompt: `${SPECIALS.image} ${qa.question}`, answer: qa.answer }] };
  }
  throw new Error(`continuousSample: no '${split}' scene found for sample ${index}`);
}

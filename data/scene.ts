import type { Rng } from '../models/random.js';
import { shuffled } from '../models/random.js';

/**
 * Scenes of coloured shapes on a 2 × 2 grid, and their rendering to RGB pixels.
 *
 * On 32 × 32 images each grid cell is 16 × 16 pixels, i.e. 2 × 2 of the models' 8 × 8 patches, and
 * an object is drawn inside one of its cell's four patches (chosen at random). So position words
 * ("top left") name the cell, and colour and shape are local to one vision token: questions bind
 * to objects by attending to that token. The efficient student's 2 × 2-pooled tokens each cover
 * one cell, object and background averaged.
 *
 * Why one patch per object: with 10-pixel shapes jittered across patch boundaries, every patch saw a
 * different fragment and the small models took thousands of steps to bind questions to objects
 * (measured: multi-object colour questions near chance after 600 student steps).
 */

export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple'] as const;
export type Color = (typeof COLORS)[number];

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Shape = (typeof SHAPES)[number];

/** Plural forms, for "how many circles are there". */
export const SHAPE_PLURALS: Readonly<Record<Shape, string>> = {
  circle: 'circles',
  square: 'squares',
  triangle: 'triangles',
};

/** Saturated and mutually distant in RGB, so a patch's mean colour identifies the object's colour. */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = {
  red: [0.9, 0.15, 0.15],
  green: [0.15, 0.8, 0.2],
  blue: [0.2, 0.3, 0.95],
  yellow: [0.95, 0.9, 0.15],
  purple: [0.65, 0.2, 0.85],
};

export const BACKGROUND_RGB: readonly [number, number, number] = [0.08, 0.08, 0.08];

/** Cells per side. */
export const GRID = 2;

export const ROW_WORDS = ['top', 'bottom'] as const;
export const COL_WORDS = ['left', 'right'] as const;

/** "top left", "bottom right", ... */
export const positionWords = (row: number, col: number): string => `${ROW_WORDS[row]} ${COL_WORDS[col]}`;

export interface SceneObject {
  readonly color: Color;
  readonly shape: Shape;
  /** Grid cell, 0 = top / left. */
  readonly row: number;
  readonly col: number;
  /** Centre in pixels and half-extent (the shape fits in a 2·radius square around the centre). */
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
}

export interface Scene {
  readonly imageSize: number;
  /** 1 to 4 objects, in distinct cells, with distinct (colour, shape) pairs, sorted row-major by cell. */
  readonly objects: readonly SceneObject[];
}

/** Sub-cells (patches) per cell side. */
export const SUBGRID = 2;

/**
 * A random scene with `count` objects: distinct cells, distinct (colour, shape) pairs (so "the red
 * circle" always names one object), each centred in a random one of its cell's 2 × 2 sub-cells with
 * a radius of 7/64 of the image (3.5 pixels at 32 × 32), so it lies inside one 8 × 8 patch.
 */
export function sampleScene(r: Rng, imageSize: number, count: number): Scene {
  if (!Number.isInteger(count) || count < 1 || count > GRID * GRID) {
    throw new Error(`sampleScene: count must be 1..${GRID * GRID}, got ${count}`);
  }
  if (imageSize % (GRID * 16) !== 0) throw new Error(`sampleScene: imageSize must be a multiple of ${GRID * 16}, got ${imageSize}`);
  const sub = imageSize / (GRID * SUBGRID);
  const cells = shuffled(r, [0, 1, 2, 3])
    .slice(0, count)
    .sort((a, b) => a - b);
  const kinds = shuffled(
    r,
    COLORS.flatMap((color) => SHAPES.map((shape) => ({ color, shape }))),
  ).slice(0, count);
  const objects = cells.map((cell, i) => {
    const row = Math.floor(cell / GRID);
    const col = cell % GRID;
    const { color, shape } = kinds[i] as { color: Color; shape: Shape };
    const subRow = r.int(SUBGRID);
    const subCol = r.int(SUBGRID);
    return {
      color,
      shape,
      row,
      col,
      cx: (col * SUBGRID + subCol) * sub + sub / 2,
      cy: (row * SUBGRID + subRow) * sub + sub / 2,
      radius: (sub * 7) / 16,
    };
  });
  return { imageSize, objects };
}

/** Whether the pixel centre (px, py) lies inside the object. */
export function covers(o: SceneObject, px: number, py: number): boolean {
  const dx = px - o.cx;
  const dy = py - o.cy;
  const r = o.radius;
  switch (o.shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      // A half-side of 0.85 r gives the square about the circle's area, so size does not reveal shape.
      return Math.abs(dx) <= 0.85 * r && Math.abs(dy) <= 0.85 * r;
    case 'triangle':
      // Apex up at (cx, cy − r), base from (cx − r, cy + r) to (cx + r, cy + r).
      return dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2;
  }
}

/** RGB pixels [S·S·3] (row-major, HWC), values in [0, 1]. */
export function renderScene(scene: Scene): Float32Array {
  const s = scene.imageSize;
  const out = new Float32Array(s * s * 3);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let rgb = BACKGROUND_RGB;
      for (const o of scene.objects) if (covers(o, x + 0.5, y + 0.5)) rgb = COLOR_RGB[o.color];
      const i = (y * s + x) * 3;
      out[i] = rgb[0];
      out[i + 1] = rgb[1];
      out[i + 2] = rgb[2];
    }
  }
  return out;
}

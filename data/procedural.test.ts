import { describe, expect, it } from 'vitest';
import { encodeSample } from './encode.js';
import { kindOfIndex, PROCEDURAL_WORDS, proceduralSample, proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from './procedural.js';
import { QUESTION_KINDS } from './questions.js';
import type { ImageSample } from './sample.js';
import { BACKGROUND_RGB, COLOR_RGB, COLORS } from './scene.js';

const opts = { seed: 42 };
const tok = proceduralTokenizer();

/** What a viewer sees in one 16 × 16 cell, read from the pixels alone. */
interface Seen {
  readonly row: number;
  readonly col: number;
  readonly color: string;
  readonly shape: string;
}

/**
 * An independent reading of the image: per cell, the non-background pixels' mean colour (nearest
 * palette entry) and how much of their bounding box they fill (square ≈ 1, circle ≈ 0.8,
 * triangle ≈ 0.55).
 */
function perceive(pixels: Float32Array, size: number): Seen[] {
  const seen: Seen[] = [];
  const cell = size / 2;
  for (let row = 0; row < 2; row++) {
    for (let col = 0; col < 2; col++) {
      let n = 0;
      const sum = [0, 0, 0];
      let [x0, y0, x1, y1] = [size, size, -1, -1];
      for (let y = row * cell; y < (row + 1) * cell; y++) {
        for (let x = col * cell; x < (col + 1) * cell; x++) {
          const i = (y * size + x) * 3;
          const rgb = [pixels[i], pixels[i + 1], pixels[i + 2]] as number[];
          if (rgb.every((v, c) => Math.abs(v - (BACKGROUND_RGB[c] as number)) < 1e-6)) continue;
          n++;
          rgb.forEach((v, c) => (sum[c] = (sum[c] as number) + v));
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        }
      }
      if (n === 0) continue;
      const mean = sum.map((s) => s / n);
      const color = COLORS.reduce((best, c) =>
        COLOR_RGB[c].reduce((d, v, k) => d + (v - (mean[k] as number)) ** 2, 0) < COLOR_RGB[best].reduce((d, v, k) => d + (v - (mean[k] as number)) ** 2, 0)
          ? c
          : best,
      );
      const fill = n / ((x1 - x0 + 1) * (y1 - y0 + 1));
      const shape = fill > 0.95 ? 'square' : fill > 0.68 ? 'circle' : 'triangle';
      seen.push({ row, col, color, shape });
    }
  }
  return seen;
}

const ROWS = ['top', 'bottom'];
const COLS = ['left', 'right'];
const NUMBERS = ['zero', 'one', 'two', 'three', 'four'];
const the = (seen: Seen[], pred: (o: Seen) => boolean): Seen => {
  const found = seen.filter(pred);
  if (found.length !== 1) throw new Error(`the referring expression picks ${found.length} objects`);
  return found[0] as Seen;
};
const at = (o: Seen): string => `${ROWS[o.row]} ${COLS[o.col]}`;

/** Answers a question from the perceived objects, by its own reading of the templates. */
function answer(question: string, seen: Seen[]): string {
  let m: RegExpExecArray | null;
  const cellOf = (r: string, c: string) => (o: Seen) => o.row === ROWS.indexOf(r) && o.col === COLS.indexOf(c);
  if ((m = /^what color is the (circle|square|triangle)$/.exec(question))) return the(seen, (o) => o.shape === m?.[1]).color;
  if ((m = /^what color is the shape at the (\w+) (\w+)$/.exec(question))) return the(seen, cellOf(m[1]!, m[2]!)).color;
  if ((m = /^what shape is the (\w+) object$/.exec(question))) return the(seen, (o) => o.color === m?.[1]).shape;
  if ((m = /^what shape is at the (\w+) (\w+)$/.exec(question))) return the(seen, cellOf(m[1]!, m[2]!)).shape;
  if (question === 'how many shapes are there') return NUMBERS[seen.length]!;
  if ((m = /^how many (circle|square|triangle)s are there$/.exec(question))) return NUMBERS[seen.filter((o) => o.shape === m?.[1]).length]!;
  if ((m = /^how many (\w+) shapes are there$/.exec(question))) return NUMBERS[seen.filter((o) => o.color === m?.[1]).length]!;
  if ((m = /^where is the (\w+) (\w+)$/.exec(question))) return at(the(seen, (o) => o.color === m?.[1] && o.shape === m?.[2]));
  if ((m = /^is the (\w+) (\w+) (left of|right of|above|below) the (\w+) (\w+)$/.exec(question))) {
    const a = the(seen, (o) => o.color === m?.[1] && o.shape === m?.[2]);
    const b = the(seen, (o) => o.color === m?.[4] && o.shape === m?.[5]);
    const holds = { 'left of': a.col < b.col, 'right of': a.col > b.col, above: a.row < b.row, below: a.row > b.row }[m[3]!];
    return holds ? 'yes' : 'no';
  }
  throw new Error(`unrecognized question '${question}'`);
}

const questionOf = (s: ImageSample): string => (s.turns[0]?.prompt ?? '').replace('<image> ', '');

describe('procedural dataset', () => {
  it('sample i is a pure function of (seed, split, task, i)', () => {
    const a = proceduralSamples(opts, 'train', 'qa', 10, 5);
    const b = proceduralSamples(opts, 'train', 'qa', 10, 5);
    expect(a).toEqual(b);
    expect(proceduralSample(opts, 'train', 'qa', 12)).toEqual(a[2]);
    const other = proceduralSample({ seed: 43 }, 'train', 'qa', 12);
    expect(other.image.pixels).not.toEqual(a[2]?.image.pixels);
    expect(proceduralSample(opts, 'eval', 'qa', 12).image.pixels).not.toEqual(a[2]?.image.pixels);
  });

  it('answers are right for the rendered image (read back from the pixels)', () => {
    for (const split of ['train', 'eval'] as const) {
      for (const s of proceduralSamples(opts, split, 'qa', 0, 150)) {
        const seen = perceive(s.image.pixels, s.image.size);
        expect(answer(questionOf(s), seen), `${s.id}: ${questionOf(s)}`).toBe(s.turns[0]?.answer);
      }
    }
  });

  it('captions list every object of the image, row-major', () => {
    for (const s of proceduralSamples(opts, 'train', 'caption', 0, 60)) {
      const seen = perceive(s.image.pixels, s.image.size);
      expect(s.turns[0]?.prompt).toBe('<image> describe the image');
      expect(s.turns[0]?.answer).toBe(seen.map((o) => `${o.color} ${o.shape} ${at(o)}`).join(' and '));
    }
  });

  it('cycles through the question kinds and covers 1 to 3 objects', () => {
    const samples = proceduralSamples(opts, 'train', 'qa', 0, 100);
    expect(samples.map((s) => s.kind)).toEqual(samples.map((_, i) => kindOfIndex(i)));
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(QUESTION_KINDS));
    const counts = new Set(samples.map((s) => perceive(s.image.pixels, 32).length));
    expect(counts).toEqual(new Set([1, 2, 3]));
    const relation = samples.filter((s) => s.kind === 'relation').map((s) => s.turns[0]?.answer);
    expect(relation.filter((a) => a === 'yes').length).toBeGreaterThan(5);
    expect(relation.filter((a) => a === 'no').length).toBeGreaterThan(5);
  });

  it('holds out eval layouts: no eval image repeats a training layout', () => {
    const layout = (s: ImageSample): string =>
      perceive(s.image.pixels, 32)
        .map((o) => `${o.row}${o.col}${o.color}${o.shape}`)
        .join('|');
    const train = new Set(proceduralSamples(opts, 'train', 'qa', 0, 400).map(layout));
    const evalLayouts = proceduralSamples(opts, 'eval', 'qa', 0, 200).map(layout);
    expect(evalLayouts.filter((l) => train.has(l))).toEqual([]);
  });

  it('every text fits the split length and uses only vocabulary words', () => {
    const vocab = new Set(PROCEDURAL_WORDS);
    for (const task of ['qa', 'caption'] as const) {
      let longest = 0;
      for (const split of ['train', 'eval'] as const) {
        for (const s of proceduralSamples(opts, split, task, 0, 300)) {
          const enc = encodeSample(tok, s);
          expect(enc.tokens.includes(tok.unk), s.id).toBe(false);
          longest = Math.max(longest, enc.tokens.length - 1);
          for (const t of s.turns) for (const w of `${t.prompt} ${t.answer}`.split(' ')) if (w !== '<image>') expect(vocab.has(w), w).toBe(true);
        }
      }
      expect(longest).toBeLessThanOrEqual(TEXT_LENGTH[task]);
      expect(longest).toBeGreaterThanOrEqual(TEXT_LENGTH[task] - 1);
    }
  });
});

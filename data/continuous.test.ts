import { describe, expect, it } from 'vitest';
import { hashKey, rng } from '../models/random.js';
import {
  askContinuous,
  CELL_COVERAGE,
  CONTINUOUS_COLORS,
  CONTINUOUS_IMAGE_SIZE,
  CONTINUOUS_SHAPES,
  type ContinuousScene,
  cellObjects,
  cellShapeWords,
  continuousCaption,
  continuousSample,
  continuousSplitOf,
  continuousTokenizer,
  coversContinuous,
  DEFAULT_DIFFICULTY,
  HUES,
  hsvToRgb,
  regionOf,
  renderContinuousScene,
  sampleContinuousScene,
} from './continuous.js';
import { encodeSample } from './encode.js';
import { PROCEDURAL_WORDS, proceduralTokenizer, TEXT_LENGTH } from './procedural.js';
import { QUESTION_KINDS } from './questions.js';
import { encode } from './tokenizer.js';

const tok = continuousTokenizer(PROCEDURAL_WORDS);
const scenes = (n: number): ContinuousScene[] =>
  Array.from({ length: n }, (_, i) => sampleContinuousScene(rng(hashKey(3, 'scene', i)), CONTINUOUS_IMAGE_SIZE, 1 + (i % 3))).filter(
    (s): s is ContinuousScene => s !== undefined,
  );

describe('the continuous world', () => {
  it("keeps the grid world's token ids and adds its own words after them", () => {
    const grid = proceduralTokenizer();
    expect(tok.vocab.slice(0, grid.vocab.length)).toEqual(grid.vocab);
    expect(tok.vocab.slice(grid.vocab.length)).toEqual(['orange', 'cyan', 'pink', 'diamond', 'diamonds']);
  });

  it('samples are pure functions of (seed, split, task, index), and differ between seeds', () => {
    const a = continuousSample({ seed: 1 }, 'train', 'qa', 17);
    expect(continuousSample({ seed: 1 }, 'train', 'qa', 17)).toEqual(a);
    expect(continuousSample({ seed: 2 }, 'train', 'qa', 17).image.pixels).not.toEqual(a.image.pixels);
  });

  it('every sample fits the text lengths, uses only known words, and question types cycle', () => {
    for (const task of ['caption', 'qa'] as const) {
      for (let i = 0; i < 100; i++) {
        const s = continuousSample({ seed: 0 }, i % 4 === 0 ? 'eval' : 'train', task, i);
        const text = `${s.turns[0]!.prompt} ${s.turns[0]!.answer}`;
        expect(encode(tok, text)).not.toContain(tok.unk);
        expect(encodeSample(tok, s).tokens.length - 1).toBeLessThanOrEqual(TEXT_LENGTH[task]);
        expect(s.image.size).toBe(CONTINUOUS_IMAGE_SIZE);
        expect(s.kind).toBe(task === 'caption' ? 'caption' : QUESTION_KINDS[i % 5]);
      }
    }
  });

  it('holds out layouts: no eval scene shares its coarse layout split with training', () => {
    for (const scene of scenes(200)) {
      const split = continuousSplitOf(0, scene);
      expect(split === 'eval' || split === 'train').toBe(true);
      expect(continuousSplitOf(0, { ...scene, objects: [...scene.objects].reverse() })).toBe(split);
    }
    const share = scenes(2000).filter((s) => continuousSplitOf(0, s) === 'eval').length / 2000;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.25);
  });

  it('objects are spread over continuous positions, regions and sizes, and do not line up with patches', () => {
    const objects = scenes(400).flatMap((s) => s.objects);
    const fracX = objects.map((o) => (o.cx / 4) % 1);
    // Centres fall anywhere within a patch, not at its middle.
    expect(fracX.filter((f) => f < 0.25).length).toBeGreaterThan(objects.length / 8);
    const radii = objects.map((o) => o.radius);
    expect(Math.min(...radii)).toBeLessThan(3.2);
    expect(Math.max(...radii)).toBeGreaterThan(4.8);
    const regions = new Set(objects.map((o) => JSON.stringify(regionOf(o, CONTINUOUS_IMAGE_SIZE))));
    expect(regions.size).toBe(4);
  });

  it("renders each object in a hue near its word's: nearest hue word of the object's colour is its colour", () => {
    for (const s of scenes(100)) {
      for (const o of s.objects) {
        const [r, g, b] = o.rgb;
        const max = Math.max(r, g, b);
        const min = Math.min(r, g, b);
        const d = max - min;
        let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
        h = (h * 60 + 360) % 360;
        const dist = (c: (typeof CONTINUOUS_COLORS)[number]) => Math.min(Math.abs(h - HUES[c]), 360 - Math.abs(h - HUES[c]));
        const nearest = [...CONTINUOUS_COLORS].sort((x, y) => dist(x) - dist(y))[0];
        expect(nearest).toBe(o.color);
        expect(dist(o.color)).toBeLessThanOrEqual(DEFAULT_DIFFICULTY.hueJitter + 1e-6);
      }
    }
    expect(hsvToRgb(120, 1, 1)).toEqual([0, 1, 0]);
  });

  it("the pixels under an object's centre are its colour (up to noise), the corners background", () => {
    for (const s of scenes(60)) {
      const pixels = renderContinuousScene(s, rng(1), 0);
      const top = [...s.objects].reverse();
      for (const o of s.objects) {
        const x = Math.floor(o.cx);
        const y = Math.floor(o.cy);
        const owner = top.find((p) => coversContinuous(p, x + 0.5, y + 0.5));
        if (owner !== o || o.radius < 2.2) continue;
        // The centre pixel is fully inside a shape of radius ≥ 2.2 unless another covers it.
        const i = (y * CONTINUOUS_IMAGE_SIZE + x) * 3;
        const inside = [0, 1, 2].every((c) => Math.abs((pixels[i + c] as number) - (o.rgb[c] as number)) < 0.35);
        expect(inside).toBe(true);
      }
    }
  });

  it('visual labels name the shape of the topmost object filling at least a quarter of each 4×4 cell, and nothing over background', () => {
    let labelled = 0;
    for (const scene of scenes(200)) {
      const { side, words } = cellShapeWords(scene, 4);
      expect(side).toBe(6);
      expect(words).toHaveLength(36);
      words.forEach((word, k) => {
        const [gy, gx] = [Math.floor(k / 6), k % 6];
        // Which object shows at each of the cell's 16 pixel centres (the last drawn on top).
        const shown = new Map<number, number>();
        for (let y = gy * 4; y < gy * 4 + 4; y++) {
          for (let x = gx * 4; x < gx * 4 + 4; x++) {
            const top = scene.objects.findLastIndex((o) => coversContinuous(o, x + 0.5, y + 0.5));
            if (top >= 0) shown.set(top, (shown.get(top) ?? 0) + 1);
          }
        }
        const most = Math.max(0, ...shown.values());
        if (most < CELL_COVERAGE * 16) expect(word).toBeNull();
        else {
          labelled++;
          const owners = [...shown].filter(([, n]) => n === most).map(([i]) => scene.objects[i]!.shape);
          expect(owners).toContain(word);
        }
      });
      // The cell under a visible object's centre pixel is labelled with its shape.
      for (const o of scene.objects) {
        const [x, y] = [Math.floor(o.cx), Math.floor(o.cy)];
        const k = Math.floor(y / 4) * 6 + Math.floor(x / 4);
        const sameCell = scene.objects.filter((p) => p !== o && Math.floor(p.cx / 4) === x >> 2 && Math.floor(p.cy / 4) === y >> 2);
        if (scene.objects.findLast((p) => coversContinuous(p, x + 0.5, y + 0.5)) === o && sameCell.length === 0) expect(words[k]).toBe(o.shape);
      }
    }
    expect(labelled).toBeGreaterThan(200 * 3);
    expect(() => cellShapeWords(scenes(1)[0]!, 5)).toThrow(/patch size 5 does not divide the image side 24/);
  });

  it('cell objects name which object each cell shows (so that two objects of one shape stay apart), and agree with the shape labels', () => {
    let twoOfOneShape = 0;
    for (const scene of scenes(200)) {
      const { side, objects } = cellObjects(scene, 4);
      const { words } = cellShapeWords(scene, 4);
      expect(side).toBe(6);
      objects.forEach((o, k) => expect(o === null ? null : scene.objects[o]!.shape).toBe(words[k]));
      // An object whose centre pixel is visible and alone in its cell is the object that cell shows.
      for (const [i, o] of scene.objects.entries()) {
        const [x, y] = [Math.floor(o.cx), Math.floor(o.cy)];
        const alone = scene.objects.every((p) => p === o || Math.floor(p.cx / 4) !== x >> 2 || Math.floor(p.cy / 4) !== y >> 2);
        if (alone && scene.objects.findLast((p) => coversContinuous(p, x + 0.5, y + 0.5)) === o) expect(objects[(y >> 2) * 6 + (x >> 2)]).toBe(i);
      }
      if (new Set(scene.objects.map((o) => o.shape)).size < scene.objects.length) twoOfOneShape++;
    }
    expect(twoOfOneShape).toBeGreaterThan(0);
    expect(() => cellObjects(scenes(1)[0]!, 7)).toThrow(/cellObjects: patch size 7 does not divide the image side 24/);
  });

  it('caption samples carry visual labels for the 6 × 6 tokens, in known words; questions carry none', () => {
    for (let i = 0; i < 20; i++) {
      const caption = continuousSample({ seed: 0 }, 'train', 'caption', i);
      expect(caption.visualLabels?.side).toBe(6);
      for (const w of caption.visualLabels!.words) if (w !== null) expect(CONTINUOUS_SHAPES).toContain(w);
      expect(continuousSample({ seed: 0 }, 'train', 'qa', i).visualLabels).toBeUndefined();
    }
  });

  it('answers agree with the scene', () => {
    const r = rng(5);
    for (const scene of scenes(300)) {
      for (const kind of QUESTION_KINDS) {
        const qa = askContinuous(r, scene, kind);
        if (qa === undefined) continue;
        const words = qa.question.split(' ');
        if (kind === 'position') {
          const o = scene.objects.find((x) => qa.question === `where is the ${x.color} ${x.shape}`)!;
          const { row, col } = regionOf(o, scene.imageSize);
          expect(qa.answer).toBe(`${row === 0 ? 'top' : 'bottom'} ${col === 0 ? 'left' : 'right'}`);
        }
        if (kind === 'count' && qa.question === 'how many shapes are there') expect(qa.answer).toBe(['zero', 'one', 'two', 'three'][scene.objects.length]);
        if (kind === 'color' && words.length === 5) {
          const shape = words[4] as (typeof CONTINUOUS_SHAPES)[number];
          expect(scene.objects.filter((o) => o.shape === shape).map((o) => o.color)).toEqual([qa.answer]);
        }
        if (kind === 'relation') {
          const [a, b] = [words.slice(2, 4).join(' '), words.slice(-2).join(' ')].map((n) => scene.objects.find((o) => `${o.color} ${o.shape}` === n)!);
          const left = qa.question.includes(' left of ');
          const right = qa.question.includes(' right of ');
          const truth = left ? a!.cx < b!.cx : right ? a!.cx > b!.cx : qa.question.includes(' above ') ? a!.cy < b!.cy : a!.cy > b!.cy;
          expect(qa.answer).toBe(truth ? 'yes' : 'no');
        }
      }
      expect(continuousCaption(scene).split(' and ').length).toBe(scene.objects.length);
    }
  });

  it('yes and no are balanced in relation questions, and every colour and shape is asked about', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => continuousSample({ seed: 0 }, 'eval', 'qa', i));
    const relation = samples.filter((s) => s.kind === 'relation').map((s) => s.turns[0]!.answer);
    const yes = relation.filter((a) => a === 'yes').length / relation.length;
    expect(yes).toBeGreaterThan(0.4);
    expect(yes).toBeLessThan(0.6);
    const colors = new Set(samples.filter((s) => s.kind === 'color').map((s) => s.turns[0]!.answer));
    expect([...colors].sort()).toEqual([...CONTINUOUS_COLORS].sort());
    const shapes = new Set(samples.filter((s) => s.kind === 'shape').map((s) => s.turns[0]!.answer));
    expect([...shapes].sort()).toEqual([...CONTINUOUS_SHAPES].sort());
  });

  it("near hues are confusable by construction: an ideal observer of an object's visible pixels errs only towards hue-neighbours", () => {
    // Mean of the pixels where the object is on top, nearest colour word by hue. Jitter (±15°)
    // meets the neighbours' halfway between 30°-apart words, and noise blurs the boundary.
    let seen = 0;
    let wrong = 0;
    let wrongNear = 0;
    for (let i = 0; i < 800; i++) {
      const r = rng(hashKey(9, 'observer', i));
      const scene = sampleContinuousScene(r, CONTINUOUS_IMAGE_SIZE, 1 + (i % 3));
      if (scene === undefined) continue;
      const pixels = renderContinuousScene(scene, r, DEFAULT_DIFFICULTY.noise);
      const top = [...scene.objects].reverse();
      for (const o of scene.objects) {
        const sum = [0, 0, 0];
        let m = 0;
        for (let y = 0; y < CONTINUOUS_IMAGE_SIZE; y++) {
          for (let x = 0; x < CONTINUOUS_IMAGE_SIZE; x++) {
            if (top.find((p) => coversContinuous(p, x + 0.5, y + 0.5)) !== o) continue;
            m++;
            for (let c = 0; c < 3; c++) sum[c]! += pixels[(y * CONTINUOUS_IMAGE_SIZE + x) * 3 + c]!;
          }
        }
        if (m === 0) continue;
        const [red, green, blue] = sum.map((v) => v / m) as [number, number, number];
        const max = Math.max(red, green, blue);
        const d = max - Math.min(red, green, blue);
        const h = ((max === red ? ((green - blue) / d) % 6 : max === green ? (blue - red) / d + 2 : (red - green) / d + 4) * 60 + 360) % 360;
        const dist = (c: (typeof CONTINUOUS_COLORS)[number]) => Math.min(Math.abs(h - HUES[c]), 360 - Math.abs(h - HUES[c]));
        const guess = [...CONTINUOUS_COLORS].sort((a, b) => dist(a) - dist(b))[0]!;
        seen++;
        if (guess === o.color) continue;
        wrong++;
        const ring = Math.abs(CONTINUOUS_COLORS.indexOf(guess) - CONTINUOUS_COLORS.indexOf(o.color));
        if (Math.min(ring, CONTINUOUS_COLORS.length - ring) === 1) wrongNear++;
      }
    }
    expect(seen).toBeGreaterThan(1200);
    expect(wrong).toBeGreaterThan(0);
    expect(wrong / seen).toBeLessThan(0.03);
    expect(wrongNear).toBe(wrong);
  });
});

import { describe, expect, it } from 'vitest';
import { configErrors, patchWindow, type VisionConfig } from './config.js';
import { CONTINUOUS_VISION, DEMO_VISION } from './presets.js';
import { patchify } from './vision.js';

/** An image whose pixel (x, y), channel k holds a value that names it: (100·y + 10·x + k) / 10⁴. */
function namedImage(size: number, channels: number): Float32Array {
  const out = new Float32Array(size * size * channels);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) for (let k = 0; k < channels; k++) out[(y * size + x) * channels + k] = (100 * y + 10 * x + k) / 1e4;
  return out;
}
const centred = (v: number) => v * 2 - 1;

describe('patchify', () => {
  const v: VisionConfig = { imageSize: 8, patchSize: 4, channels: 2, width: 4, layers: 1, heads: 1, mlpRatio: 1 };
  it('without overlap, each patch is its cell, row by row, pixel by pixel, channel by channel', () => {
    const out = patchify(namedImage(8, 2), 1, v);
    expect(out.length).toBe(4 * 4 * 4 * 2);
    // Patch 1 (top row, right cell): its first value is pixel (4, 0) channel 0; its 9th pixel (4, 1).
    const patch1 = out.subarray(32, 64);
    expect(patch1[0]).toBeCloseTo(centred(40 / 1e4), 7);
    expect(patch1[8]).toBeCloseTo(centred((100 + 40) / 1e4), 7);
  });

  it('with overlap, each patch is the wider window centred on its cell, zero past the image', () => {
    const wide = { ...v, patchOverlap: 1 };
    expect(patchWindow(wide)).toBe(6);
    const out = patchify(namedImage(8, 2), 1, wide);
    expect(out.length).toBe(4 * 6 * 6 * 2);
    const patch = (i: number) => out.subarray(i * 72, (i + 1) * 72);
    const at = (p: Float32Array, x: number, y: number, k: number) => p[(y * 6 + x) * 2 + k];
    // Patch 0's window starts one pixel above and left of the image: zeros there.
    expect(at(patch(0), 0, 0, 0)).toBe(0);
    expect(at(patch(0), 5, 0, 1)).toBe(0);
    // Its window pixel (1, 1) is image pixel (0, 0); (5, 5) is image pixel (4, 4), inside patch 3's cell.
    expect(at(patch(0), 1, 1, 0)).toBeCloseTo(centred(0), 7);
    expect(at(patch(0), 5, 5, 1)).toBeCloseTo(centred((400 + 40 + 1) / 1e4), 7);
    // Patch 3 (bottom right) reaches one pixel up-left into its neighbours and one past the image.
    expect(at(patch(3), 0, 0, 0)).toBeCloseTo(centred((300 + 30) / 1e4), 7);
    expect(at(patch(3), 5, 5, 0)).toBe(0);
  });

  it('the shipped worlds: the grid embeds plain 8 × 8 patches, the continuous world 8 × 8 windows around 4 × 4 cells', () => {
    expect(patchWindow(DEMO_VISION)).toBe(8);
    expect(patchWindow(CONTINUOUS_VISION)).toBe(8);
    expect(CONTINUOUS_VISION.imageSize / CONTINUOUS_VISION.patchSize).toBe(6);
  });

  it('an overlap that is not a non-negative integer is a configuration error naming it', () => {
    const config = (patchOverlap: number) => ({
      name: 'm',
      vision: { ...v, patchOverlap },
      projector: { hidden: 4, pool: 1 },
      llm: { vocabSize: 5, width: 4, layers: 1, heads: 1, mlpRatio: 1, maxSeqLen: 20 },
    });
    expect(configErrors(config(-1))).toEqual(['m.vision.patchOverlap: must be a non-negative integer, got -1']);
    expect(configErrors(config(0.5))).toEqual(['m.vision.patchOverlap: must be a non-negative integer, got 0.5']);
    expect(configErrors(config(0))).toEqual([]);
  });
});

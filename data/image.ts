import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

/**
 * Image decoding (PNG with pngjs, JPEG with jpeg-js; the format is read from the file's magic
 * bytes, not its extension) and resizing to the model's square input.
 */

/** Decoded 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Decodes PNG or JPEG bytes to RGBA; throws with the decoder's reason when that fails. */
export function decodeImage(bytes: Uint8Array): RgbaImage {
  const format = sniffFormat(bytes);
  if (format === undefined) throw new Error('not a PNG or JPEG file (unrecognized signature)');
  if (format === 'png') {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  // Limits guard against decompression bombs in user data.
  const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 512 });
  return { width: jpg.width, height: jpg.height, data: jpg.data };
}

/**
 * Resampling weights along one axis, from `inSize` samples to `outSize`: for each output index,
 * the input indices and weights (summing to 1). Shrinking averages each output pixel's footprint
 * (area filter, no aliasing); enlarging interpolates linearly between pixel centres.
 */
function axisWeights(inSize: number, outSize: number): { idx: number[]; w: number[] }[] {
  const scale = inSize / outSize;
  const out: { idx: number[]; w: number[] }[] = [];
  for (let o = 0; o < outSize; o++) {
    const idx: number[] = [];
    const w: number[] = [];
    if (scale >= 1) {
      const lo = o * scale;
      const hi = lo + scale;
      for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
        const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
        if (overlap > 0) {
          idx.push(i);
          w.push(overlap / scale);
        }
      }
    } else {
      const centre = (o + 0.5) * scale - 0.5;
      const i0 = Math.max(0, Math.min(inSize - 1, Math.floor(centre)));
      const i1 = Math.min(inSize - 1, i0 + 1);
      const f = Math.max(0, Math.min(1, centre - i0));
      idx.push(i0, i1);
      w.push(1 - f, f);
    }
    out.push({ idx, w });
  }
  return out;
}

/**
 * Resizes to size × size RGB in [0, 1] (alpha is dropped, as PIL's `convert('RGB')` does in
 * LLaVA's loaders; non-square images are stretched, LLaVA's `image_aspect_ratio` 'square' without padding).
 * Returns [size·size·3], row-major HWC.
 */
export function toRgbSquare(image: RgbaImage, size: number): Float32Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new Error(`image data has ${data.length} bytes, expected ${width}×${height}×4`);
  const xs = axisWeights(width, size);
  const ys = axisWeights(height, size);
  // Separable: resample rows first into [height, size, 3], then columns.
  const rows = new Float32Array(height * size * 3);
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < size; ox++) {
      const { idx, w } = xs[ox] as { idx: number[]; w: number[] };
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < idx.length; k++) acc += (w[k] as number) * (data[(y * width + (idx[k] as number)) * 4 + c] as number);
        rows[(y * size + ox) * 3 + c] = acc;
      }
    }
  }
  const out = new Float32Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    const { idx, w } = ys[oy] as { idx: number[]; w: number[] };
    for (let ox = 0; ox < size; ox++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < idx.length; k++) acc += (w[k] as number) * (rows[((idx[k] as number) * size + ox) * 3 + c] as number);
        out[(oy * size + ox) * 3 + c] = acc / 255;
      }
    }
  }
  return out;
}

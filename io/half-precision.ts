/**
 * IEEE binary16 (float16) and bfloat16, as raw 16-bit patterns.
 *
 * Host tensors keep half-precision data as raw bits (see `host-tensor.ts`); these functions
 * decode them to numbers and encode numbers to them, rounding to nearest, ties to even,
 * directly from the float64 value (no intermediate float32, so no double rounding).
 *
 *     float16:  1 sign, 5 exponent (bias 15),  10 fraction bits; max 65504
 *     bfloat16: 1 sign, 8 exponent (bias 127),  7 fraction bits; the top half of a float32
 */

/** The value of float16 bit pattern `bits` (exact in float32). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

const scratch = new DataView(new ArrayBuffer(4));

/** The value of bfloat16 bit pattern `bits` (exact in float32). */
export function bfloat16BitsToNumber(bits: number): number {
  scratch.setUint32(0, ((bits & 0xffff) << 16) >>> 0);
  return scratch.getFloat32(0);
}

/** `x` rounded to the nearest float16, as its bit pattern (NaN → the quiet NaN 0x7e00, signed). */
export function numberToFloat16Bits(x: number): number {
  return encode(x, 5, 10);
}

/** `x` rounded to the nearest bfloat16, as its bit pattern (NaN → the quiet NaN 0x7fc0, signed). */
export function numberToBfloat16Bits(x: number): number {
  return encode(x, 8, 7);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** floor(log2(a)) for finite a > 0, exactly (Math.log2 may be off by one near powers of 2). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return e;
}

function encode(x: number, exponentBits: number, fractionBits: number): number {
  const bias = 2 ** (exponentBits - 1) - 1;
  const maxField = 2 ** exponentBits - 1;
  const sign = x < 0 || Object.is(x, -0) ? 1 << (exponentBits + fractionBits) : 0;
  const infinity = sign | (maxField << fractionBits);
  if (Number.isNaN(x)) return sign | (maxField << fractionBits) | (1 << (fractionBits - 1));
  const a = Math.abs(x);
  if (a === Infinity) return infinity;
  const minNormalExponent = 1 - bias;
  if (a < 2 ** minNormalExponent) {
    // Subnormal: a multiple of 2^(minNormalExponent - fractionBits). Rounding up to
    // 2^fractionBits gives the smallest normal, whose pattern is exactly that integer.
    return sign | roundHalfEven(a * 2 ** (fractionBits - minNormalExponent));
  }
  let e = exponentOf(a);
  let m = roundHalfEven(a * 2 ** (fractionBits - e)); // in [2^f, 2^(f+1)]
  if (m === 2 ** (fractionBits + 1)) {
    m /= 2;
    e++;
  }
  if (e > bias) return infinity;
  return sign | ((e + bias) << fractionBits) | (m - 2 ** fractionBits);
}

import { describe, expect, it } from 'vitest';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half-precision.js';

describe('float16', () => {
  it('decodes known patterns', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x0400)).toBe(2 ** -14);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
    expect(float16BitsToNumber(0x2e66)).toBe(0.0999755859375);
  });
  it('encode(decode(bits)) is the identity on all 65536 patterns except NaN payloads', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = float16BitsToNumber(bits);
      if (Number.isNaN(x)) expect(numberToFloat16Bits(x) & 0x7fff).toBe(0x7e00);
      else expect(numberToFloat16Bits(x)).toBe(bits);
    }
  });
  it('rounds to nearest, ties to even, and overflows to infinity past 65520', () => {
    expect(numberToFloat16Bits(0.1)).toBe(0x2e66);
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1.0)
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (1 + 2^-9)
    expect(numberToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00);
    expect(numberToFloat16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal → 0
    expect(numberToFloat16Bits(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(numberToFloat16Bits(-(2 ** -14) * (1 - 2 ** -12))).toBe(0x8400); // rounds up to the smallest normal
  });
});

describe('bfloat16', () => {
  it('decodes and encodes known patterns', () => {
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0x4049)).toBe(3.140625);
    expect(numberToBfloat16Bits(Math.PI)).toBe(0x4049);
    expect(numberToBfloat16Bits(-2)).toBe(0xc000);
    expect(numberToBfloat16Bits(3.4e38)).toBe(0x7f80); // rounds past the largest bfloat16
    expect(numberToBfloat16Bits(NaN)).toBe(0x7fc0);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
  });
  it('encode(decode(bits)) is the identity on all non-NaN patterns', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = bfloat16BitsToNumber(bits);
      if (!Number.isNaN(x)) expect(numberToBfloat16Bits(x)).toBe(bits);
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toFloat32, toFloat64, toInt32 } from './convert.js';
import { TensorFileError } from './errors.js';
import { numberToBfloat16Bits, numberToFloat16Bits } from './half-precision.js';
import type { HostTensor } from './host-tensor.js';

const S = 'x.safetensors';

describe('toFloat32', () => {
  it('converts every dtype', () => {
    const cases: Array<[HostTensor, number[]]> = [
      [{ dtype: 'float64', shape: [2], data: new Float64Array([0.1, -3]) }, [Math.fround(0.1), -3]],
      [{ dtype: 'float16', shape: [2], data: Uint16Array.from([1.5, -0.25], numberToFloat16Bits) }, [1.5, -0.25]],
      [{ dtype: 'bfloat16', shape: [2], data: Uint16Array.from([1.5, -0.25], numberToBfloat16Bits) }, [1.5, -0.25]],
      [{ dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 40n), 3n]) }, [-(2 ** 40), 3]],
      [{ dtype: 'int32', shape: [1], data: new Int32Array([-7]) }, [-7]],
      [{ dtype: 'int16', shape: [1], data: new Int16Array([300]) }, [300]],
      [{ dtype: 'int8', shape: [1], data: new Int8Array([-128]) }, [-128]],
      [{ dtype: 'uint8', shape: [1], data: new Uint8Array([255]) }, [255]],
      [{ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }, [1, 0]],
    ];
    for (const [t, expected] of cases) expect(Array.from(toFloat32(t, 'w', S)), t.dtype).toEqual(expected);
  });
  it("returns a float32 tensor's own array", () => {
    const data = new Float32Array([1, 2]);
    expect(toFloat32({ dtype: 'float32', shape: [2], data }, 'w', S)).toBe(data);
  });
  it('names the first float64 value outside the float32 range', () => {
    const t: HostTensor = { dtype: 'float64', shape: [2, 2], data: new Float64Array([1, Infinity, 2, 1e39]) };
    expect(() => toFloat32(t, 'w', S)).toThrow(TensorFileError);
    expect(() => toFloat32(t, 'w', S)).toThrow('x.safetensors: tensor "w": float64 element [1, 1] = 1e+39 is outside the float32 range');
  });
  it('rejects a malformed tensor', () => {
    const t: HostTensor = { dtype: 'float32', shape: [3], data: new Float32Array(2) };
    expect(() => toFloat32(t, 'w', S)).toThrow('x.safetensors: tensor "w": data has 2 elements, but shape [3] needs 3');
  });
});

describe('toInt32', () => {
  it('converts integer-valued tensors of every dtype', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 8 }), (xs) => {
        const shape = [xs.length];
        expect(Array.from(toInt32({ dtype: 'float64', shape, data: Float64Array.from(xs) }, 'w', S))).toEqual(xs);
        expect(Array.from(toInt32({ dtype: 'int64', shape, data: BigInt64Array.from(xs, BigInt) }, 'w', S))).toEqual(xs);
      }),
    );
    expect(Array.from(toInt32({ dtype: 'bool', shape: [2], data: new Uint8Array([0, 1]) }, 'w', S))).toEqual([0, 1]);
    expect(Array.from(toInt32({ dtype: 'float16', shape: [1], data: Uint16Array.of(numberToFloat16Bits(-3)) }, 'w', S))).toEqual([-3]);
    expect(Array.from(toInt32({ dtype: 'uint8', shape: [1], data: Uint8Array.of(255) }, 'w', S))).toEqual([255]);
  });
  it('names the first int64 value out of int32 range', () => {
    const t: HostTensor = { dtype: 'int64', shape: [3], data: new BigInt64Array([1n, 2n ** 31n, -(2n ** 40n)]) };
    expect(() => toInt32(t, 'ids', S)).toThrow('x.safetensors: tensor "ids": int64 element [1] = 2147483648 is outside the int32 range');
  });
  it('names the first non-integer float (NaN and infinities included)', () => {
    const t: HostTensor = { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 2.5, NaN]) };
    expect(() => toInt32(t, 'labels', S)).toThrow('x.safetensors: tensor "labels": float32 element [1, 0] = 2.5 is not an integer');
    const u: HostTensor = { dtype: 'float64', shape: [1], data: new Float64Array([NaN]) };
    expect(() => toInt32(u, 'labels', S)).toThrow('float64 element [0] = NaN is not an integer');
    const v: HostTensor = { dtype: 'float64', shape: [1], data: new Float64Array([-Infinity]) };
    expect(() => toInt32(v, 'labels', S)).toThrow('float64 element [0] = -Infinity is not an integer');
  });
  it('names the first float out of int32 range', () => {
    const t: HostTensor = { dtype: 'float64', shape: [1], data: new Float64Array([2 ** 31]) };
    expect(() => toInt32(t, 'labels', S)).toThrow('float64 element [0] = 2147483648 is outside the int32 range');
  });
});

describe('toFloat64', () => {
  it('is exact, and refuses int64 beyond 2^53', () => {
    const t: HostTensor = { dtype: 'int64', shape: [2], data: new BigInt64Array([2n ** 53n, 2n ** 53n + 1n]) };
    expect(() => toFloat64(t, 'n', S)).toThrow('int64 element [1] = 9007199254740993 is not exactly representable as float64');
    expect(Array.from(toFloat64({ dtype: 'float32', shape: [1], data: new Float32Array([0.1]) }, 'w', S))).toEqual([Math.fround(0.1)]);
  });
});

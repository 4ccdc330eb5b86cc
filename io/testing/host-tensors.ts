/**
 * fast-check arbitraries and comparisons for host tensors, shared by the io tests.
 * Not exported from `io/index.ts`.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { TensorFileError } from '../errors.js';
import { HOST_DTYPES, type HostData, type HostDType, type HostTensor, numel } from '../host-tensor.js';

/**
 * Expects `read` to throw a TensorFileError whose message names `file` first and contains
 * `message` (or matches it, for a RegExp).
 */
export function expectTensorFileError(read: () => unknown, file: string, message: string | RegExp): void {
  let error: unknown;
  try {
    read();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TensorFileError);
  const text = (error as Error).message;
  expect(text.startsWith(`${file}: `)).toBe(true);
  if (typeof message === 'string') expect(text).toContain(message);
  else expect(text).toMatch(message);
}

/** Shapes of rank 0 to 4 with dimensions 0 to 4, so empty tensors and scalars occur often. */
export const shapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/** Data of exactly `n` elements for `dtype`, covering the whole value range (NaN, ±Inf, -0 for floats). */
export function dataArb(dtype: HostDType, n: number): fc.Arbitrary<HostData> {
  const size = { minLength: n, maxLength: n };
  switch (dtype) {
    case 'float64':
      return fc.float64Array(size);
    case 'float32':
      return fc.float32Array(size);
    case 'float16':
    case 'bfloat16':
      return fc.array(fc.integer({ min: 0, max: 0xffff }), size).map((a) => Uint16Array.from(a));
    case 'int64':
      return fc.bigInt64Array(size);
    case 'int32':
      return fc.int32Array(size);
    case 'int16':
      return fc.int16Array(size);
    case 'int8':
      return fc.int8Array(size);
    case 'uint8':
      return fc.uint8Array(size);
    case 'bool':
      return fc.array(fc.boolean(), size).map((a) => Uint8Array.from(a, (b) => (b ? 1 : 0)));
  }
}

export function tensorArb(dtypes: readonly HostDType[] = HOST_DTYPES): fc.Arbitrary<HostTensor> {
  return fc
    .tuple(fc.constantFrom(...dtypes), shapeArb)
    .chain(([dtype, shape]) => dataArb(dtype, numel(shape)).map((data): HostTensor => ({ dtype, shape, data })));
}

/** The bytes behind a typed array (compares NaN payloads and -0 exactly). */
export function bytesOf(data: HostData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** True when `a` and `b` have the same dtype, shape and bytes. */
export function sameTensor(a: HostTensor, b: HostTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  if (!a.shape.every((d, i) => d === b.shape[i])) return false;
  if (a.data.constructor !== b.data.constructor) return false;
  const x = bytesOf(a.data);
  const y = bytesOf(b.data);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Little-endian u64 header length followed by `header` (UTF-8) and `data`: a raw safetensors file. */
export function rawSafetensors(header: string, data: ArrayLike<number> = [], declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** A raw .npy file: magic, version, header length, `header` (latin-1 or UTF-8 bytes as given) and `data`. */
export function rawNpy(header: string | Uint8Array, data: ArrayLike<number> = [], version: readonly [number, number] = [1, 0]): Uint8Array {
  const h = typeof header === 'string' ? Uint8Array.from(header, (c) => c.charCodeAt(0)) : header;
  const prelude = version[0] === 1 ? 10 : 12;
  const out = new Uint8Array(prelude + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version[0], version[1]]);
  const view = new DataView(out.buffer);
  if (prelude === 10) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(h, prelude);
  out.set(Array.from(data), prelude + h.length);
  return out;
}

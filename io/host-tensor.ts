/**
 * Host tensors: a dtype, a row-major shape and a flat typed array, living in JS memory.
 *
 * This is the common currency of `io/`: readers return host tensors, writers take them, and
 * the conversions in `convert.ts` turn them into what tfjs wants.
 *
 * Storage per dtype (one typed array class each, so a tensor's bytes round-trip exactly):
 *
 * | dtype     | data           | note                                             |
 * |-----------|----------------|--------------------------------------------------|
 * | float64   | Float64Array   |                                                  |
 * | float32   | Float32Array   |                                                  |
 * | float16   | Uint16Array    | raw IEEE half bits; decode with `toFloat32`      |
 * | bfloat16  | Uint16Array    | raw bfloat16 bits (upper half of a float32)      |
 * | int64     | BigInt64Array  | exact; no silent rounding through `number`       |
 * | int32     | Int32Array     |                                                  |
 * | int16     | Int16Array     |                                                  |
 * | int8      | Int8Array      |                                                  |
 * | uint8     | Uint8Array     |                                                  |
 * | bool      | Uint8Array     | every byte 0 or 1                                |
 *
 * Half-precision values stay raw on read (rather than being decoded to float32) so that
 * reading then writing a file gives back the same bytes, NaN payloads included.
 */
import { TensorFileError } from './errors.js';

export type HostDType = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type HostData = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array | Uint16Array;

/** A tensor on the host as tensor files hold it: a dtype, a row-major shape and its typed array. */
export interface HostTensor {
  readonly dtype: HostDType;
  /** Row-major (C order) dimensions; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** `prod(shape)` elements, of the class the table above gives for `dtype`. */
  readonly data: HostData;
}

/** Every host dtype, widest first. */
export const HOST_DTYPES: readonly HostDType[] = ['float64', 'int64', 'float32', 'int32', 'float16', 'bfloat16', 'int16', 'int8', 'uint8', 'bool'];

/** The floating-point dtypes, the ones a weight or an optimizer moment may be stored in. */
export const FLOAT_DTYPES: ReadonlySet<HostDType> = new Set(['float64', 'float32', 'float16', 'bfloat16']);

const ITEM_SIZE: Readonly<Record<HostDType, number>> = {
  float64: 8,
  int64: 8,
  float32: 4,
  int32: 4,
  float16: 2,
  bfloat16: 2,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Bytes per element of `dtype`. */
export function itemSize(dtype: HostDType): number {
  return ITEM_SIZE[dtype];
}

/** Allocates a zeroed array of `length` elements of the class that stores `dtype`. */
export function allocateData(dtype: HostDType, length: number): HostData {
  return dataOver(dtype, new ArrayBuffer(length * ITEM_SIZE[dtype]), 0, length);
}

/** A typed array of the class that stores `dtype`, viewing `length` elements of `buffer` at `byteOffset`. */
export function dataOver(dtype: HostDType, buffer: ArrayBufferLike, byteOffset: number, length: number): HostData {
  switch (dtype) {
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length);
  }
}

function isDataOf(dtype: HostDType, data: HostData): boolean {
  switch (dtype) {
    case 'float64':
      return data instanceof Float64Array;
    case 'float32':
      return data instanceof Float32Array;
    case 'float16':
    case 'bfloat16':
      return data instanceof Uint16Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'int16':
      return data instanceof Int16Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
  }
}

/**
 * The number of elements of `shape`, checking that every dimension is a non-negative safe
 * integer and that the product stays a safe integer. Returns a message instead of throwing
 * so that each format can wrap it with its own context.
 */
export function elementCount(shape: readonly unknown[]): number | string {
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return `shape[${i}] is ${describe(d)}, not a non-negative integer`;
    }
    n *= d;
    if (!Number.isSafeInteger(n)) return `shape [${shape.join(', ')}] has more than 2^53 elements`;
  }
  return n;
}

/** The element count of a shape already known to be valid. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `flat` as a multi-index of `shape`, e.g. `[1, 2]`, for error messages. */
export function formatIndex(flat: number, shape: readonly number[]): string {
  if (shape.length === 0) return '[]';
  const index = new Array<number>(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis]!;
    index[axis] = rest % d;
    rest = Math.floor(rest / d);
  }
  return `[${index.join(', ')}]`;
}

/** A short rendering of an arbitrary JSON-ish value for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'bigint') return `${value}n`;
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const DTYPE_SET: ReadonlySet<string> = new Set(HOST_DTYPES);

/**
 * Checks that `tensor` is a well-formed host tensor: a known dtype, a valid shape, data of
 * the right class and length, and booleans stored as 0 or 1. Throws a `TensorFileError`
 * naming `source` and `name` otherwise.
 */
export function checkHostTensor(tensor: HostTensor, name: string, source: string): void {
  if (!DTYPE_SET.has(tensor.dtype)) {
    throw new TensorFileError(source, `unknown dtype ${describe(tensor.dtype)}; expected one of ${HOST_DTYPES.join(', ')}`, name);
  }
  if (!Array.isArray(tensor.shape)) throw new TensorFileError(source, 'shape is not an array', name);
  const n = elementCount(tensor.shape);
  if (typeof n === 'string') throw new TensorFileError(source, n, name);
  if (!isDataOf(tensor.dtype, tensor.data)) {
    throw new TensorFileError(
      source,
      `dtype ${tensor.dtype} must be stored in a ${allocateData(tensor.dtype, 0).constructor.name}, got ${describeData(tensor.data)}`,
      name,
    );
  }
  if (tensor.data.length !== n) {
    throw new TensorFileError(source, `data has ${tensor.data.length} elements, but shape [${tensor.shape.join(', ')}] needs ${n}`, name);
  }
  if (tensor.dtype === 'bool') {
    const bad = firstNonBoolean(tensor.data as Uint8Array);
    if (bad >= 0) {
      throw new TensorFileError(source, `bool element ${formatIndex(bad, tensor.shape)} is ${(tensor.data as Uint8Array)[bad]}, not 0 or 1`, name);
    }
  }
}

function describeData(data: unknown): string {
  if (data === null || typeof data !== 'object') return describe(data);
  return (data as object).constructor?.name ?? 'an object';
}

/** The index of the first byte that is neither 0 nor 1, or -1. */
export function firstNonBoolean(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 1) return i;
  return -1;
}

/** Builds a host tensor and checks it; errors name `name` and the source "hostTensor". */
export function hostTensor(dtype: HostDType, shape: readonly number[], data: HostData, name = 'tensor'): HostTensor {
  const t: HostTensor = { dtype, shape: [...shape], data };
  checkHostTensor(t, name, 'hostTensor');
  return t;
}

/**
 * Conversions from any host tensor to the flat arrays tfjs takes (float32, int32) and to
 * float64 for reference computations. Every conversion is checked: a value that the target
 * cannot hold is an error naming the file, the tensor and the first offending element.
 */
import { TensorFileError } from './errors.js';
import { bfloat16BitsToNumber, float16BitsToNumber } from './half-precision.js';
import { checkHostTensor, formatIndex, type HostTensor } from './host-tensor.js';

/** Element `i` of `t` as a number (int64 rounded to the nearest double; f16/bf16 decoded). */
function numberAt(t: HostTensor, i: number): number {
  switch (t.dtype) {
    case 'float16':
      return float16BitsToNumber((t.data as Uint16Array)[i]!);
    case 'bfloat16':
      return bfloat16BitsToNumber((t.data as Uint16Array)[i]!);
    case 'int64':
      return Number((t.data as BigInt64Array)[i]!);
    default:
      return (t.data as Exclude<HostTensor['data'], BigInt64Array>)[i]!;
  }
}

/**
 * The elements of `t` as float32, in C order: float64 and int64 narrowed to the nearest
 * float32, float16/bfloat16 decoded (exactly), integers and bools (0/1) converted.
 * A finite float64 too large for float32 is an error rather than a silent ±Infinity.
 * A float32 tensor's own array is returned, not a copy.
 */
export function toFloat32(t: HostTensor, name: string, source: string): Float32Array {
  checkHostTensor(t, name, source);
  if (t.dtype === 'float32') return t.data as Float32Array;
  const n = t.data.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = numberAt(t, i);
    const y = Math.fround(x);
    if (!Number.isFinite(y) && Number.isFinite(x)) {
      throw new TensorFileError(
        source,
        `${t.dtype} element ${formatIndex(i, t.shape)} = ${x} is outside the float32 range (|x| ≤ 3.4028234663852886e38)`,
        name,
      );
    }
    out[i] = y;
  }
  return out;
}

const TWO_TO_53 = 2n ** 53n;

/**
 * The elements of `t` as float64, in C order. Exact for every dtype; int64 values beyond
 * ±2^53 (which a double cannot all hold) are an error, as a reference must not round silently.
 */
export function toFloat64(t: HostTensor, name: string, source: string): Float64Array {
  checkHostTensor(t, name, source);
  const n = t.data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'int64') {
      const v = (t.data as BigInt64Array)[i]!;
      if (v > TWO_TO_53 || v < -TWO_TO_53) {
        throw new TensorFileError(source, `int64 element ${formatIndex(i, t.shape)} = ${v} is not exactly representable as float64`, name);
      }
    }
    out[i] = numberAt(t, i);
  }
  return out;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The elements of `t` as int32, in C order. Integers outside [-2^31, 2^31 - 1] and floats that
 * are not integers (NaN and ±Infinity included) are errors naming the first such element.
 * Bools become 0/1. An int32 tensor's own array is returned, not a copy.
 */
export function toInt32(t: HostTensor, name: string, source: string): Int32Array {
  checkHostTensor(t, name, source);
  if (t.dtype === 'int32') return t.data as Int32Array;
  const n = t.data.length;
  const out = new Int32Array(n);
  if (t.dtype === 'int64') {
    const data = t.data as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX)) {
        throw new TensorFileError(source, `int64 element ${formatIndex(i, t.shape)} = ${v} is outside the int32 range`, name);
      }
      out[i] = Number(v);
    }
    return out;
  }
  const isFloat = t.dtype === 'float64' || t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16';
  for (let i = 0; i < n; i++) {
    const x = numberAt(t, i);
    if (isFloat && !Number.isInteger(x)) {
      throw new TensorFileError(source, `${t.dtype} element ${formatIndex(i, t.shape)} = ${x} is not an integer`, name);
    }
    if (x < INT32_MIN || x > INT32_MAX) {
      throw new TensorFileError(source, `${t.dtype} element ${formatIndex(i, t.shape)} = ${x} is outside the int32 range`, name);
    }
    out[i] = x;
  }
  return out;
}

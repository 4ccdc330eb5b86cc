/**
 * NumPy .npy files: read format versions 1.0, 2.0 and 3.0; write what `np.save` writes.
 *
 * Layout (numpy.lib.format):
 *
 *     "\x93NUMPY" major minor      6 + 2 bytes
 *     HEADER_LEN                   u16 LE (version 1.0) or u32 LE (2.0, 3.0)
 *     HEADER                       a Python dict literal, latin-1 (1.0, 2.0) or UTF-8 (3.0),
 *                                  {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *                                  padded with spaces and ended by "\n"
 *     DATA                         prod(shape) elements, C or Fortran order
 *
 * Dtypes read: `<f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 |b1` and the big-endian `>` forms (swapped to
 * host order on read). Fortran-ordered data are reordered to C order, so a `HostTensor` is
 * always row-major. Errors name the file and say what is wrong: bad magic, unsupported version
 * or dtype, a truncated prelude, header or data, trailing bytes, or a malformed header dict.
 *
 * The writer reproduces `np.save` byte for byte: sorted keys, numpy's 21-character growth
 * space after the shape, spaces and a newline up to a multiple of 64 bytes, version 1.0 unless
 * the header needs 2.0, little-endian C-order data. bfloat16 has no .npy dtype and is refused.
 */
import { type ByteOrder, decodeElements, littleEndianBytes } from './byte-order.js';
import { TensorFileError } from './errors.js';
import {
  allocateData,
  checkHostTensor,
  elementCount,
  firstNonBoolean,
  formatIndex,
  type HostData,
  type HostDType,
  type HostTensor,
  itemSize,
} from './host-tensor.js';
import { PyLiteralError, type PyValue, parsePyLiteral, showPy } from './npy-header.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

const FROM_DESCR: Readonly<Record<string, HostDType>> = {
  f8: 'float64',
  f4: 'float32',
  f2: 'float16',
  i8: 'int64',
  i4: 'int32',
  i2: 'int16',
  i1: 'int8',
  u1: 'uint8',
  b1: 'bool',
};

const TO_DESCR: Readonly<Record<HostDType, string | undefined>> = {
  float64: '<f8',
  float32: '<f4',
  float16: '<f2',
  bfloat16: undefined,
  int64: '<i8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
};

const SUPPORTED = '<f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 |b1 and their > (big-endian) forms';

interface NpyHeader {
  readonly dtype: HostDType;
  readonly order: ByteOrder;
  readonly fortran: boolean;
  readonly shape: readonly number[];
  readonly count: number;
}

/** Reads a whole .npy file held in `bytes`; `source` names the file in errors. */
export function readNpy(bytes: Uint8Array, source: string): HostTensor {
  const fail = (problem: string): never => {
    throw new TensorFileError(source, problem);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, too short for the 8-byte magic and version`);
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    fail(`bad magic: expected \\x93NUMPY, found ${hex(bytes.subarray(0, 6))}`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(minor === 0 && (major === 1 || major === 2 || major === 3))) {
    fail(`unsupported .npy format version ${major}.${minor} (mmkd reads 1.0, 2.0 and 3.0)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const prelude = 8 + lengthBytes;
  if (bytes.length < prelude) fail(`truncated: ${bytes.length} bytes, too short for the version ${major}.0 header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prelude + headerLength;
  if (dataStart > bytes.length) {
    fail(`truncated: the header declares ${headerLength} bytes but only ${bytes.length - prelude} follow`);
  }
  const header = parseHeader(decodeHeader(bytes.subarray(prelude, dataStart), major, source), source);

  const size = itemSize(header.dtype);
  const needed = header.count * size;
  const available = bytes.length - dataStart;
  const shapeText = `[${header.shape.join(', ')}]`;
  if (available < needed) {
    fail(`truncated: data are ${available} bytes, but shape ${shapeText} of ${header.dtype} needs ${needed}`);
  }
  if (available > needed) fail(`${available - needed} trailing bytes after the ${needed} bytes of data`);

  let data = decodeElements(bytes, dataStart, header.count, header.dtype, header.order);
  if (header.fortran && header.shape.length > 1) data = fortranToC(data, header.dtype, header.shape);
  if (header.dtype === 'bool') {
    const bad = firstNonBoolean(data as Uint8Array);
    if (bad >= 0) fail(`bool element ${formatIndex(bad, header.shape)} is byte ${(data as Uint8Array)[bad]}, not 0 or 1`);
  }
  return { dtype: header.dtype, shape: header.shape, data };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

function decodeHeader(raw: Uint8Array, major: number, source: string): string {
  if (major === 3) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new TensorFileError(source, 'malformed header: version 3.0 header is not valid UTF-8');
    }
  }
  // latin-1 maps each byte to the code point of the same value. (TextDecoder's "latin1" is
  // windows-1252, which differs in 0x80-0x9F, so it is not used.)
  let text = '';
  for (const b of raw) text += String.fromCharCode(b);
  return text;
}

function parseHeader(text: string, source: string): NpyHeader {
  const fail = (problem: string): never => {
    throw new TensorFileError(source, `malformed header: ${problem}`);
  };
  let literal: PyValue;
  try {
    literal = parsePyLiteral(text);
  } catch (e) {
    if (e instanceof PyLiteralError) return fail(e.message);
    throw e;
  }
  if (literal.kind !== 'dict') return fail(`expected a dict, got ${showPy(literal)}`);
  const fields = new Map<string, PyValue>();
  for (const [k, v] of literal.entries) {
    if (k.kind !== 'str') return fail(`dict key ${showPy(k)} is not a string`);
    if (k.value !== 'descr' && k.value !== 'fortran_order' && k.value !== 'shape') {
      return fail(`unexpected key '${k.value}' (expected exactly 'descr', 'fortran_order', 'shape')`);
    }
    if (fields.has(k.value)) return fail(`duplicate key '${k.value}'`);
    fields.set(k.value, v);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) if (!fields.has(key)) fail(`missing key '${key}'`);

  const descr = fields.get('descr')!;
  if (descr.kind === 'list') {
    throw new TensorFileError(source, `unsupported dtype: structured (record) dtypes are not supported; mmkd reads ${SUPPORTED}`);
  }
  if (descr.kind !== 'str') return fail(`'descr' must be a string, got ${showPy(descr)}`);
  const { dtype, order } = parseDescr(descr.value, source);

  const fortran = fields.get('fortran_order')!;
  if (fortran.kind !== 'bool') return fail(`'fortran_order' must be True or False, got ${showPy(fortran)}`);

  const shapeValue = fields.get('shape')!;
  if (shapeValue.kind !== 'tuple') return fail(`'shape' must be a tuple of integers, got ${showPy(shapeValue)}`);
  const shape: number[] = [];
  for (const d of shapeValue.items) {
    if (d.kind !== 'int') return fail(`'shape' must be a tuple of integers, got ${showPy(shapeValue)}`);
    shape.push(d.value);
  }
  const count = elementCount(shape);
  if (typeof count === 'string') return fail(`'shape' ${showPy(shapeValue)}: ${count}`);
  return { dtype, order, fortran: fortran.value, shape, count };
}

function parseDescr(descr: string, source: string): { dtype: HostDType; order: ByteOrder } {
  const unsupported = (why: string): never => {
    throw new TensorFileError(source, `unsupported dtype '${descr}'${why}; mmkd reads ${SUPPORTED}`);
  };
  const orderChar = descr[0];
  const dtype = FROM_DESCR[descr.slice(1)];
  if (dtype === undefined || (orderChar !== '<' && orderChar !== '>' && orderChar !== '|' && orderChar !== '=')) {
    return unsupported('');
  }
  if (itemSize(dtype) === 1) return { dtype, order: 'little' };
  if (orderChar === '|') return unsupported(' (a multi-byte dtype needs a byte order, < or >)');
  if (orderChar === '=') return unsupported(' ("=" means the writing machine\'s order, which the file does not record)');
  return { dtype, order: orderChar === '<' ? 'little' : 'big' };
}

/** Reorders column-major (Fortran) `data` of `shape` to row-major (C) order. */
function fortranToC(data: HostData, dtype: HostDType, shape: readonly number[]): HostData {
  const n = data.length;
  const out = allocateData(dtype, n);
  if (n === 0) return out;
  const size = itemSize(dtype);
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const rank = shape.length;
  const stride = new Array<number>(rank); // Fortran element strides: axis 0 is contiguous
  stride[0] = 1;
  for (let k = 1; k < rank; k++) stride[k] = stride[k - 1]! * shape[k - 1]!;
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let c = 0; c < n; c++) {
    dst.set(src.subarray(from * size, from * size + size), c * size);
    // Advance the C-order multi-index (last axis fastest) and the Fortran offset with it.
    let k = rank - 1;
    index[k]!++;
    from += stride[k]!;
    while (k > 0 && index[k] === shape[k]) {
      from -= shape[k]! * stride[k]!;
      index[k] = 0;
      k--;
      index[k]!++;
      from += stride[k]!;
    }
  }
  return out;
}

/** The header dict exactly as numpy's `repr`-based writer spells it. */
function headerText(descr: string, shape: readonly number[]): string {
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  // numpy leaves room to grow the first axis in place.
  if (shape.length > 0) text += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  return text;
}

/** Serializes `tensor` as `np.save` would (C order, little-endian). */
export function writeNpy(tensor: HostTensor): Uint8Array {
  const source = 'writeNpy';
  checkHostTensor(tensor, 'tensor', source);
  const descr = TO_DESCR[tensor.dtype];
  if (descr === undefined) {
    throw new TensorFileError(source, '.npy has no bfloat16 dtype; convert to float32 (toFloat32) or write safetensors', 'tensor');
  }
  const text = headerText(descr, tensor.shape);
  // The header is ASCII, so its byte length is its string length.
  let major = 1;
  let prelude = 10;
  let total = prelude + text.length + 1;
  let pad = ARRAY_ALIGN - (total % ARRAY_ALIGN);
  if (text.length + 1 + pad > 0xffff) {
    major = 2;
    prelude = 12;
    total = prelude + text.length + 1;
    pad = ARRAY_ALIGN - (total % ARRAY_ALIGN);
  }
  const headerLength = text.length + pad + 1;
  const data = littleEndianBytes(tensor.data);
  const out = new Uint8Array(prelude + headerLength + data.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < text.length; i++) out[prelude + i] = text.charCodeAt(i);
  out.fill(0x20, prelude + text.length, prelude + headerLength - 1);
  out[prelude + headerLength - 1] = 0x0a;
  out.set(data, prelude + headerLength);
  return out;
}

/**
 * safetensors: read and write, with every field of the header checked.
 *
 * Layout (https://github.com/huggingface/safetensors, "Format"):
 *
 *     [8 bytes]  N, little-endian u64: the header length
 *     [N bytes]  UTF-8 JSON, starting with "{", possibly padded with spaces:
 *                { "__metadata__"?: {string: string},
 *                  name: {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}, ... }
 *     [rest]     the data section; offsets are relative to its start, little-endian, C order
 *
 * The reader rejects, naming the file and the tensor: a header length past the end of the
 * file, a header over 100 MB (the reference implementation's limit), invalid UTF-8 or JSON,
 * duplicate keys (which `JSON.parse` would silently drop), malformed entries, dtypes other
 * than F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL, offsets that disagree with shape and dtype,
 * tensors that overlap or leave holes, bytes after the last tensor, and BOOL bytes other
 * than 0 or 1.
 *
 * The writer emits the layout of the Rust implementation's `serialize`: tensors ordered by
 * dtype alignment, largest first, then by name (UTF-8 byte order); the data packed in that
 * order; a compact JSON header with `__metadata__` first; the header padded with spaces to a
 * multiple of 8 bytes. With the largest alignments first, every tensor starts at a multiple of
 * its element size, so readers (this one included) can view the data without copying.
 * Metadata keys are written sorted (the Rust writer's order there is a hash map's).
 */
import { decodeElements, littleEndianBytes } from './byte-order.js';
import { TensorFileError } from './errors.js';
import { checkHostTensor, describe, elementCount, firstNonBoolean, formatIndex, type HostDType, type HostTensor, itemSize } from './host-tensor.js';
import { findDuplicateKey } from './json-duplicates.js';

/** The largest header accepted, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** safetensors dtype name → host dtype, for the dtypes mmkd reads. */
const FROM_FILE: Readonly<Record<string, HostDType>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

const TO_FILE: Readonly<Record<HostDType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** Valid safetensors dtypes that mmkd has no host type for. */
const UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/**
 * The Rust writer's data order: its `Dtype` enum order, descending (which sorts by alignment,
 * largest first), then the name. Only the relative order of the dtypes we write matters.
 */
const WRITE_RANK: Readonly<Record<HostDType, number>> = {
  int64: 9,
  float64: 8,
  float32: 7,
  int32: 6,
  bfloat16: 5,
  float16: 4,
  int16: 3,
  int8: 2,
  uint8: 1,
  bool: 0,
};

const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);

interface Entry {
  readonly name: string;
  readonly dtype: HostDType;
  readonly shape: readonly number[];
  readonly count: number;
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsContents {
  /** The tensors, in the order of their data in the file. */
  readonly tensors: ReadonlyMap<string, HostTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads a whole safetensors file held in `bytes`. `source` names the file in errors.
 * Tensors whose data are aligned view `bytes`' memory; the others are copies.
 */
export function readSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  const fail = (problem: string, tensor?: string): never => {
    throw new TensorFileError(source, problem, tensor);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(`header length ${declared} exceeds the ${bytes.length - 8} bytes that follow the length field`);
  }
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const text = decodeHeaderText(bytes.subarray(8, dataStart), source);
  if (!text.startsWith('{')) fail(`header must start with "{", found ${describe(text.slice(0, 10))}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isPlainObject(parsed)) fail('header is not a JSON object');
  const header = parsed as Record<string, unknown>;
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const where = duplicate.path.length === 0 ? 'header' : `"${duplicate.path.join('.')}"`;
    fail(`duplicate key ${JSON.stringify(duplicate.key)} in the ${where} (JSON.parse would keep only the last)`);
  }

  const metadata = readMetadata(header[METADATA_KEY], source);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    entries.push(readEntry(name, value, dataLength, source));
  }
  checkCoverage(entries, dataLength, source);

  const tensors = new Map<string, HostTensor>();
  for (const e of entries) {
    const data = decodeElements(bytes, dataStart + e.begin, e.count, e.dtype, 'little');
    if (e.dtype === 'bool') {
      const bad = firstNonBoolean(data as Uint8Array);
      if (bad >= 0) fail(`BOOL element ${formatIndex(bad, e.shape)} is byte ${(data as Uint8Array)[bad]}, not 0 or 1`, e.name);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function decodeHeaderText(header: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(header);
  } catch {
    throw new TensorFileError(source, 'header is not valid UTF-8');
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMetadata(value: unknown, source: string): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new TensorFileError(source, `"${METADATA_KEY}" must be an object of strings, got ${describe(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new TensorFileError(source, `"${METADATA_KEY}" value of ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
    }
    // defineProperty, not assignment, so a key named "__proto__" stays a plain key.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readEntry(name: string, value: unknown, dataLength: number, source: string): Entry {
  const fail = (problem: string): never => {
    throw new TensorFileError(source, problem, name);
  };
  if (!isPlainObject(value)) return fail(`header entry must be an object with dtype, shape and data_offsets, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!ENTRY_KEYS.has(key)) fail(`unexpected field ${JSON.stringify(key)} (expected dtype, shape, data_offsets)`);
  }
  for (const key of ENTRY_KEYS) if (!Object.hasOwn(value, key)) fail(`missing field "${key}"`);

  const fileDtype = value['dtype'];
  if (typeof fileDtype !== 'string') return fail(`dtype must be a string, got ${describe(fileDtype)}`);
  const dtype = FROM_FILE[fileDtype];
  if (dtype === undefined) {
    return fail(
      UNSUPPORTED.has(fileDtype)
        ? `unsupported dtype ${fileDtype}; mmkd reads ${Object.keys(FROM_FILE).join(' ')}`
        : `unknown dtype ${describe(fileDtype)}; mmkd reads ${Object.keys(FROM_FILE).join(' ')}`,
    );
  }

  const shape = value['shape'];
  if (!Array.isArray(shape)) return fail(`shape must be an array of non-negative integers, got ${describe(shape)}`);
  const count = elementCount(shape);
  if (typeof count === 'string') return fail(count);

  const offsets = value['data_offsets'];
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    return fail(`data_offsets must be [begin, end], got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  for (const [label, v] of [
    ['begin', begin],
    ['end', end],
  ] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail(`data_offsets ${label} is ${describe(v)}, not a non-negative integer below 2^53`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (b > e) fail(`data_offsets [${b}, ${e}] has begin > end`);
  if (e > dataLength) fail(`data_offsets end ${e} is past the end of the ${dataLength}-byte data section`);
  const needed = count * itemSize(dtype);
  if (e - b !== needed) {
    fail(`data_offsets [${b}, ${e}] hold ${e - b} bytes, but shape [${shape.join(', ')}] of ${fileDtype} needs ${needed}`);
  }
  return { name, dtype, shape: shape as number[], count, begin: b, end: e };
}

/** The spec forbids holes and overlaps: the sorted ranges must tile [0, dataLength) exactly. */
function checkCoverage(entries: Entry[], dataLength: number, source: string): void {
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < covered) {
      throw new TensorFileError(
        source,
        `data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(previous!.name)} at [${previous!.begin}, ${previous!.end}]`,
        e.name,
      );
    }
    if (e.begin > covered) {
      const after = previous === undefined ? 'the start of the data section' : `tensor ${JSON.stringify(previous.name)}`;
      throw new TensorFileError(
        source,
        `data_offsets [${e.begin}, ${e.end}] leave a hole: bytes [${covered}, ${e.begin}) after ${after} belong to no tensor`,
        e.name,
      );
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new TensorFileError(
      source,
      `${dataLength - covered} trailing bytes after the last tensor (data section is ${dataLength} bytes, tensors cover ${covered})`,
    );
  }
}

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes, as Rust's `String` does. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

const LONE_SURROGATE = /\p{Surrogate}/u;

function entriesOf(tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>): Array<[string, HostTensor]> {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Readonly<Record<string, HostTensor>>);
}

/**
 * Serializes `tensors` (and optional string `metadata`) to the canonical safetensors layout
 * described at the top of this file. Throws a `TensorFileError` (source "writeSafetensors")
 * for a malformed tensor, a name that is `__metadata__` or holds a lone surrogate (it would
 * not survive UTF-8), or a metadata value that is not a string.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const source = 'writeSafetensors';
  const list = entriesOf(tensors);
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new TensorFileError(source, `"${METADATA_KEY}" is reserved for metadata`, name);
    if (LONE_SURROGATE.test(name)) throw new TensorFileError(source, 'name holds a lone UTF-16 surrogate', name);
    checkHostTensor(t, name, source);
  }
  list.sort(([na, a], [nb, b]) => WRITE_RANK[b.dtype] - WRITE_RANK[a.dtype] || compareCodePoints(na, nb));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const fields: string[] = [];
    for (const k of keys) {
      const v: unknown = metadata[k];
      if (typeof v !== 'string') {
        throw new TensorFileError(source, `metadata value of ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
      }
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
        throw new TensorFileError(source, `metadata entry ${JSON.stringify(k)} holds a lone UTF-16 surrogate`);
      }
      fields.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${TO_FILE[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of list) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

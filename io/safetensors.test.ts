import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TensorFileError } from './errors.js';
import type { HostTensor } from './host-tensor.js';
import { itemSize } from './host-tensor.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { expectTensorFileError, rawSafetensors, sameTensor, tensorArb } from './testing/host-tensors.js';

const F = 'bad.safetensors';

/** Expects `readSafetensors(bytes)` to throw a TensorFileError naming the file and matching `message`. */
const expectRejected = (bytes: Uint8Array, message: string | RegExp): void => expectTensorFileError(() => readSafetensors(bytes, F), F, message);

const entry = (dtype: string, shape: number[], begin: number, end: number): string => JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

const namesArb = fc.uniqueArray(
  fc.string({ unit: 'binary', maxLength: 6 }).filter((s) => s !== '__metadata__'),
  { maxLength: 5 },
);

/** Named tensors of any dtype and shape, with unique names. */
const namedTensorsArb = namesArb.chain((names) => fc.tuple(...names.map((n) => tensorArb().map((t) => [n, t] as const))));

describe('safetensors round trip', () => {
  it('reads back every dtype and shape (rank 0, empty dimensions) with the metadata, byte for byte', () => {
    fc.assert(
      fc.property(
        namedTensorsArb,
        fc.option(fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), fc.string({ unit: 'binary', maxLength: 8 })), {
          nil: undefined,
        }),
        (pairs, metadata) => {
          const input = new Map<string, HostTensor>(pairs);
          const bytes = writeSafetensors(input, metadata);
          const { tensors, metadata: back } = readSafetensors(bytes, 'roundtrip.safetensors');
          expect(back).toEqual(metadata ?? {});
          expect([...tensors.keys()].sort()).toEqual([...input.keys()].sort());
          for (const [name, t] of input) expect(sameTensor(tensors.get(name)!, t)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes the canonical layout: rewriting what was read gives the same bytes', () => {
    fc.assert(
      fc.property(namedTensorsArb, (pairs) => {
        const bytes = writeSafetensors(Object.fromEntries(pairs));
        const again = writeSafetensors(readSafetensors(bytes, 'x.safetensors').tensors);
        expect(again).toEqual(bytes);
      }),
      { numRuns: 100 },
    );
  });

  it('pads the header to 8 bytes and aligns every tensor to its element size (largest alignment first)', () => {
    fc.assert(
      fc.property(namedTensorsArb, (pairs) => {
        const bytes = writeSafetensors(new Map(pairs));
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
        for (const [name, t] of pairs) expect(header[name]!.data_offsets[0] % itemSize(t.dtype)).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('matches the byte layout of the reference implementation for one F32 tensor', () => {
    // The reference implementation's serialization examples: values 0..5 as F32, once under
    // "attn.0" with shape [1, 2, 3] (a 64-byte header, no padding needed) and once under
    // "attn0" with shape [1, 1, 2, 3] (65 bytes, padded with 7 spaces to 72).
    const values = new Float32Array([0, 1, 2, 3, 4, 5]);
    const raw = new Uint8Array(values.buffer);
    const aligned = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(aligned.length).toBe(64);
    const bytes = writeSafetensors({ 'attn.0': { dtype: 'float32', shape: [1, 2, 3], data: values } });
    expect(bytes).toEqual(rawSafetensors(aligned, raw));
    const padded = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(padded.length).toBe(65);
    const bytes2 = writeSafetensors({ attn0: { dtype: 'float32', shape: [1, 1, 2, 3], data: values } });
    expect(bytes2).toEqual(rawSafetensors(`${padded}       `, raw));
    expect(bytes2[0]).toBe(72);
  });

  it('writes an empty file as "{}" padded to 8, and metadata first', () => {
    expect(writeSafetensors({})).toEqual(rawSafetensors('{}      '));
    expect(writeSafetensors({}, { framework: 'pt' })).toEqual(rawSafetensors('{"__metadata__":{"framework":"pt"}}     '));
    expect(readSafetensors(rawSafetensors('{}'), 'empty.safetensors').tensors.size).toBe(0);
  });

  it('reads data at misaligned offsets by copying', () => {
    // A 1-byte I8 tensor first puts the F32 tensor at an odd offset; the header is unpadded.
    const f32 = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const header = `{"a":${entry('I8', [1], 0, 1)},"b":${entry('F32', [2], 1, 9)}}`;
    const { tensors } = readSafetensors(rawSafetensors(header, [7, ...f32]), 'm.safetensors');
    expect(Array.from(tensors.get('b')!.data as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(tensors.get('a')!.data as Int8Array)).toEqual([7]);
  });

  it('returns tensors in data order, whatever the header order', () => {
    const header = `{"z":${entry('U8', [1], 0, 1)},"a":${entry('U8', [1], 1, 2)}}`;
    expect([...readSafetensors(rawSafetensors(header, [1, 2]), 'o.safetensors').tensors.keys()]).toEqual(['z', 'a']);
    const header2 = `{"a":${entry('U8', [1], 1, 2)},"z":${entry('U8', [1], 0, 1)}}`;
    expect([...readSafetensors(rawSafetensors(header2, [1, 2]), 'o.safetensors').tensors.keys()]).toEqual(['z', 'a']);
  });
});

describe('safetensors reader rejects', () => {
  const ok = (name = 'w') => `"${name}":${entry('F32', [2], 0, 8)}`;
  const eight = new Array<number>(8).fill(0);

  it('a file shorter than the length field', () => {
    expectRejected(new Uint8Array(5), 'file is 5 bytes, too short for the 8-byte header length');
  });
  it('a header length past the end of the file', () => {
    expectRejected(rawSafetensors('{}', [], 100n), 'header length 100 exceeds the 2 bytes that follow the length field');
    expectRejected(rawSafetensors('{}', [], 2n ** 63n), `header length ${2n ** 63n} exceeds`);
  });
  it('a header over the 100 MB limit', () => {
    const n = 100_000_001;
    const bytes = new Uint8Array(8 + n);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
    expectRejected(bytes, 'header length 100000001 exceeds the 100000000-byte limit');
  });
  it('a header that is not UTF-8', () => {
    const bytes = rawSafetensors('{}  ');
    bytes[10] = 0xff;
    expectRejected(bytes, 'header is not valid UTF-8');
  });
  it('a header that does not start with "{"', () => {
    expectRejected(rawSafetensors(' {}'), 'header must start with "{"');
    expectRejected(rawSafetensors('[]'), 'header must start with "{"');
    expectRejected(rawSafetensors(''), 'header must start with "{"');
  });
  it('a header that is not valid JSON', () => {
    expectRejected(rawSafetensors('{"w": {'), 'header is not valid JSON');
    expectRejected(rawSafetensors('{} {}'), 'header is not valid JSON');
  });
  it('duplicate tensor names', () => {
    expectRejected(rawSafetensors(`{${ok()},${ok()}}`, eight), 'duplicate key "w" in the header (JSON.parse would keep only the last)');
    expectRejected(rawSafetensors(`{${ok()},${ok('\\u0077')}}`, eight), 'duplicate key "w"');
  });
  it('duplicate keys inside metadata or an entry', () => {
    expectRejected(rawSafetensors(`{"__metadata__":{"a":"1","a":"2"},${ok()}}`, eight), 'duplicate key "a" in the "__metadata__"');
    expectRejected(rawSafetensors(`{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight), 'duplicate key "dtype" in the "w"');
  });
  it('metadata that is not an object of strings', () => {
    expectRejected(rawSafetensors(`{"__metadata__":{"epoch":3},${ok()}}`, eight), '"__metadata__" value of "epoch" must be a string, got 3');
    expectRejected(rawSafetensors(`{"__metadata__":["a"],${ok()}}`, eight), '"__metadata__" must be an object of strings');
  });
  it('an entry that is not an object', () => {
    expectRejected(rawSafetensors('{"w":[1,2]}'), 'tensor "w": header entry must be an object with dtype, shape and data_offsets, got [1,2]');
  });
  it('an entry with a missing or unexpected field', () => {
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":[0]}}'), 'tensor "w": missing field "data_offsets"');
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"stride":[1]}}'), 'tensor "w": unexpected field "stride"');
  });
  it('an unknown dtype', () => {
    expectRejected(rawSafetensors(`{"w":${entry('F33', [0], 0, 0)}}`), 'tensor "w": unknown dtype "F33"; mmkd reads F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL');
    expectRejected(rawSafetensors('{"w":{"dtype":7,"shape":[0],"data_offsets":[0,0]}}'), 'tensor "w": dtype must be a string, got 7');
  });
  it('valid dtypes that mmkd does not support', () => {
    for (const d of ['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2']) {
      expectRejected(rawSafetensors(`{"w":${entry(d, [0], 0, 0)}}`), `tensor "w": unsupported dtype ${d}; mmkd reads`);
    }
  });
  it('a negative, non-integer or non-numeric shape entry', () => {
    expectRejected(rawSafetensors(`{"w":${entry('F32', [2, -1], 0, 0)}}`), 'tensor "w": shape[1] is -1, not a non-negative integer');
    expectRejected(rawSafetensors(`{"w":${entry('F32', [1.5], 0, 0)}}`), 'tensor "w": shape[0] is 1.5, not a non-negative integer');
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}', eight), 'shape[0] is "2"');
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}', eight), 'shape must be an array');
  });
  it('malformed data_offsets', () => {
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', eight), 'data_offsets must be [begin, end], got [0]');
    expectRejected(rawSafetensors(`{"w":${entry('F32', [0], -4, 0)}}`), 'data_offsets begin is -4, not a non-negative integer');
    expectRejected(rawSafetensors('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,1e20]}}', eight), 'data_offsets end is 100000000000000000000');
  });
  it('begin > end', () => {
    expectRejected(rawSafetensors(`{"w":${entry('F32', [2], 8, 0)}}`, eight), 'tensor "w": data_offsets [8, 0] has begin > end');
  });
  it('an end past the end of the data', () => {
    expectRejected(rawSafetensors(`{"w":${entry('F32', [4], 0, 16)}}`, eight), 'tensor "w": data_offsets end 16 is past the end of the 8-byte data section');
  });
  it('a byte count that does not equal prod(shape) * itemsize', () => {
    expectRejected(
      rawSafetensors(`{"w":${entry('F32', [2, 3], 0, 8)}}`, eight),
      'tensor "w": data_offsets [0, 8] hold 8 bytes, but shape [2, 3] of F32 needs 24',
    );
  });
  it('overlapping tensors', () => {
    expectRejected(
      rawSafetensors(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 4, 8)}}`, eight),
      'tensor "b": data_offsets [4, 8] overlap tensor "a" at [0, 8]',
    );
  });
  it('a hole between tensors or before the first', () => {
    expectRejected(
      rawSafetensors(`{"a":${entry('F32', [1], 0, 4)},"b":${entry('U8', [2], 6, 8)}}`, eight),
      'tensor "b": data_offsets [6, 8] leave a hole: bytes [4, 6) after tensor "a" belong to no tensor',
    );
    expectRejected(
      rawSafetensors(`{"a":${entry('F32', [1], 4, 8)}}`, eight),
      'tensor "a": data_offsets [4, 8] leave a hole: bytes [0, 4) after the start of the data section',
    );
  });
  it('trailing bytes after the last tensor', () => {
    expectRejected(rawSafetensors(`{"a":${entry('F32', [1], 0, 4)}}`, eight), '4 trailing bytes after the last tensor');
    expectRejected(rawSafetensors('{}', [1]), '1 trailing bytes after the last tensor');
  });
  it('BOOL bytes other than 0 and 1', () => {
    expectRejected(rawSafetensors(`{"m":${entry('BOOL', [3], 0, 3)}}`, [1, 0, 2]), 'tensor "m": BOOL element [2] is byte 2, not 0 or 1');
  });
});

describe('safetensors writer rejects', () => {
  const t: HostTensor = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
  const expectWriteError = (f: () => unknown, message: string): void => {
    expect(f).toThrow(TensorFileError);
    expect(f).toThrow(message);
  };
  it('a tensor whose data disagree with its shape or dtype', () => {
    expectWriteError(
      () => writeSafetensors({ w: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }),
      'writeSafetensors: tensor "w": data has 2 elements, but shape [3] needs 3',
    );
    expectWriteError(
      () => writeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float64Array(2) } }),
      'writeSafetensors: tensor "w": dtype float32 must be stored in a Float32Array, got Float64Array',
    );
    expectWriteError(() => writeSafetensors({ w: { dtype: 'bool', shape: [1], data: new Uint8Array([3]) } }), 'tensor "w": bool element [0] is 3, not 0 or 1');
  });
  it('the reserved name and lone surrogates', () => {
    expectWriteError(() => writeSafetensors({ __metadata__: t }), 'tensor "__metadata__": "__metadata__" is reserved for metadata');
    expectWriteError(() => writeSafetensors({ ['a\uD800']: t }), 'name holds a lone UTF-16 surrogate');
  });
  it('metadata values that are not strings', () => {
    const metadata = { epoch: 3 } as unknown as Record<string, string>;
    expectWriteError(() => writeSafetensors({ w: t }, metadata), 'metadata value of "epoch" must be a string, got 3');
  });
});

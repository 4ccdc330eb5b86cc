import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOST_DTYPES, type HostTensor } from './host-tensor.js';
import { readNpy, writeNpy } from './npy.js';
import { expectTensorFileError, rawNpy, sameTensor, tensorArb } from './testing/host-tensors.js';

const F = 'bad.npy';

/** Expects `readNpy(bytes)` to throw a TensorFileError whose message has `message` right after the file. */
const expectRejected = (bytes: Uint8Array, message: string): void => expectTensorFileError(() => readNpy(bytes, F), F, `${F}: ${message}`);

/** A numpy-style header dict, padded so that the data start at a multiple of 16. */
function dict(descr: string, shape: string, fortran = 'False'): string {
  const text = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  const total = 10 + text.length + 1;
  return `${text}${' '.repeat((16 - (total % 16)) % 16)}\n`;
}

const npyDtypes = HOST_DTYPES.filter((d) => d !== 'bfloat16');

describe('npy round trip', () => {
  it('reads back every dtype and shape (rank 0, empty dimensions), byte for byte', () => {
    fc.assert(
      fc.property(tensorArb(npyDtypes), (t) => {
        const bytes = writeNpy(t);
        expect(bytes.length % 64).toBe(t.data.byteLength % 64); // header ends on a 64-byte boundary
        expect(sameTensor(readNpy(bytes, 'roundtrip.npy'), t)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bfloat16, which .npy cannot hold', () => {
    const t: HostTensor = { dtype: 'bfloat16', shape: [1], data: new Uint16Array(1) };
    expect(() => writeNpy(t)).toThrow('writeNpy: tensor "tensor": .npy has no bfloat16 dtype');
  });

  it('reads headers written by other tools: double quotes, no trailing comma, Python 2 longs', () => {
    const data = new Uint8Array(new Int16Array([1, 2, 3, 4, 5, 6]).buffer);
    const header = '{"shape": (2L, 3L), "fortran_order": False, "descr": "<i2"}\n';
    const t = readNpy(rawNpy(header, data), 'py2.npy');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data as Int16Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reorders Fortran-order data of any rank to C order', () => {
    // shape (2, 3, 2); element (i, j, k) = 100 i + 10 j + k; Fortran order runs i fastest.
    const fortran: number[] = [];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortran.push(100 * i + 10 * j + k);
    const c: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) c.push(100 * i + 10 * j + k);
    const bytes = rawNpy(dict('<i4', '(2, 3, 2)', 'True'), new Uint8Array(new Int32Array(fortran).buffer));
    expect(Array.from(readNpy(bytes, 'f.npy').data as Int32Array)).toEqual(c);
  });
});

describe('npy reader rejects', () => {
  const four = [0, 0, 128, 63];
  it('a bad magic string', () => {
    const bytes = rawNpy(dict('<f4', '(1,)'), four);
    bytes[1] = 0x4f; // "O"
    expectRejected(bytes, 'bad magic: expected \\x93NUMPY, found \\x93OUMPY');
    expectRejected(new TextEncoder().encode('PK\x03\x04 this is a zip'), 'bad magic');
  });
  it('an unsupported format version', () => {
    expectRejected(rawNpy(dict('<f4', '(1,)'), four, [4, 0]), 'unsupported .npy format version 4.0 (mmkd reads 1.0, 2.0 and 3.0)');
    expectRejected(rawNpy(dict('<f4', '(1,)'), four, [1, 1]), 'unsupported .npy format version 1.1');
  });
  it('a file truncated in the prelude, the header or the data', () => {
    expectRejected(new Uint8Array([0x93, 0x4e, 0x55]), 'truncated: 3 bytes, too short for the 8-byte magic and version');
    expectRejected(rawNpy('', [], [2, 0]).subarray(0, 10), 'truncated: 10 bytes, too short for the version 2.0 header length');
    expectRejected(rawNpy(dict('<f4', '(1,)')).subarray(0, 40), 'truncated: the header declares 70 bytes but only 30 follow');
    expectRejected(rawNpy(dict('<f4', '(2,)'), four), 'truncated: data are 4 bytes, but shape [2] of float32 needs 8');
  });
  it('trailing bytes after the data', () => {
    expectRejected(rawNpy(dict('<f4', '(1,)'), [...four, 9]), '1 trailing bytes after the 4 bytes of data');
  });
  it('unsupported dtypes', () => {
    for (const d of ['<c8', '<u4', '<u2', '|S3', '<U3', '<M8[ns]', 'O']) {
      expectRejected(rawNpy(dict(d, '(0,)')), `unsupported dtype '${d}'; mmkd reads <f8 <f4 <f2`);
    }
    expectRejected(rawNpy(dict('|f4', '(0,)')), "unsupported dtype '|f4' (a multi-byte dtype needs a byte order, < or >)");
    expectRejected(rawNpy(dict('=f4', '(0,)')), "unsupported dtype '=f4' (\"=\" means the writing machine's order");
    expectRejected(
      rawNpy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (0,), }\n"),
      'unsupported dtype: structured (record) dtypes are not supported',
    );
  });
  it('a header that is not a Python dict literal', () => {
    expectRejected(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) \n", four), 'malformed header: expected "," or "}" at character');
    expectRejected(rawNpy("{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}\n", four), 'malformed header: expected ":" after a dict key at character 9');
    expectRejected(rawNpy("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}\n", four), 'malformed header: expected "," or "}" at character 17');
    expectRejected(rawNpy("['descr', '<f4']\n", four), "malformed header: expected a dict, got ['descr', '<f4']");
    expectRejected(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", four), 'malformed header: expected end of the header');
    expectRejected(rawNpy("{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}\n", four), 'malformed header: expected a string, number');
    expectRejected(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}\n", four), 'malformed header: expected an integer (no floats');
  });
  it('missing, unexpected or duplicate keys', () => {
    expectRejected(rawNpy("{'descr': '<f4', 'shape': (1,)}\n", four), "malformed header: missing key 'fortran_order'");
    expectRejected(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'dtype': 1}\n", four), "malformed header: unexpected key 'dtype'");
    expectRejected(rawNpy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", four), "malformed header: duplicate key 'descr'");
    expectRejected(rawNpy("{1: '<f4'}\n", four), 'malformed header: dict key 1 is not a string');
  });
  it('values of the wrong type', () => {
    expectRejected(rawNpy(dict('<f4', '[1]'), four), "malformed header: 'shape' must be a tuple of integers, got [1]");
    expectRejected(rawNpy(dict('<f4', '(1)'), four), "malformed header: 'shape' must be a tuple of integers, got 1");
    expectRejected(rawNpy(dict('<f4', "('1',)"), four), "malformed header: 'shape' must be a tuple of integers, got ('1',)");
    expectRejected(rawNpy(dict('<f4', '(-1,)'), four), "malformed header: 'shape' (-1,): shape[0] is -1, not a non-negative integer");
    expectRejected(rawNpy(dict('<f4', '(1,)', '0'), four), "malformed header: 'fortran_order' must be True or False, got 0");
    expectRejected(rawNpy("{'descr': 4, 'fortran_order': False, 'shape': (1,)}\n", four), "malformed header: 'descr' must be a string, got 4");
  });
  it('a version 3.0 header that is not UTF-8', () => {
    const header = Uint8Array.from(dict('<f4', '(1,)'), (c) => c.charCodeAt(0));
    header[header.length - 2] = 0xff;
    expectRejected(rawNpy(header, four, [3, 0]), 'malformed header: version 3.0 header is not valid UTF-8');
  });
  it('bool bytes other than 0 and 1', () => {
    expectRejected(rawNpy(dict('|b1', '(2,)'), [1, 5]), 'bool element [1] is byte 5, not 0 or 1');
  });
});

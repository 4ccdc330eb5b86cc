/**
 * Every dtype × byte order (.npy) × data offset, read from disk through the public readers.
 *
 * The files (io/fixtures/layouts, written and checked against numpy and the official safetensors
 * library by io/fixtures/make_fixtures.py) hold the same [2, 3] values per dtype; the values are
 * written out again below. Files are passed as Node reads them: `readFile` gives a Buffer of its
 * own, `readFileSync` a view into Node's shared pool at a nonzero byteOffset. Either way, data
 * that are big-endian or do not start at a multiple of their element size must be copied out of
 * the right bytes (a Buffer's `slice` is a view, not a copy).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from './convert.js';
import type { HostDType, HostTensor } from './host-tensor.js';
import { readNpy } from './npy.js';
import { readSafetensors } from './safetensors.js';
import { readTensorFile } from './tensor-file.js';

const path = (name: string): string => new URL(`./fixtures/layouts/${name}`, import.meta.url).pathname;

/** The values of every file of a dtype, as numbers (floats decoded) or bigints (int64). */
const EXPECTED: Readonly<Record<HostDType, readonly (number | bigint)[]>> = {
  float64: [1.5, -2.25, 0.1, 1e300, -3.5, 7],
  float32: [1.5, -2.25, Math.fround(0.1), Math.fround(1e30), -3.5, 7],
  float16: [1.5, -2.25, 0.5, 65504, -3.5, 7],
  bfloat16: [1.5, -2.25, 0.5, 3.140625, -3.5, 7],
  int64: [-(2n ** 62n), 2n ** 53n + 1n, -1n, 0n, 1n, 300n],
  int32: [-(2 ** 31), 2 ** 31 - 1, -1, 0, 256, 70000],
  int16: [-32768, 32767, -1, 0, 256, 300],
  int8: [-128, 127, -1, 0, 5, 7],
  uint8: [0, 255, 1, 128, 7, 9],
  bool: [1, 0, 1, 1, 0, 0],
};

function valuesOf(t: HostTensor): (number | bigint)[] {
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return Array.from(toFloat32(t, 'x', 'test'));
  return Array.from(t.data as ArrayLike<number | bigint>);
}

function expectTensor(t: HostTensor | undefined, dtype: HostDType): void {
  expect(t?.dtype).toBe(dtype);
  expect(t?.shape).toEqual([2, 3]);
  expect(valuesOf(t!)).toEqual(EXPECTED[dtype]);
}

const MULTI_BYTE: readonly HostDType[] = ['float64', 'float32', 'float16', 'int64', 'int32', 'int16'];
const SINGLE_BYTE: readonly HostDType[] = ['int8', 'uint8', 'bool'];

const npyFiles = [
  ...MULTI_BYTE.flatMap((dtype) =>
    (['le', 'be'] as const).flatMap((order) =>
      (['aligned', 'misaligned'] as const).map((layout) => ({ dtype, stem: `${dtype}-${order}-${layout}`, name: `${dtype}-${order}-${layout}.npy` })),
    ),
  ),
  ...SINGLE_BYTE.flatMap((dtype) =>
    (['aligned', 'misaligned'] as const).map((layout) => ({ dtype, stem: `${dtype}-${layout}`, name: `${dtype}-${layout}.npy` })),
  ),
];

describe('.npy files of every dtype, both byte orders, aligned and misaligned, read from disk', () => {
  it.each(npyFiles)('$name', async ({ dtype, stem, name }) => {
    const file = path(name);
    const tensors = await readTensorFile(file);
    expect([...tensors.keys()]).toEqual([stem]);
    expectTensor(tensors.get(stem), dtype);
    // A pooled Buffer (nonzero byteOffset) as readFileSync gives it, read twice: the first read
    // must leave the caller's bytes as they were.
    const bytes = readFileSync(file);
    const before = Buffer.from(bytes);
    expectTensor(readNpy(bytes, file), dtype);
    expect(bytes.equals(before)).toBe(true);
    expectTensor(readNpy(bytes, file), dtype);
  });
});

const safetensorsFiles = [...MULTI_BYTE, 'bfloat16' as const, ...SINGLE_BYTE].flatMap((dtype) =>
  (['aligned', 'after-i8', 'unpadded'] as const).map((layout) => ({ dtype, layout, name: `${dtype}-${layout}.safetensors` })),
);

describe('safetensors files of every dtype, aligned and misaligned, read from disk', () => {
  it.each(safetensorsFiles)('$name', async ({ dtype, layout, name }) => {
    const file = path(name);
    const check = (tensors: ReadonlyMap<string, HostTensor>): void => {
      expectTensor(tensors.get('x'), dtype);
      if (layout === 'after-i8') {
        expect(tensors.get('lead')?.dtype).toBe('int8');
        expect(Array.from(tensors.get('lead')!.data as Int8Array)).toEqual([-7]);
      }
      expect(tensors.size).toBe(layout === 'after-i8' ? 2 : 1);
    };
    check(await readTensorFile(file));
    const bytes = readFileSync(file);
    const before = Buffer.from(bytes);
    check(readSafetensors(bytes, file).tensors);
    expect(bytes.equals(before)).toBe(true);
  });
});

describe('the fixtures are what their names say', () => {
  // Guards the test above: a misaligned file whose data happened to be aligned would test nothing.
  it('misaligned files start their data at an offset that no multi-byte element divides', () => {
    for (const dtype of MULTI_BYTE) {
      const npy = readFileSync(path(`${dtype}-be-misaligned.npy`));
      const start = 10 + npy.readUInt16LE(8);
      expect(start % 8).toBe(3);
      for (const layout of ['after-i8', 'unpadded']) {
        const st = readFileSync(path(`${dtype}-${layout}.safetensors`));
        const header = Number(st.readBigUInt64LE(0));
        const entry = (JSON.parse(st.subarray(8, 8 + header).toString('utf8')) as Record<string, { data_offsets: [number, number] }>)['x']!;
        expect((8 + header + entry.data_offsets[0]) % 2).toBe(1);
      }
    }
  });
});

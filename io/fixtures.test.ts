/**
 * Cross-implementation checks: files written by numpy (`np.save`) and by the raw safetensors
 * layout (io/fixtures/make_fixtures.py, committed with its outputs), compared with values
 * written out here by hand. Python is not run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from './convert.js';
import type { HostTensor } from './host-tensor.js';
import { readNpy, writeNpy } from './npy.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

// The Buffer exactly as Node reads it (a view into its shared pool), not a fresh copy, which
// would hide readers that ignore a Buffer's byteOffset.
const fixture = (name: string): Uint8Array => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const npy = (name: string): HostTensor => readNpy(fixture(name), name);
const values = (t: HostTensor): number[] => Array.from(t.data as ArrayLike<number>);

describe('npy files written by numpy', () => {
  it('float32, C order', () => {
    const t = npy('f32_c.npy');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(values(t)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5]);
  });
  it('int64, exactly (2^53 + 1 is not a double)', () => {
    const t = npy('i64.npy');
    expect(t.dtype).toBe('int64');
    expect(Array.from(t.data as BigInt64Array)).toEqual([-(2n ** 62n), -1n, 0n, 1n, 2n ** 53n + 1n]);
  });
  it('Fortran order, rank 2 and rank 3', () => {
    const t = npy('f64_fortran.npy');
    expect(t.shape).toEqual([2, 3]);
    expect(values(t)).toEqual([0, 1, 2, 3, 4, 5]);
    const u = npy('i32_fortran3.npy');
    expect(u.dtype).toBe('int32');
    expect(u.shape).toEqual([2, 3, 4]);
    expect(values(u)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });
  it('big-endian float32 and int16', () => {
    expect(values(npy('f4_big.npy'))).toEqual([1.5, -2, 3.25, 1024]);
    const t = npy('i2_big.npy');
    expect(t.dtype).toBe('int16');
    expect(t.shape).toEqual([2, 2]);
    expect(values(t)).toEqual([1, -2, 300, -32768]);
  });
  it('float16, decoded', () => {
    const t = npy('f2.npy');
    expect(t.dtype).toBe('float16');
    expect(Array.from(t.data as Uint16Array)).toEqual([0x2e66, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00]);
    const f = Array.from(toFloat32(t, 'f2', 'f2.npy'));
    expect(f.slice(0, 3)).toEqual([0.0999755859375, 65504, 2 ** -24]);
    expect(Object.is(f[3], -0)).toBe(true);
    expect(f[4]).toBe(Infinity);
    expect(f[5]).toBeNaN();
  });
  it('bool, uint8, int8, a scalar and an empty array', () => {
    const b = npy('b1.npy');
    expect(b.dtype).toBe('bool');
    expect(b.shape).toEqual([1, 3]);
    expect(values(b)).toEqual([1, 0, 1]);
    expect(values(npy('u1.npy'))).toEqual([0, 255, 7]);
    expect(values(npy('i1.npy'))).toEqual([-128, 127, 0]);
    const s = npy('scalar.npy');
    expect(s.shape).toEqual([]);
    expect(values(s)).toEqual([3.5]);
    const e = npy('empty.npy');
    expect(e.shape).toEqual([2, 0, 3]);
    expect(e.data.length).toBe(0);
  });
  it('format versions 2.0 and 3.0', () => {
    for (const name of ['v2.npy', 'v3.npy']) {
      const bytes = fixture(name);
      expect(bytes[6]).toBe(Number(name[1]));
      const t = readNpy(bytes, name);
      expect(t.dtype).toBe('int32');
      expect(values(t)).toEqual([7, -8, 9]);
    }
  });
  it('writeNpy reproduces np.save byte for byte', () => {
    for (const name of ['f32_c.npy', 'i64.npy', 'f2.npy', 'b1.npy', 'u1.npy', 'i1.npy', 'scalar.npy', 'empty.npy']) {
      expect(writeNpy(npy(name)), name).toEqual(new Uint8Array(fixture(name)));
    }
  });
});

describe('safetensors files in the raw layout', () => {
  it('reads every dtype, metadata, a scalar, an empty tensor and a non-ASCII name', () => {
    const { tensors, metadata } = readSafetensors(fixture('canonical.safetensors'), 'canonical.safetensors');
    expect(metadata).toEqual({ format: 'pt', note: 'mmkd fixture' });
    // Data order: dtype alignment (largest first), then name.
    expect([...tensors.keys()]).toEqual(['i64', 'f64', 'empty', 'f32', 'naïve·名', 'i32', 'bf16', 'f16', 'i16', 'i8', 'u8', 'bool']);
    const get = (name: string): HostTensor => tensors.get(name)!;
    expect(values(get('f64'))).toEqual([1 / 3, -2.5]);
    expect(get('f32').shape).toEqual([2, 3]);
    expect(values(get('f32'))).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    expect(get('empty').shape).toEqual([0, 4]);
    expect(values(get('naïve·名'))).toEqual([2]);
    expect(get('i32').shape).toEqual([]);
    expect(values(get('i32'))).toEqual([-7]);
    expect(Array.from(get('i64').data as BigInt64Array)).toEqual([-(2n ** 40n), 2n ** 40n + 5n]);
    expect(Array.from(toFloat32(get('bf16'), 'bf16', 'x'))).toEqual([1, -2, 3.140625]);
    expect(Array.from(toFloat32(get('f16'), 'f16', 'x'))).toEqual([1, -2, 0.5]);
    expect(values(get('i16'))).toEqual([-300, 300]);
    expect(values(get('i8'))).toEqual([-5, 5]);
    expect(values(get('u8'))).toEqual([200, 0, 1]);
    expect(get('bool').dtype).toBe('bool');
    expect(values(get('bool'))).toEqual([1, 0]);
  });
  it('writeSafetensors reproduces the canonical file byte for byte', () => {
    const { tensors, metadata } = readSafetensors(fixture('canonical.safetensors'), 'canonical.safetensors');
    expect(writeSafetensors(tensors, metadata)).toEqual(new Uint8Array(fixture('canonical.safetensors')));
    // Insertion order does not matter.
    expect(writeSafetensors(new Map([...tensors].reverse()), metadata)).toEqual(new Uint8Array(fixture('canonical.safetensors')));
  });
  it('reads a valid non-canonical file: pretty JSON, header order unlike data order, misaligned data', () => {
    const { tensors, metadata } = readSafetensors(fixture('loose.safetensors'), 'loose.safetensors');
    expect(metadata).toEqual({ source: 'loose' });
    expect([...tensors.keys()]).toEqual(['i8', 'f32', 'f16']);
    expect(values(tensors.get('f32')!)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    expect(Array.from(toFloat32(tensors.get('f16')!, 'f16', 'x'))).toEqual([1, -2, 0.5]);
  });
});

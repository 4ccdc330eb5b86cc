import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorFileError } from './errors.js';
import type { HostTensor } from './host-tensor.js';
import { readTensorFile, writeTensorFile } from './tensor-file.js';
import { sameTensor } from './testing/host-tensors.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmkd-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const a: HostTensor = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
const b: HostTensor = { dtype: 'int64', shape: [], data: new BigInt64Array([5n]) };

describe('readTensorFile / writeTensorFile', () => {
  it('round-trips a safetensors file with all its tensors', async () => {
    const path = join(dir, 'pair.safetensors');
    await writeTensorFile(path, { a, b }, { note: 'x' });
    const back = await readTensorFile(path);
    expect([...back.keys()].sort()).toEqual(['a', 'b']);
    expect(sameTensor(back.get('a')!, a)).toBe(true);
    expect(sameTensor(back.get('b')!, b)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
  it('names the tensor of a .npy file after the file stem', async () => {
    const path = join(dir, 'teacher.logits.NPY');
    await writeTensorFile(path, new Map([['ignored', a]]));
    const back = await readTensorFile(path);
    expect([...back.keys()]).toEqual(['teacher.logits']);
    expect(sameTensor(back.get('teacher.logits')!, a)).toBe(true);
  });
  it('refuses a .npy file with other than one tensor, or with metadata', async () => {
    const path = join(dir, 'two.npy');
    await expect(writeTensorFile(path, { a, b })).rejects.toThrow(`${path}: a .npy file holds exactly one tensor, got 2`);
    await expect(writeTensorFile(path, { a }, { k: 'v' })).rejects.toThrow('.npy files cannot store metadata');
  });
  it('refuses an unknown extension', async () => {
    await expect(readTensorFile(join(dir, 'x.pt'))).rejects.toThrow('unknown tensor file extension ".pt"; expected .safetensors or .npy');
    await expect(writeTensorFile(join(dir, 'x'), { a })).rejects.toThrow('unknown tensor file extension ""');
  });
  it('names the path in read, parse and write errors', async () => {
    const missing = join(dir, 'missing.npy');
    await expect(readTensorFile(missing)).rejects.toThrow(`${missing}: cannot read the file`);
    const broken = join(dir, 'broken.safetensors');
    await writeFile(broken, new Uint8Array(3));
    await expect(readTensorFile(broken)).rejects.toThrow(`${broken}: file is 3 bytes`);
    const bad = join(dir, 'bad.safetensors');
    const malformed: HostTensor = { dtype: 'float32', shape: [3], data: new Float32Array(1) };
    await expect(writeTensorFile(bad, { w: malformed })).rejects.toThrow(`${bad}: tensor "w": data has 1 elements`);
    await expect(writeTensorFile(bad, { w: malformed })).rejects.toBeInstanceOf(TensorFileError);
  });
});

/**
 * Reading and writing tensor files by path, choosing the format by extension:
 * `.safetensors` holds any number of named tensors (and string metadata), `.npy` holds one
 * tensor, named after the file's stem (`logits.npy` → "logits").
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { TensorFileError } from './errors.js';
import type { HostTensor } from './host-tensor.js';
import { readNpy, writeNpy } from './npy.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

export type TensorFileFormat = 'safetensors' | 'npy';

/** The format of `path` from its extension (case-insensitive), or a `TensorFileError`. */
export function tensorFileFormat(path: string): TensorFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.npy') return 'npy';
  throw new TensorFileError(path, `unknown tensor file extension ${JSON.stringify(ext)}; expected .safetensors or .npy`);
}

/** Every tensor of the file at `path` (a .npy file gives one tensor named after its stem). */
export async function readTensorFile(path: string): Promise<ReadonlyMap<string, HostTensor>> {
  const format = tensorFileFormat(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new TensorFileError(path, `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
  if (format === 'safetensors') return readSafetensors(bytes, path).tensors;
  const stem = basename(path).slice(0, -extname(path).length);
  return new Map([[stem, readNpy(bytes, path)]]);
}

/**
 * Writes `tensors` to `path` in the format its extension names. A .npy file takes exactly one
 * tensor (its name is not stored) and no metadata. The file is written to a temporary name in
 * the same folder and renamed, so a failed write never leaves a half-written file at `path`.
 */
export async function writeTensorFile(
  path: string,
  tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const format = tensorFileFormat(path);
  let bytes: Uint8Array;
  if (format === 'safetensors') {
    bytes = rethrowFor(path, () => writeSafetensors(tensors, metadata));
  } else {
    const list = tensors instanceof Map ? [...tensors.values()] : Object.values(tensors as Readonly<Record<string, HostTensor>>);
    if (list.length !== 1) {
      throw new TensorFileError(path, `a .npy file holds exactly one tensor, got ${list.length}`);
    }
    if (metadata !== undefined && Object.keys(metadata).length > 0) {
      throw new TensorFileError(path, '.npy files cannot store metadata; use .safetensors');
    }
    bytes = rethrowFor(path, () => writeNpy(list[0]!));
  }
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw new TensorFileError(path, `cannot write the file: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}

/** Re-labels a writer's error with the destination path instead of the writer's name. */
function rethrowFor<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TensorFileError) throw new TensorFileError(path, e.problem, e.tensor, { cause: e });
    throw e;
  }
}

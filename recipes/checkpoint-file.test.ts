/**
 * Single-file checkpoints (what the studio downloads) through `mmkd evaluate`, as a user passes
 * one: the shipped teacher's weights written as one with the studio's writer are scored like
 * its checkpoint folder; a safetensors file without mmkd's metadata is refused naming it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectCleanFailure, runCli } from '../cli/testing/run-cli.js';
import { scratchFolder } from '../cli/testing/scratch.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file.js';

const teacherDir = fileURLToPath(new URL('./assets/teacher', import.meta.url));
const weights = readSafetensors(new Uint8Array(readFileSync(join(teacherDir, 'weights.safetensors'))), 'teacher').tensors;
const state = { recipe: 'teacher', seed: 0, backend: 'webgpu', stage: 2, stageName: 'sft', step: 8000, complete: true };

describe('single-file checkpoints', () => {
  it('round-trip their weights and state', () => {
    const read = readCheckpointFile(writeCheckpointFile(weights, { ...state, teacher: 'abc' }), 'x.safetensors');
    expect(read.state).toEqual({ ...state, teacher: 'abc' });
    expect([...read.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    const [name, tensor] = [...weights][0]!;
    expect(Array.from(read.weights.get(name)!.data as Float32Array)).toEqual(Array.from(tensor.data as Float32Array));
  });

  it('are scored by mmkd evaluate like the checkpoint folder they hold', async () => {
    const scratch = scratchFolder('mmkd-checkpoint-file-');
    const file = scratch.file('teacher.safetensors', writeCheckpointFile(weights, state));
    const [single, folder] = await Promise.all([
      runCli(['evaluate', file, '--backend', 'wasm', '--json'], { timeoutMs: 180_000 }),
      runCli(['evaluate', teacherDir, '--backend', 'wasm', '--json'], { timeoutMs: 180_000 }),
    ]);
    expect(single.code, single.stderr).toBe(0);
    expect(folder.code, folder.stderr).toBe(0);
    expect(JSON.parse(single.stdout)).toEqual(JSON.parse(folder.stdout));

    const plain = scratch.file('plain.safetensors', writeSafetensors(weights));
    expectCleanFailure(await runCli(['evaluate', plain, '--backend', 'wasm']), `${plain} is a safetensors file but not an mmkd checkpoint`);
  });
});

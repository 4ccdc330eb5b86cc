import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUICK_SCALE, recipes } from '../recipes/catalog.js';
import { openRecipeSignals } from '../recipes/signals/recipe-signals.js';
import { worldEnvironment } from '../recipes/world.js';
import { expectCleanFailure, runCli } from './testing/run-cli.js';

const mmkd = (...args: string[]) => runCli(args, { timeoutMs: 300_000 });
const root = mkdtempSync(join(tmpdir(), 'mmkd-teacher-signals-'));
const common = ['llava-kd', '--quick', '--backend', 'wasm', '--k', '8', '--shard-steps', '2'];

/** Every file of a signals folder (both stages), by relative path, as bytes. */
async function filesOf(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const stage of await readdir(dir)) {
    for (const name of (await readdir(join(dir, stage))).sort()) out.set(`${stage}/${name}`, (await readFile(join(dir, stage, name))).toString('base64'));
  }
  return out;
}

describe('mmkd teacher-signals', () => {
  it("writes the shipped teacher's top k over the recipe's teacher batches; a killed run resumes to the same bytes", async () => {
    const whole = join(root, 'whole');
    const done = await mmkd('teacher-signals', ...common, '--out', whole);
    expect(done.stderr).toMatch(/teacher: the teacher mmkd ships/);
    expect(done.stderr).toMatch(/\[dpt\] ██+ 6\/6 steps/);
    // The quick llava-kd: DPT and DFT read the teacher, 6 steps of 8 sequences each.
    expect(done.stdout).toMatch(
      /^dpt: 48 sequences × \d+ positions, k = 8 of V = \d+, T = 1, float16 → .*whole\/dpt \(3 shards, [\d.]+ MiB, 5\d\.\d bytes per token\)\ndft: 48 sequences/,
    );
    expect(done.code).toBe(0);

    // Killed right after its second shard, then run again: it resumes and ends with the same files.
    const env = { ...process.env, MMKD_KILL_AFTER_SHARD: 'shard-00001.safetensors' };
    const interrupted = join(root, 'interrupted');
    const code = await new Promise<number | string | null>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'teacher-signals', ...common, '--out', interrupted], { env }, () =>
        resolve(child.signalCode ?? child.exitCode),
      );
    });
    expect(code).toBe('SIGKILL');
    expect((await readdir(join(interrupted, 'dpt'))).filter((f) => f.startsWith('shard-')).sort()).toEqual([
      'shard-00000.safetensors',
      'shard-00001.safetensors',
    ]);
    const resumed = await mmkd('teacher-signals', ...common, '--out', interrupted);
    expect(resumed.stderr).toMatch(/\[dpt\] resuming at step 4 of 6/);
    expect(resumed.code).toBe(0);
    expect(await filesOf(interrupted)).toEqual(await filesOf(whole));

    // The folders read back as the signals of this recipe's run (data, vocabulary, layout).
    const environment = worldEnvironment('grid');
    const signals = await openRecipeSignals(recipes(QUICK_SCALE).get('llava-kd')!, 0, environment, whole);
    expect([...signals.keys()]).toEqual(['dpt', 'dft']);
    // … and not of another seed's.
    await expect(openRecipeSignals(recipes(QUICK_SCALE).get('llava-kd')!, 1, environment, whole)).rejects.toThrow(
      /do not fit this run:\n {2}- .*dpt\/manifest.json: the signals are of data [0-9a-f]+, this run reads [0-9a-f]+ \(write them for this recipe, seed and data\)/,
    );
  });

  it('refuses k larger than V, an unknown dtype, and a recipe that reads no teacher', async () => {
    expectCleanFailure(
      await mmkd('teacher-signals', 'llava-kd', '--quick', '--k', '100000', '--out', join(root, 'x')),
      /--k 100000 is larger than the teacher's vocabulary \(V = \d+\)/,
    );
    expectCleanFailure(
      await mmkd('teacher-signals', 'llava-kd', '--quick', '--dtype', 'int8', '--out', join(root, 'x')),
      /--dtype must be one of float16, float32, got 'int8'/,
    );
    expectCleanFailure(
      await mmkd('teacher-signals', 'baseline', '--quick', '--out', join(root, 'y')),
      /recipe 'baseline' reads no teacher: it needs no teacher signals/,
    );
  });
});

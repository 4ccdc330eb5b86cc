import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { runCli } from './testing/run-cli.js';

const mmkd = (...args: string[]) => runCli(args, { timeoutMs: 120_000 });
const root = mkdtempSync(join(tmpdir(), 'mmkd-user-errors-'));

/** A failure the user can fix: exit 1, the message, no stack trace, no "internal error". */
function expectUserError(result: { code: number; stderr: string }, message: RegExp) {
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(result.code).toBe(1);
}

/** LLaVA-format conversations with `count` records, each with a small PNG. */
async function conversations(dir: string, count: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const records = [];
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: 32, height: 32 });
    png.data.fill(200);
    await writeFile(join(dir, `${i}.png`), PNG.sync.write(png));
    records.push({
      id: `r${i}`,
      image: `${i}.png`,
      conversations: [
        { from: 'human', value: '<image>\nWhat is it?' },
        { from: 'gpt', value: 'grey' },
      ],
    });
  }
  const path = join(dir, 'conversations.json');
  await writeFile(path, JSON.stringify(records));
  return path;
}

describe('user-fixable failures are reported as such (exit 1), not as internal errors', () => {
  it('a data file with too few records to hold one out', async () => {
    const data = await conversations(join(root, 'few'), 2);
    expectUserError(
      await mmkd('run', 'baseline', '--quick', '--backend', 'cpu', '--data', data, '--out', join(root, 'few-run')),
      /conversations\.json: 2 record\(s\) are too few to hold one in ten out for evaluation; give at least 10/,
    );
  });

  it('--out naming a file', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a folder');
    expectUserError(await mmkd('run', 'baseline', '--quick', '--backend', 'cpu', '--out', file), /a-file is a file, not a run folder; choose another --out/);
  });

  it('--resume on a folder that is not a run folder, leaving it untouched', async () => {
    const dir = join(root, 'notes');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    expectUserError(
      await mmkd('run', 'baseline', '--quick', '--backend', 'cpu', '--out', dir, '--resume'),
      /notes is not a run folder \(it holds files but no run\.json\), so there is nothing to resume/,
    );
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('--resume on the folder of another recipe names that recipe and how to resume it', async () => {
    const dir = join(root, 'other-recipe');
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    // run.json as the runner writes it when a run starts.
    await writeFile(join(dir, 'run.json'), JSON.stringify({ recipe: 'llava-kd', seed: 1, backend: 'cpu', teacher: null, stages: ['lm', 'dpt', 'sft', 'dft'] }));
    expectUserError(
      await mmkd('run', 'baseline', '--quick', '--backend', 'cpu', '--out', dir, '--resume'),
      /holds a run of recipe 'llava-kd' with seed 1, not 'baseline' with seed 0; resume that one with `mmkd run llava-kd --seed 1 --out .* --resume`/,
    );
  });
});

import { mkdtempSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliOutcome, runCli } from './testing/run-cli.js';

const mmkd = (...args: string[]) => runCli(args, { timeoutMs: 180_000 });
const root = mkdtempSync(join(tmpdir(), 'mmkd-evaluate-data-'));

/** LLaVA-format conversations: 30 records (enough for one in ten to be held out), each with a PNG. */
async function conversations(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const records = [];
  for (let i = 0; i < 30; i++) {
    const png = new PNG({ width: 32, height: 32 });
    png.data.fill(40 + 6 * i);
    await writeFile(join(dir, `${i}.png`), PNG.sync.write(png));
    records.push({
      id: `r${i}`,
      image: `${i}.png`,
      conversations: [
        { from: 'human', value: '<image>\nWhat is it?' },
        { from: 'gpt', value: i % 2 === 0 ? 'dark' : 'light' },
      ],
    });
  }
  const path = join(dir, 'conversations.json');
  await writeFile(path, JSON.stringify(records));
  return path;
}

// One quick teacher run on the user's data, started with --resume into a folder that does not
// exist (as a script that always passes --resume would, or a typo would).
describe('a run on --data, resumed into a missing folder, then evaluated', () => {
  let data = '';
  let out = '';
  let run: CliOutcome;
  let checkpoint = '';

  beforeAll(async () => {
    data = await conversations(join(root, 'data'));
    out = join(root, 'no-such-folder', 'run');
    run = await mmkd('run', 'teacher', '--quick', '--backend', 'wasm', '--data', data, '--no-cache', '--resume', '--out', out);
    checkpoint = /final checkpoint: (.+)/.exec(run.stdout)?.[1] ?? '';
  }, 240_000);

  it('--resume with no run in --out starts one, saying so on stderr', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`no run in ${out} yet: starting a new run\n`);
    expect(checkpoint.startsWith(out)).toBe(true);
  });

  it('evaluate without --data says which data the checkpoint was trained on and to pass --data', async () => {
    const result = await mmkd('evaluate', checkpoint, '--backend', 'wasm');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${checkpoint} was trained on ${data}, not on the procedural data, so its vocabulary is that file's: pass --data ${data}`);
    expect(result.stderr).not.toMatch(/does not hold|shape|internal error|\n\s+at /);
    const scored = await mmkd('evaluate', checkpoint, '--backend', 'wasm', '--data', data);
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toMatch(/exact match on \d+ held-out questions/);
  }, 120_000);

  it('a checkpoint that does not record its data (nor sits in a run folder) is told apart by its vocabulary', async () => {
    const old = join(root, 'elsewhere', 'old-checkpoint');
    await cp(checkpoint, old, { recursive: true });
    const statePath = join(old, 'state.json');
    const { dataFile: _recorded, ...state } = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
    await writeFile(statePath, JSON.stringify(state));
    const result = await mmkd('evaluate', old, '--backend', 'wasm');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `${old} was trained on other data: its vocabulary has \\d+ tokens, the procedural worlds' 47 \\(grid\\) and 52 \\(continuous\\); pass --data <the conversations file it was trained on>`,
      ),
    );
    expect(result.stderr).not.toMatch(/does not hold|internal error|\n\s+at /);
  }, 120_000);
});

import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/testing/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'mmkd-user-data-'));

const mmkd = (...args: string[]) => runCli(args, { timeoutMs: 180_000 });
/** `mmkd run <recipe> --quick --backend wasm …args`. */
const quickRun = (recipe: string, ...args: string[]) => mmkd('run', recipe, '--quick', '--backend', 'wasm', ...args);
const finalCheckpoint = (stdout: string): string => /final checkpoint: (.+)/.exec(stdout)![1]!;

/** A w×w image, left half `left` and right half `right` (RGB). */
function rgba(w: number, left: readonly number[], right: readonly number[]): Buffer {
  const data = Buffer.alloc(w * w * 4);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data.set([...(x < w / 2 ? left : right), 255], (y * w + x) * 4);
  return data;
}

const COLORS: Record<string, readonly number[]> = { red: [255, 0, 0], blue: [0, 0, 255], green: [0, 200, 0] };

/**
 * 24 records asking which colour is on the left: PNG images, and a JPEG every fifth; with
 * `textOnly`, that many text-only conversations (no "image", as ShareGPT's in LLaVA's mix) too.
 */
async function writeDataset(dir: string, textOnly = 0): Promise<string> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const names = Object.keys(COLORS);
  const records = [];
  for (let i = 0; i < 24; i++) {
    const [left, right] = [names[i % 3]!, names[(i + 1) % 3]!];
    const pixels = rgba(40, COLORS[left]!, COLORS[right]!);
    let file: string;
    if (i % 5 === 0) {
      file = `images/${i}.jpg`;
      await writeFile(join(dir, file), encodeJpeg({ width: 40, height: 40, data: pixels }, 95).data);
    } else {
      file = `images/${i}.png`;
      const png = new PNG({ width: 40, height: 40 });
      pixels.copy(png.data);
      await writeFile(join(dir, file), PNG.sync.write(png));
    }
    records.push({
      id: `r${i}`,
      image: file,
      conversations: [
        { from: 'human', value: '<image>\nWhat color is on the left?' },
        { from: 'gpt', value: left },
      ],
    });
  }
  for (let i = 0; i < textOnly; i++) {
    const color = names[i % 3]!;
    records.push({
      id: `t${i}`,
      conversations: [
        { from: 'human', value: `Repeat the word ${color}.` },
        { from: 'gpt', value: color },
      ],
    });
  }
  const path = join(dir, 'conversations.json');
  await writeFile(path, JSON.stringify(records));
  return path;
}

describe('training on LLaVA-format conversations', () => {
  let data = '';
  beforeAll(async () => {
    data = await writeDataset(root);
  });

  it("trains a teacher and a LLaVA-KD student on the user's data, and refuses a teacher with another vocabulary", async () => {
    const teacher = await quickRun('teacher', '--data', data, '--out', join(root, 'teacher'), '--no-cache');
    expect(teacher.code).toBe(0);
    const student = await quickRun('llava-kd', '--data', data, '--teacher', finalCheckpoint(teacher.stdout), '--out', join(root, 'student'), '--no-cache');
    expect(student.code).toBe(0);
    expect(student.stdout).toMatch(/llava-kd \(seed 0\): exact match \d+\.\d \(llava \d+\.\d\)/);
    // A teacher trained on the procedural data has another vocabulary.
    const other = finalCheckpoint((await quickRun('teacher', '--world', 'grid', '--out', join(root, 'procedural-teacher'), '--no-cache')).stdout);
    const refused = await quickRun('llava-kd', '--data', data, '--teacher', other, '--out', join(root, 'refused'), '--no-cache');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${other.replaceAll('/', '\\/')} does not hold a teacher for this model \\(vocabulary \\d+`));
  }, 300_000);

  it('trains on image and text-only records; without --teacher it trains a teacher on the data once and reuses it', async () => {
    const mixed = await writeDataset(join(root, 'mixed'), 9);
    const cache = join(root, 'mixed-cache');
    const first = await quickRun('baseline', '--data', mixed, '--cache', cache, '--out', join(root, 'mixed-baseline'));
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(
      /no teacher given for .*conversations\.json \(the shipped ones know only the procedural worlds\): training one with the 'teacher' recipe into /,
    );
    expect(first.stdout).toMatch(/baseline \(seed 0\): exact match \d+\.\d \(llava \d+\.\d\)/);
    const teacher = /teacher: (.+)/.exec(first.stderr)![1]!;
    expect(teacher.startsWith(cache)).toBe(true);
    // A second recipe on the same data finds that teacher: nothing is trained for it again.
    const second = await quickRun('em-kd', '--data', mixed, '--cache', cache, '--out', join(root, 'mixed-em-kd'));
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/training one/);
    expect(second.stderr).toContain(`teacher: ${teacher}\n`);
    expect(second.stdout).toMatch(/em-kd \(seed 0\): exact match \d+\.\d/);
  }, 300_000);

  it('names the file and the record of a conversation without <image>', async () => {
    const bad = join(root, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify([
        {
          id: 'x1',
          image: 'images/1.png',
          conversations: [
            { from: 'human', value: 'no image here' },
            { from: 'gpt', value: 'red' },
          ],
        },
      ]),
    );
    const result = await quickRun('baseline', '--data', bad, '--out', join(root, 'bad'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.json/);
    expect(result.stderr).toMatch(/x1/);
    expect(result.stderr).toMatch(/<image>/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { QUICK_SCALE, recipes } from './catalog.js';
import { CheckpointError, listCheckpoints } from './checkpoint.js';
import { runEnvironment } from './environment.js';
import { readMetrics } from './metrics.js';
import { silentProgress } from './progress.js';
import { runRecipe, type RunOptions } from './runner.js';
import { loadTeacher } from './teacher.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'mmkd-runner-'));
const catalog = recipes(QUICK_SCALE);
const environment = runEnvironment({ evalSamples: 50 });
let teacherPath = '';

const options = (name: string, dir: string, extra: Partial<RunOptions> = {}): RunOptions => ({
  recipe: catalog.get(name)!,
  seed: 1,
  dir,
  resume: false,
  environment,
  backend: 'wasm',
  checkpointEvery: 2,
  progress: silentProgress,
  ...extra,
});

/** The step records of a run: stage, step, loss and terms, in order. */
async function steps(dir: string) {
  return (await readMetrics(join(dir, 'metrics.jsonl'))).flatMap((r) => (r.type === 'step' ? [{ stage: r.stage, step: r.step, loss: r.loss, terms: r.terms }] : []));
}

describe('runner', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    teacherPath = (await runRecipe(options('teacher', join(root, 'teacher')))).checkpoint;
  });

  it('a run killed with SIGKILL at a random step resumes to the same metrics, to the last digit', async () => {
    const cli = (dir: string, ...more: string[]) => [
      '--import', 'tsx', 'cli/main.ts', 'run', 'llava-kd', '--quick', '--seed', '1', '--backend', 'wasm',
      '--out', dir, '--teacher', teacherPath, '--no-cache', '--checkpoint-every', '2', ...more,
    ];
    const whole = join(root, 'whole');
    await run(process.execPath, cli(whole), { timeout: 120_000 });

    const killed = join(root, 'killed');
    const child = spawn(process.execPath, cli(killed), { stdio: 'ignore' });
    // Kill at a random moment after the first checkpoint, before the run can finish.
    const deadline = Date.now() + 60_000;
    while ((await listCheckpoints(join(killed, 'checkpoints')).catch(() => [])).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, Math.random() * 600));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = await steps(killed);
    await run(process.execPath, cli(killed, '--resume'), { timeout: 120_000 });

    expect(await steps(killed)).toEqual(await steps(whole));
    const result = (dir: string) => readFile(join(dir, 'result.json'), 'utf8').then((t) => JSON.parse(t).report);
    expect(await result(killed)).toEqual(await result(whole));
    // The kill really interrupted something (or the run had already finished: then nothing to redo).
    expect(before.length).toBeLessThanOrEqual((await steps(whole)).length);
  });

  it('skips a corrupt checkpoint, naming it, and refuses when none is usable', async () => {
    const dir = join(root, 'corrupt');
    const teacher = await loadTeacher(teacherPath, environment.configs.teacher);
    try {
      await runRecipe(options('baseline', dir, { teacher }));
      const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
      for (const path of checkpoints) {
        const file = join(path, 'weights.safetensors');
        const bytes = await readFile(file);
        bytes[bytes.length - 1] ^= 0xff;
        await writeFile(file, bytes);
      }
      await expect(runRecipe(options('baseline', dir, { teacher, resume: true }))).rejects.toThrow(
        new RegExp(`no usable checkpoint to resume from:\\n {2}${checkpoints.at(-1)!.replaceAll('/', '\\/')}/weights\\.safetensors is corrupt: its SHA-256 does not match`),
      );
    } finally {
      teacher.model.dispose();
    }
  });

  it('refuses a checkpoint written by another run', async () => {
    const dir = join(root, 'other');
    const teacher = await loadTeacher(teacherPath, environment.configs.teacher);
    try {
      await runRecipe(options('baseline', dir, { teacher }));
      await expect(runRecipe(options('baseline', dir, { teacher, resume: true, seed: 2 }))).rejects.toThrow(/holds a run of recipe 'baseline' with seed 0, not 'baseline' with seed 2/);
    } finally {
      teacher.model.dispose();
    }
  });

  it('never overwrites a run: without --resume an existing run folder is an error', async () => {
    const dir = join(root, 'existing');
    const teacher = await loadTeacher(teacherPath, environment.configs.teacher);
    try {
      await runRecipe(options('baseline', dir, { teacher }));
      const names = await readdir(join(dir, 'checkpoints'));
      await expect(runRecipe(options('baseline', dir, { teacher }))).rejects.toThrow(/already holds a run .* pass --resume to continue it, or choose another --out/);
      expect(await readdir(join(dir, 'checkpoints'))).toEqual(names);
    } finally {
      teacher.model.dispose();
    }
  });

  it('rejects a teacher whose vocabulary differs from the student\'s, naming the checkpoint', async () => {
    const wrong = { ...environment.configs.teacher, llm: { ...environment.configs.teacher.llm, vocabSize: environment.configs.teacher.llm.vocabSize + 3 } };
    await expect(loadTeacher(teacherPath, wrong)).rejects.toThrow(CheckpointError);
    await expect(loadTeacher(teacherPath, wrong)).rejects.toThrow(new RegExp(`${teacherPath.replaceAll('/', '\\/')} does not hold a teacher for this model \\(vocabulary 50`));
  });

  it('reuses cached stages with exactly the results of training them, and leaks no tensor', async () => {
    const teacher = await loadTeacher(teacherPath, environment.configs.teacher);
    try {
      const cache = join(root, 'cache');
      await runRecipe(options('baseline', join(root, 'warm'), { teacher, cacheDir: cache }));
      const before = tf.memory().numTensors;
      const cached = await runRecipe(options('llava-kd-pt-dft', join(root, 'cached'), { teacher, cacheDir: cache }));
      expect(tf.memory().numTensors).toBe(before);
      const fresh = await runRecipe(options('llava-kd-pt-dft', join(root, 'fresh'), { teacher }));
      expect(await steps(join(root, 'cached'))).toEqual(await steps(join(root, 'fresh')));
      expect(cached.report).toEqual(fresh.report);
      const records = await readMetrics(join(root, 'cached', 'metrics.jsonl'));
      expect(records.filter((r) => r.type === 'stage').map((r) => r.type === 'stage' && `${r.stage}:${r.from}`)).toEqual(['lm:cache', 'pt:cache', 'dft:trained']);
    } finally {
      teacher.model.dispose();
    }
  });
});

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { runCli } from '../cli/testing/run-cli.js';
import { QUICK_SCALE, recipes } from './catalog.js';
import { CheckpointError, listCheckpoints } from './checkpoint.js';
import { runEnvironment } from './environment.js';
import { readMetrics } from './metrics.js';
import { silentProgress } from './progress.js';
import { type RunOptions, runRecipe } from './runner.js';
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
  return (await readMetrics(join(dir, 'metrics.jsonl'))).flatMap((r) =>
    r.type === 'step' ? [{ stage: r.stage, step: r.step, loss: r.loss, terms: r.terms }] : [],
  );
}

/** Runs `use` with the teacher trained for these tests loaded, and disposes it after. */
async function withTeacher(use: (teacher: Awaited<ReturnType<typeof loadTeacher>>) => Promise<void>): Promise<void> {
  const teacher = await loadTeacher(teacherPath, environment.configs.teacher);
  try {
    await use(teacher);
  } finally {
    teacher.model.dispose();
  }
}

describe('runner', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    teacherPath = (await runRecipe(options('teacher', join(root, 'teacher')))).checkpoint;
  });

  it('a run killed with SIGKILL right after a mid-stage checkpoint resumes from it to the same metrics, to the last digit', async () => {
    const cli = (dir: string, ...more: string[]) => [
      '--import',
      'tsx',
      'cli/main.ts',
      'run',
      'llava-kd',
      '--quick',
      '--seed',
      '1',
      '--backend',
      'wasm',
      '--out',
      dir,
      '--teacher',
      teacherPath,
      // The teacher above was trained on runEnvironment(), the grid world's data.
      '--world',
      'grid',
      '--no-cache',
      '--checkpoint-every',
      '2',
      ...more,
    ];
    const whole = join(root, 'whole');
    await run(process.execPath, cli(whole), { timeout: 120_000 });

    // The child kills itself the moment checkpoint 02-sft-000006 is written: step 6 of sft's 12.
    const killed = join(root, 'killed');
    const killAt = '02-sft-000006';
    const child = spawn(process.execPath, cli(killed), { stdio: 'ignore', env: { ...process.env, MMKD_KILL_AFTER_CHECKPOINT: killAt } });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    const names = (await listCheckpoints(join(killed, 'checkpoints'))).map((p) => basename(p));
    expect(names.at(-1)).toBe(killAt);
    expect(names).not.toContain('03-dft-000006');
    const before = await steps(killed);
    expect(before.at(-1)).toMatchObject({ stage: 'sft', step: 5 });

    const resumed = await run(process.execPath, cli(killed, '--resume'), { timeout: 120_000 });
    // The resume path ran: from the checkpoint, training only sft's remaining steps and dft.
    expect(resumed.stderr).toContain(`resuming llava-kd from sft step 6 (${join(killed, 'checkpoints', killAt)})`);
    expect(resumed.stderr).toMatch(/\[sft\] steps 7–12 \(resumed at 6\) in \d+\.\d s/);
    expect(resumed.stderr).not.toMatch(/\[(lm|dpt)\] \d+ steps in/);
    expect(await steps(killed)).toEqual(await steps(whole));
    const result = (dir: string) => readFile(join(dir, 'result.json'), 'utf8').then((t) => JSON.parse(t).report);
    expect(await result(killed)).toEqual(await result(whole));
  });

  it('a run whose stages all come from the stage cache ends with its own usable checkpoint (CLI)', async () => {
    const cache = join(root, 'cli-cache');
    const mmkd = (...args: string[]) => runCli(args, { timeoutMs: 180_000 });
    const runBaseline = (out: string, ...more: string[]) =>
      mmkd(
        'run',
        'baseline',
        '--quick',
        '--seed',
        '1',
        '--backend',
        'wasm',
        '--world',
        'grid',
        '--teacher',
        teacherPath,
        '--cache',
        cache,
        '--out',
        out,
        ...more,
      );
    const first = await runBaseline(join(root, 'cli-first'));
    expect(first.code).toBe(0);
    const second = await runBaseline(join(root, 'cli-second'));
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/lm → pt → sft: reused from the stage cache/);
    const checkpoint = join(root, 'cli-second', 'checkpoints', '02-sft-000012');
    expect(second.stdout).toContain(`final checkpoint: ${checkpoint}\n`);
    const result = JSON.parse(await readFile(join(root, 'cli-second', 'result.json'), 'utf8'));
    expect(result.checkpoint).toBe(checkpoint);
    // The checkpoint is the run's own: evaluate scores it as the run did, and --resume finds it.
    const evaluated = await mmkd('evaluate', checkpoint, '--backend', 'wasm', '--json');
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toEqual({ ...result.report, questions: result.questions });
    const resumed = await runBaseline(join(root, 'cli-second'), '--resume');
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming baseline from sft step 12 (${checkpoint})`);
    expect(resumed.stdout).toContain(`final checkpoint: ${checkpoint}\n`);
  });

  it('skips a corrupt checkpoint, naming it, and refuses when none is usable', () =>
    withTeacher(async (teacher) => {
      const dir = join(root, 'corrupt');
      await runRecipe(options('baseline', dir, { teacher }));
      const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
      for (const path of checkpoints) {
        const file = join(path, 'weights.safetensors');
        const bytes = await readFile(file);
        const last = bytes.length - 1;
        bytes.writeUInt8(bytes.readUInt8(last) ^ 0xff, last);
        await writeFile(file, bytes);
      }
      await expect(runRecipe(options('baseline', dir, { teacher, resume: true }))).rejects.toThrow(
        new RegExp(
          `no usable checkpoint to resume from:\\n {2}${checkpoints.at(-1)!.replaceAll('/', '\\/')}/weights\\.safetensors is corrupt: its SHA-256 does not match`,
        ),
      );
    }));

  it('refuses a checkpoint written by another run', () =>
    withTeacher(async (teacher) => {
      const dir = join(root, 'other');
      await runRecipe(options('baseline', dir, { teacher }));
      await expect(runRecipe(options('baseline', dir, { teacher, resume: true, seed: 2 }))).rejects.toThrow(
        /holds a run of recipe 'baseline' with seed 1, not 'baseline' with seed 2/,
      );
      // Same recipe and seed (so the folder is this run's), another backend: the checkpoints are not its own.
      await expect(runRecipe(options('baseline', dir, { teacher, resume: true, backend: 'cpu' }))).rejects.toThrow(/fingerprint mismatch/);
    }));

  it('never overwrites a run: without --resume an existing run folder is an error', () =>
    withTeacher(async (teacher) => {
      const dir = join(root, 'existing');
      await runRecipe(options('baseline', dir, { teacher }));
      const names = await readdir(join(dir, 'checkpoints'));
      await expect(runRecipe(options('baseline', dir, { teacher }))).rejects.toThrow(
        /already holds a run .* pass --resume to continue it, or choose another --out/,
      );
      expect(await readdir(join(dir, 'checkpoints'))).toEqual(names);
    }));

  it("rejects a teacher whose vocabulary differs from the student's, naming the checkpoint", async () => {
    const wrong = { ...environment.configs.teacher, llm: { ...environment.configs.teacher.llm, vocabSize: environment.configs.teacher.llm.vocabSize + 3 } };
    await expect(loadTeacher(teacherPath, wrong)).rejects.toThrow(CheckpointError);
    await expect(loadTeacher(teacherPath, wrong)).rejects.toThrow(
      new RegExp(`${teacherPath.replaceAll('/', '\\/')} does not hold a teacher for this model \\(vocabulary 50`),
    );
  });

  it('reuses cached stages with exactly the results of training them, and leaks no tensor', () =>
    withTeacher(async (teacher) => {
      const cache = join(root, 'cache');
      await runRecipe(options('baseline', join(root, 'warm'), { teacher, cacheDir: cache }));
      const before = tf.memory().numTensors;
      const cached = await runRecipe(options('llava-kd-pt-dft', join(root, 'cached'), { teacher, cacheDir: cache }));
      expect(tf.memory().numTensors).toBe(before);
      const fresh = await runRecipe(options('llava-kd-pt-dft', join(root, 'fresh'), { teacher }));
      expect(await steps(join(root, 'cached'))).toEqual(await steps(join(root, 'fresh')));
      expect(cached.report).toEqual(fresh.report);
      const records = await readMetrics(join(root, 'cached', 'metrics.jsonl'));
      expect(records.filter((r) => r.type === 'stage').map((r) => r.type === 'stage' && `${r.stage}:${r.from}`)).toEqual([
        'lm:cache',
        'pt:cache',
        'dft:trained',
      ]);
    }));

  it('a finished run resumed keeps the result it wrote (no second evaluation); one of another checkpoint is evaluated again', () =>
    withTeacher(async (teacher) => {
      const dir = join(root, 'finished');
      const finished = await runRecipe(options('baseline', dir, { teacher }));
      const withoutEval = async () => (await readMetrics(join(dir, 'metrics.jsonl'))).filter((r) => r.type !== 'eval');
      const trainingRecords = await withoutEval();
      // A marked result proves which path answered: evaluating again would give the true report.
      const marked = { ...finished, seconds: 12345, report: { ...finished.report, average: -1 } };
      await writeFile(join(dir, 'result.json'), JSON.stringify(marked));
      const kept = await runRecipe(options('baseline', dir, { teacher, resume: true }));
      expect(kept.report.average).toBe(-1);
      expect(kept.seconds).toBe(12345);
      // The training records untouched, and one evaluation: the kept one.
      expect(await withoutEval()).toEqual(trainingRecords);
      expect((await readMetrics(join(dir, 'metrics.jsonl'))).filter((r) => r.type === 'eval')).toEqual([{ type: 'eval', report: marked.report }]);

      // Scored on another number of questions than the caller now asks for: scored again.
      const fewer = await runRecipe(options('baseline', dir, { teacher, resume: true, environment: runEnvironment({ evalSamples: 40 }) }));
      expect(fewer.report.samples).toBe(40);

      await writeFile(join(dir, 'result.json'), JSON.stringify({ ...marked, checkpoint: join(dir, 'checkpoints', 'elsewhere') }));
      const evaluated = await runRecipe(options('baseline', dir, { teacher, resume: true }));
      expect(evaluated.report).toEqual(finished.report);
      expect(evaluated.questions).toEqual(finished.questions);
    }));
});

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { objective, weighted } from '../core/combinators.js';
import { graphToJson } from '../core/json.js';
import { student as s, teacher as t } from '../core/views.js';
import { feature, kl, uld } from '../losses/index.js';
import { expectClose, toleranceFor } from '../properties/tolerances.js';
import { QUICK_SCALE, recipes } from '../recipes/catalog.js';
import { trainingBatch } from '../recipes/environment.js';
import type { Recipe } from '../recipes/recipe.js';
import { openRecipeSignals, signalOutputsAt, signalsRecipe } from '../recipes/signals/recipe-signals.js';
import { loadTeacher, SHIPPED_TEACHER } from '../recipes/teacher.js';
import { worldEnvironment } from '../recipes/world.js';
import { expectCleanFailure, runCli } from './testing/run-cli.js';

// The cases are the grid world's (its vocabulary, V = 47, and its shipped teacher); a run on --data names no world.
const mmkd = (...args: string[]) =>
  runCli(['run', 'teacher-signals'].includes(args[0]!) && !args.includes('--data') && !args.includes('--world') ? [...args, '--world', 'grid'] : args, {
    timeoutMs: 300_000,
  });
const root = mkdtempSync(join(tmpdir(), 'mmkd-teacher-signals-'));
const common = ['llava-kd', '--quick', '--world', 'grid', '--backend', 'wasm', '--k', '8', '--shard-steps', '2'];

/** Every file of a signals folder (both stages), by relative path, as bytes. */
async function filesOf(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const stage of await readdir(dir)) {
    for (const name of (await readdir(join(dir, stage))).sort()) out.set(`${stage}/${name}`, (await readFile(join(dir, stage, name))).toString('base64'));
  }
  return out;
}

/**
 * The tolerance for step `i` of a stage trained from k = V signals against the online run: the
 * value table, except after the first step of a stage that matches tokens, where it is 1e-3: the
 * two runs' weights differ by float32 rounding after a step, and a Hungarian assignment at a
 * near-tie may then pair differently (a jump in VSD, not a drift).
 */
function afterSteps(i: number, matching: boolean) {
  return i === 0 || !matching ? toleranceFor('wasm', 'value') : { atol: 1e-3, rtol: 1e-3 };
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

  it('mmkd run --teacher-signals: with k = V the losses of the online run within the tolerance table, without running the teacher', async () => {
    const signals = join(root, 'minillm-full');
    const cache = join(root, 'cache');
    const written = await mmkd('teacher-signals', 'minillm', '--quick', '--backend', 'wasm', '--k', '47', '--dtype', 'float32', '--out', signals);
    expect(written.stdout).toMatch(/^rkd: 48 sequences × \d+ positions, k = 47 of V = 47/);
    const dense = await mmkd('run', 'minillm', '--quick', '--backend', 'wasm', '--cache', cache, '--out', join(root, 'dense'));
    expect(dense.code).toBe(0);
    const offline = await mmkd(
      'run',
      'minillm',
      '--quick',
      '--backend',
      'wasm',
      '--cache',
      cache,
      '--out',
      join(root, 'offline'),
      '--teacher-signals',
      signals,
    );
    expect(offline.stderr).toMatch(/teacher signals: .*minillm-full \(rkd: k = 47 of 47, T = 1\), missing mass: tailBucket/);
    expect(offline.stderr).toMatch(/teacher: the teacher mmkd ships \(its vision encoder only; the teacher is not built\)/);
    // The stages before the first that reads the signals are the online run's, from the cache.
    expect(offline.stderr).toMatch(/lm → pt → sft: reused from the stage cache/);
    expect(offline.code).toBe(0);
    const steps = async (dir: string) =>
      (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; stage: string; loss: number; terms: Record<string, number> })
        .filter((r) => r.type === 'step' && r.stage === 'rkd');
    const [a, b] = [await steps(join(root, 'dense')), await steps(join(root, 'offline'))];
    expect(b.length).toBe(6);
    b.forEach((r, i) => {
      expectClose(r.loss, a[i]!.loss, toleranceFor('wasm', 'value'), `rkd step ${i}: loss`);
      expectClose([r.terms['ce']!, r.terms['rkl']!], [a[i]!.terms['ce']!, a[i]!.terms['rkl']!], toleranceFor('wasm', 'value'), `rkd step ${i}: terms`);
    });
  });

  it('em-kd-hidden from k = V signals with hidden states: Hungarian matching on them, VSD on the matched top-k rows, the online losses (see afterSteps)', async () => {
    const signals = join(root, 'emkd-full');
    const cache = join(root, 'emkd-cache');
    expect(
      (await mmkd('teacher-signals', 'em-kd-hidden', '--quick', '--backend', 'wasm', '--k', '47', '--dtype', 'float32', '--hidden', '--out', signals)).code,
    ).toBe(0);
    expect((await mmkd('run', 'em-kd-hidden', '--quick', '--backend', 'wasm', '--cache', cache, '--out', join(root, 'emkd-online'))).code).toBe(0);
    const offline = await mmkd(
      'run',
      'em-kd-hidden',
      '--quick',
      '--backend',
      'wasm',
      '--cache',
      cache,
      '--out',
      join(root, 'emkd-offline'),
      '--teacher-signals',
      signals,
    );
    expect(offline.code).toBe(0);
    const steps = async (dir: string) =>
      (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; stage: string; loss: number; terms: Record<string, number> })
        .filter((r) => r.type === 'step' && r.stage === 'phase2');
    const [a, b] = [await steps(join(root, 'emkd-online')), await steps(join(root, 'emkd-offline'))];
    expect(b.length).toBe(a.length);
    expect(Object.keys(b[0]!.terms)).toEqual(['sup', 'rld', 'vsd', 'vlad']);
    b.forEach((r, i) => {
      const names = Object.keys(a[i]!.terms);
      expectClose([r.loss, ...names.map((n) => r.terms[n]!)], [a[i]!.loss, ...names.map((n) => a[i]!.terms[n]!)], afterSteps(i, true), `phase2 step ${i}`);
    });
    // em-kd matches on the teacher's logits, which signals do not hold.
    const refused = await mmkd('run', 'em-kd', '--quick', '--backend', 'wasm', '--no-cache', '--out', join(root, 'emkd-refused'), '--teacher-signals', signals);
    expectCleanFailure(refused, /phase2: objective.vsd.teacher reads the teacher's logits through a matcher on them \(hungarian\)/);
  });

  it("the papers' recipes from k = V signals with the teacher's vision-token logits (and hidden states): llava-kd (RDist, MDist) and em-kd (Hungarian on logits, VSD, VLAD) match their online losses", async () => {
    for (const [recipe, extra, stages] of [
      ['llava-kd', ['--visual-logits'], ['dpt', 'dft']],
      ['em-kd', ['--visual-logits', '--hidden'], ['phase2']],
    ] as const) {
      const signals = join(root, `${recipe}-dense`);
      const cache = join(root, `${recipe}-cache`);
      const written = await mmkd('teacher-signals', recipe, '--quick', '--backend', 'wasm', '--k', '47', '--dtype', 'float32', ...extra, '--out', signals);
      expect(written.stdout).toMatch(/whole logits at visual tokens/);
      expect((await mmkd('run', recipe, '--quick', '--backend', 'wasm', '--cache', cache, '--out', join(root, `${recipe}-online`))).code).toBe(0);
      const offline = await mmkd(
        'run',
        recipe,
        '--quick',
        '--backend',
        'wasm',
        '--cache',
        cache,
        '--out',
        join(root, `${recipe}-offline`),
        '--teacher-signals',
        signals,
      );
      expect(offline.code).toBe(0);
      const steps = async (dir: string) =>
        (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; stage: string; loss: number; terms: Record<string, number> })
          .filter((r) => r.type === 'step' && (stages as readonly string[]).includes(r.stage));
      const [a, b] = [await steps(join(root, `${recipe}-online`)), await steps(join(root, `${recipe}-offline`))];
      expect(b.length).toBe(a.length);
      b.forEach((r, i) => {
        const names = Object.keys(a[i]!.terms);
        const first = a.findIndex((x) => x.stage === r.stage);
        expectClose(
          [r.loss, ...names.map((n) => r.terms[n]!)],
          [a[i]!.loss, ...names.map((n) => a[i]!.terms[n]!)],
          afterSteps(i - first, recipe === 'em-kd'),
          `${recipe} ${r.stage} step ${i - first}`,
        );
      });
    }
  });

  it('a run from signals refuses, before training, signals at another temperature, a corrupt shard and a teacher term no signal can serve', async () => {
    const hot = join(root, 'minillm-t2');
    expect((await mmkd('teacher-signals', 'minillm', '--quick', '--backend', 'wasm', '--k', '8', '--temperature', '2', '--out', hot)).code).toBe(0);
    const out = join(root, 'refused');
    const hotRun = await mmkd('run', 'minillm', '--quick', '--backend', 'wasm', '--no-cache', '--out', out, '--teacher-signals', hot);
    expectCleanFailure(
      hotRun,
      /do not fit this run:\n {2}- rkd: objective.rkl: the teacher's signals are log-probs at temperature 2, this divergence's temperature is 1/,
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/); // nothing started
    const shard = join(hot, 'rkd', 'shard-00000.safetensors');
    const bytes = await readFile(shard);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(shard, bytes);
    expectCleanFailure(
      await mmkd('run', 'minillm', '--quick', '--backend', 'wasm', '--no-cache', '--out', out, '--teacher-signals', hot),
      /shard-00000.safetensors is corrupt or was replaced/,
    );
    expectCleanFailure(
      await mmkd('run', 'llava-kd', '--quick', '--backend', 'wasm', '--no-cache', '--out', out, '--teacher-signals', hot),
      /recipe 'llava-kd' cannot train from top-k teacher signals: only divergences read them, and\n {2}- dpt: objective.rel.teacher reads the teacher's logits through relation/,
    );
  });

  it("--hidden stores the teacher's hidden states, which a run reads for terms on teacher.hidden; signals without them are refused for such terms", async () => {
    const dir = join(root, 'minillm-hidden');
    const written = await mmkd('teacher-signals', 'minillm', '--quick', '--backend', 'wasm', '--k', '8', '--hidden', '--out', dir);
    expect(written.stdout).toMatch(/^rkd: 48 sequences × \d+ positions, k = 8 of V = 47, T = 1, float16, hidden states 128 wide →/);
    await useBackend('wasm');
    const environment = worldEnvironment('grid');
    const minillm = recipes(QUICK_SCALE).get('minillm')!;
    const rkd = minillm.stages.at(-1)!;
    // A stage of one's own that also matches hidden states to the teacher's.
    const withFeatures: Recipe = {
      ...minillm,
      stages: [
        ...minillm.stages.slice(0, -1),
        {
          ...rkd,
          objective: objective({
            rkl: kl.reverse(t.logits.next('response'), s.logits.next('response')),
            feat: feature.mse(t.hidden.at('visual'), s.hidden.at('visual'), { projection: true }),
          }),
        },
      ],
    };
    const offline = signalsRecipe(withFeatures, 'tailBucket');
    const signals = await openRecipeSignals(offline, 0, environment, dir);
    const side = await signalOutputsAt(signals.get('rkd')!, environment, rkd, 0, 3);
    const teacher = await loadTeacher(fileURLToPath(SHIPPED_TEACHER), environment.configs.teacher);
    const online = teacher.model.forward(trainingBatch(environment, rkd.data, 'teacher', 0, 3, rkd.batchSize));
    try {
      const [got, want] = [await side.hidden!.data(), await online.hidden!.data()];
      expect(side.hidden!.shape).toEqual(online.hidden!.shape);
      got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -11 + 1e-6));
      expect(Array.from(side.roles)).toEqual(Array.from(online.roles));
    } finally {
      tf.dispose([side.hidden!, online.logits, online.hidden!]);
      teacher.model.dispose();
    }
    const plain = join(root, 'minillm-plain');
    expect((await mmkd('teacher-signals', 'minillm', '--quick', '--backend', 'wasm', '--k', '8', '--out', plain)).code).toBe(0);
    await expect(openRecipeSignals(offline, 0, environment, plain)).rejects.toThrow(
      /minillm-plain\/rkd: stage rkd reads the teacher's hidden states \(objective.feat\), which these signals do not hold; write them with mmkd teacher-signals --hidden/,
    );
  });

  it('mmkd explain prints an objective that reads top-k signals, with its policy and options', async () => {
    const file = join(root, 'topk-objective.json');
    const graph = objective({
      res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response'), { paddedVocab: 40 }),
      x: weighted(0.1, uld(t.logits.next('response'), s.logits.next('response'))),
    });
    await writeFile(file, graphToJson(graph));
    const explained = await mmkd('explain', file);
    expect(explained.stdout).toMatch(
      /res = KL\(p ‖ q\); p from teacher\.topk\(tailBucket\)\[next response\], q from student\.logits\[next response\] {3}\(T=1, rows from 40 on are padding, masked on both sides, mean over tokens\)/,
    );
    expect(explained.stdout).toMatch(/x {3}= 0\.1 · Σ_i \|sort↓\(p\)_i − sort↓\(q\)_i\| \(zero-padded to max V\)/);
    expect(explained.code).toBe(0);
  });

  it('on LLaVA-format conversations: a teacher trained on the file first, its signals, and a run from them', async () => {
    const data = join(root, 'llava');
    await mkdir(data, { recursive: true });
    const records = [];
    for (let i = 0; i < 100; i++) {
      const png = new PNG({ width: 32, height: 32 });
      png.data.fill((37 * i) % 255);
      await writeFile(join(data, `${i}.png`), PNG.sync.write(png));
      records.push({
        id: `r${i}`,
        image: `${i}.png`,
        conversations: [
          { from: 'human', value: '<image>\nWhat is it?' },
          { from: 'gpt', value: i % 2 ? 'dark' : 'light' },
        ],
      });
    }
    await writeFile(join(data, 'c.json'), JSON.stringify(records));
    const cache = join(data, 'cache');
    const common = ['minillm', '--quick', '--backend', 'wasm', '--data', join(data, 'c.json'), '--cache', cache];
    const written = await mmkd('teacher-signals', ...common, '--k', '4', '--out', join(data, 'signals'));
    expect(written.stdout).toMatch(/^rkd: 48 sequences × \d+ positions, k = 4 of V = \d+, T = 1, float16/);
    expect(written.code).toBe(0);
    const run = await mmkd('run', ...common, '--teacher-signals', join(data, 'signals'), '--out', join(data, 'run'));
    expect(run.stderr).toMatch(/\(its vision encoder only; the teacher is not built\)/);
    expect(run.stdout).toMatch(/^minillm \(seed 0\): exact match [\d.]+ \(llava [\d.]+\)/);
    expect(run.code).toBe(0);
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

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { standardRegistry } from '../compile/standard-registry.js';
import { hostTensor, writeNpy, writeSafetensors } from '../io/index.js';
import { parseCheckpointName } from '../recipes/checkpoint-name.js';
import { runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

const mmkd = (...args: string[]) => runCli(args);
const { dir, file } = scratchFolder('mmkd-commands-');

const logits = (side: 'teacher' | 'student') => ({ kind: 'view', side, field: 'logits', roles: ['response'], shift: 1 });
/** An objective whose only faults are its parameters: T = 0 and β = 1.5. */
const badParameters = file(
  'bad-parameters.json',
  JSON.stringify({
    kind: 'objective',
    terms: {
      res: { kind: 'loss', loss: 'jsd', inputs: { teacher: logits('teacher'), student: logits('student') }, params: { beta: 1.5, temperature: 0 } },
    },
  }),
);
// The heading names the objective file, as decoding errors do.
const PARAMETER_ERRORS =
  `mmkd: ${badParameters}: the objective is not valid:\n` +
  '  - objective.res: temperature must be a finite number > 0, got 0\n  - objective.res: β (beta) must be in [0, 1], got 1.5\n';
const tinyInputs = 'examples/inputs/tiny-llava.safetensors';

describe('mmkd explain validates what it explains', () => {
  it('lists every parameter problem, exactly as mmkd loss does, and exits 1', async () => {
    const explained = await mmkd('explain', badParameters);
    expect(explained.code).toBe(1);
    expect(explained.stdout).toBe('');
    expect(explained.stderr).toBe(PARAMETER_ERRORS);
    const loss = await mmkd('loss', '--objective', badParameters, '--inputs', tinyInputs, '--backend', 'cpu');
    expect(loss.code).toBe(1);
    expect(loss.stderr).toContain(PARAMETER_ERRORS);
  });

  it('with --inputs, checks the objective against their shapes too', async () => {
    const zeros = (shape: number[]) => hostTensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b)));
    const inputs = file(
      'vocabularies-differ.safetensors',
      writeSafetensors({
        'teacher.logits': zeros([1, 4, 5]),
        'student.logits': zeros([1, 4, 3]),
        roles: hostTensor('int32', [1, 4], Int32Array.from([1, 2, 3, 3])),
        labels: hostTensor('int32', [1, 4], Int32Array.from([-100, -100, 1, 2])),
      }),
    );
    const result = await mmkd('explain', 'examples/objectives/llava-kd-dpt.json', '--inputs', inputs, '--backend', 'cpu');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /examples\/objectives\/llava-kd-dpt\.json: the objective is not valid:\n {2}- objective\.res: vocabularies differ: teacher\.logits \[1, 4, 5\] vs student\.logits \[1, 4, 3\]/,
    );
    const loss = await mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', inputs, '--backend', 'cpu');
    expect(loss.stderr).toContain(result.stderr.slice(result.stderr.indexOf('mmkd: ')));
    const fits = await mmkd('explain', 'examples/objectives/llava-kd-dpt.json', '--inputs', tinyInputs, '--backend', 'cpu');
    expect(fits.code).toBe(0);
    expect(fits.stdout).toContain('objective = reg + res + vis + 0.5·rel');
  });
});

describe('mmkd loss and its old name', () => {
  it('eval still works, saying on stderr that it is deprecated', async () => {
    const args = ['--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', tinyInputs, '--backend', 'cpu', '--json'];
    const [old, current] = await Promise.all([mmkd('eval', ...args), mmkd('loss', ...args)]);
    expect(old.code).toBe(0);
    expect(old.stderr).toContain("mmkd: 'eval' is deprecated and will be removed; use 'mmkd loss' (same options)");
    expect(current.stderr).not.toContain('deprecated');
    expect(JSON.parse(old.stdout)).toEqual(JSON.parse(current.stdout));
  });

  it('the help lists loss and not eval', async () => {
    const help = await mmkd('--help');
    expect(help.stdout).toMatch(/^ {2}loss \[options\]/m);
    expect(help.stdout).toMatch(/^ {2}losses \[options\]/m);
    expect(help.stdout).not.toMatch(/^ {2}eval\b/m);
  });
});

describe('mmkd losses', () => {
  it('lists every loss and matcher of the standard registry with its summary and parameter defaults', async () => {
    const result = await mmkd('losses', '--json');
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout) as {
      losses: { name: string; summary: string; formula: string; parameters: object }[];
      matchers: { name: string }[];
    };
    expect(listing.losses.map((l) => l.name)).toEqual(Object.keys(standardRegistry.losses));
    expect(listing.matchers.map((m) => m.name)).toEqual(Object.keys(standardRegistry.matchers));
    for (const loss of listing.losses) {
      const definition = standardRegistry.losses[loss.name]!;
      expect(loss.summary).toBe(definition.summary);
      expect(loss.parameters).toEqual(definition.defaults);
      expect(loss.formula.length).toBeGreaterThan(0);
    }
  });

  it('prints each as a block: summary, formula, inputs, parameters', async () => {
    const { stdout } = await mmkd('losses');
    expect(stdout).toContain(`jsd: ${standardRegistry.losses['jsd']!.summary}\n  formula     JSD_β=0.5(p, q); p from teacher, q from student`);
    expect(stdout).toMatch(
      /\n {2}parameters {2}temperature = 1, scaleT2 = false, reduction = "mean", truncateVocab = false, paddedVocab = null, beta = 0\.5\n/,
    );
    expect(stdout).toMatch(/supervisedCE: .*\n.*\n {2}inputs {6}student \(student logits\), and labels\n/);
    expect(stdout).toContain(`hungarian: ${standardRegistry.matchers['hungarian']!.summary}`);
  });
});

describe('--backend on every command', () => {
  const cost = file('cost.npy', writeNpy(hostTensor('float64', [2, 2], Float64Array.from([1, 0, 0, 1]))));

  it('commands without tensor work accept it, and check the name', async () => {
    for (const args of [
      ['explain', 'examples/objectives/llava-kd-dpt.json'],
      ['match', '--cost', cost, '--json'],
      ['losses', '--json'],
    ]) {
      const ok = await mmkd(...args, '--backend', 'cpu');
      expect(ok.code, args.join(' ')).toBe(0);
      const bad = await mmkd(...args, '--backend', 'tpu');
      expect(bad.code, args.join(' ')).toBe(1);
      expect(bad.stderr).toContain("unknown backend 'tpu' (from --backend): choose one of auto, cpu, wasm, webgpu, node-gpu");
    }
    const compare = await mmkd('compare', join(dir, 'no-run'), '--backend', 'wasm');
    expect(compare.stderr).toMatch(/no-run has no result\.json/);
  });

  it('auto says what it chose, without Dawn warnings from probing the WebGPU adapter', async () => {
    const result = await mmkd('explain', 'examples/objectives/llava-kd-dpt.json', '--inputs', tinyInputs);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^mmkd: backend \S+: /);
    expect(result.stderr).not.toMatch(/artificially reduced|Warning:/);
  });
});

describe('mmkd --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await mmkd('--version');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });
});

describe('mmkd evaluate --help', () => {
  it('describes checkpoint folders as the checkpoint-name codec names them', async () => {
    const help = await mmkd('evaluate', '--help');
    expect(help.stdout).toContain('runs/<run>/checkpoints/<index>-<stage>-<step>');
    const example = /e\.g\. (\S+?)\)/.exec(help.stdout)?.[1];
    expect(example).toBeDefined();
    expect(parseCheckpointName(example!)).toEqual({ stage: 2, stageName: 'sft', step: 600 });
  });
});

describe('mmkd compare', () => {
  /** A finished run folder, its result.json as the runner writes it. */
  const runFolder = (name: string, recipe: string, seed: number, accuracy: number): string => {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    const report = { perKind: { color: { correct: 10 * accuracy, total: 10, accuracy } }, average: accuracy, overall: accuracy, samples: 10 };
    writeFileSync(
      join(folder, 'result.json'),
      JSON.stringify({ recipe, seed, backend: 'wasm', report, checkpoint: join(folder, 'checkpoints', '01-sft-000010'), seconds: 1 }),
    );
    return folder;
  };
  const seed0 = runFolder('baseline-seed0', 'baseline', 0, 0.5);
  const copyOfSeed0 = runFolder('baseline-seed0-copy', 'baseline', 0, 0.5);
  const seed1 = runFolder('baseline-seed1', 'baseline', 1, 0.7);

  it('counts distinct seeds and gives mean ± std over them', async () => {
    const result = await mmkd('compare', seed0, seed1);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('| baseline | 2 | 60.0 ± 14.1 | 60.0 ± 14.1 |');
  });

  it('refuses two runs with one seed (or one run passed twice), naming them, instead of counting that seed twice', async () => {
    for (const dirs of [
      [seed0, copyOfSeed0, seed1],
      [seed0, seed0],
    ]) {
      const result = await mmkd('compare', ...dirs);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(
        `runs of the same recipe and seed would count twice in the mean ± std over seeds:\n  baseline seed 0: ${dirs[0]}, ${dirs[1]}\npass one run per recipe and seed`,
      );
    }
  });
});

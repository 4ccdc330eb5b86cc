import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as io from '../io/index.js';
import { hostTensor, writeSafetensors } from '../io/index.js';
import { expectCleanFailure, runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

const mmkd = (...args: string[]) => runCli(args);

const { dir, file } = scratchFolder('mmkd-cli-');

describe('mmkd explain', () => {
  it('prints the shipped LLaVA-KD DPT objective as a formula tree', async () => {
    const result = await mmkd('explain', 'examples/objectives/llava-kd-dpt.json');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('objective = reg + res + vis + 0.5·rel');
    expect(result.stdout).toContain('├─ vis = KL(p ‖ q); p from teacher.logits[visual], q from student.logits[visual]   (T=1, mean over tokens)');
  });

  it('fails cleanly on a missing file, malformed JSON and an invalid graph', async () => {
    expectCleanFailure(await mmkd('explain', join(dir, 'nope.json')), /cannot read objective '.*nope\.json': no such file/);
    expectCleanFailure(await mmkd('explain', file('broken.json', '{"kind": ')), /is not a valid objective:\n {2}- malformed JSON/);
    expectCleanFailure(
      await mmkd('explain', file('unknown.json', JSON.stringify({ kind: 'loss', loss: 'kld', inputs: {} }))),
      /- objective: unknown loss "kld": known losses are forwardKL/,
    );
  });
});

describe('mmkd loss', () => {
  const example = ['--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', 'examples/inputs/tiny-llava.safetensors'];
  // `auto` here: no hardware adapter and no tfjs-node-gpu, so wasm.

  it('prints the loss, each term and each gradient norm', async () => {
    const result = await mmkd('loss', ...example);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^backend: wasm\nloss\s+\d+\.\d{6}\n {2}reg\s+\d/);
    expect(result.stderr).toMatch(/mmkd: backend wasm: no hardware WebGPU adapter/);
    expect(result.stdout).toMatch(/‖∂loss\/∂student\.logits‖\s+\d+\.\d+/);
  });

  it('agrees between wasm and cpu, as JSON', async () => {
    const [wasm, cpu] = await Promise.all([mmkd('loss', ...example, '--json'), mmkd('loss', ...example, '--backend', 'cpu', '--json')]);
    const a = JSON.parse(wasm.stdout) as { loss: number; terms: Record<string, number> };
    const b = JSON.parse(cpu.stdout) as { loss: number; backend: string };
    expect(b.backend).toBe('cpu');
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    expect(Object.keys(a.terms)).toEqual(['reg', 'res', 'vis', 'rel']);
  });

  it('fails cleanly on bad inputs files', async () => {
    expectCleanFailure(
      await mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', file('junk.safetensors', 'not a tensor file')),
      /junk\.safetensors/,
    );
    const t3 = (shape: number[], fill: number) => hostTensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b)).fill(fill));
    const noRoles = writeSafetensors({ 'teacher.logits': t3([1, 4, 3], 0), 'student.logits': t3([1, 4, 3], 0) });
    expectCleanFailure(
      await mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', file('noroles.safetensors', noRoles)),
      /no token roles; add 'roles' \[B, T\]/,
    );
    const typo = writeSafetensors({ 'teacher.logit': t3([1, 4, 3], 0) });
    expectCleanFailure(
      await mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', file('typo.safetensors', typo)),
      /unknown tensor\(s\) 'teacher\.logit'; expected teacher\.logits/,
    );
    const roles = hostTensor('int32', [1, 4], Int32Array.from([1, 2, 3, 3]));
    const nan = t3([1, 4, 3], 0);
    (nan.data as Float32Array)[7] = Number.NaN;
    const withNan = writeSafetensors({
      'teacher.logits': nan,
      'student.logits': t3([1, 4, 3], 0),
      roles,
      labels: hostTensor('int32', [1, 4], Int32Array.from([-100, -100, 1, 2])),
    });
    expectCleanFailure(
      await mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', file('nan.safetensors', withNan)),
      /teacher\.logits \[1, 4, 3\] holds NaN at index \[0, 2, 1\]/,
    );
  });

  it('fails cleanly on an unknown backend', async () => {
    expectCleanFailure(
      await mmkd('loss', ...example, '--backend', 'tpu'),
      "unknown backend 'tpu' (from --backend): choose one of auto, cpu, wasm, webgpu, node-gpu",
    );
  });
});

describe('mmkd match', () => {
  const npyOf = (shape: number[], values: number[]) => {
    const { writeNpy } = io;
    return writeNpy(hostTensor('float64', shape, Float64Array.from(values)));
  };

  it('prints the optimal pairs and total, or the maximum with --maximize', async () => {
    const cost = file('cost.npy', npyOf([3, 3], [4, 1, 3, 2, 0, 5, 3, 2, 2]));
    const min = await mmkd('match', '--cost', cost, '--json');
    expect(JSON.parse(min.stdout)).toEqual({ rows: [0, 1, 2], cols: [1, 0, 2], total: 5 });
    const max = await mmkd('match', '--cost', cost, '--maximize', '--json');
    expect(JSON.parse(max.stdout).total).toBe(11);
    const table = await mmkd('match', '--cost', cost);
    expect(table.stdout).toBe('row\tcolumn\n0\t1\n1\t0\n2\t2\ntotal\t5\n');
  });

  it('solves a rectangular matrix from safetensors and an empty one', async () => {
    const rect = file('rect.safetensors', writeSafetensors({ cost: hostTensor('float32', [2, 3], Float32Array.from([5, 1, 9, 1, 2, 9])) }));
    expect(JSON.parse((await mmkd('match', '--cost', rect, '--json')).stdout)).toEqual({ rows: [0, 1], cols: [1, 0], total: 2 });
    const empty = file('empty.npy', npyOf([0, 4], []));
    expect(JSON.parse((await mmkd('match', '--cost', empty, '--json')).stdout)).toEqual({ rows: [], cols: [], total: 0 });
  });

  it('names the first NaN cell, and refuses infeasible matrices', async () => {
    const nan = file('nan.npy', npyOf([2, 2], [4, Number.NaN, 2, 0]));
    expectCleanFailure(await mmkd('match', '--cost', nan), `${nan}: cost[0, 1] is NaN`);
    const infeasible = file('inf.npy', npyOf([2, 2], [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1, 2]));
    expectCleanFailure(await mmkd('match', '--cost', infeasible), /infeasible|no finite/);
  });
});

describe('mmkd demo --quick', () => {
  it('trains the four students against a teacher and prints the comparison table, the paired differences, the prefill ratio and what they mean', async () => {
    const out = join(dir, 'demo');
    // Under 2 minutes on an idle 2-core machine; the limit leaves room for a loaded one.
    const result = await runCli(['demo', '--quick', '--backend', 'wasm', '--out', out], { timeoutMs: 280_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\| recipe \| seeds \| color \| count \| position \| relation \| shape \| average \|/);
    for (const row of [
      'teacher (l-MLLM)',
      'baseline student (PT + SFT)',
      'LLaVA-KD student (DPT + SFT + DFT)',
      'efficient baseline (4× fewer vision tokens, no teacher)',
      'EM-KD efficient student (4× fewer vision tokens)',
    ]) {
      expect(result.stdout).toContain(`| ${row} | 1 |`);
    }
    // Each distilled student against its own baseline, paired by question, with its interval.
    const interval = String.raw`[+−]\d+\.\d \[[+−]\d+\.\d, [+−]\d+\.\d\]`;
    for (const pair of ['llava-kd − baseline', 'em-kd − em-kd-baseline']) {
      expect(result.stdout).toMatch(new RegExp(`\\| ★ ${pair} \\| 1 \\| ${interval} \\| (above 0|below 0|not resolved) \\|`));
    }
    // The prefill ratio, measured in the same run, and the plain-language lines under the tables.
    expect(result.stdout).toMatch(/efficient student \(9 vision tokens\) vs full-token student \(36\)/);
    expect(result.stdout).toMatch(/teacher-forced forward of 32 questions .* ratio \d+\.\d\d×/);
    expect(result.stdout).toMatch(/time to first answer token \(1 question\) .* ratio \d+\.\d\d×/);
    expect(result.stdout).toMatch(/The LLaVA-KD student scored .* the baseline \(.*95% interval over questions\)/);
    expect(result.stdout).toMatch(/The EM-KD efficient student scored .* the efficient baseline/);
    expect(result.stdout).toMatch(/With 4× fewer vision tokens, the efficient student's prefill was \d+\.\d\d× (faster|slower) than/);
    expect(result.stdout).toContain('This was --quick');
    // It says where its runs went: a folder per student, each with a finished run in it.
    for (const name of ['baseline', 'llava-kd', 'em-kd-baseline', 'em-kd']) {
      expect(result.stdout).toMatch(new RegExp(`\\n {2}${name} +${join(out, name).replaceAll('/', '\\/')}\\n`));
      expect(existsSync(join(out, name, 'result.json'))).toBe(true);
    }
    expect(result.stdout).toMatch(/\n {2}teacher +\S+/);
    // A second run reuses the finished runs rather than training again.
    const again = await runCli(['demo', '--quick', '--backend', 'wasm', '--out', out], { timeoutMs: 280_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/\[sft\]/);
  }, 600_000);
});

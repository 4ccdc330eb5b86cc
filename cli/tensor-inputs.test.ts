/**
 * The CLI on tensor files as users hand them over: big-endian .npy cost matrices, safetensors
 * whose data are not aligned, totals that overflow, and roles of the wrong dtype. Every file is
 * read from disk by the CLI running from source.
 */
import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor, readTensorFile, writeNpy, writeSafetensors } from '../io/index.js';
import { expectCleanFailure, runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

const mmkd = (...args: string[]) => runCli(args);
const layouts = (name: string): string => `io/fixtures/layouts/${name}`;

const { file } = scratchFolder('mmkd-cli-tensors-');

describe('mmkd match on big-endian .npy files written by numpy', () => {
  // scipy.optimize.linear_sum_assignment's documented example, [[4, 1, 3], [2, 0, 5], [3, 2, 2]],
  // saved by numpy as >f8 >f4 >f2 >i8 >i4 >i2 (io/fixtures/make_fixtures.py): scipy's total is 5.
  it.each(['f8', 'f4', 'f2', 'i8', 'i4', 'i2'])('>%s', async (code) => {
    const result = await mmkd('match', '--cost', layouts(`cost-${code}-be.npy`), '--json');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ rows: [0, 1, 2], cols: [1, 0, 2], total: 5 });
  });
});

describe('mmkd eval on a valid safetensors file whose data are not aligned', () => {
  it('gives exactly the numbers of the same tensors in the aligned example file', async () => {
    // eval-misaligned.safetensors holds examples/inputs/tiny-llava.safetensors's tensors with an
    // unpadded header, roles as I8 (followed by the F32 teacher logits) and labels as I16, so
    // every tensor starts at an odd offset.
    const misaligned = layouts('eval-misaligned.safetensors');
    const example = 'examples/inputs/tiny-llava.safetensors';
    const roles = (await readTensorFile(misaligned)).get('roles');
    expect(roles?.dtype).toBe('int8');
    const objective = ['--objective', 'examples/objectives/llava-kd-dpt.json', '--backend', 'cpu', '--json'];
    const [a, b] = await Promise.all([mmkd('loss', ...objective, '--inputs', misaligned), mmkd('loss', ...objective, '--inputs', example)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const fromMisaligned = JSON.parse(a.stdout) as { loss: number; terms: Record<string, number> };
    expect(fromMisaligned.loss).toBeGreaterThan(0);
    expect(fromMisaligned).toEqual(JSON.parse(b.stdout));
  });
});

describe('mmkd match --json when the optimal total overflows', () => {
  const npy = (name: string, values: number[]): string => file(name, writeNpy(hostTensor('float64', [2, 2], Float64Array.from(values))));

  it('writes the total as the string "Infinity" or "-Infinity", as documented, not null', async () => {
    const up = npy('overflow.npy', [1e308, 1e308, 1e308, 1e308]);
    const down = npy('underflow.npy', [-1e308, -1e308, -1e308, -1e308]);
    const [json, negative, text] = await Promise.all([
      mmkd('match', '--cost', up, '--json'),
      mmkd('match', '--cost', down, '--json'),
      mmkd('match', '--cost', up),
    ]);
    expect(json.code, json.stderr).toBe(0);
    // Every assignment is optimal here, so only the total is checked.
    expect(JSON.parse(json.stdout)).toMatchObject({ rows: [0, 1], total: 'Infinity' });
    expect(Number(JSON.parse(json.stdout).total)).toBe(Number.POSITIVE_INFINITY);
    expect(JSON.parse(negative.stdout).total).toBe('-Infinity');
    expect(text.stdout).toMatch(/total\tInfinity\n$/);
  });
});

describe('mmkd eval refuses roles and labels that are not integers', () => {
  const t3 = (shape: number[]): HostTensor =>
    hostTensor(
      'float32',
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i)),
    );
  const inputs = (extra: Record<string, HostTensor>): Uint8Array =>
    writeSafetensors({ 'teacher.logits': t3([1, 4, 3]), 'student.logits': t3([1, 4, 3]), ...extra });
  const evalOn = (path: string) => mmkd('loss', '--objective', 'examples/objectives/llava-kd-dpt.json', '--inputs', path, '--backend', 'cpu');

  it('a bool roles tensor is an error naming the tensor and its dtype, not a loss of 0', async () => {
    const boolRoles = file('bool-roles.safetensors', inputs({ roles: hostTensor('bool', [1, 4], Uint8Array.from([1, 1, 0, 1])) }));
    expectCleanFailure(await evalOn(boolRoles), /bool-roles\.safetensors: 'roles' must be an integer tensor \(.*\), got bool/);
  });

  it('so are float per-side roles and float labels', async () => {
    const roles = hostTensor('int32', [1, 4], Int32Array.from([1, 2, 3, 3]));
    const floatRoles = file(
      'float-roles.safetensors',
      inputs({ 'teacher.roles': hostTensor('float32', [1, 4], Float32Array.from([1, 2, 3, 3])), 'student.roles': roles }),
    );
    const floatLabels = file('float-labels.safetensors', inputs({ roles, labels: hostTensor('float64', [1, 4], Float64Array.from([-100, -100, 1, 2])) }));
    const [a, b] = await Promise.all([evalOn(floatRoles), evalOn(floatLabels)]);
    expectCleanFailure(a, /'teacher\.roles' must be an integer tensor \(.*\), got float32/);
    expectCleanFailure(b, /'labels' must be an integer tensor \(.*\), got float64/);
  });

  it('while every integer dtype is accepted', async () => {
    const results = await Promise.all(
      (['int8', 'uint8', 'int16', 'int64'] as const).map((dtype) => {
        const values = [1, 2, 3, 3];
        const data =
          dtype === 'int64'
            ? BigInt64Array.from(values, BigInt)
            : dtype === 'int8'
              ? Int8Array.from(values)
              : dtype === 'uint8'
                ? Uint8Array.from(values)
                : Int16Array.from(values);
        const labels = hostTensor('int32', [1, 4], Int32Array.from([-100, -100, 1, 2]));
        return evalOn(file(`roles-${dtype}.safetensors`, inputs({ roles: hostTensor(dtype, [1, 4], data), labels })));
      }),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
  });

  it('a bad code in one shared roles tensor, or a label outside the vocabulary, names the file and the tensor as the file names it', async () => {
    const badRole = file('bad-role.safetensors', inputs({ roles: hostTensor('int32', [1, 4], Int32Array.from([1, 2, 3, 5])) }));
    const roles = hostTensor('int32', [1, 4], Int32Array.from([1, 2, 3, 3]));
    const badLabel = file('bad-label.safetensors', inputs({ roles, labels: hostTensor('int32', [1, 4], Int32Array.from([-100, -100, 1, 99])) }));
    const [a, b, c] = await Promise.all([
      evalOn(badRole),
      evalOn(badLabel),
      mmkd('explain', 'examples/objectives/llava-kd-dpt.json', '--inputs', badLabel, '--backend', 'cpu'),
    ]);
    expectCleanFailure(a, `${badRole}: 'roles' holds 5 at [0, 3]: codes are 0 pad, 1 prompt, 2 visual, 3 response`);
    expect(a.stderr).not.toContain('teacher.roles');
    const outside = `${badLabel}: 'labels' holds 99 at [0, 3]: outside the vocabulary [0, 3) of student.logits (use -100 to skip a position)`;
    expectCleanFailure(b, outside);
    expectCleanFailure(c, outside);
  });
});

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hostTensor, writeTensorFile } from '../io/index.js';
import { topKOfLogits, vocabularyHash } from '../recipes/signals/format.js';
import { openTeacherSignals } from '../recipes/signals/store.js';

const run = promisify(execFile);

/** Why the Python writer cannot run here, or undefined when python3 has numpy and safetensors. */
function pythonMissing(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy, safetensors'], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `python3 with numpy and safetensors is not available (${(e as Error).message.split('\n')[0]}); .ci/run installs them`;
  }
}
const missing = pythonMissing();
const root = mkdtempSync(join(tmpdir(), 'mmkd-python-signals-'));

function logits(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 6 * (s / 2 ** 32) ** 3 - 1;
  });
}

describe.skipIf(missing !== undefined)(`examples/teacher_signals.py writes what mmkd reads${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('from saved logits (.npy): the same top k, log-probs and tail mass as mmkd computes, the vocabulary hash included', async () => {
    const [sequences, length, vocab, k, temperature] = [5, 7, 40, 8, 2];
    const x = logits(sequences * length * vocab, 3);
    const input = join(root, 'logits.npy');
    await writeTensorFile(input, { logits: hostTensor('float32', [sequences, length, vocab], x) });
    const tokens = Array.from({ length: vocab }, (_, i) => (i === 0 ? '<pad>' : i === 1 ? 'é"猫\\' : `w${i}`));
    await writeFile(join(root, 'tokens.json'), JSON.stringify(tokens));
    const out = join(root, 'npy-signals');
    const { stdout } = await run('python3', [
      'examples/teacher_signals.py',
      ...['--logits', input, '--out', out, '--k', String(k), '--temperature', String(temperature), '--dtype', 'float32'],
      ...['--shard-sequences', '2', '--teacher-fingerprint', 'py-teacher', '--data-fingerprint', 'py-data', '--vocab', join(root, 'tokens.json')],
    ]);
    expect(stdout).toMatch(/^5 sequences x 7 positions, k = 8: 3 shards/);
    const signals = await openTeacherSignals(out, {
      expect: { dataFingerprint: 'py-data', sequences, sequenceLength: length, vocabulary: { size: vocab, hash: vocabularyHash(tokens) }, temperature },
    });
    expect(signals.manifest.vocabulary.hash).toBe(vocabularyHash(tokens));
    const got = await signals.read(0, sequences);
    const want = topKOfLogits(x, sequences * length, vocab, k, temperature);
    expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
    got.logProbs.forEach((v, i) => expect(Math.abs(v - want.logProbs[i]!)).toBeLessThan(1e-6));
    got.logTail.forEach((v, i) => expect(Math.abs(v - want.logTail[i]!)).toBeLessThan(1e-5));
  });

  it('from a .safetensors file, float16 log-probs, k = V (tail −∞), with hidden states (.npy): read back within float16 rounding', async () => {
    const [sequences, length, vocab] = [3, 4, 16];
    const x = logits(sequences * length * vocab, 9);
    const input = join(root, 'logits.safetensors');
    await writeTensorFile(input, { logits: hostTensor('float32', [sequences, length, vocab], x) });
    const out = join(root, 'st-signals');
    const hidden = Float32Array.from({ length: sequences * length * 5 }, (_, i) => Math.cos(i) * 3);
    await writeTensorFile(join(root, 'hidden.npy'), { hidden: hostTensor('float32', [sequences, length, 5], hidden) });
    const args = [
      '--logits',
      input,
      '--out',
      out,
      '--k',
      String(vocab),
      '--teacher-fingerprint',
      't',
      '--data-fingerprint',
      'd',
      '--hidden',
      join(root, 'hidden.npy'),
    ];
    await run('python3', ['examples/teacher_signals.py', ...args]);
    const signals = await openTeacherSignals(out);
    expect(signals.manifest.logprobDtype).toBe('float16');
    expect(signals.manifest.bytesPerToken).toBeGreaterThanOrEqual(6 * vocab + 4);
    const got = await signals.read(0, sequences);
    const want = topKOfLogits(x, sequences * length, vocab, vocab, 1);
    expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
    got.logProbs.forEach((v, i) => expect(Math.abs(v - want.logProbs[i]!)).toBeLessThanOrEqual(Math.abs(want.logProbs[i]!) * 2 ** -11 + 1e-7));
    expect(Array.from(got.logTail).every((v) => v === Number.NEGATIVE_INFINITY)).toBe(true);
    expect(signals.manifest.hidden).toEqual({ width: 5, dtype: 'float16' });
    got.hidden!.forEach((v, i) => expect(Math.abs(v - hidden[i]!)).toBeLessThanOrEqual(Math.abs(hidden[i]!) * 2 ** -11 + 1e-7));
  });
});

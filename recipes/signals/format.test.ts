import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor, writeSafetensors } from '../../io/index.js';
import { encodeShard, MANIFEST_FILE, type SignalsSettings, sha256, type TopKBlock, topKOfLogits } from './format.js';
import { openSignalsWriter, openTeacherSignals } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'mmkd-signals-format-'));
let folders = 0;
const folder = () => join(root, `s${folders++}`);

/** Deterministic pseudo-random logits [rows × V], spread like a trained head's (a few large). */
function logits(rows: number, vocab: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(rows * vocab);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = 4 * Math.log(u / (1 - u + 1e-12) + 1e-12) * 0.5;
  }
  return out;
}

const settings = (over: Partial<SignalsSettings> = {}): SignalsSettings => ({
  teacher: { fingerprint: 'test-teacher' },
  vocabulary: { size: 50, hash: null },
  temperature: 1,
  k: 8,
  logprobDtype: 'float32',
  sequenceLength: 6,
  data: { fingerprint: 'test-data', sequences: 5 },
  ...over,
});

/** Writes `sequences` sequences from pseudo-random logits in shards of `perShard`; returns the blocks written. */
async function writeSignals(dir: string, s: SignalsSettings, perShard = 2): Promise<TopKBlock[]> {
  const writer = await openSignalsWriter(dir, s);
  const blocks: TopKBlock[] = [];
  for (let first = writer.next; first < s.data.sequences; first += perShard) {
    const count = Math.min(perShard, s.data.sequences - first);
    const rows = count * s.sequenceLength;
    const block = {
      sequences: count,
      length: s.sequenceLength,
      ...topKOfLogits(logits(rows, s.vocabulary.size, first + 1), rows, s.vocabulary.size, s.k, s.temperature),
    };
    await writer.write(block);
    blocks.push(block);
  }
  await writer.finish();
  return blocks;
}

/** Replaces shard `file` of a folder with a block's bytes and records its SHA-256, so only its contents are wrong. */
async function replaceShard(dir: string, file: string, bytes: Uint8Array): Promise<void> {
  await writeFile(join(dir, file), bytes);
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  for (const s of manifest.shards) if (s.file === file) Object.assign(s, { sha256: sha256(bytes), bytes: bytes.length });
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
}

describe('teacher signals: the format', () => {
  it('reads back what it wrote, across shards, and the top k are the largest log-probs', async () => {
    const dir = folder();
    const s = settings();
    const blocks = await writeSignals(dir, s);
    const signals = await openTeacherSignals(dir);
    expect(signals.manifest.complete).toBe(true);
    expect(signals.manifest.shards.map((x) => [x.first, x.count])).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ]);
    const all = await signals.read(1, 3); // spans shards 0 and 1
    const { k, sequenceLength: t } = s;
    expect(Array.from(all.ids.subarray(0, t * k))).toEqual(Array.from(blocks[0]!.ids.subarray(t * k, 2 * t * k)));
    expect(Array.from(all.logTail.subarray(t, 3 * t))).toEqual(Array.from(blocks[1]!.logTail));
    // Against a float64 log-softmax of the same logits.
    const x = logits(2 * t, 50, 1);
    for (let r = 0; r < 2 * t; r++) {
      const row = Array.from(x.subarray(r * 50, (r + 1) * 50));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      const sorted = row.map((v, i) => [v - lse, i] as const).sort((a, b) => b[0] - a[0]);
      const got = await signals.read(Math.floor(r / t), 1);
      const p = r % t;
      expect(Array.from(got.ids.subarray(p * k, (p + 1) * k))).toEqual(sorted.slice(0, k).map(([, i]) => i));
      got.logProbs.subarray(p * k, (p + 1) * k).forEach((lp, j) => expect(lp).toBeCloseTo(sorted[j]![0], 5));
      const tail = Math.log(sorted.slice(k).reduce((a, [lp]) => a + Math.exp(lp), 0));
      expect(got.logTail[p]).toBeCloseTo(tail, 5);
    }
  });

  it('k = V: every token is listed and the tail mass is 0 (log −∞)', async () => {
    const dir = folder();
    await writeSignals(dir, settings({ k: 50 }));
    const block = await (await openTeacherSignals(dir)).read(0, 1);
    expect(Array.from(block.logTail).every((v) => v === Number.NEGATIVE_INFINITY)).toBe(true);
    expect(new Set(block.ids.subarray(0, 50)).size).toBe(50);
  });

  it('k = 64 at V = 151936 costs at most 450 bytes per token (388 with float16 log-probs)', async () => {
    const dir = folder();
    const vocab = 151936;
    const s = settings({
      vocabulary: { size: vocab, hash: null },
      k: 64,
      logprobDtype: 'float16',
      sequenceLength: 16,
      data: { fingerprint: 'big', sequences: 4 },
    });
    await writeSignals(dir, s, 4);
    const signals = await openTeacherSignals(dir);
    expect(signals.manifest.bytesPerToken).toBeLessThanOrEqual(450);
    expect(signals.manifest.bytesPerToken).toBeGreaterThanOrEqual(388);
    const block = await signals.read(0, 4);
    // float16 log-probs: within half a unit in the last place of the float32 ones.
    const exact = topKOfLogits(logits(64, vocab, 1), 64, vocab, 64, 1);
    expect(Array.from(block.ids)).toEqual(Array.from(exact.ids));
    block.logProbs.forEach((lp, i) => expect(Math.abs(lp - exact.logProbs[i]!)).toBeLessThanOrEqual(Math.abs(exact.logProbs[i]!) * 2 ** -11 + 1e-7));
  });

  it('a writer killed part way resumes where its manifest stops, and rewrites a corrupt shard', async () => {
    const dir = folder();
    const s = settings();
    const whole = await writeSignals(folder(), s);
    // Two shards written, then "killed": a stray temporary file and an unrecorded shard beside them.
    const writer = await openSignalsWriter(dir, s);
    await writer.write(whole[0]!);
    await writer.write(whole[1]!);
    await writeFile(join(dir, 'shard-00002.safetensors'), 'half a shard');
    await writeFile(join(dir, 'manifest.json.123.tmp'), '{');
    const resumed = await openSignalsWriter(dir, s);
    expect(resumed.next).toBe(4);
    await resumed.write(whole[2]!);
    await resumed.finish();
    expect(Array.from((await (await openTeacherSignals(dir)).read(0, 5)).ids)).toEqual(whole.flatMap((b) => Array.from(b.ids)));
    // A corrupt shard is noticed on resume; it and the shards after it are written again.
    await writeFile(join(dir, 'shard-00001.safetensors'), 'corrupt');
    const notes: string[] = [];
    const again = await openSignalsWriter(dir, s, (m) => notes.push(m));
    expect(again.next).toBe(2);
    expect(notes.join()).toMatch(/shard-00001.safetensors is missing or corrupt/);
    // Other settings are refused, naming what differs.
    await expect(openSignalsWriter(dir, settings({ k: 4 }))).rejects.toThrow(/other settings \(k: 8 there, 4 here\)/);
  });
});

describe('teacher signals: hidden states', () => {
  it('are stored when the settings ask (float16 here), read back across shards, and a non-finite one is named', async () => {
    const dir = folder();
    const s = settings({ hidden: { width: 3, dtype: 'float16' } });
    const writer = await openSignalsWriter(dir, s);
    const hiddenOf = (first: number, count: number) => Float32Array.from({ length: count * 6 * 3 }, (_, i) => Math.sin(first * 100 + i) * 4);
    for (const [first, count] of [
      [0, 2],
      [2, 3],
    ] as const) {
      const rows = count * 6;
      await writer.write({ sequences: count, length: 6, ...topKOfLogits(logits(rows, 50, first + 1), rows, 50, 8, 1), hidden: hiddenOf(first, count) });
    }
    await writer.finish();
    const signals = await openTeacherSignals(dir);
    expect(signals.manifest.hidden).toEqual({ width: 3, dtype: 'float16' });
    const block = await signals.read(1, 2);
    const want = [...hiddenOf(0, 2).subarray(18), ...hiddenOf(2, 3).subarray(0, 18)];
    block.hidden!.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -11 + 1e-7));
    // A shard without them, for a manifest that promises them; a NaN among them.
    const rows = 12;
    const base = { sequences: 2, length: 6, ...topKOfLogits(logits(rows, 50, 1), rows, 50, 8, 1) };
    await replaceShard(dir, 'shard-00000.safetensors', encodeShard(base, 'float32'));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/shard-00000.safetensors: no tensor "hidden"/);
    const nan = hiddenOf(0, 2);
    nan[22] = Number.NaN;
    await replaceShard(dir, 'shard-00000.safetensors', encodeShard({ ...base, hidden: nan }, 'float32', { width: 3, dtype: 'float16' }));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/sequence 1 \(row 1 of the shard\), position 1: hidden state entry 1 is NaN/);
  });
});

describe("teacher signals: the teacher's whole logits at some positions", () => {
  it('are stored in slots with their positions, read back across shards, and a bad position is named', async () => {
    const dir = folder();
    const s = settings({ denseLogits: { roles: ['visual'], positions: 2, dtype: 'float32' } });
    const writer = await openSignalsWriter(dir, s);
    const denseOf = (first: number, count: number) => ({
      positions: Int32Array.from({ length: count * 2 }, (_, i) => (i % 2 === 1 && (first + i) % 3 === 0 ? -1 : 1 + (i % 2) * 2)),
      logits: logits(count * 2, 50, first + 7),
    });
    for (const [first, count] of [
      [0, 3],
      [3, 2],
    ] as const) {
      const rows = count * 6;
      await writer.write({ sequences: count, length: 6, ...topKOfLogits(logits(rows, 50, first + 1), rows, 50, 8, 1), dense: denseOf(first, count) });
    }
    await writer.finish();
    const signals = await openTeacherSignals(dir);
    expect(signals.manifest.denseLogits).toEqual({ roles: ['visual'], positions: 2, dtype: 'float32' });
    const block = await signals.read(2, 2);
    expect(Array.from(block.dense!.positions)).toEqual([
      ...Array.from(denseOf(0, 3).positions.subarray(4)),
      ...Array.from(denseOf(3, 2).positions.subarray(0, 2)),
    ]);
    expect(Array.from(block.dense!.logits.subarray(0, 100))).toEqual(Array.from(denseOf(0, 3).logits.subarray(200, 300)));
    const rows = 18;
    const bad = denseOf(0, 3);
    bad.positions[3] = 6;
    const base = { sequences: 3, length: 6, ...topKOfLogits(logits(rows, 50, 1), rows, 50, 8, 1) };
    await replaceShard(dir, 'shard-00000.safetensors', encodeShard({ ...base, dense: bad }, 'float32', undefined, s.denseLogits));
    await expect(openTeacherSignals(dir)).rejects.toThrow(
      /sequence 1 \(row 1 of the shard\): dense.positions slot 1 holds 6, not a distinct position in \[0, 6\) or −1/,
    );
  });
});

describe('teacher signals: bad input names the file, the shard and the position', () => {
  const written = async (over: Partial<SignalsSettings> = {}) => {
    const dir = folder();
    await writeSignals(dir, settings(over));
    return dir;
  };
  const block = (over: Partial<TopKBlock>): Uint8Array => {
    const t = 6;
    const k = 8;
    const base = { sequences: 2, length: t, ...topKOfLogits(logits(2 * t, 50, 1), 2 * t, 50, k, 1) };
    return encodeShard({ ...base, ...over }, 'float32');
  };

  it('a manifest that does not match the data, the vocabulary or the temperature', async () => {
    const dir = await written();
    await expect(
      openTeacherSignals(dir, { expect: { dataFingerprint: 'other-data', vocabulary: { size: 64 }, temperature: 2, sequenceLength: 6 } }),
    ).rejects.toThrow(
      /do not fit this run:\n {2}- .*manifest.json: the signals are of data test-data, this run reads other-data.*\n {2}- .*V = 50 tokens, the student's V = 64\n {2}- .*temperature 1, the objective's temperature is 2/,
    );
    await expect(openTeacherSignals(dir, { expect: { vocabulary: { size: 50, hash: 'b'.repeat(64) } } })).resolves.toBeDefined(); // no hash recorded: size only
  });

  it('a missing shard, and a corrupt one (SHA-256 mismatch)', async () => {
    const dir = await written();
    await rm(join(dir, 'shard-00001.safetensors'));
    await expect(openTeacherSignals(dir)).rejects.toThrow(
      /shard-00001.safetensors: shard shard-00001.safetensors \(sequences 2–3\) listed in manifest.json cannot be read: ENOENT/,
    );
    const other = await written();
    const bytes = await readFile(join(other, 'shard-00002.safetensors'));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await writeFile(join(other, 'shard-00002.safetensors'), bytes);
    await expect(openTeacherSignals(other)).rejects.toThrow(
      /shard-00002.safetensors: shard shard-00002.safetensors is corrupt or was replaced: its SHA-256 is [0-9a-f]{64}, manifest.json says/,
    );
  });

  it('k larger than V, an unfinished folder, a foreign manifest', async () => {
    const dir = await written();
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, k: 51 }));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/manifest.json: k = 51 is larger than the vocabulary size V = 50/);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, complete: false, shards: manifest.shards.slice(0, 1) }));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/unfinished \(2 of 5 sequences written\)/);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, format: 'something' }));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/"format" must be "mmkd.teacher-signals"/);
    await expect(openTeacherSignals(join(root, 'nowhere'))).rejects.toThrow(/no manifest.json: not a teacher-signals folder/);
  });

  it('log-probs not sorted, log-probs above 0, a tail mass above 1, ids repeated or outside the vocabulary', async () => {
    const cases: Array<[Partial<TopKBlock>, RegExp]> = [];
    const base = topKOfLogits(logits(12, 50, 1), 12, 50, 8, 1);
    const swapped = Float32Array.from(base.logProbs);
    // Sequence 1 (row 1), position 2: entries 3 and 4 swapped.
    const at = (6 + 2) * 8;
    [swapped[at + 3], swapped[at + 4]] = [swapped[at + 4]!, swapped[at + 3]!];
    cases.push([
      { logProbs: swapped },
      /sequence 1 \(row 1 of the shard\), position 2: log-probs are not sorted in descending order: entry 4 \(.*\) > entry 3/,
    ]);
    const positive = Float32Array.from(base.logProbs);
    positive[0] = 0.25;
    cases.push([{ logProbs: positive }, /sequence 0 \(row 0 of the shard\), position 0: log-prob entry 0 is 0.25 > 0/]);
    const tail = Float32Array.from(base.logTail);
    tail[5] = 0.5;
    cases.push([{ logTail: tail }, /sequence 0 \(row 0 of the shard\), position 5: the tail mass is 1.64.* \(log 0.5\), above 1/]);
    const repeated = Int32Array.from(base.ids);
    repeated[7 * 8 + 1] = repeated[7 * 8]!;
    cases.push([{ ids: repeated }, /sequence 1 \(row 1 of the shard\), position 1: token id \d+ appears twice among the top k/]);
    const outside = Int32Array.from(base.ids);
    outside[3] = 50;
    cases.push([{ ids: outside }, /position 0: token id 50 \(entry 3\) is outside the vocabulary \[0, 50\)/]);
    const wrongMass = Float32Array.from(base.logTail, () => -0.01);
    cases.push([{ logTail: wrongMass }, /position 0: the top-k mass .* and the tail mass .* add up to .*, not 1/]);
    for (const [over, message] of cases) {
      const dir = await written();
      await replaceShard(dir, 'shard-00000.safetensors', block(over));
      const error = await openTeacherSignals(dir).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(new RegExp(`${dir}/shard-00000.safetensors: `));
      expect((error as Error).message).toMatch(message);
    }
  });

  it('a shard whose tensors do not match the manifest', async () => {
    const dir = await written();
    const t = 6;
    await replaceShard(dir, 'shard-00000.safetensors', writeSafetensors({ 'topk.ids': hostTensor('int32', [2, t, 4], new Int32Array(2 * t * 4)) }));
    await expect(openTeacherSignals(dir)).rejects.toThrow(/shard-00000.safetensors: tensor "topk.ids" has shape \[2, 6, 4\], the manifest says \[2, 6, 8\]/);
  });
});

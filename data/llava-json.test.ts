import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { collate } from './batch.js';
import { decodeImage, sniffFormat, toRgbSquare } from './image.js';
import { loadLlavaJson, parseLlavaJson } from './llava-json.js';
import { encode, tokenizerFromTexts } from './tokenizer.js';

/** RGBA bytes of a w × h image whose left half is red and right half blue. */
function halves(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const left = x < w / 2;
      data[i] = left ? 255 : 0;
      data[i + 1] = 0;
      data[i + 2] = left ? 0 : 255;
      data[i + 3] = 255;
    }
  }
  return data;
}

function png(w: number, h: number): Buffer {
  const image = new PNG({ width: w, height: h });
  halves(w, h).copy(image.data);
  return PNG.sync.write(image);
}

const jpeg = (w: number, h: number): Buffer => encodeJpeg({ width: w, height: h, data: halves(w, h) }, 95).data;

const record = (id: string, image: string, human = '<image>\nWhat is on the left?', gpt = 'Red.') => ({
  id,
  image,
  conversations: [
    { from: 'human', value: human },
    { from: 'gpt', value: gpt },
  ],
});

describe('images', () => {
  it('recognizes PNG and JPEG by signature and decodes them', () => {
    expect(sniffFormat(png(4, 4))).toBe('png');
    expect(sniffFormat(jpeg(8, 8))).toBe('jpeg');
    expect(sniffFormat(new Uint8Array([1, 2, 3]))).toBeUndefined();
    const decoded = decodeImage(png(6, 4));
    expect([decoded.width, decoded.height, decoded.data.length]).toEqual([6, 4, 96]);
  });

  it('resizes by area averaging when shrinking and interpolates when enlarging', () => {
    // 64 × 48 → 8 × 8: every output pixel covers 8 × 6 input pixels of one half.
    const small = toRgbSquare({ width: 64, height: 48, data: new Uint8Array(halves(64, 48)) }, 8);
    expect(small.length).toBe(8 * 8 * 3);
    expect(Array.from(small.slice(0, 3))).toEqual([1, 0, 0]);
    expect(Array.from(small.slice(7 * 3, 8 * 3))).toEqual([0, 0, 1]);
    // 3 → 2 columns: the middle column is shared, area-weighted 1/3 into each output column.
    const three = new Uint8Array([255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 255]);
    const two = toRgbSquare({ width: 3, height: 1, data: three }, 2);
    // Input: red, black, blue. Output column 0 = ⅔ red + ⅓ black, column 1 = ⅓ black + ⅔ blue.
    expect(two[0]).toBeCloseTo(2 / 3, 6);
    expect(two[2]).toBeCloseTo(0, 6);
    expect(two[3]).toBeCloseTo(0, 6);
    expect(two[5]).toBeCloseTo(2 / 3, 6);
    // A constant image stays constant in both directions.
    const grey = new Uint8Array(5 * 5 * 4).fill(51);
    for (const size of [2, 16]) expect(toRgbSquare({ width: 5, height: 5, data: grey }, size).every((v) => Math.abs(v - 0.2) < 1e-6)).toBe(true);
  });
});

describe('LLaVA-format JSON loader', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmkd-llava-'));
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'a.png'), png(40, 40));
    await writeFile(join(dir, 'images', 'b.jpg'), jpeg(64, 32));
    await writeFile(join(dir, 'images', 'broken.png'), Buffer.concat([png(8, 8).subarray(0, 40)]));
    await writeFile(join(dir, 'images', 'text.png'), 'not an image');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads conversations with PNG and JPEG images resized to the model size', async () => {
    const file = join(dir, 'data.json');
    const records = [
      record('p1', 'images/a.png'),
      { ...record('j1', 'images/b.jpg', 'Describe it.\n<image>', 'Half red, half blue.'), kind: 'caption' },
      {
        id: 7,
        image: 'images/a.png',
        conversations: [
          { from: 'human', value: '<image>\nWhat is on the left?' },
          { from: 'gpt', value: 'Red.' },
          { from: 'human', value: 'And on the right?' },
          { from: 'gpt', value: 'Blue.' },
        ],
      },
    ];
    await writeFile(file, JSON.stringify(records));
    const samples = await loadLlavaJson(file, { imageSize: 16 });
    expect(samples.map((s) => [s.id, s.kind, s.turns.length])).toEqual([
      ['p1', 'llava', 1],
      ['j1', 'caption', 1],
      ['7', 'llava', 2],
    ]);
    for (const s of samples) {
      if (s.image === undefined) throw new Error(`sample ${s.id} lost its image`);
      expect(s.image.size).toBe(16);
      expect(s.image.pixels.length).toBe(16 * 16 * 3);
      // Left half red, right half blue (JPEG is lossy: loose tolerance).
      const left = Array.from(s.image.pixels.slice((8 * 16 + 2) * 3, (8 * 16 + 2) * 3 + 3));
      const right = Array.from(s.image.pixels.slice((8 * 16 + 13) * 3, (8 * 16 + 13) * 3 + 3));
      expect(left[0]).toBeGreaterThan(0.9);
      expect(left[2]).toBeLessThan(0.1);
      expect(right[0]).toBeLessThan(0.1);
      expect(right[2]).toBeGreaterThan(0.9);
    }
    // The samples batch like procedural ones.
    const tok = tokenizerFromTexts(samples.flatMap((s) => s.turns.flatMap((t) => [t.prompt, t.answer])));
    const batch = collate(tok, samples, { numVisionTokens: 4, textLength: 20 });
    expect(batch.batchSize).toBe(3);
  });

  it('loads text-only conversations (no "image") beside image ones; their rows have no visual positions', async () => {
    const file = join(dir, 'mixed.json');
    const textOnly = {
      id: 'share-1',
      conversations: [
        { from: 'human', value: 'Say hello.' },
        { from: 'gpt', value: 'Hello.' },
      ],
    };
    await writeFile(file, JSON.stringify([record('p1', 'images/a.png'), textOnly]));
    const samples = await loadLlavaJson(file, { imageSize: 16 });
    expect(samples.map((s) => [s.id, s.image === undefined])).toEqual([
      ['p1', false],
      ['share-1', true],
    ]);
    const tok = tokenizerFromTexts(samples.flatMap((s) => s.turns.flatMap((t) => [t.prompt, t.answer])));
    const batch = collate(tok, samples, { numVisionTokens: 4, textLength: 12 });
    const row = (r: number) => Array.from(batch.roles.slice(r * batch.seqLen, (r + 1) * batch.seqLen));
    expect(row(0).filter((role) => role === ROLE_CODES.visual)).toHaveLength(4);
    expect(row(1).filter((role) => role === ROLE_CODES.visual)).toHaveLength(0);
    // The text-only row's answer is labelled as usual; its pixels are zero.
    expect(Array.from(batch.labels.slice(batch.seqLen)).filter((l) => l !== IGNORE_LABEL)).toEqual([...encode(tok, 'Hello.'), tok.eos]);
    expect(batch.pixels.slice(16 * 16 * 3).every((p) => p === 0)).toBe(true);
    expect(batch.pixels.slice(0, 16 * 16 * 3).some((p) => p !== 0)).toBe(true);
  });

  it('names the file and the record (index and id) for missing and undecodable images', async () => {
    const file = join(dir, 'images.json');
    await writeFile(
      file,
      JSON.stringify([
        record('ok', 'images/a.png'),
        record('gone', 'images/missing.png'),
        record('cut', 'images/broken.png'),
        record('txt', 'images/text.png'),
      ]),
    );
    const error = await loadLlavaJson(file, { imageSize: 16 }).then(
      () => '',
      (e: unknown) => (e as Error).message,
    );
    expect(error).toContain(`${file}: 3 problems:`);
    expect(error).toContain(`record 1 (id 'gone'): image file not found: ${join(dir, 'images', 'missing.png')}`);
    expect(error).toMatch(/record 2 \(id 'cut'\): image 'images\/broken.png' could not be decoded: .+/);
    expect(error).toContain("record 3 (id 'txt'): image 'images/text.png' could not be decoded: not a PNG or JPEG file (unrecognized signature)");
  });

  it('reports malformed JSON and malformed records', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '[{"id": "a", ');
    await expect(loadLlavaJson(file, { imageSize: 16 })).rejects.toThrow(`${file}: malformed JSON: `);
    await expect(loadLlavaJson(join(dir, 'nope.json'), { imageSize: 16 })).rejects.toThrow(`${join(dir, 'nope.json')}: cannot read the file`);
    expect(() => parseLlavaJson('{"id": 1}', 'x.json')).toThrow('x.json: expected a JSON array of records, got an object');

    const records = [
      record('no-image-tag', 'images/a.png', 'What is on the left?'),
      { id: 'no-image', conversations: record('x', 'y').conversations },
      { id: 'odd', image: 'images/a.png', conversations: [{ from: 'human', value: '<image>' }] },
      {
        id: 'order',
        image: 'images/a.png',
        conversations: [
          { from: 'gpt', value: 'Hi' },
          { from: 'human', value: '<image>' },
        ],
      },
      record('two-tags', 'images/a.png', '<image> and <image>'),
      { image: 'images/a.png', conversations: record('x', 'y').conversations },
      42,
      { id: 'empty-path', image: '', conversations: record('x', 'y').conversations },
    ];
    let message = '';
    try {
      parseLlavaJson(JSON.stringify(records), 'records.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('records.json: 8 problems:');
    expect(message).toContain("record 0 (id 'no-image-tag'): the first human message has no <image> placeholder");
    expect(message).toContain(
      `record 1 (id 'no-image'): has no image, but the human message of turn 0 holds <image> (a record without "image" is a text-only conversation)`,
    );
    expect(message).toContain(`record 2 (id 'odd'): "conversations" has 1 messages; expected human/gpt pairs`);
    expect(message).toContain(`record 3 (id 'order'): message 0 must be {"from": "human", "value": string}`);
    expect(message).toContain("record 4 (id 'two-tags'): the first human message has 2 <image> placeholders");
    expect(message).toContain('record 5 (no id): "id" must be a string or a number');
    expect(message).toContain('record 6: expected an object, got number');
    expect(message).toContain(`record 7 (id 'empty-path'): "image" must be a non-empty relative path when present`);
  });
});

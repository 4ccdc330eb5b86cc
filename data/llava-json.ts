import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { imagePlacementError } from './encode.js';
import { decodeImage, toRgbSquare } from './image.js';
import type { Sample, Turn } from './sample.js';

/** A problem with a user's data file: the message names the file and every bad record. */
export class DataError extends UserError {
  override readonly name = 'DataError';
}

/**
 * Loads LLaVA-format conversation data so users can train on their own images:
 *
 * ```json
 * [{ "id": "0001", "image": "images/0001.png",
 *    "conversations": [{ "from": "human", "value": "<image>\nWhat color is the ball?" },
 *                      { "from": "gpt", "value": "Red." }] }]
 * ```
 *
 * Turns alternate human → gpt; the first human turn holds `<image>` once. A record without
 * `"image"` is a text-only conversation (as the ShareGPT part of LLaVA's `llava_v1_5_mix665k`)
 * and holds no `<image>`. An optional string field `kind` labels the record for per-type
 * evaluation (default 'llava'). Images (PNG or JPEG) are decoded and resized to `imageSize`.
 * Every problem is reported at once, each naming the file and the record by index and id.
 */
export interface LlavaJsonOptions {
  /** Side of the square RGB images the model reads. */
  readonly imageSize: number;
  /** Folder that image paths are relative to (default: the JSON file's folder). */
  readonly imageRoot?: string;
}

/** At most this many problems are listed in one error. */
const MAX_LISTED = 20;

interface RawRecord {
  readonly index: number;
  readonly id: string;
  /** Absent for a text-only conversation. */
  readonly image?: string;
  readonly kind: string;
  readonly turns: readonly Turn[];
}

const describe = (index: number, id: unknown): string =>
  typeof id === 'string' || typeof id === 'number' ? `record ${index} (id '${String(id)}')` : `record ${index} (no id)`;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Structural checks of one record; returns the record or the problems found. */
function parseRecord(raw: unknown, index: number): RawRecord | string[] {
  if (!isObject(raw)) return [`record ${index}: expected an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`];
  const where = describe(index, raw.id);
  const problems: string[] = [];
  if (typeof raw.id !== 'string' && typeof raw.id !== 'number') problems.push(`${where}: "id" must be a string or a number`);
  if (raw.image !== undefined && (typeof raw.image !== 'string' || raw.image.length === 0)) {
    problems.push(`${where}: "image" must be a non-empty relative path when present (leave it out for a text-only conversation)`);
  }
  if (raw.kind !== undefined && typeof raw.kind !== 'string') problems.push(`${where}: "kind" must be a string when present`);
  const turns: Turn[] = [];
  const conv = raw.conversations;
  if (!Array.isArray(conv) || conv.length === 0) {
    problems.push(`${where}: "conversations" must be a non-empty array`);
  } else if (conv.length % 2 !== 0) {
    problems.push(`${where}: "conversations" has ${conv.length} messages; expected human/gpt pairs`);
  } else {
    for (let i = 0; i < conv.length; i += 2) {
      const h: unknown = conv[i];
      const g: unknown = conv[i + 1];
      if (!isObject(h) || h.from !== 'human' || typeof h.value !== 'string') {
        problems.push(`${where}: message ${i} must be {"from": "human", "value": string}`);
        continue;
      }
      if (!isObject(g) || g.from !== 'gpt' || typeof g.value !== 'string') {
        problems.push(`${where}: message ${i + 1} must be {"from": "gpt", "value": string}`);
        continue;
      }
      turns.push({ prompt: h.value, answer: g.value });
    }
  }
  if (problems.length > 0) return problems;
  const id = String(raw.id);
  const image = typeof raw.image === 'string' ? raw.image : undefined;
  const placement = imagePlacementError({ id, ...(image === undefined ? {} : { image: { size: 0, pixels: new Float32Array(0) } }), turns });
  if (placement !== undefined) {
    // Same rule as for every sample, worded in LLaVA's terms (prompt = human message).
    const reason = placement.replace(`sample '${id}': `, '').replace(/prompt/g, 'human message');
    return [`${where}: ${reason}${image === undefined ? ' (a record without "image" is a text-only conversation)' : ''}`];
  }
  return { index, id, ...(image === undefined ? {} : { image }), kind: typeof raw.kind === 'string' ? raw.kind : 'llava', turns };
}

function fail(file: string, problems: readonly string[]): never {
  const listed = problems.slice(0, MAX_LISTED);
  const more = problems.length > MAX_LISTED ? `\n  … and ${problems.length - MAX_LISTED} more` : '';
  throw new DataError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${listed.join('\n  ')}${more}`);
}

/** Parses and checks the JSON text; `file` only names the source in errors. */
export function parseLlavaJson(text: string, file: string): RawRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file}: malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(data)) throw new DataError(`${file}: expected a JSON array of records, got ${isObject(data) ? 'an object' : typeof data}`);
  const records: RawRecord[] = [];
  const problems: string[] = [];
  data.forEach((raw: unknown, i) => {
    const r = parseRecord(raw, i);
    if (Array.isArray(r)) problems.push(...r);
    else records.push(r);
  });
  if (problems.length > 0) fail(file, problems);
  return records;
}

/** Loads a LLaVA-format JSON file and its images as samples. */
export async function loadLlavaJson(file: string, options: LlavaJsonOptions): Promise<Sample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError(`${file}: cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const records = parseLlavaJson(text, file);
  const root = options.imageRoot ?? dirname(resolve(file));
  const decoded = new Map<string, Float32Array | string>();
  const problems: string[] = [];
  const samples: Sample[] = [];
  for (const r of records) {
    if (r.image === undefined) {
      samples.push({ id: r.id, kind: r.kind, turns: r.turns });
      continue;
    }
    const path = resolve(root, r.image);
    let pixels = decoded.get(path);
    if (pixels === undefined) {
      try {
        const bytes = await readFile(path);
        pixels = toRgbSquare(decodeImage(bytes), options.imageSize);
      } catch (e) {
        const code = isObject(e) ? e.code : undefined;
        pixels = code === 'ENOENT' ? `image file not found: ${path}` : `image '${r.image}' could not be decoded: ${e instanceof Error ? e.message : String(e)}`;
      }
      decoded.set(path, pixels);
    }
    if (typeof pixels === 'string') {
      problems.push(`${describe(r.index, r.id)}: ${pixels}`);
      continue;
    }
    samples.push({ id: r.id, kind: r.kind, image: { size: options.imageSize, pixels }, turns: r.turns });
  }
  if (problems.length > 0) fail(file, problems);
  return samples;
}

/**
 * Offline teacher signals: the format.
 *
 * A folder holds `manifest.json` and shards `shard-NNNNN.safetensors`. Sequences are numbered
 * 0 … N−1 in the order the data's fingerprint defines (for `mmkd teacher-signals`, the teacher
 * batches a recipe draws, stage by stage, step by step, row by row); every sequence has
 * `sequenceLength` positions, and each shard holds sequences `first … first + count − 1`:
 *
 * | tensor          | shape     | dtype            | meaning                                                        |
 * |-----------------|-----------|------------------|----------------------------------------------------------------|
 * | `topk.ids`      | [S, T, k] | I32 (I64 read)   | the teacher's k most probable token ids at each position       |
 * | `topk.logprobs` | [S, T, k] | F16 or F32       | their log-probabilities log softmax(z / τ), sorted descending, ≤ 0 |
 * | `tail.logmass`  | [S, T]    | F32              | log(1 − Σ top-k probabilities) (−∞ when the top k hold it all)  |
 * | `hidden`        | [S, T, H] | F16 or F32       | optional (`hidden` in the manifest): the teacher's last hidden states, for feature, affinity or matching terms |
 * | `dense.logits`  | [S, D, V] | F16 or F32       | optional (`denseLogits`): the teacher's whole logits at up to D positions of each sequence whose roles the manifest names (its vision tokens), for matching and relation terms |
 * | `dense.positions` | [S, D]  | I32              | the positions those rows are at (−1: an unused slot)            |
 *
 * The manifest states the schema version, the teacher's fingerprint, the vocabulary's size and
 * hash (SHA-256 of the tokens in id order as compact JSON), the temperature τ, k, the log-probs'
 * dtype, the data's fingerprint and sequence count, and every shard with its SHA-256. At k = 64
 * with F16 log-probs a token costs 64·4 + 64·2 + 4 = 388 bytes, whatever V is.
 *
 * Everything here is pure (bytes and values in, values or a `SignalsError` out); reading and
 * writing folders is `store.ts`.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../core/errors.js';
import { isRole, ROLES, type Role } from '../../core/roles.js';
import { type HostTensor, hostTensor, numberToFloat16Bits, readSafetensors, toFloat32, toInt32, writeSafetensors } from '../../io/index.js';

export const SIGNALS_FORMAT = 'mmkd.teacher-signals';
export const SIGNALS_SCHEMA_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
/** The precisions log-probs (and stored hidden states or logits) may be written in. */
export const LOGPROB_DTYPES = ['float16', 'float32'] as const;
/** One of `LOGPROB_DTYPES`. */
export type LogprobDtype = (typeof LOGPROB_DTYPES)[number];

/** Tensor names in a shard. */
export const SHARD_TENSORS = {
  ids: 'topk.ids',
  logprobs: 'topk.logprobs',
  logTail: 'tail.logmass',
  hidden: 'hidden',
  denseLogits: 'dense.logits',
  densePositions: 'dense.positions',
} as const;

/** A bad signals folder, manifest or shard; the message names the file, the shard and the position. */
export class SignalsError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'SignalsError';
  }
}

export interface ShardEntry {
  /** File name inside the folder. */
  readonly file: string;
  /** First sequence the shard holds. */
  readonly first: number;
  /** Sequences it holds. */
  readonly count: number;
  /** SHA-256 of the file's bytes, hex. */
  readonly sha256: string;
  readonly bytes: number;
}

/** What a signals folder was made from and how; two writers agree on these or refuse to mix. */
export interface SignalsSettings {
  readonly teacher: { readonly fingerprint: string; readonly description?: string };
  /** The teacher's vocabulary: its size V and (when known) the hash of its tokens (`vocabularyHash`). */
  readonly vocabulary: { readonly size: number; readonly hash: string | null };
  readonly temperature: number;
  readonly k: number;
  readonly logprobDtype: LogprobDtype;
  readonly sequenceLength: number;
  /** What sequence n is (see the file's header), and how many there are. */
  readonly data: { readonly fingerprint: string; readonly sequences: number };
  /** The teacher's hidden states are stored too, H wide (absent: they are not). */
  readonly hidden?: { readonly width: number; readonly dtype: LogprobDtype };
  /** The teacher's whole logits are stored at up to `positions` positions a sequence, those of `roles`. */
  readonly denseLogits?: { readonly roles: readonly Role[]; readonly positions: number; readonly dtype: LogprobDtype };
}

/** A signals folder's `manifest.json`: its settings, its shards with their SHA-256, and whether it is complete. */
export interface SignalsManifest extends SignalsSettings {
  readonly format: typeof SIGNALS_FORMAT;
  readonly schemaVersion: number;
  readonly shards: readonly ShardEntry[];
  /** Every sequence written (a writer killed part way leaves false). */
  readonly complete: boolean;
  /** Bytes of shard files per token (position), once complete. */
  readonly bytesPerToken?: number;
}

/** One block of sequences' signals, decoded: ids and log-probs [S·T·k], log tail mass [S·T]. */
export interface TopKBlock {
  readonly sequences: number;
  readonly length: number;
  readonly k: number;
  readonly ids: Int32Array;
  readonly logProbs: Float32Array;
  readonly logTail: Float32Array;
  /** [S·T·H], when the signals hold hidden states. */
  readonly hidden?: Float32Array;
  /** When the signals hold whole logits at some positions: [S·D] positions (−1 unused) and [S·D·V] logits. */
  readonly dense?: { readonly positions: Int32Array; readonly logits: Float32Array };
}

/** SHA-256 of a vocabulary: its tokens in id order as compact JSON (`json.dumps(tokens, ensure_ascii=False, separators=(',', ':'))`). */
export function vocabularyHash(tokens: readonly string[]): string {
  return sha256(new TextEncoder().encode(JSON.stringify(tokens)));
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Bytes one token costs: k ids (int32), k log-probs and one log tail mass (float32). */
export function bytesPerToken(k: number, dtype: LogprobDtype): number {
  return k * 4 + k * (dtype === 'float16' ? 2 : 4) + 4;
}

export const shardName = (index: number): string => `shard-${String(index).padStart(5, '0')}.safetensors`;

/**
 * The top k of each row of logits [rows × V] at temperature τ, as the format stores them: ids
 * sorted by descending probability (ties by id), their log-probabilities and the log of the
 * rest's mass, all computed in float64 from the max-subtracted tempered logits.
 */
export function topKOfLogits(logits: Float32Array, rows: number, vocab: number, k: number, temperature: number): Omit<TopKBlock, 'sequences' | 'length'> {
  if (!Number.isInteger(k) || k < 1 || k > vocab) throw new SignalsError(`k must be a whole number in [1, ${vocab}] (the vocabulary size), got ${k}`);
  const ids = new Int32Array(rows * k);
  const logProbs = new Float32Array(rows * k);
  const logTail = new Float32Array(rows);
  const order = new Int32Array(vocab);
  const z = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < vocab; v++) {
      z[v] = logits[base + v]! / temperature;
      if (z[v]! > max) max = z[v]!;
    }
    let total = 0;
    for (let v = 0; v < vocab; v++) total += Math.exp(z[v]! - max);
    const logTotal = Math.log(total);
    const top = topIndices(z, k, order);
    const chosen = new Uint8Array(vocab);
    for (let j = 0; j < k; j++) {
      const v = top[j]!;
      chosen[v] = 1;
      ids[r * k + j] = v;
      logProbs[r * k + j] = z[v]! - max - logTotal;
    }
    // The rest's mass summed directly (not 1 − head), so a small tail keeps its precision.
    let rest = 0;
    for (let v = 0; v < vocab; v++) if (chosen[v] === 0) rest += Math.exp(z[v]! - max);
    logTail[r] = rest > 0 ? Math.log(rest) - logTotal : Number.NEGATIVE_INFINITY;
  }
  return { k, ids, logProbs, logTail };
}

/** The indices of the k largest entries of z, largest first (ties: smaller index first). */
function topIndices(z: Float64Array, k: number, scratch: Int32Array): Int32Array {
  const before = (a: number, b: number) => z[a]! > z[b]! || (z[a] === z[b] && a < b);
  for (let v = 0; v < z.length; v++) scratch[v] = v;
  if (k * 8 >= z.length) {
    const all = Array.from(scratch);
    all.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return Int32Array.from(all.slice(0, k));
  }
  // A min-heap of the k best so far (its root the worst of them).
  const heap = new Int32Array(k);
  let size = 0;
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < size && before(heap[worst]!, heap[l]!)) worst = l;
      if (r < size && before(heap[worst]!, heap[r]!)) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst]!, heap[i]!];
      i = worst;
    }
  };
  for (let v = 0; v < z.length; v++) {
    if (size < k) {
      heap[size] = v;
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(heap[parent]!, heap[i]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (before(v, heap[0]!)) {
      heap[0] = v;
      siftDown(0);
    }
  }
  return Int32Array.from(Array.from(heap).sort((a, b) => (before(a, b) ? -1 : 1)));
}

/** A shard's bytes: the block's tensors in the format (log-probs in `dtype`). */
export function encodeShard(block: TopKBlock, dtype: LogprobDtype, hidden?: SignalsSettings['hidden'], dense?: SignalsSettings['denseLogits']): Uint8Array {
  const { sequences: s, length: t, k } = block;
  const floats = (values: Float32Array, shape: number[], as: LogprobDtype): HostTensor =>
    as === 'float32'
      ? hostTensor('float32', shape, values)
      : hostTensor(
          'float16',
          shape,
          Uint16Array.from(values, (x) => numberToFloat16Bits(x)),
        );
  if ((hidden === undefined) !== (block.hidden === undefined))
    throw new Error('internal: hidden states given for signals without them, or missing for signals with them');
  return writeSafetensors(
    {
      [SHARD_TENSORS.ids]: hostTensor('int32', [s, t, k], block.ids),
      [SHARD_TENSORS.logprobs]: floats(block.logProbs, [s, t, k], dtype),
      [SHARD_TENSORS.logTail]: hostTensor('float32', [s, t], block.logTail),
      ...(hidden && block.hidden ? { [SHARD_TENSORS.hidden]: floats(block.hidden, [s, t, hidden.width], hidden.dtype) } : {}),
      ...(dense && block.dense
        ? {
            [SHARD_TENSORS.denseLogits]: floats(block.dense.logits, [s, dense.positions, block.dense.logits.length / (s * dense.positions)], dense.dtype),
            [SHARD_TENSORS.densePositions]: hostTensor('int32', [s, dense.positions], block.dense.positions),
          }
        : {}),
    },
    { format: SIGNALS_FORMAT },
  );
}

/** Slack allowed between Σ top-k probabilities + tail mass and 1 (float16 log-probs round by up to 2⁻¹¹ relative). */
export const MASS_TOLERANCE = 0.02;

/**
 * A shard's bytes decoded and checked against the manifest: the tensors are there with the
 * shapes and dtypes the format names, ids are distinct token ids of the vocabulary, log-probs
 * are finite, ≤ 0 and sorted in descending order, the tail mass is at most 1, and top-k mass and
 * tail mass add up to 1. Every error names the file, the sequence (and its row in the shard) and
 * the position.
 */
export function decodeShard(bytes: Uint8Array, path: string, entry: ShardEntry, manifest: SignalsSettings): TopKBlock {
  const { tensors } = readSafetensors(bytes, path);
  const { k, sequenceLength: t, vocabulary } = manifest;
  const s = entry.count;
  const tensor = (name: string, shape: readonly number[]): HostTensor => {
    const found = tensors.get(name);
    if (found === undefined) throw new SignalsError(`${path}: no tensor "${name}" (a signals shard holds ${Object.values(SHARD_TENSORS).join(', ')})`);
    if (found.shape.length !== shape.length || found.shape.some((d, i) => d !== shape[i])) {
      throw new SignalsError(
        `${path}: tensor "${name}" has shape [${found.shape.join(', ')}], the manifest says [${shape.join(', ')}] (sequences × length${shape.length === 3 ? ' × k' : ''})`,
      );
    }
    return found;
  };
  const idsTensor = tensor(SHARD_TENSORS.ids, [s, t, k]);
  if (idsTensor.dtype !== 'int32' && idsTensor.dtype !== 'int64')
    throw new SignalsError(`${path}: tensor "${SHARD_TENSORS.ids}" must be I32 (or I64), got ${idsTensor.dtype}`);
  const lpTensor = tensor(SHARD_TENSORS.logprobs, [s, t, k]);
  if (lpTensor.dtype !== manifest.logprobDtype) {
    throw new SignalsError(`${path}: tensor "${SHARD_TENSORS.logprobs}" is ${lpTensor.dtype}, the manifest says ${manifest.logprobDtype}`);
  }
  const tailTensor = tensor(SHARD_TENSORS.logTail, [s, t]);
  if (tailTensor.dtype !== 'float32' && tailTensor.dtype !== 'float64')
    throw new SignalsError(`${path}: tensor "${SHARD_TENSORS.logTail}" must be F32, got ${tailTensor.dtype}`);
  let hidden: Float32Array | undefined;
  if (manifest.hidden !== undefined) {
    const h = tensor(SHARD_TENSORS.hidden, [s, t, manifest.hidden.width]);
    if (h.dtype !== manifest.hidden.dtype)
      throw new SignalsError(`${path}: tensor "${SHARD_TENSORS.hidden}" is ${h.dtype}, the manifest says ${manifest.hidden.dtype}`);
    hidden = toFloat32(h, SHARD_TENSORS.hidden, path);
    const bad = hidden.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const token = Math.floor(bad / manifest.hidden.width);
      const row = Math.floor(token / t);
      throw new SignalsError(
        `${path}: sequence ${entry.first + row} (row ${row} of the shard), position ${token % t}: hidden state entry ${bad % manifest.hidden.width} is ${hidden[bad]}`,
      );
    }
  }
  let dense: TopKBlock['dense'];
  if (manifest.denseLogits !== undefined) {
    const d = manifest.denseLogits.positions;
    const lt = tensor(SHARD_TENSORS.denseLogits, [s, d, vocabulary.size]);
    if (lt.dtype !== manifest.denseLogits.dtype)
      throw new SignalsError(`${path}: tensor "${SHARD_TENSORS.denseLogits}" is ${lt.dtype}, the manifest says ${manifest.denseLogits.dtype}`);
    const positions = toInt32(tensor(SHARD_TENSORS.densePositions, [s, d]), SHARD_TENSORS.densePositions, path);
    const logits = toFloat32(lt, SHARD_TENSORS.denseLogits, path);
    for (let row = 0; row < s; row++) {
      const seenAt = new Set<number>();
      for (let j = 0; j < d; j++) {
        const p = positions[row * d + j]!;
        if (p === -1) continue;
        if (p < -1 || p >= t || seenAt.has(p)) {
          throw new SignalsError(
            `${path}: sequence ${entry.first + row} (row ${row} of the shard): dense.positions slot ${j} holds ${p}, not a distinct position in [0, ${t}) or −1`,
          );
        }
        seenAt.add(p);
        for (let v = 0; v < vocabulary.size; v++) {
          const x = logits[(row * d + j) * vocabulary.size + v]!;
          if (!Number.isFinite(x))
            throw new SignalsError(`${path}: sequence ${entry.first + row} (row ${row} of the shard), position ${p}: dense logit ${v} is ${x}`);
        }
      }
    }
    dense = { positions, logits };
  }
  const ids = toInt32(idsTensor, SHARD_TENSORS.ids, path);
  const logProbs = toFloat32(lpTensor, SHARD_TENSORS.logprobs, path);
  const logTail = toFloat32(tailTensor, SHARD_TENSORS.logTail, path);

  const where = (row: number, position: number) => `sequence ${entry.first + row} (row ${row} of the shard), position ${position}`;
  const seen = new Int32Array(vocabulary.size).fill(-1);
  for (let row = 0; row < s; row++) {
    for (let p = 0; p < t; p++) {
      const token = row * t + p;
      const base = token * k;
      let mass = 0;
      for (let j = 0; j < k; j++) {
        const id = ids[base + j]!;
        if (id < 0 || id >= vocabulary.size)
          throw new SignalsError(`${path}: ${where(row, p)}: token id ${id} (entry ${j}) is outside the vocabulary [0, ${vocabulary.size})`);
        if (seen[id] === token) throw new SignalsError(`${path}: ${where(row, p)}: token id ${id} appears twice among the top k`);
        seen[id] = token;
        const lp = logProbs[base + j]!;
        if (Number.isNaN(lp) || lp === Number.POSITIVE_INFINITY) throw new SignalsError(`${path}: ${where(row, p)}: log-prob entry ${j} is ${lp}`);
        if (lp > 0) throw new SignalsError(`${path}: ${where(row, p)}: log-prob entry ${j} is ${lp} > 0; log-probabilities are ≤ 0`);
        if (j > 0 && lp > logProbs[base + j - 1]!) {
          throw new SignalsError(
            `${path}: ${where(row, p)}: log-probs are not sorted in descending order: entry ${j} (${lp}) > entry ${j - 1} (${logProbs[base + j - 1]})`,
          );
        }
        mass += Math.exp(lp);
      }
      const lt = logTail[token]!;
      if (Number.isNaN(lt) || lt === Number.POSITIVE_INFINITY) throw new SignalsError(`${path}: ${where(row, p)}: the log tail mass is ${lt}`);
      if (lt > 0) throw new SignalsError(`${path}: ${where(row, p)}: the tail mass is ${Math.exp(lt)} (log ${lt}), above 1`);
      const total = mass + Math.exp(lt);
      if (Math.abs(total - 1) > MASS_TOLERANCE) {
        throw new SignalsError(
          `${path}: ${where(row, p)}: the top-k mass ${mass.toPrecision(6)} and the tail mass ${Math.exp(lt).toPrecision(6)} add up to ${total.toPrecision(6)}, not 1`,
        );
      }
    }
  }
  return { sequences: s, length: t, k, ids, logProbs, logTail, ...(hidden ? { hidden } : {}), ...(dense ? { dense } : {}) };
}

/** The manifest's JSON, checked field by field; `path` names it in errors. */
export function parseManifest(text: string, path: string): SignalsManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SignalsError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new SignalsError(`${path}: ${problem}`);
  };
  if (!isRecord(value)) return fail('must be a JSON object');
  if (value['format'] !== SIGNALS_FORMAT) fail(`"format" must be "${SIGNALS_FORMAT}", got ${JSON.stringify(value['format'])}: not a teacher-signals manifest`);
  if (value['schemaVersion'] !== SIGNALS_SCHEMA_VERSION) {
    fail(
      `schema version ${JSON.stringify(value['schemaVersion'])} is not one this mmkd reads (${SIGNALS_SCHEMA_VERSION}); write the signals again with this version`,
    );
  }
  const whole = (v: unknown, name: string, min: number): number =>
    Number.isInteger(v) && (v as number) >= min ? (v as number) : fail(`"${name}" must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  const text_ = (v: unknown, name: string): string =>
    typeof v === 'string' && v !== '' ? v : fail(`"${name}" must be a non-empty string, got ${JSON.stringify(v)}`);
  const teacher = isRecord(value['teacher']) ? value['teacher'] : fail('"teacher" must be an object with "fingerprint"');
  const vocabulary = isRecord(value['vocabulary']) ? value['vocabulary'] : fail('"vocabulary" must be an object with "size" and "hash"');
  const data = isRecord(value['data']) ? value['data'] : fail('"data" must be an object with "fingerprint" and "sequences"');
  const size = whole(vocabulary['size'], 'vocabulary.size', 1);
  const hash = vocabulary['hash'] === null || vocabulary['hash'] === undefined ? null : text_(vocabulary['hash'], 'vocabulary.hash');
  const k = whole(value['k'], 'k', 1);
  if (k > size) fail(`k = ${k} is larger than the vocabulary size V = ${size}`);
  const temperature = value['temperature'];
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature))
    fail(`"temperature" must be a finite number > 0, got ${JSON.stringify(temperature)}`);
  const dtype = value['logprobDtype'];
  if (!(LOGPROB_DTYPES as readonly unknown[]).includes(dtype)) fail(`"logprobDtype" must be one of ${LOGPROB_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  const sequences = whole(data['sequences'], 'data.sequences', 0);
  const shardsValue = Array.isArray(value['shards']) ? (value['shards'] as unknown[]) : fail('"shards" must be an array');
  let next = 0;
  const shards = shardsValue.map((s, i): ShardEntry => {
    if (!isRecord(s)) return fail(`shards[${i}] must be an object`);
    const file = text_(s['file'], `shards[${i}].file`);
    if (file.includes('/') || file.includes('\\') || file.startsWith('.'))
      fail(`shards[${i}].file must be a plain file name in the folder, got ${JSON.stringify(file)}`);
    const first = whole(s['first'], `shards[${i}].first`, 0);
    const count = whole(s['count'], `shards[${i}].count`, 1);
    const digest = text_(s['sha256'], `shards[${i}].sha256`);
    if (!/^[0-9a-f]{64}$/.test(digest)) fail(`shards[${i}].sha256 must be 64 lower-case hex digits, got ${JSON.stringify(digest)}`);
    if (first !== next)
      fail(
        `shards[${i}] (${file}) starts at sequence ${first}, but the shards before it end at ${next}: shards must cover the sequences in order, without gaps or overlaps`,
      );
    next = first + count;
    if (next > sequences) fail(`shards[${i}] (${file}) ends at sequence ${next}, past data.sequences = ${sequences}`);
    return { file, first, count, sha256: digest, bytes: whole(s['bytes'], `shards[${i}].bytes`, 0) };
  });
  const hiddenValue = value['hidden'];
  let hidden: SignalsSettings['hidden'];
  if (hiddenValue !== undefined && hiddenValue !== null) {
    if (!isRecord(hiddenValue)) fail('"hidden" must be an object with "width" and "dtype", or absent');
    const h = hiddenValue as Record<string, unknown>;
    if (!(LOGPROB_DTYPES as readonly unknown[]).includes(h['dtype']))
      fail(`"hidden.dtype" must be one of ${LOGPROB_DTYPES.join(', ')}, got ${JSON.stringify(h['dtype'])}`);
    hidden = { width: whole(h['width'], 'hidden.width', 1), dtype: h['dtype'] as LogprobDtype };
  }
  const denseValue = value['denseLogits'];
  let denseLogits: SignalsSettings['denseLogits'];
  if (denseValue !== undefined && denseValue !== null) {
    if (!isRecord(denseValue)) fail('"denseLogits" must be an object with "roles", "positions" and "dtype", or absent');
    const d = denseValue as Record<string, unknown>;
    const roles = d['roles'];
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => isRole(r)))
      fail(`"denseLogits.roles" must be a non-empty array of ${ROLES.join(', ')}, got ${JSON.stringify(roles)}`);
    if (!(LOGPROB_DTYPES as readonly unknown[]).includes(d['dtype']))
      fail(`"denseLogits.dtype" must be one of ${LOGPROB_DTYPES.join(', ')}, got ${JSON.stringify(d['dtype'])}`);
    denseLogits = { roles: roles as Role[], positions: whole(d['positions'], 'denseLogits.positions', 1), dtype: d['dtype'] as LogprobDtype };
  }
  const complete = value['complete'] === true;
  if (complete && next !== sequences) fail(`"complete" is true, but the shards cover ${next} of ${sequences} sequences`);
  return {
    format: SIGNALS_FORMAT,
    schemaVersion: SIGNALS_SCHEMA_VERSION,
    teacher: {
      fingerprint: text_(teacher['fingerprint'], 'teacher.fingerprint'),
      ...(typeof teacher['description'] === 'string' ? { description: teacher['description'] } : {}),
    },
    vocabulary: { size, hash },
    temperature: temperature as number,
    k,
    logprobDtype: dtype as LogprobDtype,
    sequenceLength: whole(value['sequenceLength'], 'sequenceLength', 1),
    data: { fingerprint: text_(data['fingerprint'], 'data.fingerprint'), sequences },
    ...(hidden ? { hidden } : {}),
    ...(denseLogits ? { denseLogits } : {}),
    shards,
    complete,
    ...(typeof value['bytesPerToken'] === 'number' ? { bytesPerToken: value['bytesPerToken'] } : {}),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a consumer expects of signals; each given field must match the manifest. */
export interface SignalsExpectation {
  readonly dataFingerprint?: string;
  readonly sequences?: number;
  readonly sequenceLength?: number;
  readonly vocabulary?: { readonly size: number; readonly hash?: string };
  readonly temperature?: number;
  readonly teacherFingerprint?: string;
}

/** Every way `manifest` does not fit `expected`, each naming the folder, both values and what to do. */
export function mismatches(manifest: SignalsManifest, expected: SignalsExpectation, where: string): string[] {
  const out: string[] = [];
  if (expected.dataFingerprint !== undefined && manifest.data.fingerprint !== expected.dataFingerprint) {
    out.push(
      `${where}: the signals are of data ${manifest.data.fingerprint}, this run reads ${expected.dataFingerprint} (write them for this recipe, seed and data)`,
    );
  }
  if (expected.sequences !== undefined && manifest.data.sequences < expected.sequences) {
    out.push(`${where}: the signals hold ${manifest.data.sequences} sequences, this run needs ${expected.sequences}`);
  }
  if (expected.sequenceLength !== undefined && manifest.sequenceLength !== expected.sequenceLength) {
    out.push(`${where}: the signals' sequences have ${manifest.sequenceLength} positions, the teacher's batches ${expected.sequenceLength}`);
  }
  if (expected.vocabulary !== undefined) {
    if (manifest.vocabulary.size !== expected.vocabulary.size) {
      out.push(`${where}: the signals' vocabulary has V = ${manifest.vocabulary.size} tokens, the student's V = ${expected.vocabulary.size}`);
    } else if (expected.vocabulary.hash !== undefined && manifest.vocabulary.hash !== null && manifest.vocabulary.hash !== expected.vocabulary.hash) {
      out.push(
        `${where}: the signals' vocabulary hash ${manifest.vocabulary.hash.slice(0, 12)}… differs from the student's ${expected.vocabulary.hash.slice(0, 12)}… (another tokenizer)`,
      );
    }
  }
  if (expected.temperature !== undefined && manifest.temperature !== expected.temperature) {
    out.push(`${where}: the signals are log-probs at temperature ${manifest.temperature}, the objective's temperature is ${expected.temperature}`);
  }
  if (expected.teacherFingerprint !== undefined && manifest.teacher.fingerprint !== expected.teacherFingerprint) {
    out.push(`${where}: the signals come from teacher ${manifest.teacher.fingerprint.slice(0, 12)}…, expected ${expected.teacherFingerprint.slice(0, 12)}…`);
  }
  return out;
}

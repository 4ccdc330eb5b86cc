/**
 * Offline teacher signals on disk: a folder's reader (every shard's SHA-256 and contents checked
 * before a sequence is handed out) and its writer (shards and manifest written atomically, a
 * killed writer resumed where its manifest stops). The format is `format.ts`.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bytesPerToken,
  decodeShard,
  encodeShard,
  MANIFEST_FILE,
  mismatches,
  parseManifest,
  type ShardEntry,
  SIGNALS_FORMAT,
  SIGNALS_SCHEMA_VERSION,
  SignalsError,
  type SignalsExpectation,
  type SignalsManifest,
  type SignalsSettings,
  sha256,
  shardName,
  type TopKBlock,
} from './format.js';

/** A checked signals folder: its manifest, and sequences read by index. */
export interface TeacherSignals {
  readonly dir: string;
  readonly manifest: SignalsManifest;
  /** Sequences `first … first + count − 1` (they may span shards). */
  read(first: number, count: number): Promise<TopKBlock>;
}

/** How `openTeacherSignals` checks a folder. */
export interface OpenOptions {
  /** Each field given must match the manifest (data, vocabulary, temperature, …). */
  readonly expect?: SignalsExpectation;
  /**
   * Read every shard at once and check its SHA-256 and contents (default true), so that a
   * corrupt shard stops a run before it trains rather than half-way.
   */
  readonly verify?: boolean;
}

/**
 * Opens a finished signals folder: the manifest is checked field by field, every listed shard must
 * exist with its SHA-256, its tensors and values checked (`decodeShard`); with `expect`, a
 * manifest that does not fit the data, vocabulary or temperature is an error listing every
 * mismatch. Shards are then read again lazily, one held at a time, and hashed again.
 */
export async function openTeacherSignals(dir: string, options: OpenOptions = {}): Promise<TeacherSignals> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = parseManifest(await readText(manifestPath, dir), manifestPath);
  if (!manifest.complete) {
    const covered = manifest.shards.reduce((n, s) => n + s.count, 0);
    throw new SignalsError(
      `${dir}: the signals are unfinished (${covered} of ${manifest.data.sequences} sequences written); run the writer again to finish them`,
    );
  }
  if (options.expect) {
    const problems = mismatches(manifest, options.expect, manifestPath);
    if (problems.length > 0) throw new SignalsError(`the teacher signals do not fit this run:\n  - ${problems.join('\n  - ')}`);
  }
  const load = async (entry: ShardEntry): Promise<TopKBlock> => {
    const path = join(dir, entry.file);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new SignalsError(
        `${path}: shard ${entry.file} (sequences ${entry.first}–${entry.first + entry.count - 1}) listed in ${MANIFEST_FILE} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const digest = sha256(bytes);
    if (digest !== entry.sha256) {
      throw new SignalsError(`${path}: shard ${entry.file} is corrupt or was replaced: its SHA-256 is ${digest}, ${MANIFEST_FILE} says ${entry.sha256}`);
    }
    return decodeShard(bytes, path, entry, manifest);
  };
  if (options.verify ?? true) for (const entry of manifest.shards) await load(entry);

  let held: { entry: ShardEntry; block: TopKBlock } | undefined;
  const shardBlock = async (entry: ShardEntry) => {
    if (held?.entry !== entry) held = { entry, block: await load(entry) };
    return held.block;
  };
  return {
    dir,
    manifest,
    async read(first, count) {
      if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > manifest.data.sequences) {
        throw new SignalsError(`${dir}: sequences ${first}–${first + count - 1} asked for, the signals hold 0–${manifest.data.sequences - 1}`);
      }
      const { k, sequenceLength: t } = manifest;
      const out: TopKBlock = {
        sequences: count,
        length: t,
        k,
        ids: new Int32Array(count * t * k),
        logProbs: new Float32Array(count * t * k),
        logTail: new Float32Array(count * t),
        ...(manifest.hidden ? { hidden: new Float32Array(count * t * manifest.hidden.width) } : {}),
        ...(manifest.denseLogits
          ? {
              dense: {
                positions: new Int32Array(count * manifest.denseLogits.positions),
                logits: new Float32Array(count * manifest.denseLogits.positions * manifest.vocabulary.size),
              },
            }
          : {}),
      };
      for (let n = first; n < first + count; ) {
        const entry = manifest.shards.find((s) => n >= s.first && n < s.first + s.count)!;
        const block = await shardBlock(entry);
        const take = Math.min(entry.first + entry.count, first + count) - n;
        const from = n - entry.first;
        const to = n - first;
        out.ids.set(block.ids.subarray(from * t * k, (from + take) * t * k), to * t * k);
        out.logProbs.set(block.logProbs.subarray(from * t * k, (from + take) * t * k), to * t * k);
        out.logTail.set(block.logTail.subarray(from * t, (from + take) * t), to * t);
        if (out.dense && block.dense) {
          const d = manifest.denseLogits!.positions;
          const v = manifest.vocabulary.size;
          out.dense.positions.set(block.dense.positions.subarray(from * d, (from + take) * d), to * d);
          out.dense.logits.set(block.dense.logits.subarray(from * d * v, (from + take) * d * v), to * d * v);
        }
        if (out.hidden && block.hidden) {
          const h = manifest.hidden!.width;
          out.hidden.set(block.hidden.subarray(from * t * h, (from + take) * t * h), to * t * h);
        }
        n += take;
      }
      return out;
    },
  };
}

async function readText(path: string, dir: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SignalsError(
      code === 'ENOENT' ? `${dir}: no ${MANIFEST_FILE}: not a teacher-signals folder` : `${path}: cannot be read: ${code ?? (e as Error).message}`,
    );
  }
}

/** A signals folder being written: shards in sequence order, then `finish`. */
export interface SignalsWriter {
  readonly dir: string;
  /** The first sequence not written yet (after a resume, where the folder stopped). */
  readonly next: number;
  /** Writes sequences `next … next + block.sequences − 1` as one shard (atomically), then the manifest. */
  write(block: TopKBlock): Promise<ShardEntry>;
  /** Marks the folder complete once every sequence is written; returns the final manifest. */
  finish(): Promise<SignalsManifest>;
}

/**
 * Creates a signals folder, or resumes one a killed writer left: the settings must equal the
 * folder's (teacher, vocabulary, temperature, k, dtype, length, data), each listed shard must
 * still have its SHA-256 (a shard that does not, and every one after it, is written again), and
 * files the manifest does not list (a shard written but not yet recorded, temporary files) are
 * removed. A complete folder with the same settings is reported as such (`next` = the number of
 * sequences).
 */
export async function openSignalsWriter(dir: string, settings: SignalsSettings, note: (message: string) => void = () => {}): Promise<SignalsWriter> {
  await mkdir(dir, { recursive: true });
  const manifestPath = join(dir, MANIFEST_FILE);
  const shards: ShardEntry[] = [];
  let existing: SignalsManifest | undefined;
  try {
    existing = parseManifest(await readFile(manifestPath, 'utf8'), manifestPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing !== undefined) {
    const differ = settingsDiffer(existing, settings);
    if (differ.length > 0) {
      throw new SignalsError(`${dir} holds signals written with other settings (${differ.join('; ')}); choose another folder, or remove it`);
    }
    for (const entry of existing.shards) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await readFile(join(dir, entry.file));
      } catch {
        bytes = undefined;
      }
      if (bytes === undefined || sha256(bytes) !== entry.sha256) {
        note(`${join(dir, entry.file)} is missing or corrupt: writing it and the shards after it again`);
        break;
      }
      shards.push(entry);
    }
  }
  const listed = new Set([MANIFEST_FILE, ...shards.map((s) => s.file)]);
  for (const name of await readdir(dir)) {
    if (!listed.has(name) && (name.startsWith('shard-') || name.endsWith('.tmp'))) await rm(join(dir, name), { force: true });
  }
  let complete = existing?.complete === true && shards.length === existing.shards.length;
  const next = () => shards.reduce((n, s) => n + s.count, 0);
  const manifestOf = (): SignalsManifest => {
    const written = shards.reduce((n, s) => n + s.bytes, 0);
    const tokens = next() * settings.sequenceLength;
    return {
      format: SIGNALS_FORMAT,
      schemaVersion: SIGNALS_SCHEMA_VERSION,
      ...settings,
      shards,
      complete,
      ...(complete && tokens > 0 ? { bytesPerToken: written / tokens } : {}),
    };
  };
  const saveManifest = () => atomicWrite(manifestPath, new TextEncoder().encode(`${JSON.stringify(manifestOf(), null, 2)}\n`));
  if (existing === undefined || shards.length < existing.shards.length) await saveManifest();

  return {
    dir,
    get next() {
      return next();
    },
    async write(block) {
      if (complete) throw new SignalsError(`${dir}: the signals are complete; nothing more can be written`);
      const first = next();
      if (block.length !== settings.sequenceLength || block.k !== settings.k) {
        throw new Error(`internal: a block of length ${block.length}, k ${block.k} for signals of length ${settings.sequenceLength}, k ${settings.k}`);
      }
      if (first + block.sequences > settings.data.sequences) {
        throw new SignalsError(`${dir}: sequences ${first}–${first + block.sequences - 1} are past the ${settings.data.sequences} the signals hold`);
      }
      const bytes = encodeShard(block, settings.logprobDtype, settings.hidden, settings.denseLogits);
      const entry: ShardEntry = { file: shardName(shards.length), first, count: block.sequences, sha256: sha256(bytes), bytes: bytes.length };
      await atomicWrite(join(dir, entry.file), bytes);
      shards.push(entry);
      await saveManifest();
      return entry;
    },
    async finish() {
      if (next() !== settings.data.sequences)
        throw new SignalsError(`${dir}: ${next()} of ${settings.data.sequences} sequences written; the signals are not finished`);
      complete = true;
      await saveManifest();
      return manifestOf();
    },
  };
}

/** The settings two writers must share, as "name: folder's vs this one's". */
function settingsDiffer(a: SignalsSettings, b: SignalsSettings): string[] {
  const pairs: Array<[string, unknown, unknown]> = [
    ['teacher', a.teacher.fingerprint, b.teacher.fingerprint],
    ['vocabulary size', a.vocabulary.size, b.vocabulary.size],
    ['vocabulary hash', a.vocabulary.hash, b.vocabulary.hash],
    ['temperature', a.temperature, b.temperature],
    ['k', a.k, b.k],
    ['log-prob dtype', a.logprobDtype, b.logprobDtype],
    ['sequence length', a.sequenceLength, b.sequenceLength],
    ['data', a.data.fingerprint, b.data.fingerprint],
    [
      'dense logits',
      a.denseLogits ? `${a.denseLogits.roles.join('+')} ×${a.denseLogits.positions} ${a.denseLogits.dtype}` : 'none',
      b.denseLogits ? `${b.denseLogits.roles.join('+')} ×${b.denseLogits.positions} ${b.denseLogits.dtype}` : 'none',
    ],
    ['hidden states', a.hidden ? `${a.hidden.width} ${a.hidden.dtype}` : 'none', b.hidden ? `${b.hidden.width} ${b.hidden.dtype}` : 'none'],
    ['sequences', a.data.sequences, b.data.sequences],
  ];
  return pairs.filter(([, x, y]) => x !== y).map(([name, x, y]) => `${name}: ${String(x)} there, ${String(y)} here`);
}

/** Writes `bytes` to a temporary name beside `path`, then renames it: a reader never sees half a file. */
async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}

export { bytesPerToken };

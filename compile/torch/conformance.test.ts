import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backends/index.js';
import { objective } from '../../core/combinators.js';
import { graphToJson } from '../../core/json.js';
import type { Role } from '../../core/roles.js';
import { student as s, teacher as t } from '../../core/views.js';
import { hostTensor, writeSafetensors } from '../../io/index.js';
import { kl, relation } from '../../losses/index.js';
import { runs } from '../../properties/harness.js';
import {
  type GeneratedBatch,
  type GeneratedSide,
  type GeneratedSignals,
  generatedBatch,
  objectiveGraph,
  signalsBatch,
  topkObjectiveGraph,
} from '../../properties/objectives.js';
import { topKOfLogits } from '../../recipes/signals/format.js';
import { exportTorch } from './export.js';
import { differences, matchingsAreUnique, mmkdOutcome, pythonMissing, runPython, SIGNAL_TENSORS } from './testing/conformance.js';

const missing = pythonMissing();
const dir = mkdtempSync(join(tmpdir(), 'mmkd-torch-conformance-'));

/**
 * A generated batch as an inputs file, with the names `mmkd loss` reads; with `signals`, the
 * teacher is given by its top-k signals (`SIGNAL_TENSORS`, int64 ids) in place of its logits (an
 * LM head stays, which both refuse beside signals).
 */
function inputsFile(name: string, batch: GeneratedBatch, signals?: GeneratedSignals): string {
  const { teacher: t, student: s, V, H } = batch;
  const path = join(dir, name);
  const side = (who: 'teacher' | 'student', g: GeneratedSide) => ({
    ...(g.head !== undefined
      ? { [`${who}.head.weight`]: hostTensor('float32', [V, H], g.head.weight), [`${who}.head.bias`]: hostTensor('float32', [V], g.head.bias) }
      : who === 'teacher' && signals !== undefined && signals.logitsRoles === undefined
        ? {}
        : { [`${who}.logits`]: hostTensor('float32', [g.B, g.T, V], g.logits) }),
    ...(who === 'teacher' && signals !== undefined
      ? {
          [SIGNAL_TENSORS.ids]: hostTensor(
            'int64',
            [g.B, g.T, signals.k],
            BigInt64Array.from(signals.ids, (x) => BigInt(x)),
          ),
          [SIGNAL_TENSORS.logprobs]: hostTensor('float32', [g.B, g.T, signals.k], signals.logProbs),
          [SIGNAL_TENSORS.logTail]: hostTensor('float32', [g.B, g.T], signals.logTail),
        }
      : {}),
    [`${who}.hidden`]: hostTensor('float32', [g.B, g.T, H], g.hidden),
    [`${who}.roles`]: hostTensor('int32', [g.B, g.T], g.roles),
  });
  writeFileSync(path, writeSafetensors({ ...side('teacher', t), ...side('student', s), labels: hostTensor('int32', [s.B, s.T], batch.labels) }));
  return path;
}

describe.skipIf(missing !== undefined)(`exported PyTorch modules equal mmkd${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('generated objectives on generated inputs: loss, terms and gradients within 1e-5, or the same error', async () => {
    const cases = fc.sample(fc.tuple(objectiveGraph, generatedBatch()), { numRuns: runs(24), seed: Number(process.env['MMKD_PROPERTY_SEED'] ?? 13) });
    const files = cases.map(([graph, batch], i) => {
      const module = join(dir, `generated_${i}.py`);
      writeFileSync(module, exportTorch(graph));
      writeFileSync(join(dir, `generated_${i}.json`), graphToJson(graph));
      return { module, inputs: inputsFile(`generated_${i}.safetensors`, batch) };
    });
    const torch = await runPython(dir, files);
    const failures: string[] = [];
    let [numeric, ambiguous] = [0, 0];
    for (const [i, [graph]] of cases.entries()) {
      const mmkd = await mmkdOutcome(graph, files[i]!.inputs);
      if (!('error' in mmkd)) numeric++;
      const diff = differences(mmkd, torch[i]!);
      if (diff.length > 0 && !('error' in mmkd) && !(await matchingsAreUnique(graph, files[i]!.inputs))) {
        ambiguous++;
        continue;
      }
      if (diff.length > 0) failures.push(`case ${i} (${join(dir, `generated_${i}.json`)}):\n  ${diff.join('\n  ')}`);
    }
    expect(failures).toEqual([]);
    // Most cases fit their inputs; the rest compare mmkd's error with the module's.
    expect(numeric).toBeGreaterThan(cases.length / 2);
    // Cases whose matching has tied optima (each solver may pick another) are few.
    expect(ambiguous).toBeLessThanOrEqual(Math.max(1, cases.length / 10));
  });

  it('generated top-k objectives on generated signals (every policy, matched or not; one chunk of rows or many): loss, terms and gradients within 1e-5, or the same error', async () => {
    const cases = fc.sample(
      signalsBatch().chain((batch) => topkObjectiveGraph(batch.signals.temperature).map((graph) => [graph, batch] as const)),
      { numRuns: runs(24), seed: Number(process.env['MMKD_PROPERTY_SEED'] ?? 11) },
    );
    const files = cases.map(([graph, batch], i) => {
      const module = join(dir, `topk_${i}.py`);
      writeFileSync(module, exportTorch(graph));
      writeFileSync(join(dir, `topk_${i}.json`), graphToJson(graph));
      const { logitsRoles } = batch.signals;
      const scalars = { vocab: batch.V, temperature: batch.signals.temperature, ...(logitsRoles === undefined ? {} : { logitsRoles }) };
      return {
        module,
        inputs: inputsFile(`topk_${i}.safetensors`, batch, batch.signals),
        scalars,
        kwargs: {
          teacher_topk_vocab: scalars.vocab,
          teacher_topk_temperature: scalars.temperature,
          ...(logitsRoles === undefined ? {} : { teacher_logits_roles: logitsRoles }),
        },
      };
    });
    // Each case twice: in one chunk of rows, and in chunks of one or two rows (64 bytes of logits).
    const torch = await runPython(
      dir,
      files.flatMap((f) => [f, { ...f, options: { chunk_bytes: 64 } }]),
    );
    const failures: string[] = [];
    let [numeric, ambiguous] = [0, 0];
    for (const [i, [graph]] of cases.entries()) {
      // mmkd's inputs files hold no signals: its side is read through the library (`DistillInputs` with `topk`).
      const mmkd = await mmkdOutcome(graph, files[i]!.inputs, 'library', files[i]!.scalars);
      if (!('error' in mmkd)) numeric++;
      const diff = [...differences(mmkd, torch[2 * i]!), ...differences(mmkd, torch[2 * i + 1]!).map((d) => `in chunks: ${d}`)];
      if (diff.length > 0 && !('error' in mmkd) && !(await matchingsAreUnique(graph, files[i]!.inputs))) {
        ambiguous++;
        continue;
      }
      if (diff.length > 0) failures.push(`case ${i} (${join(dir, `topk_${i}.json`)}):\n  ${diff.join('\n  ')}`);
    }
    expect(failures).toEqual([]);
    expect(numeric).toBeGreaterThan(cases.length / 3);
    expect(ambiguous).toBeLessThanOrEqual(Math.max(1, cases.length / 10));
  });

  it("top-k signals with the teacher's logits stored at its vision tokens (llava-kd from --visual-logits signals): equal to mmkd", async () => {
    const graph = objective({
      res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response'), { temperature: 2 }),
      vis: kl.reverse(t.logits.at('visual'), s.logits.at('visual')),
      rel: relation(t.logits.at('visual'), s.logits.at('visual')),
    });
    const batches = fc.sample(
      fc
        .tuple(generatedBatch(), fc.integer({ min: 1, max: 7 }))
        .filter(([b]) => b.teacher.head === undefined && b.student.head === undefined)
        .map(([b, k]) => {
          const { teacher, V } = b;
          const signals = { temperature: 2, ...topKOfLogits(teacher.logits, teacher.B * teacher.T, V, Math.min(k, V), 2), logitsRoles: ['visual'] as const };
          // Stored logits: the teacher's at its vision tokens, zeros elsewhere.
          const logits = Float32Array.from(teacher.logits, (x, i) => (teacher.roles[Math.floor(i / V)] === 2 ? x : 0));
          return { ...b, teacher: { ...teacher, logits }, signals };
        })
        .filter((b) => b.teacher.layouts.every((l, i) => l.visual === b.student.layouts[i]!.visual && l.visual > 0)),
      { numRuns: runs(6), seed: 5 },
    );
    const module = join(dir, 'stored_logits.py');
    writeFileSync(module, exportTorch(graph));
    const files = batches.map((batch, i) => {
      const scalars = { vocab: batch.V, temperature: 2, logitsRoles: ['visual'] as const };
      return {
        module,
        inputs: inputsFile(`stored_logits_${i}.safetensors`, batch, batch.signals),
        scalars,
        kwargs: { teacher_topk_vocab: batch.V, teacher_topk_temperature: 2, teacher_logits_roles: ['visual'] },
      };
    });
    const torch = await runPython(dir, files);
    for (const [i, f] of files.entries()) {
      const mmkd = await mmkdOutcome(graph, f.inputs, 'library', f.scalars);
      expect('error' in mmkd ? mmkd.error : 'numeric').toBe('numeric');
      expect(differences(mmkd, torch[i]!)).toEqual([]);
    }
  });

  it("bad signals: the module refuses them with mmkd's messages", async () => {
    // One sample of 5 positions (prompt, response ×4), V = 5, k = 3 at τ = 2.
    const [B, T, V, H, k, tau] = [1, 5, 5, 2, 3, 2];
    const roles = Int32Array.from([1, 3, 3, 3, 3]);
    const logits = Float32Array.from({ length: B * T * V }, (_, i) => Math.sin(1.7 * i) * 3);
    const good = { temperature: tau, ...topKOfLogits(logits, B * T, V, k, tau) };
    const side = { B, T, roles, layouts: [], logits, hidden: Float32Array.from({ length: B * T * H }, (_, i) => i / 7) };
    const batch: GeneratedBatch = {
      V,
      H,
      teacher: side,
      student: { ...side, logits: Float32Array.from(logits, (x, i) => x * 0.5 + (i % 3)) },
      labels: Int32Array.from([-100, 1, 2, 3, 4]),
    };
    const edit = (change: (s: { ids: Int32Array; logProbs: Float32Array; logTail: Float32Array }) => void): GeneratedSignals => {
      const copy = { ...good, ids: Int32Array.from(good.ids), logProbs: Float32Array.from(good.logProbs), logTail: Float32Array.from(good.logTail) };
      change(copy);
      return copy;
    };
    // roles: the teacher_logits_roles given (the file then holds teacher.logits beside the signals when the signals name stored roles).
    const bad: Array<{ signals: GeneratedSignals; vocab?: number; temperature?: number; roles?: readonly Role[]; message: RegExp }> = [
      { signals: good, vocab: 2, message: /teacher\.topk: k = 3 must be in \[1, V\], V = 2/ },
      { signals: edit((x) => void (x.ids[7] = V)), message: /teacher\.topk\.ids holds 5 at \[0, 2, 1\]: outside the vocabulary \[0, 5\)/ },
      { signals: edit((x) => void (x.ids[4] = x.ids[3]!)), message: /teacher\.topk\.ids holds \d twice at \[0, 1\]: the top k ids of a position are distinct/ },
      { signals: edit((x) => void (x.logProbs[5] = 0.5)), message: /teacher\.topk\.logProbs holds 0\.5 at \[0, 1, 2\]: log-probabilities are ≤ 0/ },
      {
        signals: edit((x) => void ([x.logProbs[9], x.logProbs[10]] = [-2.5, -1.25])),
        message: /teacher\.topk\.logProbs at \[0, 3\]: entry 1 \(-1\.25\) > entry 0 \(-2\.5\); log-probs must be sorted in descending order/,
      },
      { signals: edit((x) => void (x.logTail[4] = 0.25)), message: /teacher\.topk\.logTail holds 0\.25 at \[0, 4\]: the tail mass is at most 1/ },
      { signals: good, temperature: 1, message: /the teacher's signals are log-probs at temperature 1, this divergence's temperature is 2/ },
      { signals: good, vocab: 6, message: /vocabularies differ: teacher\.topk signals over V = 6 \[1, 5, 6\] vs student\.logits \[1, 5, 5\]/ },
      {
        signals: { ...good, logitsRoles: ['response'] },
        message: /teacher\.logits beside top-k signals need logitsRoles: the roles whose positions they hold/,
      },
    ];
    const graph = objective({ res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response'), { temperature: tau }) });
    const module = join(dir, 'bad_signals.py');
    writeFileSync(module, exportTorch(graph));
    const files = bad.map((c, i) => {
      const scalars = { vocab: c.vocab ?? V, temperature: c.temperature ?? tau, ...(c.roles === undefined ? {} : { logitsRoles: c.roles }) };
      return {
        module,
        inputs: inputsFile(`bad_signals_${i}.safetensors`, batch, c.signals),
        scalars,
        kwargs: {
          teacher_topk_vocab: scalars.vocab,
          teacher_topk_temperature: scalars.temperature,
          ...(c.roles === undefined ? {} : { teacher_logits_roles: c.roles }),
        },
      };
    });
    const torch = await runPython(dir, files);
    for (const [i, c] of bad.entries()) {
      const mmkd = await mmkdOutcome(graph, files[i]!.inputs, 'library', files[i]!.scalars);
      expect('error' in mmkd ? mmkd.error : 'no error').toMatch(c.message);
      expect(differences(mmkd, torch[i]!)).toEqual([]);
    }
  });
});

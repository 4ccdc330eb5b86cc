import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backends/index.js';
import { graphToJson } from '../../core/json.js';
import { hostTensor, writeSafetensors } from '../../io/index.js';
import { runs } from '../../properties/harness.js';
import { type GeneratedBatch, type GeneratedSide, generatedBatch, objectiveGraph } from '../../properties/objectives.js';
import { exportTorch } from './export.js';
import { differences, matchingsAreUnique, mmkdOutcome, pythonMissing, runPython } from './testing/conformance.js';

const missing = pythonMissing();
const dir = mkdtempSync(join(tmpdir(), 'mmkd-torch-conformance-'));

/** A generated batch as an inputs file, with the names `mmkd loss` reads. */
function inputsFile(name: string, batch: GeneratedBatch): string {
  const { teacher: t, student: s, V, H } = batch;
  const path = join(dir, name);
  const side = (who: 'teacher' | 'student', g: GeneratedSide) => ({
    ...(g.head === undefined
      ? { [`${who}.logits`]: hostTensor('float32', [g.B, g.T, V], g.logits) }
      : { [`${who}.head.weight`]: hostTensor('float32', [V, H], g.head.weight), [`${who}.head.bias`]: hostTensor('float32', [V], g.head.bias) }),
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
});

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backends/index.js';
import { scratchFolder } from '../../cli/testing/scratch.js';
import { objective, weighted } from '../../core/combinators.js';
import { student as s, teacher as t } from '../../core/views.js';
import { hostTensor, readTensorFile, toFloat32, writeSafetensors } from '../../io/index.js';
import { affinity, feature, kl, relation, supervisedCE } from '../../losses/index.js';
import { match } from '../../matching/builders.js';
import { exportTorch } from './export.js';
import { differences, mmkdOutcome, type Outcome, pythonMissing } from './testing/conformance.js';

const run = promisify(execFile);

/** Why the two-process example cannot run here, or undefined. */
function distributedMissing(): string | undefined {
  const python = pythonMissing();
  if (python !== undefined) return python;
  try {
    const gloo = execFileSync('python3', ['-c', 'import torch.distributed as d; print(d.is_available() and d.is_gloo_available())'], { encoding: 'utf8' });
    return gloo.trim() === 'True' ? undefined : 'torch.distributed with the gloo backend is not available in this PyTorch build';
  } catch (e) {
    return `torch.distributed cannot be imported (${(e as Error).message.split('\n')[0]})`;
  }
}

const missing = distributedMissing();
const { dir, file } = scratchFolder('mmkd-torch-distributed-');

function values(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 2 ** 32 - 0.5) * 6;
  });
}

// Four samples whose token counts differ (1 to 4 response tokens, 1 to 4 vision tokens on the
// teacher's side, 1 or 2 on the student's), so that a mean of per-rank means is not the mean.
const T = 10;
const layouts = [
  { prompt: 1, tv: 4, sv: 2, response: 4 },
  { prompt: 2, tv: 1, sv: 1, response: 1 },
  { prompt: 1, tv: 2, sv: 1, response: 3 },
  { prompt: 2, tv: 4, sv: 2, response: 2 },
];
const rolesOf = (visual: (l: (typeof layouts)[number]) => number) =>
  layouts.flatMap((l) => {
    const row = [...Array(l.prompt).fill(1), ...Array(visual(l)).fill(2), 1, ...Array(l.response).fill(3)];
    return [...row, ...Array(T - row.length).fill(0)];
  });
const studentRoles = rolesOf((l) => l.sv);
const labels = studentRoles.map((r, i) => (r === 3 ? (i * 7) % 13 : -100));

describe.skipIf(missing !== undefined)(`examples/torch_distributed.py under torchrun${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('two gloo processes with gradient accumulation give the loss, terms and gradients of one process on the whole batch, and mmkd’s', async () => {
    const r = t.logits.next('response');
    const q = s.logits.next('response');
    const matched = match.hungarian(t.logits.at('visual'), s.logits.at('visual'));
    const graph = objective({
      sup: weighted(0.5, supervisedCE(q)),
      rld: kl.reverse(r, q, { temperature: 2 }),
      vsd: weighted(0.25, kl.reverse(matched.teacher, s.logits.at('visual'), { reduction: 'sampleMean' })),
      vlad: weighted(
        25,
        affinity({
          teacher: { vision: matched.of(t.hidden.at('visual')), text: t.hidden.at('prompt') },
          student: { vision: s.hidden.at('visual'), text: s.hidden.at('prompt') },
        }),
      ),
      rel: relation(t.hidden.at('response'), s.hidden.at('response')),
      hint: feature.mse(t.hidden.at('prompt'), s.hidden.at('prompt'), { reduction: 'sum' }),
    });
    const module = file('objective.py', exportTorch(graph));
    const inputs = file(
      'batch.safetensors',
      writeSafetensors({
        'teacher.logits': hostTensor('float32', [4, T, 13], values(4 * T * 13, 1)),
        'teacher.hidden': hostTensor('float32', [4, T, 6], values(4 * T * 6, 2)),
        'teacher.roles': hostTensor('int32', [4, T], Int32Array.from(rolesOf((l) => l.tv))),
        'student.logits': hostTensor('float32', [4, T, 13], values(4 * T * 13, 3)),
        'student.hidden': hostTensor('float32', [4, T, 6], values(4 * T * 6, 4)),
        'student.roles': hostTensor('int32', [4, T], Int32Array.from(studentRoles)),
        labels: hostTensor('int32', [4, T], Int32Array.from(labels)),
      }),
    );
    const example = (out: string, ...extra: string[]) => ['examples/torch_distributed.py', '--objective', module, '--inputs', inputs, '--out', out, ...extra];
    const torchrun = ['-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2'];
    const env = { ...process.env, OMP_NUM_THREADS: '1' };
    await run('python3', example(`${dir}/one.safetensors`), { env });
    await run('python3', [...torchrun, ...example(`${dir}/two.safetensors`, '--accumulation', '2')], { env, timeout: 300_000 });
    await run('python3', [...torchrun, ...example(`${dir}/naive.safetensors`, '--accumulation', '2', '--naive')], { env, timeout: 300_000 });
    const [one, two, naive] = [await outcome(`${dir}/one.safetensors`), await outcome(`${dir}/two.safetensors`), await outcome(`${dir}/naive.safetensors`)];
    expect(differences(one, two)).toEqual([]);
    expect(differences(await mmkdOutcome(graph, inputs), two)).toEqual([]);
    // Without the global counts, each micro-batch's mean is over its own tokens: not the batch's loss.
    if ('error' in naive || 'error' in one) throw new Error('a run failed');
    expect(Math.abs(naive.loss - one.loss)).toBeGreaterThan(1e-3 * Math.abs(one.loss));
    const reported = JSON.parse(readFileSync(`${dir}/two.safetensors.json`, 'utf8')) as { world: number; num_items_in_batch: Record<string, number> };
    expect(reported.world).toBe(2);
    // Response tokens 10 (next-token), kept labels 10, samples with vision tokens 4, affinity entries
    // Σ K·M (vision × prompt tokens), samples with response tokens 4; `sum` reductions count nothing.
    const entries = layouts.reduce((n, l) => n + l.sv * (l.prompt + 1), 0);
    expect(reported.num_items_in_batch).toEqual({
      'objective.sup': 10,
      'objective.rld': 10,
      'objective.vsd': 4,
      'objective.vlad': entries,
      'objective.rel': 4,
    });
  }, 600_000);
});

/** What the example wrote: the loss and terms (JSON) and the gradients (safetensors). */
async function outcome(path: string): Promise<Outcome> {
  const report = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { loss: number; terms: Record<string, number> };
  const grads: Record<string, Float32Array> = {};
  for (const [name, tensor] of await readTensorFile(path)) grads[name] = toFloat32(tensor, name, path);
  return { loss: report.loss, terms: report.terms, grads };
}

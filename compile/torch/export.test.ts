import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backends/index.js';
import { expectCleanFailure, runCli } from '../../cli/testing/run-cli.js';
import { scratchFolder } from '../../cli/testing/scratch.js';
import { objective, weighted } from '../../core/combinators.js';
import type { LossDefinition } from '../../core/definitions.js';
import { GraphValidationError } from '../../core/errors.js';
import type { ScalarNode, ViewNode } from '../../core/graph.js';
import { graphFromJson, graphToJson } from '../../core/json.js';
import { student as s, teacher as t } from '../../core/views.js';
import { type HostTensor, hostTensor, writeSafetensors } from '../../io/index.js';
import { affinity, akl, feature, jsd, kl, relation, skewKL, softCE, supervisedCE, tvd } from '../../losses/index.js';
import { match } from '../../matching/builders.js';
import { compile } from '../compile.js';
import { standardRegistry } from '../standard-registry.js';
import { exportTorch } from './export.js';
import { differences, mmkdOutcome, type Outcome, type PythonCase, pythonMissing, runPython } from './testing/conformance.js';

const missing = pythonMissing();
const { dir, file } = scratchFolder('mmkd-torch-export-');
const mmkd = (...args: string[]) => runCli(args);

/** Deterministic values in [−scale, scale]. */
function values(n: number, seed: number, scale = 3): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 2 ** 32 - 0.5) * 2 * scale;
  });
}

const f32 = (shape: number[], seed: number, scale?: number) =>
  hostTensor(
    'float32',
    shape,
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
  );
const i32 = (shape: number[], data: number[]) => hostTensor('int32', shape, Int32Array.from(data));

// Two samples of 7 positions: prompt, 2 visual (4 on the teacher's side), prompt, 2 response, pad.
const studentRoles = [1, 2, 2, 1, 3, 3, 0, 1, 2, 2, 1, 3, 3, 3];
const teacherRoles = [1, 2, 2, 2, 2, 1, 3, 3, 0, 1, 2, 2, 2, 2, 1, 3, 3, 3];
const labels = studentRoles.map((r, i) => (r === 3 ? (i * 5) % 11 : -100));

// A student that keeps one vision token of the teacher's 2×2 grid (pooling by 2), the same text.
const pooledRoles = [1, 2, 1, 3, 3, 0, 0, 1, 2, 1, 3, 3, 3, 0];

function inputs(name: string, extra: Readonly<Record<string, HostTensor>> = {}, vocab: [number, number] = [11, 11], roles = studentRoles): string {
  return file(
    name,
    writeSafetensors({
      'teacher.logits': f32([2, 9, vocab[0]], 1),
      'teacher.hidden': f32([2, 9, 5], 2),
      'teacher.roles': i32([2, 9], teacherRoles),
      'student.logits': f32([2, 7, vocab[1]], 3),
      'student.hidden': f32([2, 7, 5], 4),
      'student.roles': i32([2, 7], roles),
      labels: i32(
        [2, 7],
        roles.map((r, i) => (r === 3 ? (i * 5) % 11 : -100)),
      ),
      ...extra,
    }),
  );
}

/** Exports `graph` with the public API and returns the module's path. */
function exported(name: string, graph: ScalarNode): string {
  return file(`${name}.py`, exportTorch(graph));
}

/** mmkd's outcome on the same file equals the module's, and neither is an error (hand-picked cases fit their inputs). */
async function compare(graph: ScalarNode, inputsFile: string, torch: Outcome, read: 'cli' | 'library' = 'cli'): Promise<void> {
  const want = await mmkdOutcome(graph, inputsFile, read);
  if ('error' in want) throw new Error(`mmkd: ${want.error}`);
  if ('error' in torch) throw new Error(`torch: ${torch.error}`);
  expect(differences(want, torch)).toEqual([]);
}

describe.skipIf(missing !== undefined)(`mmkd export --to torch${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('the shipped objectives, exported by the CLI, give what `mmkd loss` prints, and mmkd’s gradients', async () => {
    const shipped = [
      ['examples/objectives/em-kd-phase2.json', 'examples/inputs/tiny-efficient.safetensors'],
      ['examples/objectives/llava-kd-dpt.json', 'examples/inputs/tiny-llava.safetensors'],
    ] as const;
    const cases: PythonCase[] = [];
    for (const [i, [objectiveFile, inputsFile]] of shipped.entries()) {
      const out = join(dir, `shipped_${i}.py`);
      const result = await mmkd('export', '--to', 'torch', objectiveFile, '--out', out);
      expect(result.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/^"""mmkd objective, exported to PyTorch/);
      cases.push({ module: out, inputs: inputsFile }, { module: out, inputs: inputsFile, dtype: 'float32' });
    }
    const torch = await runPython(dir, cases);
    for (const [i, [objectiveFile, inputsFile]] of shipped.entries()) {
      const printed = await mmkd('loss', '--objective', objectiveFile, '--inputs', inputsFile, '--json', '--backend', 'cpu');
      const { loss, terms } = JSON.parse(printed.stdout) as { loss: number; terms: Record<string, number> };
      const graph = graphFromJson(readFileSync(objectiveFile, 'utf8'), standardRegistry);
      if (E.isLeft(graph)) throw new Error('shipped objective does not decode');
      for (const run of [torch[2 * i]!, torch[2 * i + 1]!]) {
        if ('error' in run) throw new Error(run.error);
        expect(Math.abs(run.loss - loss)).toBeLessThanOrEqual(1e-5 * Math.abs(loss));
        for (const [name, v] of Object.entries(terms)) expect(Math.abs(run.terms[name]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(v), 1e-2));
        await compare(graph.right, inputsFile, run);
      }
    }
  });

  it('every divergence, supervised CE, weights and nested terms, reductions, T and T², split over several chunks', async () => {
    const r = t.logits.next('response');
    const q = s.logits.next('response');
    const graph = objective({
      fkl: weighted(0.5, kl.forward(r, q, { temperature: 2, scaleT2: true })),
      rkl: kl.reverse(t.logits.at('prompt', 'response'), s.logits.at('prompt', 'response'), { reduction: 'sampleMean' }),
      mix: objective({
        jsd: jsd(r, q, { beta: 0.3, reduction: 'sum' }),
        skew: weighted(-1, skewKL(r, q, { alpha: 0.1, temperature: 0.5 })),
        tvd: tvd(r, q),
        akl: akl(r, q, { mu: 0.5 }),
        soft: softCE(r, q, { temperature: 4, scaleT2: true }),
      }),
      sup: supervisedCE(q, { reduction: 'sampleMean' }),
    });
    const module = exported('divergences', graph);
    const data = inputs('divergences.safetensors');
    // 176 bytes a chunk: 4 rows of 11 float32 logits, so each loss's 5–8 rows span two chunks.
    const torch = await runPython(dir, [
      { module, inputs: data },
      { module, inputs: data, options: { chunk_bytes: 176 } },
    ]);
    await compare(graph, data, torch[0]!);
    await compare(graph, data, torch[1]!);
  });

  it('vocabularies truncated to min(V), and LM heads in place of logits (hidden · Wᵀ + b, chunk by chunk)', async () => {
    const truncated = kl.forward(t.logits.next('response'), s.logits.next('response'), { truncateVocab: true });
    const data = inputs('truncated.safetensors', {}, [13, 11]);
    const graph = objective({ res: truncated, sup: supervisedCE(s.logits.next('response')) });
    const headed = file(
      'heads.safetensors',
      writeSafetensors({
        'teacher.hidden': f32([2, 9, 5], 2),
        'teacher.head.weight': f32([11, 5], 5, 1),
        'teacher.roles': i32([2, 9], teacherRoles),
        'student.hidden': f32([2, 7, 5], 4),
        'student.head.weight': f32([11, 5], 6, 1),
        'student.head.bias': f32([11], 7, 1),
        'student.roles': i32([2, 7], studentRoles),
        labels: i32([2, 7], labels),
      }),
    );
    const headGraph = objective({
      res: jsd(t.logits.next('response'), s.logits.next('response'), { temperature: 2 }),
      sup: supervisedCE(s.logits.next('response')),
      hint: feature.mse(t.hidden.at('response'), s.hidden.at('response', 'response')),
    });
    const [a, b, c] = [exported('truncated', graph), exported('heads', headGraph), exported('heads-chunked', headGraph)];
    const torch = await runPython(dir, [
      { module: a, inputs: data },
      { module: b, inputs: headed },
      { module: c, inputs: headed, options: { chunk_bytes: 100 } },
    ]);
    await compare(graph, data, torch[0]!);
    const [unchunked, chunked] = [torch[1]!, torch[2]!];
    if ('error' in unchunked || 'error' in chunked) throw new Error('error' in unchunked ? unchunked.error : (chunked as { error: string }).error);
    expect(Object.keys(unchunked.grads).sort()).toEqual(
      ['student.head.bias', 'student.head.weight', 'student.hidden', 'student.logits'].filter((n) => n !== 'student.logits'),
    );
    await compare(headGraph, headed, unchunked);
    await compare(headGraph, headed, chunked);
  });

  it('relation, affinity, feature losses and every matcher', async () => {
    const vision = t.logits.at('visual');
    const hungarian = match.hungarian(vision, s.logits.at('visual'));
    const graph = objective({
      rel: weighted(0.5, relation(t.logits.at('prompt', 'response'), s.logits.at('prompt', 'response'))),
      relBatch: relation(t.hidden.at('response'), s.hidden.at('response'), { mode: 'batch' }),
      vsd: kl.reverse(hungarian.teacher, s.logits.at('visual')),
      vlad: weighted(
        25,
        affinity(
          {
            teacher: { vision: hungarian.of(t.hidden.at('visual')), text: t.hidden.at('prompt') },
            student: { vision: s.hidden.at('visual'), text: s.hidden.at('prompt') },
          },
          { beta: 0.5 },
        ),
      ),
      near: feature.cosine(match.nearest(t.hidden.at('visual'), s.hidden.at('visual'), { cost: 'cosine' }).teacher, s.hidden.at('visual')),
      pool: feature.mse(match.pool(t.hidden.at('visual'), s.hidden.at('visual'), { height: 2, width: 2 }).teacher, s.hidden.at('visual')),
      ot: kl.forward(match.sinkhorn(vision, s.logits.at('visual'), { cost: 'l2', epsilon: 0.1, iterations: 50 }).teacher, s.logits.at('visual')),
      same: feature.mse(match.identity(t.hidden.at('response'), s.hidden.at('response')).teacher, s.hidden.at('response'), { reduction: 'sampleMean' }),
      // Learned projections (objective-owned parameters), one across fields of different widths.
      proj: feature.mse(t.hidden.at('response'), s.logits.at('response'), { projection: true }),
      projCos: weighted(0.5, feature.cosine(t.hidden.at('prompt'), s.hidden.at('prompt'), { projection: true })),
    });
    const module = exported('matching', graph);
    expect(readFileSync(module, 'utf8')).toContain('from scipy.optimize import linear_sum_assignment');
    expect(exportTorch(objective({ a: kl.forward(t.logits.at('visual'), s.logits.at('visual')) }))).not.toContain('scipy');
    const data = inputs('matching.safetensors', {}, [11, 11], pooledRoles);
    const [torch] = await runPython(dir, [{ module, inputs: data }]);
    await compare(graph, data, torch!);
    // The projections start where mmkd's do (the same draw from the seed and the path).
    const compiled = compile(graph, { teacher: { logits: [2, 9, 11], hidden: [2, 9, 5] }, student: { logits: [2, 7, 11], hidden: [2, 7, 5] }, labels: true });
    try {
      const own = 'error' in torch! ? {} : (torch!.parameters ?? {});
      expect(Object.keys(own).sort()).toEqual([...compiled.parameters.keys()].sort());
      for (const [name, p] of compiled.parameters) expect(Array.from(own[name]!)).toEqual(Array.from(await p.data()));
    } finally {
      compiled.dispose();
    }
  });

  it('checks its inputs with mmkd’s messages: roles, labels, shapes, paired counts, matchings, non-finite values', async () => {
    const r = t.logits.next('response');
    const q = s.logits.next('response');
    const nan = values(2 * 7 * 11, 3);
    nan[40] = Number.NaN;
    const cases: Array<[string, ScalarNode, string, RegExp]> = [
      [
        'roles',
        objective({ res: kl.forward(r, q) }),
        inputs('bad-roles.safetensors', {
          'student.roles': i32(
            [2, 7],
            studentRoles.map((x, i) => (i === 9 ? 7 : x)),
          ),
        }),
        /^student\.roles holds 7 at \[1, 2\]: codes are 0 pad/,
      ],
      [
        'labels',
        objective({ sup: supervisedCE(q) }),
        inputs('bad-labels.safetensors', {
          labels: i32(
            [2, 7],
            labels.map((x, i) => (i === 4 ? 99 : x)),
          ),
        }),
        /^labels holds 99 at \[0, 4\]: outside the vocabulary \[0, 11\)/,
      ],
      [
        'vocabulary',
        objective({ res: tvd(r, q) }),
        inputs('bad-vocab.safetensors', {}, [13, 11]),
        /^the objective does not fit these inputs:\n {2}- objective\.res: vocabularies differ: teacher\.logits \[2, 9, 13\] vs student\.logits \[2, 7, 11\]/,
      ],
      [
        'pairs',
        objective({ vis: kl.forward(t.logits.at('visual'), s.logits.at('visual')) }),
        inputs('pairs.safetensors'),
        /^objective\.vis: teacher\.logits\[visual\] selects 4 tokens in sample 0 but student\.logits\[visual\] selects 2/,
      ],
      [
        'hungarian',
        objective({ vis: kl.forward(match.hungarian(t.logits.at('visual'), s.logits.at('visual')).teacher, s.logits.at('visual')) }),
        inputs('few-teacher-tokens.safetensors', { 'teacher.roles': i32([2, 9], [1, 2, 1, 1, 1, 1, 3, 3, 0, 1, 2, 1, 1, 1, 1, 3, 3, 3]) }),
        /^objective\.vis\.teacher\.match: a one-to-one matching needs at least as many teacher tokens as student tokens, but sample 0 has 1 \(teacher\.logits\[visual\]\) and 2/,
      ],
      [
        'non-finite',
        objective({ res: kl.forward(r, q) }),
        inputs('nan.safetensors', { 'student.logits': hostTensor('float32', [2, 7, 11], nan) }),
        /^student\.logits \[2, 7, 11\] holds NaN at index \[0, 3, 7\]$/,
      ],
    ];
    const torch = await runPython(
      dir,
      cases.map(([name, graph, data]) => ({ module: exported(`errors-${name}`, graph), inputs: data })),
    );
    for (const [i, [name, graph, data, message]] of cases.entries()) {
      const want = await mmkdOutcome(graph, data, 'library');
      const got = torch[i]!;
      expect('error' in want && want.error, name).toMatch(message);
      expect('error' in got && got.error, name).toBe('error' in want && want.error);
    }
  });

  it('refuses, at export time and naming the path, what has no PyTorch lowering or mmkd refuses without inputs', async () => {
    // Top-k signals export (compile/torch/conformance.test.ts checks their numbers); where mmkd refuses them without inputs, so does the export.
    const signalsFile = file('signals.json', graphToJson(objective({ res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response')) })));
    const exported = await mmkd('export', '--to', 'torch', signalsFile);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/teacher_topk_ids: Optional\[torch\.Tensor\] = None/);
    expect(exported.stdout).toMatch(/_View\("teacher", "topk", \("response", \), 1, .*, "tailBucket"\)/);
    expectCleanFailure(await mmkd('export', '--to', 'onnx', signalsFile), /--to must be one of torch, got 'onnx'/);
    // (A graph decoded from JSON may hold what the builders' types rule out.)
    const refused: Array<readonly [ScalarNode, RegExp]> = [
      [
        objective({
          vis: kl.forward(
            match.identity(t.topk('renormalize').at('visual') as unknown as ViewNode<'teacher', 'logits'>, s.logits.at('visual')).of(t.logits.at('visual')),
            s.logits.at('visual'),
          ),
        }),
        /objective\.vis\.teacher\.match\.teacher: teacher\.topk holds only each position's top k, which the matcher identity cannot compare/,
      ],
      [
        objective({ rel: relation(t.topk('uniform').at('visual'), s.logits.at('visual')) }),
        /objective\.rel\.teacher: relation takes logits or hidden here, got topk/,
      ],
      [
        objective({ res: kl.forward(t.topk('uniform').next('response'), s.logits.next('response'), { truncateVocab: true }) }),
        /objective\.res: truncateVocab does not apply to teacher\.topk signals/,
      ],
    ];
    for (const [graph, message] of refused) expect(() => exportTorch(graph)).toThrow(message);
    const mine: LossDefinition = { ...standardRegistry.losses['tvd']!, name: 'mine' };
    const registry = { losses: { ...standardRegistry.losses, mine }, matchers: standardRegistry.matchers };
    const graph = objective({
      ok: tvd(t.logits.at('visual'), s.logits.at('visual')),
      own: weighted(2, { ...tvd(t.logits.at('visual'), s.logits.at('visual')), loss: 'mine' }),
    });
    expect(() => exportTorch(graph, { registry })).toThrow(GraphValidationError);
    expect(() => exportTorch(graph, { registry })).toThrow(/objective\.own: the loss "mine" has no PyTorch lowering/);
  });

  it('writes names and parameters from the file as escaped literals, never as code', async () => {
    const name = 'a"b\\c\u2028é\ud800';
    const graph = objective({
      [name]: kl.forward(t.logits.at('visual', 'prompt'), s.logits.at('visual', 'prompt')),
      plain: tvd(t.logits.at('prompt'), s.logits.at('prompt')),
    });
    const marker = join(dir, 'pwned');
    const description = `"""\nimport os; os.system("touch ${marker}")\n"""\u0000\\`;
    const source = exportTorch(graph, { description });
    const module = file('escaped.py', source);
    const check = file(
      'escaped-check.py',
      [
        'import importlib.util, json, sys',
        `spec = importlib.util.spec_from_file_location("m", ${JSON.stringify(module)})`,
        'm = importlib.util.module_from_spec(spec)',
        'spec.loader.exec_module(m)',
        `sys.stdout.write(json.dumps(${JSON.stringify(description)} in m.__doc__))`,
      ].join('\n'),
    );
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('python3', [check], { encoding: 'utf8' })).toBe('true');
    expect(existsSync(marker)).toBe(false);
    const data = inputs('escaped.safetensors', {
      'student.roles': i32([2, 7], studentRoles),
      'teacher.roles': i32(
        [2, 9],
        studentRoles.flatMap((r, i) => (i % 7 === 6 ? [r, 0, 0] : [r])),
      ),
    });
    const [torch] = await runPython(dir, [{ module, inputs: data }]);
    if ('error' in torch!) throw new Error(torch.error);
    expect(Object.keys(torch!.terms)).toEqual([name, 'plain']);
  });

  it('num_items_in_batch: items_in_batch counts by loss path, and a mean divides by the count given (a dict, or one number)', async () => {
    const q = s.logits.next('response');
    const graph = objective({
      res: weighted(2, kl.forward(t.logits.next('response'), q)),
      sup: supervisedCE(q, { reduction: 'sampleMean' }),
      sum: tvd(t.logits.next('response'), q, { reduction: 'sum' }),
    });
    const module = exported('items', graph);
    const data = inputs('items.safetensors');
    const [plain] = await runPython(dir, [{ module, inputs: data }]);
    if (plain === undefined || 'error' in plain) throw new Error('the plain run failed');
    // 5 next-token response positions (2 + 3), 2 samples with kept labels; a sum counts nothing.
    expect(plain.items).toEqual({ 'objective.res': 5, 'objective.sup': 2 });
    const [doubled, single, batchRelation] = await runPython(dir, [
      { module, inputs: data, numItems: { 'objective.res': 10, 'objective.sup': 4 } },
      { module, inputs: data, numItems: 4 },
      {
        module: exported('items-relation', objective({ rel: relation(t.hidden.at('prompt'), s.hidden.at('prompt'), { mode: 'batch' }) })),
        inputs: data,
        numItems: 3,
      },
    ]);
    if (doubled === undefined || 'error' in doubled || single === undefined || 'error' in single) throw new Error('a counted run failed');
    for (const [name, scale] of [
      ['res', 0.5],
      ['sup', 0.5],
      ['sum', 1],
    ] as const) {
      expect(doubled.terms[name]).toBeCloseTo(plain.terms[name]! * scale, 6);
    }
    expect(single.terms['res']).toBeCloseTo((plain.terms['res']! * 5) / 4, 6);
    expect(single.terms['sup']).toBeCloseTo((plain.terms['sup']! * 2) / 4, 6);
    expect(batchRelation !== undefined && 'error' in batchRelation && batchRelation.error).toMatch(
      /^objective\.rel: relation in batch mode is one cosine over the whole batch, which no count makes exact across ranks/,
    );
  });

  it('keeps one chunk of [chunk × V] temporaries: the peak memory of forward and backward is the gradient’s, not a multiple of [N × V]', async () => {
    const module = exported('memory', objective({ gkd: jsd(t.logits.next('response'), s.logits.next('response')) }));
    const script = file(
      'memory-check.py',
      [
        'import importlib.util, resource, sys, torch',
        'spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
        'B, T, V = 4, 512, 16000',
        'torch.manual_seed(0)',
        'roles = torch.full((B, T), 3, dtype=torch.int32); roles[:, :8] = 1',
        'teacher = torch.randn(B, T, V); student = torch.randn(B, T, V, requires_grad=True)',
        'objective = m.Objective(chunk_bytes=int(sys.argv[2]))',
        'objective(teacher_logits=teacher[:, :4], student_logits=student[:, :4].detach(), roles=roles[:, :4])',
        'before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss',
        'objective(teacher_logits=teacher, student_logits=student, roles=roles).loss.backward()',
        'print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 / (B * T * V * 4))',
      ].join('\n'),
    );
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const peak = async (chunkBytes: number) =>
      Number((await promisify(execFile)('python3', [script, module, String(chunkBytes)], { env: { ...process.env, OMP_NUM_THREADS: '1' } })).stdout);
    // In units of one [N × V] float32 tensor (128 MiB here): chunks of 1 MiB of logits keep the
    // gradient (1) and a constant; one chunk of everything keeps several [N × V] temporaries.
    expect(await peak(2 ** 20)).toBeLessThan(1.6);
    expect(await peak(2 ** 40)).toBeGreaterThan(4);
  });
});

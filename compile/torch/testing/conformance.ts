/**
 * What the conformance tests share: running exported modules under python3 (one process for a
 * batch of cases, `run_exported.py`), mmkd's loss, terms and gradients on the same inputs file
 * (read as `mmkd loss` reads it), and the comparison.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { disposeInputs, loadDistillInputs } from '../../../cli/inputs.js';
import { UserError } from '../../../core/errors.js';
import type { ScalarNode, ViewNode } from '../../../core/graph.js';
import type { DistillInputs, SideInputs } from '../../../core/outputs.js';
import type { Role } from '../../../core/roles.js';
import { selectPositions } from '../../../core/selection.js';
import { readTensorFile, toFloat32, toInt32 } from '../../../io/index.js';
import { solveAssignment } from '../../../matching/assignment/solve.js';
import { decodeCostParams, pairwiseCost } from '../../../matching/costs.js';
import { matchesOf } from '../../../matching/planner.js';
import { compile } from '../../compile.js';

const run = promisify(execFile);

/** Why exported modules cannot run here, or undefined when python3 has torch, scipy and safetensors. */
export function pythonMissing(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import torch, scipy, safetensors'], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `python3 with torch, scipy and safetensors is not available (${(e as Error).message.split('\n')[0]}); .ci/run installs them`;
  }
}

/** One evaluation's outcome: numbers and gradients, or the error's message. */
export type Outcome =
  | {
      readonly loss: number;
      readonly terms: Readonly<Record<string, number>>;
      readonly grads: Readonly<Record<string, Float32Array>>;
      /** The module's own parameters (feature projections) under mmkd's names, as they started. */
      readonly parameters?: Readonly<Record<string, Float32Array>>;
      readonly items?: Record<string, number>;
    }
  | { readonly error: string };

export interface PythonCase {
  readonly module: string;
  readonly inputs: string;
  readonly dtype?: 'float32' | 'float64';
  readonly numItems?: number | Readonly<Record<string, number>>;
  readonly options?: Readonly<Record<string, number>>;
  /** More keyword arguments of forward (a signals teacher's `teacher_topk_vocab`, `teacher_topk_temperature`, `teacher_logits_roles`). */
  readonly kwargs?: Readonly<Record<string, number | readonly string[]>>;
}

/** Runs every case in one python3 process; outcomes in the same order. */
export async function runPython(dir: string, cases: readonly PythonCase[]): Promise<Outcome[]> {
  const spec = cases.map((c, i) => ({
    module: c.module,
    inputs: c.inputs,
    out: join(dir, `py-${i}.safetensors`),
    dtype: c.dtype ?? 'float64',
    num_items: c.numItems ?? null,
    options: c.options ?? {},
    kwargs: c.kwargs ?? {},
  }));
  const file = join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify(spec));
  await run('python3', ['compile/torch/testing/run_exported.py', file], { maxBuffer: 1 << 24 });
  return Promise.all(
    spec.map(async (c) => {
      const report = JSON.parse(readFileSync(`${c.out}.json`, 'utf8')) as
        | { loss: number; terms: Record<string, number>; items: Record<string, number> }
        | { message: string };
      if ('message' in report) return { error: report.message };
      const grads: Record<string, Float32Array> = {};
      for (const [name, t] of await readTensorFile(c.out)) grads[name] = toFloat32(t, name, c.out);
      const parameters: Record<string, Float32Array> = {};
      const own = `${c.out}.parameters.safetensors`;
      if (existsSync(own)) for (const [name, t] of await readTensorFile(own)) parameters[name] = toFloat32(t, name, own);
      return { loss: report.loss, terms: report.terms, grads, items: report.items, parameters };
    }),
  );
}

/**
 * mmkd's loss, terms and gradients of `graph` on an inputs file: read as `mmkd loss` reads it, or
 * (`library`) straight into `DistillInputs` without the command's own checks, so that an error is
 * the library's message (what the exported module repeats).
 */
export async function mmkdOutcome(graph: ScalarNode, inputsFile: string, read: 'cli' | 'library' = 'cli', signals?: SignalsScalars): Promise<Outcome> {
  let inputs: DistillInputs | undefined;
  try {
    inputs = read === 'cli' ? await loadDistillInputs(inputsFile) : await libraryInputs(inputsFile, signals);
    const compiled = compile(graph, inputs);
    try {
      const result = await compiled.valueAndGrad(inputs);
      try {
        const grads: Record<string, Float32Array> = {};
        for (const [name, g] of Object.entries(result.grads)) grads[name] = (await g.data()) as Float32Array;
        const terms: Record<string, number> = {};
        for (const [name, v] of Object.entries(result.terms)) terms[name] = (await v.data())[0]!;
        return { loss: (await result.loss.data())[0]!, terms, grads };
      } finally {
        result.dispose();
      }
    } finally {
      compiled.dispose();
    }
  } catch (e) {
    // compile() reports a shape misfit under "not valid"; a compiled objective's valueAndGrad, which
    // the module's forward stands for, under "does not fit these inputs", with the same errors.
    if (e instanceof UserError) return { error: e.message.replace(/^the objective is not valid:/, 'the objective does not fit these inputs:') };
    throw e;
  } finally {
    if (inputs !== undefined) disposeInputs(inputs);
  }
}

/** What a signals teacher has beside its arrays (the manifest's; the module's teacher_topk_vocab and teacher_topk_temperature). */
export interface SignalsScalars {
  readonly vocab: number;
  readonly temperature: number;
  /** With `teacher.logits` beside the signals: the roles whose positions they hold. */
  readonly logitsRoles?: readonly Role[];
}

/**
 * The tensors of a teacher given by offline top-k signals in an inputs file, the signals folder's
 * names under `teacher.` (an exported module's forward takes them with `_` for `.`).
 */
export const SIGNAL_TENSORS = { ids: 'teacher.topk.ids', logprobs: 'teacher.topk.logprobs', logTail: 'teacher.tail.logmass' } as const;

/**
 * An inputs file as the library takes it: tensors for the float arrays, Int32Arrays for roles and
 * labels, and a teacher's top-k signals (`SIGNAL_TENSORS`, with `signals`) as `TopKSignals`.
 */
async function libraryInputs(file: string, signals?: SignalsScalars): Promise<DistillInputs> {
  const tensors = await readTensorFile(file);
  const float = (name: string) => {
    const t = tensors.get(name);
    return t === undefined ? undefined : tf.tensor(toFloat32(t, name, file), [...t.shape]);
  };
  const ints = (name: string) => {
    const t = tensors.get(name);
    return t === undefined ? undefined : toInt32(t, name, file);
  };
  const side = (who: 'teacher' | 'student'): SideInputs => {
    const roles = ints(`${who}.roles`) ?? ints('roles')!;
    const hidden = float(`${who}.hidden`) as tf.Tensor3D | undefined;
    const weight = float(`${who}.head.weight`) as tf.Tensor2D | undefined;
    const ids = who === 'teacher' ? tensors.get(SIGNAL_TENSORS.ids) : undefined;
    if (ids !== undefined) {
      if (signals === undefined) throw new Error(`internal: ${file} holds top-k signals, but no vocabulary and temperature were given`);
      const topk = {
        ids: toInt32(ids, SIGNAL_TENSORS.ids, file),
        logProbs: toFloat32(tensors.get(SIGNAL_TENSORS.logprobs)!, SIGNAL_TENSORS.logprobs, file),
        logTail: toFloat32(tensors.get(SIGNAL_TENSORS.logTail)!, SIGNAL_TENSORS.logTail, file),
        shape: [...ids.shape] as [number, number, number],
        vocab: signals.vocab,
        temperature: signals.temperature,
      };
      const head = weight === undefined ? {} : { head: { weight } };
      const logits = float(`${who}.logits`);
      const stored = logits === undefined ? {} : { logits, ...(signals.logitsRoles === undefined ? {} : { logitsRoles: signals.logitsRoles }) };
      return { topk, ...head, ...stored, ...(hidden === undefined ? {} : { hidden }), roles } as SideInputs;
    }
    if (weight !== undefined) {
      const bias = float(`${who}.head.bias`) as tf.Tensor1D | undefined;
      return { head: { weight, ...(bias === undefined ? {} : { bias }) }, hidden: hidden!, roles };
    }
    return { logits: float(`${who}.logits`) as tf.Tensor3D, ...(hidden === undefined ? {} : { hidden }), roles };
  };
  const labels = ints('labels');
  return { teacher: side('teacher'), student: side('student'), ...(labels === undefined ? {} : { labels }) };
}

const RELATIVE = 1e-5;
/**
 * Gradients are compared against max(largest entry, 1): below 1e-5 of that, a difference is float32
 * rounding of a gradient that is 0 in exact arithmetic (mmkd computes in float32).
 */
const GRADIENT_SCALE_FLOOR = 1;

/**
 * Differences beyond 1e-5 relative, as lines (empty when they agree): the loss and each term
 * against its own magnitude (at least 0.1, and 1 % of the largest term, for terms that cancel),
 * each gradient entry against the gradient's largest entry (at least 1); or the two errors' messages.
 */
export function differences(mmkd: Outcome, torch: Outcome): string[] {
  if ('error' in mmkd || 'error' in torch) {
    const a = 'error' in mmkd ? mmkd.error : 'no error';
    const b = 'error' in torch ? torch.error : 'no error';
    return a === b ? [] : [`errors differ:\n  mmkd:  ${a}\n  torch: ${b}`];
  }
  const out: string[] = [];
  const scale = Math.max(Math.abs(mmkd.loss), ...Object.values(mmkd.terms).map(Math.abs), 1e-3);
  // Below 0.1, within 1e-6: float32 rounding of a computation of order 1 (a divergence of nearly equal distributions).
  const close = (a: number, b: number) => Math.abs(a - b) <= RELATIVE * Math.max(Math.abs(a), 1e-2 * scale, 0.1);
  if (!close(mmkd.loss, torch.loss)) out.push(`loss: mmkd ${mmkd.loss}, torch ${torch.loss}`);
  const names = new Set([...Object.keys(mmkd.terms), ...Object.keys(torch.terms)]);
  for (const n of names) {
    const [a, b] = [mmkd.terms[n], torch.terms[n]];
    if (a === undefined || b === undefined || !close(a, b)) out.push(`term ${n}: mmkd ${a}, torch ${b}`);
  }
  for (const [name, g] of Object.entries(torch.grads)) {
    const want = mmkd.grads[name];
    if (want === undefined) {
      // A student input no loss reads: torch's gradient is zero.
      const largest = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      if (largest !== 0) out.push(`∂/∂${name}: mmkd has none, torch's largest entry is ${largest}`);
      continue;
    }
    const largest = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    let worst = 0;
    let at = -1;
    want.forEach((x, i) => {
      const d = Math.abs(x - g[i]!);
      if (d > worst) [worst, at] = [d, i];
    });
    if (worst > RELATIVE * Math.max(largest, GRADIENT_SCALE_FLOOR)) out.push(`∂/∂${name}[${at}]: mmkd ${want[at]}, torch ${g[at]} (largest entry ${largest})`);
  }
  for (const name of Object.keys(mmkd.grads)) if (!(name in torch.grads)) out.push(`∂/∂${name}: torch has none`);
  return out;
}

/**
 * Whether every Hungarian and nearest-neighbour matching of `graph` has one optimum on these
 * inputs. Where two assignments tie (L1 costs in a few dimensions are often separable, so several
 * assignments have one total), mmkd's solver and scipy may each return a different optimal one;
 * losses over the matched tokens then differ although both are right, and the case says nothing
 * about the export. Costs are mmkd's own (`pairwiseCost`); a tie is a total within 1e-5 relative.
 */
export async function matchingsAreUnique(graph: ScalarNode, inputsFile: string): Promise<boolean> {
  const tensors = await readTensorFile(inputsFile);
  const host = (name: string) => {
    const t = tensors.get(name)!;
    return { data: toFloat32(t, name, inputsFile), shape: t.shape };
  };
  for (const { node } of matchesOf(graph).values()) {
    if (node.method !== 'hungarian' && node.method !== 'nearest') continue;
    const { cost: metric, probabilities } = decodeCostParams(node.params);
    const rowsOf = (view: ViewNode) => {
      const { data, shape } = host(`${view.side}.${view.field}`);
      const [batch, length, width] = shape as [number, number, number];
      const roles = toInt32(tensors.get(`${view.side}.roles`)!, 'roles', inputsFile);
      const selection = selectPositions(roles, batch, length, view.roles, view.shift);
      return { selection, width, row: (k: number) => data.subarray(selection.positions[k]! * width, (selection.positions[k]! + 1) * width) };
    };
    const t = rowsOf(node.teacher);
    const s = rowsOf(node.student);
    for (let b = 0; b < t.selection.batch; b++) {
      const [kt, ks] = [t.selection.counts[b]!, s.selection.counts[b]!];
      if (kt === 0 || ks === 0 || kt < ks) continue;
      const block = (r: typeof t, k: number) => {
        const out = new Float32Array(k * r.width);
        for (let i = 0; i < k; i++) out.set(r.row(r.selection.offsets[b]! + i), i * r.width);
        return tf.tensor2d(out, [k, r.width]);
      };
      const [a, c] = [block(t, kt), block(s, ks)];
      const costTensor = pairwiseCost(a, c, metric, { probabilities });
      const cost = Float64Array.from(await costTensor.data());
      tf.dispose([a, c, costTensor]);
      const tied = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x));
      if (node.method === 'nearest') {
        for (let j = 0; j < ks; j++) {
          const column = Array.from({ length: kt }, (_, i) => cost[i * ks + j]!).sort((x, y) => x - y);
          if (kt > 1 && tied(column[0]!, column[1]!)) return false;
        }
        continue;
      }
      const best = solveAssignment(cost, kt, ks);
      for (let p = 0; p < best.rows.length; p++) {
        const without = Float64Array.from(cost);
        without[best.rows[p]! * ks + best.cols[p]!] = Number.POSITIVE_INFINITY;
        try {
          if (tied(solveAssignment(without, kt, ks).total, best.total)) return false;
        } catch {
          // No assignment without this pair: it is forced.
        }
      }
    }
  }
  return true;
}

import * as tf from '@tensorflow/tfjs-core';
import { type LossDefinition, type LoweringContext, rowsShape, type ShapeContext, type TokenRows } from '../core/definitions.js';
import { formatShape, type GraphError, graphError, InputError } from '../core/errors.js';
import { type JsonValue, type LossNode, nodeKey, type TokenExpr } from '../core/graph.js';
import { type Reduction, reductionWeights } from '../core/selection.js';
import { addAll, withGradient, zeroDependingOn } from '../core/tensor-ops.js';
import { fieldOf } from '../core/validate.js';
import { chunkedHeadLoss, headChunkRows, logitsChunk } from './head.js';
import { boolean, describeReduction, optionalWhole, paramCodec, positive, tokenReduction } from './params.js';
import { pairedRows } from './tokens.js';
import { topkDivergence } from './topk.js';

/** A teacher's logits view, or its offline top-k signals (`teacher.topk(policy)`), as every divergence takes it. */
export type TeacherLogits = TokenExpr<'teacher', 'logits' | 'topk'>;
/** A student's logits view, as every divergence takes it. */
export type StudentLogits = TokenExpr<'student', 'logits'>;

/**
 * A divergence between the teacher's and the student's next-token distributions, token by token:
 * p = softmax(a/T) from the teacher's logits a, q = softmax(b/T) from the student's logits b.
 *
 * A rule gives, from log p and log q (rows [N, V]), the per-token loss ℓ [N] and its gradient
 * with respect to log q, ∂ℓ/∂log q = q ⊙ ∂ℓ/∂q [N, V]. log q comes from tfjs's log-softmax, whose
 * own gradient carries this back to the student's logits; any multiple of q added to the rule's
 * gradient is removed by that step, so rules may drop such terms.
 */
export interface DivergenceRule {
  readonly name: string;
  readonly summary: string;
  /** The divergence's own parameters (β, α, μ) with defaults. */
  readonly defaults: Readonly<Record<string, JsonValue>>;
  checkParams(params: Readonly<Record<string, JsonValue>>, path: string): readonly GraphError[];
  /** `KL(p ‖ q)` and the like, with the rule's parameters written in. */
  formula(params: Readonly<Record<string, JsonValue>>): string;
  perToken(logP: tf.Tensor2D, logQ: tf.Tensor2D, params: Readonly<Record<string, JsonValue>>): tf.Tensor1D;
  gradLogQ(logP: tf.Tensor2D, logQ: tf.Tensor2D, params: Readonly<Record<string, JsonValue>>): tf.Tensor2D;
  /** The same rule on one row in float64, for host kernels (see `RowRule`). */
  readonly row: RowRule;
}

/**
 * One row of a divergence on the host, in float64: return ℓ and, when `h` is given, write
 * ∂ℓ/∂log q into it (the same quantity as `gradLogQ`; the caller projects it through the
 * log-softmax). `params` are the node's.
 */
export type RowRule = (row: RowView, h: Float64Array | null, params: Readonly<Record<string, JsonValue>>) => number;

/**
 * A row's distributions, left unnormalised so that no pass over the vocabulary is spent on
 * normalising: with s = z − max(z) (z the tempered logits) and e = exp(s),
 *   p_v = eP[v]·invP        and   log p_v = sP[v] − logSumP
 * (invP = 1/Σe, logSumP = log Σe), likewise for q. `pOf`, `logPOf` … read them.
 */
export interface RowView {
  readonly vocab: number;
  readonly sP: Float64Array;
  readonly eP: Float64Array;
  readonly invP: number;
  readonly logSumP: number;
  readonly sQ: Float64Array;
  readonly eQ: Float64Array;
  readonly invQ: number;
  readonly logSumQ: number;
}

/** Parameters every divergence has. */
export interface DivergenceOptions {
  /** Divides both sides' logits (default 1). */
  readonly temperature?: number;
  /** Multiplies the loss by T², Hinton's gradient-scale correction (default off). */
  readonly scaleT2?: boolean;
  /** How per-token losses are combined (default `mean` over selected tokens). */
  readonly reduction?: Reduction;
  /**
   * Compare only the first min(V_teacher, V_student) logits, for models whose vocabularies differ
   * only by padding rows. Off by default: a vocabulary mismatch is a validation error.
   */
  readonly truncateVocab?: boolean;
  /**
   * The real vocabulary size V₀ of heads padded beyond it (Qwen2.5: 151936 and 152064 rows for
   * 151665 tokens): logits from V₀ on are padding rows on both sides, masked out of both
   * softmaxes (their gradient is zero), so vocabularies that differ only in padding validate. Off
   * by default; V₀ must be at most both sides' V. With `teacher.topk` signals, every id must be
   * below V₀.
   */
  readonly paddedVocab?: number;
}

/** The parameters every divergence has (see `DivergenceOptions`), checked and decoded in one place. */
export const divergenceParams = paramCodec({
  temperature: positive(1),
  scaleT2: boolean(false),
  reduction: tokenReduction(),
  truncateVocab: boolean(false),
  paddedVocab: optionalWhole(1, 'the real vocabulary size'),
});

/** The loss definition of one divergence rule. */
export function divergenceLoss(rule: DivergenceRule): LossDefinition {
  return {
    name: rule.name,
    summary: rule.summary,
    inputs: { teacher: { side: 'teacher', fields: ['logits', 'topk'], head: true }, student: { side: 'student', fields: ['logits'], head: true } },
    defaults: { ...divergenceParams.defaults, ...rule.defaults },
    pairing: 'tokens',
    needsLabels: false,
    checkParams: (params, path) => [...divergenceParams.check(params, path), ...rule.checkParams(params, path)],
    shapeRule: ({ path, node, shapes, signals }) => {
      const t = shapes['teacher']!;
      const s = shapes['student']!;
      const teacherExpr = node.inputs['teacher'];
      const { truncateVocab, paddedVocab } = divergenceParams.decode(node.params);
      const padding = paddedRule(
        path,
        truncateVocab,
        paddedVocab,
        t,
        s,
        teacherExpr !== undefined && fieldOf(teacherExpr) === 'topk' ? 'teacher.topk signals' : 'teacher.logits',
      );
      if (padding !== undefined)
        return [...padding, ...(teacherExpr !== undefined && fieldOf(teacherExpr) === 'topk' ? topkShapeRule(path, node, t, s, signals, true) : [])];
      if (teacherExpr !== undefined && fieldOf(teacherExpr) === 'topk') return topkShapeRule(path, node, t, s, signals);
      if (t[2] === s[2] || truncateVocab) return [];
      return [
        graphError(
          path,
          `vocabularies differ: teacher.logits ${formatShape(t)} vs student.logits ${formatShape(s)}; ` +
            'set truncateVocab to compare the first min(V) logits, if the extra rows are padding' +
            `, or paddedVocab to the real vocabulary size (at most ${Math.min(t[2]!, s[2]!)}) to mask both heads' padding rows; ` +
            'for a teacher with another tokenizer, use the uld loss',
        ),
      ];
    },
    explain: (node, inputs) => {
      const { temperature, scaleT2, truncateVocab, paddedVocab, reduction } = divergenceParams.decode(node.params);
      const notes = [`T=${temperature}`];
      if (scaleT2) notes.push('×T²');
      if (truncateVocab) notes.push('vocabulary truncated to min(V)');
      if (paddedVocab !== null) notes.push(`rows from ${paddedVocab} on are padding, masked on both sides`);
      notes.push(describeReduction(reduction));
      return `${rule.formula(node.params)}; p from ${inputs['teacher']}, q from ${inputs['student']}   (${notes.join(', ')})`;
    },
    lower: lowerDivergenceWith(rule, tfjsDivergenceKernel),
  };
}

/**
 * Shape checks of a divergence whose teacher is offline top-k signals: the signals' vocabulary
 * must be the student's (truncation does not apply) and their temperature the divergence's.
 */
function topkShapeRule(
  path: string,
  node: LossNode,
  t: readonly number[],
  s: readonly number[],
  signals: ShapeContext['signals'],
  padded = false,
): GraphError[] {
  const { temperature, truncateVocab } = divergenceParams.decode(node.params);
  const errors: GraphError[] = [];
  if (padded) {
    // Vocabularies checked by the padding rule.
  } else if (t[2] !== s[2]) {
    errors.push(
      graphError(
        path,
        `vocabularies differ: teacher.topk signals over V = ${t[2]} ${formatShape(t)} vs student.logits ${formatShape(s)}; signals must be over the student's vocabulary, or set paddedVocab to the real vocabulary size (at most ${Math.min(t[2]!, s[2]!)}) if the extra rows are padding`,
      ),
    );
  } else if (truncateVocab) {
    errors.push(graphError(path, "truncateVocab does not apply to teacher.topk signals (their vocabulary is the student's); leave it off"));
  }
  if (signals !== undefined && signals.temperature !== temperature) {
    errors.push(
      graphError(
        path,
        `the teacher's signals are log-probs at temperature ${signals.temperature}, this divergence's temperature is ${temperature}; write the signals at ${temperature} or set temperature: ${signals.temperature}`,
      ),
    );
  }
  return errors;
}

/**
 * With `paddedVocab` V₀: both sides need at least V₀ rows, and `truncateVocab` says the same
 * thing less precisely (one or the other). Undefined when the option is off.
 */
function paddedRule(
  path: string,
  truncateVocab: boolean,
  paddedVocab: number | null,
  t: readonly number[],
  s: readonly number[],
  teacherName: string,
): GraphError[] | undefined {
  if (paddedVocab === null) return undefined;
  const errors: GraphError[] = [];
  if (truncateVocab)
    errors.push(graphError(path, 'set paddedVocab or truncateVocab, not both (paddedVocab names the real vocabulary size; truncateVocab takes min(V))'));
  if (paddedVocab > t[2]! || paddedVocab > s[2]!) {
    errors.push(
      graphError(
        path,
        `paddedVocab ${paddedVocab} is larger than a side's vocabulary: ${teacherName} ${formatShape(t)}, student.logits ${formatShape(s)}; it must be at most ${Math.min(t[2]!, s[2]!)}`,
      ),
    );
  }
  return errors;
}

/** What a divergence kernel computes: Σ_i w_i ℓ_i(teacher row i, student row i), differentiable in the student. */
export interface DivergenceOperands {
  readonly rule: DivergenceRule;
  readonly ctx: LoweringContext;
  readonly teacher: TokenRows;
  readonly student: TokenRows;
  readonly teacherExpr: TokenExpr;
  readonly studentExpr: TokenExpr;
  readonly temperature: number;
  /** Columns compared: min(V_teacher, V_student), or `paddedVocab`. */
  readonly vocab: number;
  /** Reduction weights, T² scaling included. */
  readonly weights: Float32Array;
  readonly params: Readonly<Record<string, JsonValue>>;
}

export type DivergenceKernel = (operands: DivergenceOperands) => tf.Scalar;

/**
 * A divergence's lowering with a given kernel: token pairing, empty selections, temperature,
 * vocabulary and reduction weights are handled here, the arithmetic by the kernel. Backends
 * override the generic kernel (tfjs ops) with fused ones.
 *
 * Fused kernels read materialised logits rows, so when either side is an LM head's logits view
 * (`TokenRows.head`) the operands go to the chunked generic kernel instead, which makes the
 * logits chunk by chunk (`chunkedDivergenceKernel`); a chunked kernel passed here keeps its own
 * chunk options for head views too.
 */
export function lowerDivergenceWith(rule: DivergenceRule, kernel: DivergenceKernel): LossDefinition['lower'] {
  return (ctx, node, path) => {
    const { teacher, student } = pairedRows(ctx, node.inputs, 'teacher', 'student', path);
    if (student!.selection.positions.length === 0) return zeroDependingOn(student!.head?.hidden ?? student!.values);
    const { temperature, scaleT2, reduction, paddedVocab } = divergenceParams.decode(node.params);
    const scale = scaleT2 ? temperature * temperature : 1;
    const weights = reductionWeights(student!.selection, reduction).map((w) => w * scale);
    if (teacher!.topk !== undefined) return topkDivergence(rule, teacher!.topk, student!, temperature, weights, node.params, path, paddedVocab ?? undefined);
    const viaHead = teacher!.head !== undefined || student!.head !== undefined;
    return (viaHead && !chunkedKernels.has(kernel) ? tfjsDivergenceKernel : kernel)({
      rule,
      ctx,
      teacher: teacher!,
      student: student!,
      teacherExpr: node.inputs['teacher'] as TokenExpr,
      studentExpr: node.inputs['student'] as TokenExpr,
      temperature,
      vocab: paddedVocab ?? Math.min(rowsShape(teacher!)[1], rowsShape(student!)[1]),
      weights,
      params: node.params,
    });
  };
}

/** How the generic kernel cuts token rows into chunks. */
export interface ChunkOptions {
  /**
   * Bytes of one [chunk × V] float32 block (default 32 MiB, so V = 151936 gives 55 rows a
   * chunk), never more than the backend's `maxBindingBytes`.
   */
  readonly chunkBytes?: number;
  /** Rows a chunk, overriding `chunkBytes` (tests use small ones to split rows across chunks). */
  readonly chunkRows?: number;
}

const DEFAULT_CHUNK_BYTES = 32 * 2 ** 20;

/**
 * The generic kernel, on tfjs ops only (what WebGPU and TensorFlow run): token rows in chunks, the
 * gradient in closed form, so at most one chunk's [chunk × V] temporaries are alive at a time,
 * whatever N is, where tfjs's autodiff of the composite keeps every [N × V] intermediate.
 *
 * Each side's row statistics (max and log Σ exp of the tempered logits, [N] each) are computed
 * once: the teacher's are shared by every term of the evaluation that reads the same view at the
 * same temperature, the student's are saved for the backward pass. A chunk's log-probabilities
 * are then log p = (a/T − max) − logΣ, the operations of tfjs's log-softmax, row by row.
 *
 * Forward: ℓ = Σ_i w_i ℓ_i. Backward, per chunk, with h = ∂ℓ_i/∂log q from the rule:
 *   ∂ℓ/∂b_i = dy · (w_i / T) · (h − q ⊙ Σ_v h_v)
 * (the log-softmax's Jacobian applied to h; the 1/T of the tempered logits), and zeros for the
 * columns past `vocab` when the vocabulary is truncated.
 */
export function chunkedDivergenceKernel(options: ChunkOptions = {}): DivergenceKernel {
  const kernel: DivergenceKernel = (op) => {
    if (op.teacher.head !== undefined || op.student.head !== undefined) return headDivergence(op, options);
    const { rule, params, temperature, vocab, weights, ctx } = op;
    const teacher = op.teacher.values;
    const [rows, width] = op.student.values.shape;
    const chunk = chunkRowsOf(op, options);
    const chunks: Array<readonly [number, number]> = [];
    for (let r = 0; r < rows; r += chunk) chunks.push([r, Math.min(chunk, rows - r)]);
    const statsP = ctx.shared(`rowStats:${nodeKey(op.teacherExpr)}:T=${temperature}:V=${vocab}:chunk=${chunk}`, () =>
      rowStats(teacher, chunks, temperature, vocab),
    );
    return withGradient<tf.Scalar>(op.student.values, (student, save) => {
      const statsQ = rowStats(student as tf.Tensor2D, chunks, temperature, vocab);
      save([statsP, statsQ]);
      // The rows themselves are held by aliases (a reshape shares the buffer) rather than saved:
      // saving clones, and on wasm a clone copies [N × V]. Released by the backward pass, which
      // follows every differentiating evaluation.
      const [keptA, keptB] = ctx.differentiating
        ? [tf.keep(tf.reshape(teacher, teacher.shape)), tf.keep(tf.reshape(student, student.shape))]
        : [teacher, student];
      const sums = chunks.map(([r0, n]) =>
        tf.tidy(() => {
          const logP = logProbs(teacher, statsP, r0, n, temperature, vocab);
          const logQ = logProbs(student as tf.Tensor2D, statsQ, r0, n, temperature, vocab);
          return tf.sum(tf.mul(rule.perToken(logP, logQ, params), tf.tensor1d(weights.subarray(r0, r0 + n)))) as tf.Scalar;
        }),
      );
      const value = sums.length === 1 ? sums[0]! : (addAll(sums, ctx.maxKernelInputs) as tf.Scalar);
      return {
        value,
        // The backward pass runs after the forward scope has released its intermediates (the
        // rows and the teacher's statistics included): it may only read what was saved.
        gradFunc: (dy, [savedP, savedQ]) => {
          const parts = chunks.map(([r0, n]) =>
            tf.tidy(() => {
              const logP = logProbs(keptA as tf.Tensor2D, savedP as tf.Tensor2D, r0, n, temperature, vocab);
              const logQ = logProbs(keptB as tf.Tensor2D, savedQ as tf.Tensor2D, r0, n, temperature, vocab);
              const h = rule.gradLogQ(logP, logQ, params);
              const coefficient = tf.mul(tf.reshape(tf.tensor1d(weights.subarray(r0, r0 + n)), [n, 1]), tf.div(dy, temperature));
              const g = tf.mul(tf.sub(h, tf.mul(tf.exp(logQ), tf.sum(h, 1, true))), coefficient) as tf.Tensor2D;
              return vocab === width
                ? g
                : tf.pad(g, [
                    [0, 0],
                    [0, width - vocab],
                  ]);
            }),
          );
          tf.dispose([keptA, keptB]);
          // tfjs has no in-place write, so assembling the gradient from its chunks is one concat:
          // for that moment the chunks and the assembled gradient are both alive (one [N × V] more
          // than the gradient itself). The kernels of wasm and cpu (host rows) and WebGPU (fused
          // WGSL) write the gradient once instead; this path serves the backends without either.
          return parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
        },
      };
    });
  };
  chunkedKernels.add(kernel);
  return kernel;
}

/** The kernels made by `chunkedDivergenceKernel`: they read LM-head views themselves. */
const chunkedKernels = new WeakSet<DivergenceKernel>();

/**
 * The chunked kernel when either side is an LM head's logits view (Liger-Kernel's fused linear
 * divergences): per chunk of rows, each side's logits hidden · Wᵀ + b, their log-softmax, the
 * rule's loss and, when differentiating, its gradient through the head (`chunkedHeadLoss`), so no
 * [N × V] tensor exists. A teacher head needs no gradient; its chunk is made again where a
 * materialised teacher's would be sliced.
 */
function headDivergence(op: DivergenceOperands, options: ChunkOptions): tf.Scalar {
  const { rule, params, temperature, vocab, ctx } = op;
  const sides = [
    ['teacher', op.teacher],
    ['student', op.student],
  ] as const;
  return chunkedHeadLoss({
    ctx,
    student: op.student,
    temperature,
    vocab,
    weights: op.weights,
    chunkRows: headChunkRows(rule.name, sides, vocab, ctx.maxBindingBytes, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, options.chunkRows),
    perChunk: (r0, n, logQ, grad) => {
      const z = logitsChunk(op.teacher, r0, n, vocab);
      const logP = tf.logSoftmax(temperature === 1 ? z : tf.div(z, temperature)) as tf.Tensor2D;
      return { loss: rule.perToken(logP, logQ, params), ...(grad ? { h: rule.gradLogQ(logP, logQ, params) } : {}) };
    },
  });
}

/** The generic kernel with the default chunk size. */
export const tfjsDivergenceKernel: DivergenceKernel = chunkedDivergenceKernel();

/**
 * Rows a chunk: what `options` ask, else as many as fit `chunkBytes`; never a block larger than
 * one binding. On a backend with a binding limit, an operand that is itself larger than one
 * binding cannot be sliced by any tfjs kernel (a slice binds its whole input), so it is an error
 * naming the sizes, where the backend would otherwise compute garbage.
 */
function chunkRowsOf(op: DivergenceOperands, options: ChunkOptions): number {
  const limit = op.ctx.maxBindingBytes;
  const [rows, width] = op.student.values.shape;
  const rowBytes = 4 * Math.max(width, op.teacher.values.shape[1]);
  for (const [side, values] of [
    ['teacher', op.teacher.values],
    ['student', op.student.values],
  ] as const) {
    const bytes = 4 * values.size;
    if (bytes > limit) {
      throw new InputError(
        `${op.rule.name}: the ${side}'s logits rows ${formatShape(values.shape)} take ${mib(bytes)}, more than one storage binding of this backend ` +
          `(${mib(limit)}), so no generic tfjs kernel can read them; use fewer tokens per step, or a backend with a fused kernel for this divergence`,
      );
    }
  }
  const fit = Math.floor(Math.min(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, limit) / rowBytes);
  return Math.max(1, Math.min(rows, options.chunkRows ?? fit));
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * [N, 2]: per row, the max of the tempered logits z = x/T over the first `vocab` columns and
 * log Σ exp(z − max), computed chunk by chunk.
 */
function rowStats(x: tf.Tensor2D, chunks: ReadonlyArray<readonly [number, number]>, temperature: number, vocab: number): tf.Tensor2D {
  const parts = chunks.map(([r0, n]) =>
    tf.tidy(() => {
      const z = tempered(x, r0, n, temperature, vocab);
      const max = tf.max(z, 1, true);
      return tf.concat([max, tf.log(tf.sum(tf.exp(tf.sub(z, max)), 1, true))], 1) as tf.Tensor2D;
    }),
  );
  if (parts.length === 1) return parts[0]!;
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}

/** Rows r0 … r0+n−1 of x/T, first `vocab` columns. */
function tempered(x: tf.Tensor2D, r0: number, n: number, temperature: number, vocab: number): tf.Tensor2D {
  const block = r0 === 0 && n === x.shape[0] && vocab === x.shape[1] ? x : tf.slice(x, [r0, 0], [n, vocab]);
  return temperature === 1 ? block : tf.div(block, temperature);
}

/** log softmax(x/T) of one chunk of rows, from the rows' statistics: (z − max) − logΣ. */
function logProbs(x: tf.Tensor2D, stats: tf.Tensor2D, r0: number, n: number, temperature: number, vocab: number): tf.Tensor2D {
  const s = tf.slice(stats, [r0, 0], [n, 2]);
  return tf.sub(tf.sub(tempered(x, r0, n, temperature, vocab), tf.slice(s, [0, 0], [n, 1])), tf.slice(s, [0, 1], [n, 1]));
}

/**
 * Builds the graph node of a divergence: the common options with their defaults, and the rule's
 * own parameters (β, α, μ) in `own`, already defaulted by the rule's builder.
 */
export function divergenceNode(
  rule: DivergenceRule,
  teacher: TeacherLogits,
  student: StudentLogits,
  options: DivergenceOptions,
  own: Readonly<Record<string, JsonValue>> = {},
): LossNode {
  const d = divergenceParams.defaults;
  const params = {
    temperature: options.temperature ?? d.temperature,
    scaleT2: options.scaleT2 ?? d.scaleT2,
    reduction: options.reduction ?? d.reduction,
    truncateVocab: options.truncateVocab ?? d.truncateVocab,
    // Written only when given, so graphs without it serialise (and fingerprint) as before.
    ...(options.paddedVocab === undefined ? {} : { paddedVocab: options.paddedVocab }),
    ...own,
  };
  return Object.freeze({ kind: 'loss', loss: rule.name, inputs: Object.freeze({ teacher, student }), params: Object.freeze(params) });
}

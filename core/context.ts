import type * as tf from '@tensorflow/tfjs-core';
import type { HeadRows, LoweringContext, TokenRows, TopKRows } from './definitions.js';
import { InputError } from './errors.js';
import { type AlignedNode, nodeKey, type TokenExpr, type ViewNode } from './graph.js';
import { type DistillInputs, hasHead, hasTopK, type SideInputs } from './outputs.js';
import type { Plan } from './plan.js';
import { selectPositions } from './selection.js';
import { sourcedRows } from './sourced-rows.js';
import { gatherRows, reshapeUnsaved } from './tensor-ops.js';

/**
 * One evaluation's lowering context: rows of token expressions, shared subexpressions and labels,
 * each computed at most once. It holds no tensors beyond the evaluation: callers run it inside a
 * tfjs scope (`tidy`, or the gradient tape's), which releases everything it made.
 */
export function evaluationContext(
  inputs: DistillInputs,
  plan: Plan,
  parameters: ReadonlyMap<string, tf.Tensor>,
  differentiating: boolean,
  maxKernelInputs: number = Number.POSITIVE_INFINITY,
  maxBindingBytes: number = Number.POSITIVE_INFINITY,
): LoweringContext {
  const memo = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => {
    if (!memo.has(key)) memo.set(key, make());
    return memo.get(key) as T;
  };

  const flatRows = (name: string, source: tf.Tensor3D): tf.Tensor2D => {
    const [batch, length, width] = source.shape;
    return once(`flat:${name}`, () => reshapeUnsaved(source, [batch * length, width]) as tf.Tensor2D);
  };

  const viewRows = (view: ViewNode): TokenRows =>
    once(`rows:${nodeKey(view)}`, () => {
      const side: SideInputs = inputs[view.side];
      if (view.field === 'topk') return topkRows(view, side);
      if (view.field === 'logits' && hasHead(side)) {
        // The logits are the head's view: the selected rows of the hidden states, and the head.
        const [batch, length] = side.hidden.shape;
        const selection = selectPositions(side.roles, batch, length, view.roles, view.shift);
        const head: HeadRows = {
          hidden: gatherRows(flatRows(`${view.side}.hidden`, side.hidden), selection.positions),
          weight: side.head.weight,
          ...(side.head.bias === undefined ? {} : { bias: side.head.bias }),
        };
        return {
          get values(): tf.Tensor2D {
            throw new Error(`internal: ${view.side}.logits are an LM head's view; this lowering must read TokenRows.head`);
          },
          selection,
          head,
        };
      }
      const source = view.field === 'logits' ? side.logits : side.hidden;
      if (source === undefined) throw new InputError(`${view.side}.${view.field} is not among the inputs`);
      const [batch, length] = source.shape;
      const selection = selectPositions(side.roles, batch, length, view.roles, view.shift);
      return sourcedRows(flatRows(`${view.side}.${view.field}`, source), selection);
    });

  const topkRows = (view: ViewNode, side: SideInputs): TokenRows => {
    if (!hasTopK(side) || view.missingMass === undefined) throw new InputError(`${view.side}.topk is not among the inputs`);
    const { ids, logProbs, logTail, shape, vocab, temperature } = side.topk;
    const [batch, length, k] = shape;
    const selection = selectPositions(side.roles, batch, length, view.roles, view.shift);
    const n = selection.positions.length;
    const topk: TopKRows = {
      ids: new Int32Array(n * k),
      logProbs: new Float32Array(n * k),
      logTail: new Float32Array(n),
      k,
      vocab,
      temperature,
      missingMass: view.missingMass,
    };
    selection.positions.forEach((p, r) => {
      topk.ids.set(ids.subarray(p * k, (p + 1) * k), r * k);
      topk.logProbs.set(logProbs.subarray(p * k, (p + 1) * k), r * k);
      topk.logTail[r] = logTail[p]!;
    });
    return {
      get values(): tf.Tensor2D {
        throw new Error(`internal: ${view.side}.topk holds top-k signals, not logits rows; this lowering must read TokenRows.topk`);
      },
      selection,
      topk,
    };
  };

  const alignedRows = (node: AlignedNode): TokenRows =>
    once(`rows:${nodeKey(node)}`, () => {
      const alignment = plan.alignments.get(nodeKey(node.match));
      if (alignment === undefined) throw new Error(`internal: no alignment planned for ${nodeKey(node.match)}`);
      const source = viewRows(node.source);
      return alignment.apply(source, viewRows(node.match.student).selection);
    });

  return {
    differentiating,
    maxKernelInputs,
    maxBindingBytes,
    rows: (expr: TokenExpr) => (expr.kind === 'view' ? viewRows(expr) : alignedRows(expr)),
    shared: (key, make) => once(`shared:${key}`, make),
    labels: (view, path) =>
      once(`labels:${nodeKey(view)}`, () => {
        const labels = inputs.labels;
        if (labels === undefined) throw new InputError(`${path}: this loss needs labels, but the inputs have none`);
        const { selection } = viewRows(view);
        const out = new Int32Array(selection.positions.length);
        selection.positions.forEach((p, k) => {
          out[k] = labels[p + view.shift]!;
        });
        return out;
      }),
    parameter: (name) => {
      const p = parameters.get(name);
      if (p === undefined) throw new Error(`internal: objective parameter '${name}' was not created`);
      return p;
    },
  };
}

import * as tf from '@tensorflow/tfjs-core';
import type { LoweringContext, TokenRows } from '../core/definitions.js';
import { InputError } from '../core/errors.js';
import { describeTokens } from '../core/explain.js';
import { nodeKey, type TokenExpr } from '../core/graph.js';

/**
 * The rows of two inputs that pair up token by token: the k-th selected token of sample b on one
 * side with the k-th of sample b on the other. Unequal counts are an error naming both
 * selections (a teacher and student that tokenised the text differently, or a role layout that
 * differs), never a silent truncation.
 */
export function pairedRows(
  ctx: LoweringContext,
  inputs: Readonly<Record<string, TokenExpr>>,
  a: string,
  b: string,
  path: string,
): { readonly [key: string]: TokenRows } {
  const ra = ctx.rows(inputs[a]!, `${path}.${a}`);
  const rb = ctx.rows(inputs[b]!, `${path}.${b}`);
  assertSameCounts(ra, rb, inputs[a]!, inputs[b]!, path);
  return { [a]: ra, [b]: rb };
}

export function assertSameCounts(ra: TokenRows, rb: TokenRows, ea: TokenExpr, eb: TokenExpr, path: string): void {
  const ca = ra.selection.counts;
  const cb = rb.selection.counts;
  for (let s = 0; s < ca.length; s++) {
    if (ca[s] !== cb[s]) {
      throw new InputError(
        `${path}: ${describeTokens(ea)} selects ${ca[s]} tokens in sample ${s} but ${describeTokens(eb)} selects ${cb[s]}; ` +
          'paired tokens must line up one to one',
      );
    }
  }
}

/**
 * log softmax(x / T) of a token expression's rows, over its first `vocab` columns, computed once
 * per evaluation and shared by every term that asks (a teacher's distribution used by two
 * divergences and a matching cost). For the student it stays on the gradient tape.
 */
export function sharedLogSoftmax(ctx: LoweringContext, expr: TokenExpr, rows: TokenRows, temperature: number, vocab: number): tf.Tensor2D {
  return ctx.shared(`logSoftmax:${nodeKey(expr)}:T=${temperature}:V=${vocab}`, () => {
    const [n, width] = rows.values.shape;
    const x = vocab === width ? rows.values : tf.slice(rows.values, [0, 0], [n, vocab]);
    return tf.logSoftmax(temperature === 1 ? x : tf.div(x, temperature)) as tf.Tensor2D;
  });
}

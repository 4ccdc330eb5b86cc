import * as tf from '@tensorflow/tfjs-core';
import { ROLE_CODES } from '../core/roles.js';
import type { LmConfig } from './config.js';
import type { ModelInputs } from './inputs.js';
import type { Params } from './layers.js';
import { causalMask, dense, param, transformerStack } from './layers.js';
import { constMatMul } from './matmul.js';

/**
 * Host-built matrices that place text embeddings and vision tokens into the sequence.
 *
 * - `oneHot` [B·T, V]: row (b, t) is the one-hot of the token at t, all zeros at visual positions.
 *   `oneHot · E` is the embedding lookup as a matMul, whose gradient (a matMul) exists on every
 *   backend, unlike `gather`'s (UnsortedSegmentSum is missing on wasm).
 * - `placement` [B, T, N]: entry (b, t, k) is 1 when position t of row b holds vision token k.
 *   `placement · visionTokens` splices the N vision tokens in at the expanded `<image>` positions,
 *   wherever they sit in each row. A row holds all N visual positions, or none (a sample without
 *   an image: its vision tokens are computed and left unused).
 */
export interface Splice {
  readonly oneHot: Float32Array;
  readonly placement: Float32Array;
}

/** Builds the splice matrices, checking every row; errors name the row and the position. */
export function buildSplice(inputs: ModelInputs, vocabSize: number, numVision: number): Splice {
  const { batchSize: b, seqLen: t, tokens, roles } = inputs;
  if (tokens.length !== b * t || roles.length !== b * t) {
    throw new Error(`inputs: tokens (${tokens.length}) and roles (${roles.length}) must both hold batchSize·seqLen = ${b}·${t} values`);
  }
  const oneHot = new Float32Array(b * t * vocabSize);
  const placement = new Float32Array(b * t * numVision);
  for (let row = 0; row < b; row++) {
    let k = 0;
    for (let pos = 0; pos < t; pos++) {
      const i = row * t + pos;
      if (roles[i] === ROLE_CODES.visual) {
        if (k < numVision) placement[i * numVision + k] = 1;
        k++;
        continue;
      }
      const id = tokens[i] as number;
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new Error(`inputs: token id ${id} at row ${row}, position ${pos} is outside the vocabulary [0, ${vocabSize})`);
      }
      oneHot[i * vocabSize + id] = 1;
    }
    if (k !== numVision && k !== 0) {
      throw new Error(
        `inputs: row ${row} has ${k} visual positions but the model produces ${numVision} vision tokens (a row holds all of them, or none for a sample without an image)`,
      );
    }
  }
  return { oneHot, placement };
}

/** The LM's final hidden states (after the final norm) and logits. */
export interface LmOutputs {
  /** [B, T, D] */
  readonly hidden: tf.Tensor3D;
  /** [B, T, V] */
  readonly logits: tf.Tensor3D;
}

/**
 * The LM's final hidden states and its LM head in place of the logits (`lmForward` with
 * `{ head: true }`): logits = hidden · weightᵀ, never computed here.
 */
export interface LmHeadOutputs {
  /** [B, T, D] */
  readonly hidden: tf.Tensor3D;
  /**
   * `weight` [V, D]: the transpose of `llm.head` [D, V] (PyTorch's `lm_head.weight` layout), a
   * new tensor the caller owns (not the variable), through which gradients reach `llm.head`. The
   * model's head has no bias.
   */
  readonly head: { readonly weight: tf.Tensor2D };
}

export interface LmForwardOptions {
  /** Skip the final `hidden · llm.head` and return the head instead of the logits. */
  readonly head: true;
}

/**
 * The decoder-only LM over the spliced sequence: token embeddings + vision tokens + learned
 * positions → causal pre-LN blocks → final norm → LM head.
 *
 * visionTokens [B, N, D] (the projector's output; omitted for text-only rows, which must then have
 * no visual positions) → hidden [B, T, D], logits [B, T, V]. With `{ head: true }` the LM head is
 * not applied: hidden [B, T, D] and the head's weight [V, D] instead of the logits.
 */
export function lmForward(params: Params, l: LmConfig, inputs: ModelInputs, visionTokens?: tf.Tensor3D): LmOutputs;
export function lmForward(params: Params, l: LmConfig, inputs: ModelInputs, visionTokens: tf.Tensor3D | undefined, options: LmForwardOptions): LmHeadOutputs;
export function lmForward(params: Params, l: LmConfig, inputs: ModelInputs, visionTokens?: tf.Tensor3D, options?: LmForwardOptions): LmOutputs | LmHeadOutputs {
  const hidden = lmHidden(params, l, inputs, visionTokens);
  if (options?.head === true) return { hidden, head: { weight: tf.transpose(param(params, 'llm.head')) as tf.Tensor2D } };
  const logits = dense(hidden, param(params, 'llm.head')) as tf.Tensor3D;
  return { hidden, logits };
}

/** Everything of `lmForward` up to the LM head: the final hidden states [B, T, D]. */
function lmHidden(params: Params, l: LmConfig, inputs: ModelInputs, visionTokens?: tf.Tensor3D): tf.Tensor3D {
  const { batchSize: b, seqLen: t } = inputs;
  if (t > l.maxSeqLen) throw new Error(`inputs: seqLen ${t} exceeds the model's maxSeqLen ${l.maxSeqLen}`);
  const n = visionTokens === undefined ? 0 : visionTokens.shape[1];
  const splice = buildSplice(inputs, l.vocabSize, n);
  const oneHot = tf.tensor2d(splice.oneHot, [b * t, l.vocabSize]);
  let x = tf.reshape(constMatMul(oneHot, param(params, 'llm.embed')), [b, t, l.width]);
  if (visionTokens !== undefined) {
    const placement = tf.tensor3d(splice.placement, [b, t, n]);
    x = tf.add(x, constMatMul(placement, visionTokens));
  }
  x = tf.add(x, tf.slice(param(params, 'llm.pos'), [0, 0], [t, l.width]));
  return transformerStack(x, params, 'llm', l.layers, l.heads, causalMask(t)) as tf.Tensor3D;
}

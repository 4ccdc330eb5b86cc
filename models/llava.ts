import * as tf from '@tensorflow/tfjs-core';
import type { HeadOutputs, SideOutputs } from '../core/outputs.js';
import type { ModelConfig } from './config.js';
import { assertValidConfig } from './config.js';
import type { ModelInputs } from './inputs.js';
import type { Params } from './layers.js';
import { lmForward } from './lm.js';
import type { ParamGroup, ParamSpec } from './params.js';
import { initialValues, paramSpecs } from './params.js';
import { projectorForward } from './projector.js';
import { visionForward } from './vision.js';

/**
 * The pure forward pass of a LLaVA-style model: vision encoder → projector → LM over the text
 * with the vision tokens spliced in at the visual positions. Without pixels (a batch of
 * text-only samples, whose rows have no visual positions) the vision encoder does not run.
 *
 * Returns `SideOutputs`: logits [B, T, V] at every position, the final hidden states [B, T, D]
 * (after the LM's final norm) and a copy of the roles [B·T]. The caller owns the two returned
 * tensors; every intermediate is released here.
 */
export function llavaForward(config: ModelConfig, params: Params, inputs: ModelInputs): SideOutputs {
  if (inputs.pixels.length === 0) return llavaTextForward(config, params, inputs);
  const [logits, hidden] = tf.tidy((): [tf.Tensor3D, tf.Tensor3D] => {
    const features = visionForward(params, config.vision, inputs.pixels, inputs.batchSize);
    const tokens = projectorForward(params, config.projector, features);
    const out = lmForward(params, config.llm, inputs, tokens);
    return [out.logits, out.hidden];
  });
  return { logits, hidden, roles: inputs.roles.slice() };
}

/**
 * The LM alone on text-only rows (no visual positions: `collate` with `numVisionTokens: 0`), for
 * language-model pre-training of a student whose LM starts from random weights (the papers' small
 * LMs come pre-trained). The vision encoder and projector do not run and get no gradient.
 * Same outputs and ownership as `llavaForward`.
 */
export function llavaTextForward(config: ModelConfig, params: Params, inputs: ModelInputs): SideOutputs {
  const [logits, hidden] = tf.tidy((): [tf.Tensor3D, tf.Tensor3D] => {
    const out = lmForward(params, config.llm, inputs);
    return [out.logits, out.hidden];
  });
  return { logits, hidden, roles: inputs.roles.slice() };
}

/**
 * `llavaForward` with the LM head left unapplied (a fused LM head, for a student whose objective
 * computes its logits chunk by chunk): `HeadOutputs` with hidden [B, T, D] (after the final norm)
 * and `head.weight` [V, D], the transpose of `llm.head` [D, V], so the [B·T × V] logits are never
 * made here. The caller owns `hidden` and `head.weight` (a copy: releasing it leaves the variable
 * alone); gradients reach `llm.head` through the transpose. Text-only batches (no pixels) run the
 * LM alone, as in `llavaForward`.
 */
export function llavaHeadForward(config: ModelConfig, params: Params, inputs: ModelInputs): HeadOutputs {
  if (inputs.pixels.length === 0) return llavaTextHeadForward(config, params, inputs);
  const [hidden, weight] = tf.tidy((): [tf.Tensor3D, tf.Tensor2D] => {
    const features = visionForward(params, config.vision, inputs.pixels, inputs.batchSize);
    const tokens = projectorForward(params, config.projector, features);
    const out = lmForward(params, config.llm, inputs, tokens, { head: true });
    return [out.hidden, out.head.weight];
  });
  return { head: { weight }, hidden, roles: inputs.roles.slice() };
}

/** `llavaTextForward` with the LM head left unapplied; outputs and ownership as `llavaHeadForward`. */
export function llavaTextHeadForward(config: ModelConfig, params: Params, inputs: ModelInputs): HeadOutputs {
  const [hidden, weight] = tf.tidy((): [tf.Tensor3D, tf.Tensor2D] => {
    const out = lmForward(params, config.llm, inputs, undefined, { head: true });
    return [out.hidden, out.head.weight];
  });
  return { head: { weight }, hidden, roles: inputs.roles.slice() };
}

/**
 * A model: its configuration, its variables by stable dotted name (`llm.blocks.0.attn.wq`) and
 * the group of each, so training stages can pick what to train.
 *
 * tf.Variable names must be unique in the tfjs engine, so two models (a teacher and a student)
 * cannot both register `llm.head`; tfjs names the variables itself and `variables` maps the
 * stable names to them.
 */
export interface LlavaModel {
  readonly config: ModelConfig;
  readonly specs: readonly ParamSpec[];
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The group of every variable, by stable name. */
  readonly groups: ReadonlyMap<string, ParamGroup>;
  /** The variables of the given groups, by stable name, in spec order. */
  variablesOf(groups: readonly ParamGroup[]): Map<string, tf.Variable>;
  forward(inputs: ModelInputs): SideOutputs;
  /** Releases every variable; the model is unusable afterwards. */
  dispose(): void;
}

export interface CreateOptions {
  /** Initialization seed; the same seed gives the same weights on every backend. */
  readonly seed: number;
}

/** Builds a model with seeded initial weights on the active backend. */
export function createLlava(config: ModelConfig, options: CreateOptions): LlavaModel {
  assertValidConfig(config);
  const specs = paramSpecs(config);
  const variables = new Map<string, tf.Variable>();
  const groups = new Map<string, ParamGroup>();
  for (const spec of specs) {
    const init = tf.tensor(initialValues(spec, options.seed), [...spec.shape], 'float32');
    variables.set(spec.name, tf.variable(init, true));
    init.dispose();
    groups.set(spec.name, spec.group);
  }
  return {
    config,
    specs,
    variables,
    groups,
    variablesOf(wanted) {
      const out = new Map<string, tf.Variable>();
      for (const spec of specs) {
        if (wanted.includes(spec.group)) out.set(spec.name, variables.get(spec.name) as tf.Variable);
      }
      return out;
    },
    forward: (inputs) => llavaForward(config, variables, inputs),
    dispose() {
      for (const v of variables.values()) v.dispose();
    },
  };
}

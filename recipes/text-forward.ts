import type { HeadOutputs, SideOutputs } from '../core/outputs.js';
import { type LlavaModel, llavaHeadForward, llavaTextForward, llavaTextHeadForward, type ModelInputs } from '../models/index.js';
import type { StageData } from './recipe.js';

/**
 * The forward pass a stage's data needs: the whole model on images, the LM alone on text (the
 * vision encoder and projector do not run, and get no gradient).
 */
export function forwardFor(model: LlavaModel, data: StageData): (inputs: ModelInputs) => SideOutputs {
  return data === 'text' ? (inputs) => llavaTextForward(model.config, model.variables, inputs) : model.forward;
}

/**
 * `forwardFor` with the LM head left unapplied (a stage's `fusedHead`): hidden states and the
 * head's weight [V, D] (a transposed copy of `llm.head` the caller owns) instead of the logits.
 */
export function headForwardFor(model: LlavaModel, data: StageData): (inputs: ModelInputs) => HeadOutputs {
  return data === 'text'
    ? (inputs) => llavaTextHeadForward(model.config, model.variables, inputs)
    : (inputs) => llavaHeadForward(model.config, model.variables, inputs);
}

import type { SideOutputs } from '../core/outputs.js';
import { type LlavaModel, llavaTextForward, type ModelInputs } from '../models/index.js';
import type { StageData } from './recipe.js';

/**
 * The forward pass a stage's data needs: the whole model on images, the LM alone on text (the
 * vision encoder and projector do not run, and get no gradient).
 */
export function forwardFor(model: LlavaModel, data: StageData): (inputs: ModelInputs) => SideOutputs {
  return data === 'text' ? (inputs) => llavaTextForward(model.config, model.variables, inputs) : model.forward;
}

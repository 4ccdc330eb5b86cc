import { objective, weighted } from '../../core/combinators.js';
import type { ObjectiveNode } from '../../core/graph.js';
import { student as s, teacher as t } from '../../core/views.js';
import { kl, relation, supervisedCE } from '../../losses/index.js';

/** LLaVA-KD's loss weights (paper §4.1): α, β, γ for DPT and α′, β′, γ′ for DFT. */
export interface LlavaKdWeights {
  /** Response-token MDist, KL on the response logits. */
  readonly alpha: number;
  /** Visual-token MDist, KL on the (unshifted) visual logits. */
  readonly beta: number;
  /** RDist, the relation loss on the visual logits. */
  readonly gamma: number;
}

/** The paper's weights: α = 1, β = 1, γ = 0.5. */
export const LLAVA_KD_PAPER_WEIGHTS: LlavaKdWeights = { alpha: 1, beta: 1, gamma: 0.5 };

export interface LlavaKdTerms {
  /** Multimodal distillation (L_res and L_vis). */
  readonly mdist: boolean;
  /** Relation distillation (L_rel). */
  readonly rdist: boolean;
}

/**
 * LLaVA-KD's distillation objective (Cai et al., eq. 6 and 7), the same in DPT and DFT:
 *
 *   L = L_reg + α·L_res + β·L_vis + γ·L_rel
 *
 * - L_reg: cross-entropy of the student's next-token prediction on the response (the caption in
 *   DPT, the answer in DFT);
 * - L_res: forward KL(teacher ‖ student) on the logits that predict response tokens;
 * - L_vis: forward KL on the logits at the visual tokens, unshifted, as in the released code;
 * - L_rel: 1 − cos between the self-correlation matrices of the visual logits, per sample.
 *
 * `terms` drops MDist or RDist for the paper's Table 3 ablations.
 */
export function llavaKdObjective(weights: LlavaKdWeights = LLAVA_KD_PAPER_WEIGHTS, terms: LlavaKdTerms = { mdist: true, rdist: true }): ObjectiveNode {
  const response = { teacher: t.logits.next('response'), student: s.logits.next('response') };
  const visual = { teacher: t.logits.at('visual'), student: s.logits.at('visual') };
  return objective({
    reg: supervisedCE(s.logits.next('response')),
    ...(terms.mdist
      ? {
          res: weighted(weights.alpha, kl.forward(response.teacher, response.student)),
          vis: weighted(weights.beta, kl.forward(visual.teacher, visual.student)),
        }
      : {}),
    ...(terms.rdist ? { rel: weighted(weights.gamma, relation(visual.teacher, visual.student)) } : {}),
  });
}

import { objective, weighted } from '../../core/combinators.js';
import type { ObjectiveNode } from '../../core/graph.js';
import { student as s, teacher as t } from '../../core/views.js';
import { affinity, kl, supervisedCE } from '../../losses/index.js';
import { type Matched, match } from '../../matching/builders.js';

/** EM-KD's loss weights (§ Loss & Training): L = α·L_sup + (1−α)·L_rld + β·L_vsd + γ·L_vlad. */
export interface EmKdWeights {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** The paper's weights: α = 0.5, β = 0.25, γ = 25. */
export const EM_KD_PAPER_WEIGHTS: EmKdWeights = { alpha: 0.5, beta: 0.25, gamma: 25 };

/**
 * How teacher vision tokens are paired with the student's fewer ones (the paper's matching
 * ablation): Hungarian on the L1 distance between vision logits (EM-KD's VTM), Hungarian on
 * hidden states, or grid average pooling.
 */
export type EmKdMatching = 'hungarian-logits' | 'hungarian-hidden' | 'pool';

export interface EmKdOptions {
  readonly weights?: EmKdWeights;
  readonly matching?: EmKdMatching;
  /**
   * Leave terms out for the component ablation (baseline → +VLAD → +VSD → +RLD, the order of
   * EM-KD's ablation table). Without RLD the supervised term keeps weight 1 (it is the whole
   * response term), so each step of the ablation adds one term and changes nothing else; RLD
   * splits the response term into α·L_sup + (1 − α)·L_rld.
   */
  readonly terms?: { readonly rld?: boolean; readonly vsd?: boolean; readonly vlad?: boolean };
}

/**
 * EM-KD's phase-2 objective:
 * - L_sup: cross-entropy on the response;
 * - L_rld: reverse KL on the response logits;
 * - L_vsd: reverse KL between the student's vision logits and the teacher's, matched;
 * - L_vlad: Smooth L1 between the vision–text (prompt) cosine affinities of hidden states, the
 *   teacher's vision tokens matched as for L_vsd.
 */
export function emKdObjective(options: EmKdOptions = {}): ObjectiveNode {
  const w = options.weights ?? EM_KD_PAPER_WEIGHTS;
  const use = { rld: true, vsd: true, vlad: true, ...options.terms };
  const matched = matcherFor(options.matching ?? 'hungarian-logits');
  return objective({
    sup: weighted(use.rld ? w.alpha : 1, supervisedCE(s.logits.next('response'))),
    ...(use.rld ? { rld: weighted(1 - w.alpha, kl.reverse(t.logits.next('response'), s.logits.next('response'))) } : {}),
    ...(use.vsd ? { vsd: weighted(w.beta, kl.reverse(matched.of(t.logits.at('visual')), s.logits.at('visual'))) } : {}),
    ...(use.vlad
      ? {
          vlad: weighted(
            w.gamma,
            affinity({
              teacher: { vision: matched.of(t.hidden.at('visual')), text: t.hidden.at('prompt') },
              student: { vision: s.hidden.at('visual'), text: s.hidden.at('prompt') },
            }),
          ),
        }
      : {}),
  });
}

function matcherFor(matching: EmKdMatching): Matched<'logits' | 'hidden'> {
  switch (matching) {
    case 'hungarian-logits':
      return match.hungarian(t.logits.at('visual'), s.logits.at('visual'), { cost: 'l1' });
    case 'hungarian-hidden':
      return match.hungarian(t.hidden.at('visual'), s.hidden.at('visual'), { cost: 'l1' });
    case 'pool':
      return match.pool(t.logits.at('visual'), s.logits.at('visual'));
  }
}

/**
 * What the chunked-lowering and LM-head laws share: every shipped divergence built on the
 * response tokens' next-token logits (its own parameter set to the case's x), and a target's
 * lowering with every divergence sent to the chunked generic kernel.
 */
import type { LossNode } from '../core/graph.js';
import type { LoweringBackend } from '../core/target.js';
import { student as s, teacher as t } from '../core/views.js';
import { chunkedDivergenceKernel, type DivergenceOptions, lowerDivergenceWith } from '../losses/divergence.js';
import { akl, divergenceRules, jsd, kl, skewKL, skewReverseKL, softCE, standardLosses, tvd } from '../losses/index.js';

export type Build = (o: DivergenceOptions, x: number) => LossNode;

export const responseTeacher = () => t.logits.next('response');
export const responseStudent = () => s.logits.next('response');

const T = responseTeacher;
const S = responseStudent;

/** Every shipped divergence by name; x is its own parameter (β, α, μ) where it has one. */
export const divergenceBuilds: ReadonlyArray<readonly [string, Build]> = [
  ['forward KL', (o) => kl.forward(T(), S(), o)],
  ['reverse KL', (o) => kl.reverse(T(), S(), o)],
  ['JSD(β)', (o, x) => jsd(T(), S(), { ...o, beta: x })],
  ['skew KL(α)', (o, x) => skewKL(T(), S(), { ...o, alpha: x })],
  ['skew reverse KL(α)', (o, x) => skewReverseKL(T(), S(), { ...o, alpha: x })],
  ['TVD', (o) => tvd(T(), S(), o)],
  ['AKL(μ)', (o, x) => akl(T(), S(), { ...o, mu: x })],
  ['soft CE', (o) => softCE(T(), S(), o)],
];

/** The target's lowering with every shipped divergence on the chunked generic kernel at `chunkRows`. */
export function chunkedLowering(base: LoweringBackend, chunkRows: number): LoweringBackend {
  const kernels = new Map(base.kernels);
  for (const rule of divergenceRules) kernels.set(standardLosses[rule.name]!, lowerDivergenceWith(rule, chunkedDivergenceKernel({ chunkRows })));
  return { kernels, capabilities: base.capabilities };
}

import type { ModelConfig } from './config.js';
import { patchWindow, visionGridSide } from './config.js';
import { hashKey, normalArray } from './random.js';

/** The parameter groups that training stages freeze or train (LLaVA-KD §3.2–3.3). */
export type ParamGroup = 'vision' | 'projector' | 'llm';

export const PARAM_GROUPS: readonly ParamGroup[] = ['vision', 'projector', 'llm'];

export const isParamGroup = (s: unknown): s is ParamGroup => s === 'vision' || s === 'projector' || s === 'llm';

/** How a parameter's initial values are drawn. */
export type Init = { readonly kind: 'normal'; readonly std: number } | { readonly kind: 'ones' } | { readonly kind: 'zeros' };

/** One parameter: a stable dotted name, its shape, its group and its initializer. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly group: ParamGroup;
  readonly init: Init;
}

/** N(0, 1/fan_in): unit-scale outputs for unit-scale inputs. */
const fanIn = (n: number): Init => ({ kind: 'normal', std: 1 / Math.sqrt(n) });

/**
 * Learned embedding tables (token, vision and text positions) start at this scale, comparable
 * with the patch and projector outputs, so that every token knows its position from the first
 * step (at GPT-2's 0.02 the positions of the identical background patches were invisible after
 * layer norm, and position questions stayed at chance for hundreds of steps).
 */
const EMBED_STD = 0.5;

/** A small LM head: initial predictions close to uniform (initial loss ≈ ln V). */
const HEAD_STD = 0.02;

function transformerSpecs(prefix: string, group: ParamGroup, width: number, layers: number, mlpRatio: number): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const hidden = width * mlpRatio;
  // Fan-in scaling, not GPT-2's fixed 0.02: at widths of 64–128, 0.02 makes the attention logits
  // ~0 and the query/key gradients ~100× smaller than the value gradients, and the small models
  // then took thousands of steps to attend selectively. Residual-branch outputs are further
  // scaled by 1/√(2·layers) so the residual stream's variance does not grow with depth.
  const residual = (n: number): Init => ({ kind: 'normal', std: 1 / Math.sqrt(n) / Math.sqrt(2 * layers) });
  for (let i = 0; i < layers; i++) {
    const b = `${prefix}.blocks.${i}`;
    specs.push(
      { name: `${b}.ln1.g`, shape: [width], group, init: { kind: 'ones' } },
      { name: `${b}.ln1.b`, shape: [width], group, init: { kind: 'zeros' } },
      { name: `${b}.attn.wq`, shape: [width, width], group, init: fanIn(width) },
      { name: `${b}.attn.wk`, shape: [width, width], group, init: fanIn(width) },
      { name: `${b}.attn.wv`, shape: [width, width], group, init: fanIn(width) },
      { name: `${b}.attn.wo`, shape: [width, width], group, init: residual(width) },
      { name: `${b}.ln2.g`, shape: [width], group, init: { kind: 'ones' } },
      { name: `${b}.ln2.b`, shape: [width], group, init: { kind: 'zeros' } },
      { name: `${b}.mlp.w1`, shape: [width, hidden], group, init: fanIn(width) },
      { name: `${b}.mlp.w2`, shape: [hidden, width], group, init: residual(hidden) },
    );
  }
  specs.push(
    { name: `${prefix}.norm.g`, shape: [width], group, init: { kind: 'ones' } },
    { name: `${prefix}.norm.b`, shape: [width], group, init: { kind: 'zeros' } },
  );
  return specs;
}

/**
 * Every parameter of a model built from `config`, in a stable order.
 *
 * vision:    patch.w [p²·C, Dv], patch.b [Dv], pos [N, Dv], blocks.i.*, norm.*
 * projector: fc1.w [Dv, Hp], fc1.b [Hp], fc2.w [Hp, D], fc2.b [D]
 * llm:       embed [V, D], pos [Tmax, D], blocks.i.*, norm.*, head [D, V]
 */
export function paramSpecs(config: ModelConfig): ParamSpec[] {
  const { vision: v, projector: p, llm: l } = config;
  const patchDim = patchWindow(v) ** 2 * v.channels;
  const tokens = visionGridSide(v) ** 2;
  return [
    { name: 'vision.patch.w', shape: [patchDim, v.width], group: 'vision', init: fanIn(patchDim) },
    { name: 'vision.patch.b', shape: [v.width], group: 'vision', init: { kind: 'zeros' } },
    { name: 'vision.pos', shape: [tokens, v.width], group: 'vision', init: { kind: 'normal', std: EMBED_STD } },
    ...transformerSpecs('vision', 'vision', v.width, v.layers, v.mlpRatio),
    { name: 'projector.fc1.w', shape: [v.width, p.hidden], group: 'projector', init: fanIn(v.width) },
    { name: 'projector.fc1.b', shape: [p.hidden], group: 'projector', init: { kind: 'zeros' } },
    { name: 'projector.fc2.w', shape: [p.hidden, l.width], group: 'projector', init: fanIn(p.hidden) },
    { name: 'projector.fc2.b', shape: [l.width], group: 'projector', init: { kind: 'zeros' } },
    { name: 'llm.embed', shape: [l.vocabSize, l.width], group: 'llm', init: { kind: 'normal', std: EMBED_STD } },
    { name: 'llm.pos', shape: [l.maxSeqLen, l.width], group: 'llm', init: { kind: 'normal', std: EMBED_STD } },
    ...transformerSpecs('llm', 'llm', l.width, l.layers, l.mlpRatio),
    { name: 'llm.head', shape: [l.width, l.vocabSize], group: 'llm', init: { kind: 'normal', std: HEAD_STD } },
  ];
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The initial values of one parameter: a pure function of (seed, name), computed in JavaScript,
 * so the same seed gives bit-identical weights on every backend and adding a parameter does not
 * change the others.
 */
export function initialValues(spec: ParamSpec, seed: number): Float32Array {
  const n = sizeOf(spec.shape);
  switch (spec.init.kind) {
    case 'ones':
      return new Float32Array(n).fill(1);
    case 'zeros':
      return new Float32Array(n);
    case 'normal':
      return normalArray(hashKey(seed, spec.name), n, spec.init.std);
  }
}

/** Parameter counts per group and in total. */
export function countParams(config: ModelConfig): Record<ParamGroup | 'total', number> {
  const counts = { vision: 0, projector: 0, llm: 0, total: 0 };
  for (const spec of paramSpecs(config)) {
    const n = sizeOf(spec.shape);
    counts[spec.group] += n;
    counts.total += n;
  }
  return counts;
}

import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import type { Sample } from './sample.js';
import type { Tokenizer } from './tokenizer.js';
import { encode, SPECIALS } from './tokenizer.js';

/**
 * A sample's text as token ids, roles and labels, with the image still one `<image>` position.
 *
 * Layout per turn, after a leading `<bos>`: prompt words (the first holds `<image>`), `<sep>`,
 * answer words, `<eos>`. Roles: `<bos>`, prompt and `<sep>` are prompt; `<image>` is visual; the
 * answer and `<eos>` are response. Labels are aligned with positions: the token itself at response
 * positions, IGNORE_LABEL elsewhere; a next-token loss compares logits at t − 1 with the label at t.
 */
export interface EncodedText {
  readonly tokens: readonly number[];
  readonly roles: readonly number[];
  readonly labels: readonly number[];
}

const countOf = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

/** Checks the `<image>` placement rule; the message names the sample. */
export function imagePlacementError(sample: Pick<Sample, 'id' | 'image' | 'turns'>): string | undefined {
  if (sample.turns.length === 0) return `sample '${sample.id}': no conversation turns`;
  if (sample.image === undefined) {
    for (let i = 0; i < sample.turns.length; i++) {
      const turn = sample.turns[i] as Sample['turns'][number];
      if (turn.prompt.includes(SPECIALS.image)) return `sample '${sample.id}': has no image, but the prompt of turn ${i} holds ${SPECIALS.image}`;
      if (turn.answer.includes(SPECIALS.image)) return `sample '${sample.id}': the answer of turn ${i} holds ${SPECIALS.image}`;
    }
    return undefined;
  }
  const first = sample.turns[0] as Sample['turns'][number];
  const inFirst = countOf(first.prompt, SPECIALS.image);
  if (inFirst === 0) return `sample '${sample.id}': the first prompt has no ${SPECIALS.image} placeholder`;
  if (inFirst > 1) return `sample '${sample.id}': the first prompt has ${inFirst} ${SPECIALS.image} placeholders, one image per sample is supported`;
  for (let i = 0; i < sample.turns.length; i++) {
    const turn = sample.turns[i] as Sample['turns'][number];
    if (i > 0 && turn.prompt.includes(SPECIALS.image)) return `sample '${sample.id}': turn ${i} repeats the ${SPECIALS.image} placeholder`;
    if (turn.answer.includes(SPECIALS.image)) return `sample '${sample.id}': the answer of turn ${i} holds ${SPECIALS.image}`;
  }
  return undefined;
}

export function encodeSample(tok: Tokenizer, sample: Sample): EncodedText {
  const placement = imagePlacementError(sample);
  if (placement !== undefined) throw new Error(placement);
  const tokens: number[] = [tok.bos];
  const roles: number[] = [ROLE_CODES.prompt];
  const push = (id: number, role: number): void => {
    tokens.push(id);
    roles.push(role);
  };
  for (const turn of sample.turns) {
    for (const id of encode(tok, turn.prompt)) push(id, id === tok.image ? ROLE_CODES.visual : ROLE_CODES.prompt);
    push(tok.sep, ROLE_CODES.prompt);
    for (const id of encode(tok, turn.answer)) push(id, ROLE_CODES.response);
    push(tok.eos, ROLE_CODES.response);
  }
  const labels = tokens.map((id, i) => (roles[i] === ROLE_CODES.response ? id : IGNORE_LABEL));
  return { tokens, roles, labels };
}

/** Text positions a sample needs: every position but the `<image>` placeholder (a text-only sample has none). */
export const textLengthOf = (tok: Tokenizer, sample: Sample): number => encodeSample(tok, sample).tokens.length - (sample.image === undefined ? 0 : 1);

/**
 * A word-level tokenizer: lower-cased words and single punctuation marks, with fixed special
 * tokens. Teacher and student share one tokenizer, so their vocabularies agree by construction.
 */

/** Special tokens and their fixed ids (`<pad>` is 0, matching role code `pad` = 0). */
export const SPECIALS = {
  pad: '<pad>',
  bos: '<bos>',
  eos: '<eos>',
  image: '<image>',
  unk: '<unk>',
  /** Separates the question from the answer: the last prompt position, whose logits predict the first answer token. */
  sep: '<sep>',
} as const;

const SPECIAL_LIST: readonly string[] = [SPECIALS.pad, SPECIALS.bos, SPECIALS.eos, SPECIALS.image, SPECIALS.unk, SPECIALS.sep];

export interface Tokenizer {
  /** id → word; the first entries are the specials in `SPECIALS` order. */
  readonly vocab: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;
  readonly image: number;
  readonly unk: number;
  readonly sep: number;
}

/**
 * Splits text into words: lower-cases, keeps `<...>` special tokens whole, and makes each
 * punctuation mark its own word ("Is it red?" → is, it, red, ?).
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /<[a-z_]+>|[a-z0-9]+(?:['’][a-z]+)?|[^\sa-z0-9]/g;
  for (const m of text.toLowerCase().matchAll(pattern)) words.push(m[0]);
  return words;
}

/** A tokenizer over the specials followed by `words` (duplicates and specials dropped, order kept). */
export function createTokenizer(words: Iterable<string>): Tokenizer {
  const vocab: string[] = [...SPECIAL_LIST];
  const ids = new Map<string, number>(vocab.map((w, i) => [w, i]));
  for (const w of words) {
    if (ids.has(w)) continue;
    const split = splitWords(w);
    if (split.length !== 1 || split[0] !== w) throw new Error(`tokenizer: '${w}' is not a single normalized word`);
    ids.set(w, vocab.length);
    vocab.push(w);
  }
  const id = (w: string): number => ids.get(w) as number;
  return {
    vocab,
    ids,
    pad: id(SPECIALS.pad),
    bos: id(SPECIALS.bos),
    eos: id(SPECIALS.eos),
    image: id(SPECIALS.image),
    unk: id(SPECIALS.unk),
    sep: id(SPECIALS.sep),
  };
}

/** A tokenizer whose vocabulary is every word of `texts`, sorted (a corpus-derived vocabulary). */
export function tokenizerFromTexts(texts: Iterable<string>): Tokenizer {
  const words = new Set<string>();
  for (const t of texts) for (const w of splitWords(t)) words.add(w);
  return createTokenizer([...words].sort());
}

/** Token ids of `text`; words outside the vocabulary become `<unk>`. */
export function encode(tok: Tokenizer, text: string): number[] {
  return splitWords(text).map((w) => tok.ids.get(w) ?? tok.unk);
}

/** Words of `ids` joined by single spaces; ids outside the vocabulary are an error. */
export function decode(tok: Tokenizer, ids: Iterable<number>): string {
  const words: string[] = [];
  for (const id of ids) {
    const w = tok.vocab[id];
    if (w === undefined) throw new Error(`decode: id ${id} is outside the vocabulary of ${tok.vocab.length} words`);
    words.push(w);
  }
  return words.join(' ');
}

/** The normal form `decode(encode(text))` returns for in-vocabulary text. */
export const normalizeText = (text: string): string => splitWords(text).join(' ');

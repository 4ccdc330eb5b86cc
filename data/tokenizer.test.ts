import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROCEDURAL_WORDS, proceduralTokenizer } from './procedural.js';
import { createTokenizer, decode, encode, normalizeText, SPECIALS, splitWords, tokenizerFromTexts } from './tokenizer.js';

describe('word-level tokenizer', () => {
  const tok = proceduralTokenizer();

  it('puts the specials first, <pad> at 0, and keeps word ids stable', () => {
    expect(tok.vocab.slice(0, 6)).toEqual(['<pad>', '<bos>', '<eos>', '<image>', '<unk>', '<sep>']);
    expect([tok.pad, tok.bos, tok.eos, tok.image, tok.unk, tok.sep]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tok.vocab.slice(6)).toEqual(PROCEDURAL_WORDS);
    expect(tok.ids.get('red')).toBe(6);
    expect(tok.vocab.length).toBeLessThan(100);
  });

  it('round-trips any sequence of vocabulary words', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tok.vocab), { maxLength: 30 }), (words) => {
        const text = words.join(' ');
        expect(decode(tok, encode(tok, text))).toBe(text);
      }),
    );
  });

  it('normalizes case, whitespace and punctuation; unknown words become <unk>', () => {
    expect(splitWords('  What COLOR is\nthe <image> ball?')).toEqual(['what', 'color', 'is', 'the', '<image>', 'ball', '?']);
    expect(decode(tok, encode(tok, 'Is the RED circle   above the ball?'))).toBe('is the red circle above the <unk> <unk>');
    expect(normalizeText("It's red.")).toBe("it's red .");
    expect(() => decode(tok, [999])).toThrow('decode: id 999 is outside the vocabulary');
    expect(() => createTokenizer(['two words'])).toThrow("'two words' is not a single normalized word");
  });

  it('builds a vocabulary from a corpus and round-trips its normalized text', () => {
    const corpus = ['<image>\nWhat is on the table?', 'A cup, and a plate.'];
    const t = tokenizerFromTexts(corpus);
    expect(t.ids.get(SPECIALS.image)).toBe(3);
    for (const text of corpus) expect(decode(t, encode(t, text))).toBe(normalizeText(text));
    expect(encode(t, 'a spoon')).toEqual([t.ids.get('a'), t.unk]);
  });
});

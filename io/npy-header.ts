/**
 * The header of a .npy file: a Python dict literal such as
 *
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *
 * numpy writes it with `repr` and reads it back with `ast.literal_eval`. This is a small
 * parser for the subset that can appear there (strings, True/False/None, integers, tuples,
 * lists, dicts), so a header is never evaluated, and errors point at a character offset.
 */

export type PyValue =
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'tuple'; readonly items: readonly PyValue[] }
  | { readonly kind: 'list'; readonly items: readonly PyValue[] }
  | { readonly kind: 'dict'; readonly entries: ReadonlyArray<readonly [PyValue, PyValue]> };

/** Thrown with a message saying what was expected where; `npy.ts` adds the file name. */
export class PyLiteralError extends Error {
  override readonly name = 'PyLiteralError';
}

/** Parses one literal that fills `text` up to trailing whitespace. */
export function parsePyLiteral(text: string): PyValue {
  const parser = new Parser(text);
  const value = parser.value();
  parser.skipSpace();
  if (parser.at < text.length) parser.fail('end of the header');
  return value;
}

/** A short Python-like rendering, for messages. */
export function showPy(v: PyValue): string {
  switch (v.kind) {
    case 'str':
      return `'${v.value}'`;
    case 'bool':
      return v.value ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'int':
      return String(v.value);
    case 'tuple':
      return v.items.length === 1 ? `(${showPy(v.items[0]!)},)` : `(${v.items.map(showPy).join(', ')})`;
    case 'list':
      return `[${v.items.map(showPy).join(', ')}]`;
    case 'dict':
      return `{${v.entries.map(([k, x]) => `${showPy(k)}: ${showPy(x)}`).join(', ')}}`;
  }
}

class Parser {
  at = 0;
  constructor(private readonly text: string) {}

  fail(expected: string): never {
    const found = this.at < this.text.length ? JSON.stringify(this.text.slice(this.at, this.at + 12)) : 'the end';
    throw new PyLiteralError(`expected ${expected} at character ${this.at}, found ${found}`);
  }

  skipSpace(): void {
    while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at]!)) this.at++;
  }

  value(): PyValue {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === "'" || c === '"') return { kind: 'str', value: this.string(c) };
    if (c === '(') return this.sequence('(', ')', 'tuple');
    if (c === '[') return this.sequence('[', ']', 'list');
    if (c === '{') return this.dict();
    if (c !== undefined && /[-+0-9]/.test(c)) return this.integer();
    for (const [word, v] of [
      ['True', { kind: 'bool', value: true }],
      ['False', { kind: 'bool', value: false }],
      ['None', { kind: 'none' }],
    ] as const) {
      if (this.text.startsWith(word, this.at) && !/[A-Za-z0-9_]/.test(this.text[this.at + word.length] ?? '')) {
        this.at += word.length;
        return v;
      }
    }
    return this.fail('a string, number, True, False, None, tuple, list or dict');
  }

  private string(quote: string): string {
    this.at++;
    let out = '';
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined || c === '\n') this.fail(`closing ${quote}`);
      this.at++;
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.text[this.at++];
        if (e === '\\' || e === "'" || e === '"') out += e;
        else this.fail('one of \\\\ \\\' \\" after a backslash (other escapes never occur in npy headers)');
      } else {
        out += c;
      }
    }
  }

  private integer(): PyValue {
    const m = /^[-+]?[0-9]+L?/.exec(this.text.slice(this.at));
    if (m === null) return this.fail('an integer');
    // Python 2 numpy wrote longs as `3L`; the suffix is accepted and dropped.
    const digits = m[0].replace(/L$/, '');
    this.at += m[0].length;
    if (/^[.eEjJxXoObB_]/.test(this.text[this.at] ?? '')) this.fail('an integer (no floats or other notations)');
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) this.fail(`an integer below 2^53 (got ${digits})`);
    return { kind: 'int', value };
  }

  private sequence(_open: string, close: string, kind: 'tuple' | 'list'): PyValue {
    this.at++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) {
        this.at++;
        break;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.at] === ',') {
        this.at++;
        sawComma = true;
      } else if (this.text[this.at] === close) {
        this.at++;
        break;
      } else {
        this.fail(`"," or "${close}"`);
      }
    }
    // `(3)` is the integer 3 in Python, not a tuple.
    if (kind === 'tuple' && items.length === 1 && !sawComma) return items[0]!;
    return kind === 'tuple' ? { kind: 'tuple', items } : { kind: 'list', items };
  }

  private dict(): PyValue {
    this.at++;
    const entries: Array<readonly [PyValue, PyValue]> = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === '}') {
        this.at++;
        return { kind: 'dict', entries };
      }
      const key = this.value();
      this.skipSpace();
      if (this.text[this.at] !== ':') this.fail('":" after a dict key');
      this.at++;
      const value = this.value();
      entries.push([key, value]);
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') this.fail('"," or "}"');
    }
  }
}

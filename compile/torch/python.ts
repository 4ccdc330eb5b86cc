/**
 * Python literals for values that come from an objective file (term names, paths, parameters).
 * Nothing from a file is pasted into Python source as it is: strings are escaped character by
 * character (visible characters kept, quotes, backslashes and invisible characters escaped),
 * numbers must be finite, and any other value is refused.
 */

/** Characters written as they are: printable ASCII, and letters, marks, digits, punctuation and symbols beyond it. */
const VISIBLE = /^[\x20-\x7e]$|^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** `ch` as it stands in a Python string literal (quotes and backslashes escaped, invisible characters as escapes). */
function pyChar(ch: string, keepNewline: boolean): string {
  if (ch === '"' || ch === '\\') return `\\${ch}`;
  if (ch === '\n' && keepNewline) return ch;
  if (VISIBLE.test(ch)) return ch;
  const code = ch.codePointAt(0)!;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
}

/**
 * A Python string literal of `s` in double quotes: visible characters kept (the module is UTF-8),
 * quotes, backslashes, control and other invisible characters (lone surrogates included) escaped.
 */
export function pyString(s: string): string {
  let out = '"';
  for (const ch of s) out += pyChar(ch, false);
  return `${out}"`;
}

/** A triple-quoted docstring of `s`, its lines kept, everything else escaped as in `pyString`. */
export function pyDocstring(s: string): string {
  let out = '"""';
  for (const ch of s) out += pyChar(ch, true);
  return `${out}\n"""`;
}

/** A Python float literal of a finite number (JavaScript's shortest round-trip digits are valid Python). */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`internal: a non-finite number (${x}) reached the Python writer unvalidated`);
  const text = String(x);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** A Python int literal. */
export function pyInt(x: number): string {
  if (!Number.isSafeInteger(x)) throw new Error(`internal: ${x} is not an integer the Python writer can write`);
  return String(x);
}

export const pyBool = (x: boolean): string => (x ? 'True' : 'False');

/** A JSON parameter value as a Python literal (numbers as floats unless `ints` names the key). */
export function pyValue(value: unknown): string {
  if (typeof value === 'boolean') return pyBool(value);
  if (typeof value === 'number') return Number.isInteger(value) ? pyInt(value) : pyFloat(value);
  if (typeof value === 'string') return pyString(value);
  if (value === null) return 'None';
  throw new Error(`internal: a parameter of type ${typeof value} has no Python literal here`);
}

/** A Python dict literal with string keys. */
export function pyDict(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${v}`).join(', ')}}`;
}

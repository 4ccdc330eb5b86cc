/**
 * Duplicate-key detection for JSON text.
 *
 * `JSON.parse` silently keeps the last of two equal keys, but the safetensors spec forbids
 * duplicates (a second "weight" entry could smuggle different bytes past a reviewer who
 * reads the first). This scanner walks text that `JSON.parse` has already accepted and
 * reports the first object key that repeats within one object, comparing decoded keys, so
 * `"a"` and `"\u0061"` count as the same.
 */

export interface DuplicateKey {
  /** Keys of the enclosing objects, outermost first (empty for the top-level object). */
  readonly path: readonly string[];
  readonly key: string;
}

type Frame = { readonly kind: 'object'; readonly keys: Set<string>; expectKey: boolean; current: string | undefined } | { readonly kind: 'array' };

/** The first repeated key of valid JSON `text`, or `undefined`. */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    switch (c) {
      case '{':
        stack.push({ kind: 'object', keys: new Set(), expectKey: true, current: undefined });
        break;
      case '[':
        stack.push({ kind: 'array' });
        break;
      case '}':
      case ']':
        stack.pop();
        break;
      case ',':
        if (top?.kind === 'object') top.expectKey = true;
        break;
      case ':':
        if (top?.kind === 'object') top.expectKey = false;
        break;
      case '"': {
        let end = i + 1;
        while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
        if (top?.kind === 'object' && top.expectKey) {
          const key = JSON.parse(text.slice(i, end + 1)) as string;
          if (top.keys.has(key)) return { path: pathOf(stack), key };
          top.keys.add(key);
          top.current = key;
        }
        i = end;
        break;
      }
      default:
        break; // numbers, literals and whitespace carry no keys
    }
  }
  return undefined;
}

function pathOf(stack: readonly Frame[]): string[] {
  const path: string[] = [];
  for (let i = 0; i < stack.length - 1; i++) {
    const f = stack[i]!;
    if (f.kind === 'object' && f.current !== undefined) path.push(f.current);
  }
  return path;
}

import * as E from 'fp-ts/lib/Either.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import type * as RNEA from 'fp-ts/lib/ReadonlyNonEmptyArray.js';
import type { GraphError } from './errors.js';

/**
 * A result that carries every error found, not only the first: fp-ts's Either with errors
 * accumulated by the ReadonlyNonEmptyArray semigroup (an applicative validation).
 */
export type Checked<A> = E.Either<RNEA.ReadonlyNonEmptyArray<GraphError>, A>;

export const ok = <A>(a: A): Checked<A> => E.right(a);

export const failWith = <A = never>(errors: readonly GraphError[]): Checked<A> =>
  RA.isNonEmpty(errors) ? E.left(errors) : (E.left([{ path: '', message: 'unknown error' }]) as Checked<A>);

/** Succeeds with `a` when `errors` is empty, else fails with all of them. */
export const check = <A>(a: A, errors: readonly GraphError[]): Checked<A> => (RA.isNonEmpty(errors) ? E.left(errors) : E.right(a));

/** Runs every check and keeps all their errors (unlike a monadic chain, which stops at the first). */
export function all<A>(items: readonly Checked<A>[]): Checked<A[]> {
  const errors: GraphError[] = [];
  const values: A[] = [];
  for (const item of items) {
    if (E.isLeft(item)) errors.push(...item.left);
    else values.push(item.right);
  }
  return check(values, errors);
}

/** `all` over a record, keeping keys. */
export function allRecord<A>(items: Readonly<Record<string, Checked<A>>>): Checked<Record<string, A>> {
  const keys = Object.keys(items);
  return E.map((values: A[]) => Object.fromEntries(keys.map((k, i) => [k, values[i]!])))(all(keys.map((k) => items[k]!)));
}

export const errorsOf = <A>(c: Checked<A>): readonly GraphError[] => (E.isLeft(c) ? c.left : []);

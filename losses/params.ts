import { type GraphError, graphError } from '../core/errors.js';
import type { JsonValue } from '../core/graph.js';
import { REDUCTIONS, type Reduction } from '../core/selection.js';

/**
 * Typed parameters. A node's params are JSON (they serialise with the graph); each loss
 * definition states its parameters once, as a codec, and both its check (`validate`) and its
 * uses (`explain`, `lower`, kernels) go through it, so no use site reads a parameter by name
 * and casts it.
 */

/** One parameter: its default, and either its typed value or what is wrong with it. */
export interface ParamSpec<T extends JsonValue> {
  readonly default: T;
  read(value: JsonValue | undefined, key: string): { readonly value: T } | { readonly problem: string };
}

type Specs = Readonly<Record<string, ParamSpec<JsonValue>>>;

/** The typed params a set of specs decodes to. */
export type Decoded<S extends Specs> = { readonly [K in keyof S]: S[K] extends ParamSpec<infer T> ? T : never };

export interface ParamCodec<P> {
  /** Every parameter with its default (a definition's `defaults`). */
  readonly defaults: P;
  /** Every problem with the params, each naming the parameter, at `path`. */
  check(params: Readonly<Record<string, JsonValue>>, path: string): GraphError[];
  /**
   * The typed params of a validated node. A problem here is an internal error: validation
   * should have reported it. Decoding is memoised per params object (nodes are frozen), so
   * per-row kernels may decode freely.
   */
  decode(params: Readonly<Record<string, JsonValue>>): P;
}

export function paramCodec<S extends Specs>(specs: S): ParamCodec<Decoded<S>> {
  const keys = Object.keys(specs);
  const read = (params: Readonly<Record<string, JsonValue>>) => keys.map((key) => [key, specs[key]!.read(params[key], key)] as const);
  const memo = new WeakMap<object, Decoded<S>>();
  // The one place that knows the record built key by key from `specs` has the type Decoded<S>.
  const record = (entries: ReadonlyArray<readonly [string, JsonValue]>) => Object.freeze(Object.fromEntries(entries)) as Decoded<S>;
  return {
    defaults: record(keys.map((key) => [key, specs[key]!.default])),
    check: (params, path) => read(params).flatMap(([, r]) => ('problem' in r ? [graphError(path, r.problem)] : [])),
    decode: (params) => {
      const known = memo.get(params);
      if (known !== undefined) return known;
      const decoded = record(
        read(params).map(([key, r]) => {
          if ('problem' in r) throw new Error(`internal: parameter '${key}' reached a loss unvalidated: ${r.problem}`);
          return [key, r.value] as const;
        }),
      );
      memo.set(params, decoded);
      return decoded;
    },
  };
}

/** Two codecs' parameters together (a divergence's common ones and its own). */
export function joinCodecs<A, B>(a: ParamCodec<A>, b: ParamCodec<B>): ParamCodec<A & B> {
  return {
    defaults: Object.freeze({ ...a.defaults, ...b.defaults }),
    check: (params, path) => [...a.check(params, path), ...b.check(params, path)],
    decode: (params) => ({ ...a.decode(params), ...b.decode(params) }),
  };
}

const number =
  (check: (v: number) => boolean, describe: (key: string, got: string) => string) =>
  (fallback: number): ParamSpec<number> => ({
    default: fallback,
    read: (v, key) => (typeof v === 'number' && check(v) ? { value: v } : { problem: describe(key, String(v)) }),
  });

/** A finite number > 0 (a temperature, Smooth L1's β). */
export const positive = number(
  (v) => Number.isFinite(v) && v > 0,
  (key, got) => `${key} must be a finite number > 0, got ${got}`,
);

/** A number in [0, 1], named by its symbol in messages (`β (beta) must be in [0, 1]`). */
export const unitInterval = (symbol: string, fallback: number): ParamSpec<number> =>
  number(
    (v) => v >= 0 && v <= 1,
    (key, got) => `${symbol} (${key}) must be in [0, 1], got ${got}`,
  )(fallback);

/** A whole number ≥ `min`, or null (absent: the option is off). */
export const optionalWhole = (min: number, what: string): ParamSpec<number | null> => ({
  default: null,
  read: (v, key) =>
    v === undefined || v === null
      ? { value: null }
      : typeof v === 'number' && Number.isInteger(v) && v >= min
        ? { value: v }
        : { problem: `${key} must be ${what} (a whole number ≥ ${min}) or absent, got ${JSON.stringify(v)}` },
});

export const boolean = (fallback: boolean): ParamSpec<boolean> => ({
  default: fallback,
  read: (v, key) => (typeof v === 'boolean' ? { value: v } : { problem: `${key} must be true or false, got ${JSON.stringify(v)}` }),
});

/** One of a fixed set of strings, typed as their union. */
export function choice<C extends string>(choices: readonly C[], fallback: C): ParamSpec<C> {
  const isChoice = (v: JsonValue | undefined): v is C => typeof v === 'string' && (choices as readonly string[]).includes(v);
  return {
    default: fallback,
    read: (v, key) => (isChoice(v) ? { value: v } : { problem: `${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}` }),
  };
}

/** How per-token losses are combined; `mean` by default. */
export const tokenReduction = (allowed: readonly Reduction[] = REDUCTIONS): ParamSpec<Reduction> => choice(allowed, 'mean');

/** How a reduction reads in explanations. */
export const describeReduction = (r: Reduction): string =>
  r === 'mean' ? 'mean over tokens' : r === 'sum' ? 'sum over tokens' : 'mean over samples of token means';

import { graphError, type GraphError } from '../core/errors.js';
import type { JsonValue } from '../core/graph.js';
import { REDUCTIONS, type Reduction } from '../core/selection.js';

/** Typed reads of a node's params (validated beforehand, so a wrong type is an internal error). */
export const numberParam = (params: Readonly<Record<string, JsonValue>>, key: string): number => {
  const v = params[key];
  if (typeof v !== 'number') throw new Error(`internal: parameter '${key}' is not a number`);
  return v;
};

export const boolParam = (params: Readonly<Record<string, JsonValue>>, key: string): boolean => params[key] === true;

export const stringParam = (params: Readonly<Record<string, JsonValue>>, key: string): string => {
  const v = params[key];
  if (typeof v !== 'string') throw new Error(`internal: parameter '${key}' is not a string`);
  return v;
};

export const reductionParam = (params: Readonly<Record<string, JsonValue>>): Reduction => stringParam(params, 'reduction') as Reduction;

/** Checks shared by losses: each returns the errors it finds. */
export function checkTemperature(params: Readonly<Record<string, JsonValue>>, path: string): GraphError[] {
  const t = params['temperature'];
  return typeof t === 'number' && Number.isFinite(t) && t > 0
    ? []
    : [graphError(path, `temperature must be a finite number > 0, got ${String(t)}`)];
}

export function checkUnitInterval(params: Readonly<Record<string, JsonValue>>, key: string, symbol: string, path: string): GraphError[] {
  const v = params[key];
  return typeof v === 'number' && v >= 0 && v <= 1 ? [] : [graphError(path, `${symbol} (${key}) must be in [0, 1], got ${String(v)}`)];
}

export function checkPositive(params: Readonly<Record<string, JsonValue>>, key: string, path: string): GraphError[] {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? [] : [graphError(path, `${key} must be a finite number > 0, got ${String(v)}`)];
}

export function checkReduction(
  params: Readonly<Record<string, JsonValue>>,
  path: string,
  allowed: readonly Reduction[] = REDUCTIONS,
): GraphError[] {
  const r = params['reduction'];
  return typeof r === 'string' && (allowed as readonly string[]).includes(r)
    ? []
    : [graphError(path, `reduction must be one of ${allowed.join(', ')}, got ${JSON.stringify(r)}`)];
}

export function checkChoice(params: Readonly<Record<string, JsonValue>>, key: string, choices: readonly string[], path: string): GraphError[] {
  const v = params[key];
  return typeof v === 'string' && choices.includes(v) ? [] : [graphError(path, `${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`)];
}

/** How a reduction reads in explanations. */
export const describeReduction = (r: Reduction): string =>
  r === 'mean' ? 'mean over tokens' : r === 'sum' ? 'sum over tokens' : 'mean over samples of token means';

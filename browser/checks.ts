/**
 * The checks the browser page runs, in order. Each is a named computation that yields numbers;
 * the browser test runs the same list in Node on wasm and compares value by value. To add a
 * check (a property from properties/, a recipe stage), append it here: nothing else changes.
 */
import { kernelChecks } from '../backends/testing/kernel-checks.js';
import type { NumericCheck } from '../backends/testing/numeric-checks.js';
import { mmkdChecks } from './mmkd-checks.js';

export const browserChecks: readonly NumericCheck[] = [...kernelChecks, ...mmkdChecks];

/** `?checks=a,b` runs a subset (names as in the list); absent or empty runs everything. */
export function selectChecks(query: string): readonly NumericCheck[] {
  const wanted = new URLSearchParams(query).get('checks');
  if (!wanted) return browserChecks;
  const names = new Set(wanted.split(',').map((name) => name.trim()));
  const unknown = [...names].filter((name) => !browserChecks.some((check) => check.name === name));
  if (unknown.length > 0) throw new Error(`unknown check(s): ${unknown.join(', ')}`);
  return browserChecks.filter((check) => names.has(check.name));
}

import type { MatcherImplementation } from '../matcher.js';
import { poolMatcher } from './grid-pool.js';
import { hungarianMatcher } from './hungarian.js';
import { identityMatcher } from './identity.js';
import { nearestMatcher } from './nearest.js';
import { sinkhornMatcher } from './sinkhorn.js';

/** The matchers mmkd ships, by method name. */
export const standardMatchers: Readonly<Record<string, MatcherImplementation>> = Object.freeze(
  Object.fromEntries([hungarianMatcher, identityMatcher, poolMatcher, nearestMatcher, sinkhornMatcher].map((m) => [m.method, m])),
);

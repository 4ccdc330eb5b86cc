import type { Registry } from '../core/definitions.js';
import { standardLosses } from '../losses/index.js';
import type { MatcherImplementation } from '../matching/matcher.js';
import { standardMatchers } from '../matching/matchers/index.js';

/** Everything mmkd ships, as one registry value: the standard losses, and matchers that align. */
export const standardRegistry: Registry<MatcherImplementation> = Object.freeze({ losses: standardLosses, matchers: standardMatchers });

import type { Registry } from './core/registry.js';
import { standardLosses } from './losses/index.js';
import { standardMatchers } from './matching/matchers/index.js';

/** Everything mmkd ships: the standard losses and matchers, as one registry value. */
export const standardRegistry: Registry = Object.freeze({ losses: standardLosses, matchers: standardMatchers });

import { describe, expect, it } from 'vitest';
import { numVisionTokens } from '../models/index.js';
import { environmentFor, worldOption } from './commands/run.js';

describe('mmkd run --world', () => {
  it('grid is the default; continuous gives its own data, models and 2000 held-out questions', async () => {
    const grid = await environmentFor({});
    expect(grid.data.fingerprint).toBe('procedural-0');
    expect(numVisionTokens(grid.configs.teacher)).toBe(16);
    const continuous = await environmentFor({ world: 'continuous' });
    expect(continuous.data.fingerprint).toBe('continuous-v2-0');
    expect(numVisionTokens(continuous.configs.teacher)).toBe(36);
    expect(numVisionTokens(continuous.configs.efficient)).toBe(9);
    expect(continuous.evalSamples).toBe(2000);
  });

  it('refuses an unknown world, and a procedural world beside --data', async () => {
    expect(() => worldOption('hex')).toThrow("--world must be one of grid, continuous, got 'hex'");
    await expect(environmentFor({ world: 'continuous', data: 'conversations.json' })).rejects.toThrow(
      '--world continuous chooses a procedural world; --data trains on conversations.json instead',
    );
  });
});

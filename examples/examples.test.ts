import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleFiles } from './generate.js';

describe('shipped examples', () => {
  for (const file of exampleFiles()) {
    it(`${file.path} is what examples/generate.ts makes (run npm run examples after changing it)`, () => {
      expect(Buffer.from(readFileSync(file.path)).equals(Buffer.from(file.bytes))).toBe(true);
    });
  }
});

/** The typed-parameter codec every loss definition uses: defaults, every problem at once, typed decoding. */
import { describe, expect, it } from 'vitest';
import { formatGraphError } from '../core/errors.js';
import { boolean, choice, paramCodec, positive, tokenReduction, unitInterval } from './params.js';

const codec = paramCodec({
  temperature: positive(1),
  beta: unitInterval('β', 0.5),
  scaleT2: boolean(false),
  mode: choice(['a', 'b'], 'a'),
  reduction: tokenReduction(),
});

describe('paramCodec', () => {
  it('gives every default', () => {
    expect(codec.defaults).toEqual({ temperature: 1, beta: 0.5, scaleT2: false, mode: 'a', reduction: 'mean' });
  });

  it('reports every problem, each naming its parameter, at the path', () => {
    const problems = codec.check({ temperature: 0, beta: 1.5, scaleT2: 'yes', mode: 'c', reduction: 'max' }, 'objective.res').map(formatGraphError);
    expect(problems).toEqual([
      'objective.res: temperature must be a finite number > 0, got 0',
      'objective.res: β (beta) must be in [0, 1], got 1.5',
      'objective.res: scaleT2 must be true or false, got "yes"',
      'objective.res: mode must be one of a, b, got "c"',
      'objective.res: reduction must be one of mean, sum, sampleMean, got "max"',
    ]);
    expect(codec.check(codec.defaults, 'objective.res')).toEqual([]);
  });

  it('decodes valid params to their typed values, and refuses unvalidated ones as an internal error', () => {
    const params = Object.freeze({ temperature: 2, beta: 0, scaleT2: true, mode: 'b', reduction: 'sum' });
    expect(codec.decode(params)).toEqual(params);
    expect(codec.decode(params)).toBe(codec.decode(params)); // memoised per (frozen) params object
    expect(() => codec.decode({ ...params, beta: -1 })).toThrow("internal: parameter 'beta' reached a loss unvalidated: β (beta) must be in [0, 1], got -1");
  });
});

import { describe, expect, it } from 'vitest';
import { count } from '../../src/io/count.js';

describe('count', () => {
  it('is singular for exactly 1 and plural otherwise, 0 and fractions included', () => {
    expect(count(1, 'failure')).toBe('1 failure');
    expect(count(0, 'failure')).toBe('0 failures');
    expect(count(2, 'failure')).toBe('2 failures');
    expect(count(1.5, 'run')).toBe('1.5 runs');
  });

  it('takes an irregular plural', () => {
    expect(count(1, 'entry', 'entries')).toBe('1 entry');
    expect(count(3, 'entry', 'entries')).toBe('3 entries');
  });
});

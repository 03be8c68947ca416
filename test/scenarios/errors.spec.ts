import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenarios/errors.js';

describe('ScenarioError', () => {
  it('names the file, then each problem by its path', () => {
    expect(new ScenarioError('a.yaml', [{ path: 'seed', message: 'expected a number' }]).message).toBe('a.yaml: seed: expected a number');
    expect(new ScenarioError('a.yaml', [{ path: '', message: 'empty file' }]).message).toBe('a.yaml: empty file');
  });

  it('does not name a flag twice when the problem is the flag itself', () => {
    expect(new ScenarioError('--columns', [{ path: '--columns', message: 'x and y clash' }]).message).toBe('--columns: x and y clash');
    expect(
      new ScenarioError('--vary', [
        { path: '--vary', message: 'a is varied twice' },
        { path: 'b', message: 'unknown key' },
      ]).message,
    ).toBe('--vary: 2 problems\n  a is varied twice\n  b: unknown key');
  });
});

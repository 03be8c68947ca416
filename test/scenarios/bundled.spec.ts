import { describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';

describe('bundled scenario names', () => {
  it('resolves a bundled name, with or without bundled:, and never a path out of the bundled folder', () => {
    const p = resolveScenarioPath('bundled:tcp-original');
    expect(p).toMatch(/bundled[/\\]tcp-original\.yaml$/);
    expect(resolveScenarioPath('tcp-original')).toBe(p);
    // `..` would reach the scenarios folder (and beyond): such a name is returned as given, for the loader to refuse.
    for (const bad of ['bundled:../bundled/tcp-original', 'bundled:./tcp-original', 'bundled:.hidden', 'bundled:a/b'])
      expect(resolveScenarioPath(bad)).toBe(bad);
  });
});

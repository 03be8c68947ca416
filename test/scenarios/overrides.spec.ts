/** `--set` / `--vary` paths: hostile keys and indices are refused up front, and `a.3.b` means `a[3].b`. */
import { describe, expect, it } from 'vitest';
import { applyOverrides, MAX_PATH_INDEX, parsePath, parseSets, parseVaries } from '../../src/scenarios/overrides.js';

describe('override paths', () => {
  it('refuses __proto__, constructor and prototype, and leaves Object.prototype alone', () => {
    for (const arg of ['__proto__.x=1', 'constructor.prototype.x=1', 'protocol.__proto__.polluted=1', 'a[0].constructor=1']) {
      const r = parseSets([arg]);
      expect(r.ok, arg).toBe(false);
      if (!r.ok) expect(r.issues[0]?.message).toMatch(/"(__proto__|constructor)" is not a scenario key/);
    }
    expect(parseVaries(['__proto__.x=1,2'])).toMatchObject({ ok: false });
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('a path that reaches an inherited key does not write through it', () => {
    const r = applyOverrides({ a: {} }, [{ path: ['a', 'toString', 'x'], value: 1, text: 'a.toString.x' }]);
    expect(r.ok).toBe(true);
    expect(r.ok && (r.value as { a: { toString: unknown } }).a.toString).toEqual({ x: 1 });
    expect(typeof ({} as { toString: unknown }).toString).toBe('function');
  });

  it('refuses a list index past the end of the list at once (no hundred-million-entry list)', () => {
    const raw = { workload: [{ at_s: 1 }, { at_s: 2 }] };
    const far = applyOverrides(raw, [{ path: ['workload', 99_999_999, 'at_s'], value: 1, text: 'workload[99999999].at_s' }]);
    expect(far.ok).toBe(false);
    if (!far.ok)
      expect(far.issues[0]).toEqual({
        path: 'workload[99999999]',
        message: 'cannot set workload[99999999].at_s: workload has 2 entries, so the index can be at most 2 (a new last entry)',
      });
    const next = applyOverrides(raw, [{ path: ['workload', 2, 'at_s'], value: 3, text: 'workload[2].at_s' }]);
    expect(next).toEqual({ ok: true, value: { workload: [{ at_s: 1 }, { at_s: 2 }, { at_s: 3 }] } });
    const leaf = applyOverrides(raw, [{ path: ['workload', 5], value: 3, text: 'workload[5]' }]);
    expect(leaf.ok).toBe(false);
    // The parser itself bounds indices, so no path can name an absurd one.
    expect(parsePath(`workload[${MAX_PATH_INDEX + 1}].at_s`)).toBeUndefined();
    const r = parseSets(['workload[99999999999].at_s=1']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.message).toContain('list index 99999999999 is out of range');
  });

  it('reads a.3.b as a[3].b, in --set and --vary (one column name for both spellings)', () => {
    expect(parsePath('protocol.tcp.flows.0.variant')).toEqual(['protocol', 'tcp', 'flows', 0, 'variant']);
    expect(parsePath('a.3.b')).toEqual(parsePath('a[3].b'));
    expect(parsePath('a[1].2.c')).toEqual(['a', 1, 2, 'c']);
    expect(parsePath('3.a')).toBeUndefined();
    expect(parsePath('a.3b')).toBeUndefined();
    const v = parseVaries(['protocol.tcp.flows.0.variant=reno,tahoe']);
    expect(v).toEqual({
      ok: true,
      variations: [{ path: ['protocol', 'tcp', 'flows', 0, 'variant'], text: 'protocol.tcp.flows[0].variant', values: ['reno', 'tahoe'] }],
    });
    expect(parseVaries(['a.0.b=1,2', 'a[0].b=3,4'])).toMatchObject({ ok: false, issues: [{ message: 'a[0].b is varied twice' }] });
  });
});

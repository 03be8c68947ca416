import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MergeResult, Store, compareVersion, type Entry } from '../../../src/protocols/gossip/store.js';
import { fcParams } from '../../fc.js';

const entryArb: fc.Arbitrary<Entry> = fc
  .record({
    key: fc.constantFrom('a', 'b', 'c', 'd'),
    ts: fc.integer({ min: 0, max: 20 }),
    origin: fc.integer({ min: 0, max: 3 }),
    del: fc.boolean(),
  })
  .map(({ key, ts, origin, del }) => ({ key, ts, origin, deleted: del, value: del ? null : `${key}${ts}/${origin}` }));

function snapshot(s: Store): string[] {
  return [...s.entries()].map((e) => `${e.key}=${e.ts}/${e.origin}/${e.deleted}`).sort();
}

describe('LWW store', () => {
  it('orders versions by timestamp, then origin id (no ties between nodes)', () => {
    expect(compareVersion(5, 1, 6, 0)).toBeLessThan(0);
    expect(compareVersion(5, 1, 5, 0)).toBeGreaterThan(0);
    expect(compareVersion(5, 1, 5, 1)).toBe(0);
    const s = new Store(8);
    s.merge({ key: 'k', value: 'from-2', ts: 10, origin: 2, deleted: false });
    expect(s.merge({ key: 'k', value: 'from-1', ts: 10, origin: 1, deleted: false })).toBe(MergeResult.Older);
    expect(s.merge({ key: 'k', value: 'from-3', ts: 10, origin: 3, deleted: false })).toBe(MergeResult.Stored);
    expect(s.entry('k')?.value).toBe('from-3');
  });

  it('converges to the same contents and bucket hashes whatever the merge order', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), fc.integer(), (entries, seed) => {
        const a = new Store(4);
        const b = new Store(4);
        for (const e of entries) a.merge(e);
        const shuffled =
          fc.sample(fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), { numRuns: 1, seed })[0] ?? [];
        for (const e of shuffled) b.merge(e);
        for (const e of [...shuffled].reverse()) b.merge(e); // idempotent
        expect(snapshot(b)).toEqual(snapshot(a));
        for (let i = 0; i < 4; i++) expect(b.bucketHash(i)).toBe(a.bucketHash(i));
        // The winner of each key is the maximum version.
        for (const e of a.entries()) {
          for (const x of entries) if (x.key === e.key) expect(compareVersion(x.ts, x.origin, e.ts, e.origin)).toBeLessThanOrEqual(0);
        }
      }),
      fcParams({ numRuns: 300 }),
    );
  });

  it('keeps the one-key form and the Map form alike: entries in insertion order, sizes and lookups as a Map model', () => {
    const opArb = fc.oneof(
      entryArb.map((e) => ({ op: 'merge' as const, e })),
      fc.constantFrom('a', 'b', 'c', 'd').map((key) => ({ op: 'remove' as const, key })),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), (ops) => {
        const s = new Store(4);
        const model = new Map<string, Entry>();
        for (const o of ops) {
          if (o.op === 'remove') {
            expect(s.remove(o.key)).toBe(model.delete(o.key));
          } else {
            const old = model.get(o.e.key);
            if (old === undefined || compareVersion(o.e.ts, o.e.origin, old.ts, old.origin) > 0) model.set(o.e.key, o.e);
            s.merge(o.e);
          }
          expect([...s.entries()]).toEqual([...model.values()]);
          expect(s.size).toBe(model.size);
          for (const k of ['a', 'b', 'c', 'd']) expect(s.entry(k)).toBe(model.get(k));
        }
      }),
      fcParams({ numRuns: 300 }),
    );
  });

  it('keeps tombstones against older puts, collects expired ones and refuses expired tombstones', () => {
    const s = new Store(2);
    s.merge({ key: 'k', value: 1, ts: 10, origin: 0, deleted: false });
    s.merge({ key: 'k', value: null, ts: 20, origin: 0, deleted: true });
    expect(s.merge({ key: 'k', value: 2, ts: 15, origin: 5, deleted: false })).toBe(MergeResult.Older);
    expect(s.tombstoneCount).toBe(1);
    const h = s.bucketHash(0) + s.bucketHash(1);
    expect(s.collect(21)).toEqual(['k']);
    expect(s.size).toBe(0);
    expect(s.bucketHash(0) + s.bucketHash(1)).not.toBe(h);
    expect(s.bucketHash(0)).toBe(0);
    expect(s.bucketHash(1)).toBe(0);
    expect(s.merge({ key: 'k', value: null, ts: 20, origin: 0, deleted: true }, 21)).toBe(MergeResult.Older);
    expect(s.size).toBe(0);
  });
});

describe('Store.only', () => {
  it('is the single entry of a store that holds exactly one, in either form', () => {
    const s = new Store(8);
    const a: Entry = { key: 'a', value: 1, ts: 1, origin: 0, deleted: false };
    const b: Entry = { key: 'b', value: 2, ts: 2, origin: 0, deleted: false };
    expect(s.only()).toBeUndefined();
    s.merge(a);
    expect(s.only()).toBe(a);
    s.merge(b); // the second key: a Map from now on
    expect(s.only()).toBeUndefined();
    s.remove('a');
    expect(s.size).toBe(1);
    expect(s.only()).toBe(b);
    s.remove('b');
    expect(s.only()).toBeUndefined();
  });
});

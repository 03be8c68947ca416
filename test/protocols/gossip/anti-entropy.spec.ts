import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerDigest, answerRequest, answerSummary, buildDigests } from '../../../src/protocols/gossip/anti-entropy.js';
import { Store, type Entry } from '../../../src/protocols/gossip/store.js';
import { encodedSize, isInline, type GossipMessage } from '../../../src/protocols/gossip/wire.js';
import { fcParams } from '../../fc.js';

const MTU = 600;

/** One push-pull session A -> B, delivering every message; returns the messages exchanged. */
function reconcile(a: Store, b: Store, mtu = MTU): GossipMessage[] {
  const sent: GossipMessage[] = [];
  for (const d of buildDigests(a, mtu)) {
    sent.push(d);
    for (const s of answerDigest(b, d, mtu)) {
      sent.push(s);
      for (const item of s.items) if (isInline(item)) a.merge(item);
      for (const m of answerSummary(a, s, mtu)) {
        sent.push(m);
        if (m.type === 'delta') for (const e of m.entries) b.merge(e);
        if (m.type === 'request') {
          for (const r of answerRequest(b, m.keys, mtu)) {
            sent.push(r);
            for (const e of r.entries) a.merge(e);
          }
        }
      }
    }
  }
  return sent;
}

const contents = (s: Store): string[] => [...s.entries()].map((e) => `${e.key}:${e.ts}:${e.origin}:${e.deleted}`).sort();

const entryArb: fc.Arbitrary<Entry> = fc
  .record({ k: fc.integer({ min: 0, max: 60 }), ts: fc.integer({ min: 0, max: 5 }), origin: fc.integer({ min: 0, max: 2 }) })
  // A version (ts, origin) names one write: its value is a function of it.
  .map(({ k, ts, origin }) => {
    const del = (k + ts + origin) % 4 === 0;
    return { key: `key-${k}`, ts, origin, deleted: del, value: del ? null : 'v'.repeat((k * 7 + ts * 13 + origin) % 80) };
  });

describe('anti-entropy push-pull', () => {
  it('one session makes both stores equal, every message within the MTU', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 80 }),
        fc.array(entryArb, { maxLength: 80 }),
        fc.integer({ min: 1, max: 300 }),
        (ea, eb, buckets) => {
          const a = new Store(buckets);
          const b = new Store(buckets);
          for (const e of ea) a.merge(e);
          for (const e of eb) b.merge(e);
          const msgs = reconcile(a, b);
          expect(contents(a)).toEqual(contents(b));
          for (const m of msgs) expect(encodedSize(m)).toBeLessThanOrEqual(MTU);
          // In sync now: a second session is a digest and nothing else.
          const again = reconcile(a, b);
          expect(again.every((m) => m.type === 'digest')).toBe(true);
        },
      ),
      fcParams({ numRuns: 200 }),
    );
  });

  it('a small newer value rides inline in the summary: no request leg; a large one is requested', () => {
    const a = new Store(64);
    const b = new Store(64);
    a.merge({ key: 'small', value: 1, ts: 1, origin: 0, deleted: false });
    b.merge({ key: 'small', value: 2, ts: 2, origin: 1, deleted: false });
    let msgs = reconcile(a, b);
    expect(msgs.map((m) => m.type)).toEqual(['digest', 'summary']);
    expect(a.entry('small')?.value).toBe(2);
    b.merge({ key: 'large', value: 'x'.repeat(100), ts: 3, origin: 1, deleted: false });
    msgs = reconcile(a, b);
    expect(msgs.map((m) => m.type)).toEqual(['digest', 'summary', 'request', 'delta']);
    expect(a.entry('large')?.ts).toBe(3);
  });

  it('reconciles a large store over many MTU-sized messages', () => {
    const a = new Store(64);
    const b = new Store(64);
    for (let i = 0; i < 5000; i++) a.merge({ key: `user:${i}`, value: `profile-${i}-${'x'.repeat(i % 50)}`, ts: i, origin: 1, deleted: false });
    for (let i = 0; i < 5000; i += 7) b.merge({ key: `user:${i}`, value: 'newer', ts: 10_000 + i, origin: 2, deleted: false });
    const msgs = reconcile(a, b, 1400);
    expect(contents(a)).toEqual(contents(b));
    expect(a.size).toBe(5000);
    expect(msgs.length).toBeGreaterThan(100);
    for (const m of msgs) expect(encodedSize(m)).toBeLessThanOrEqual(1400);
    expect(a.entry('user:7')?.value).toBe('newer');
  });

  it('pages a dense digest when the buckets do not fit one message; a small store sends one sparse digest', () => {
    const s = new Store(1000);
    for (let i = 0; i < 3000; i++) s.merge({ key: `k${i}`, value: i, ts: 1, origin: 0, deleted: false });
    const pages = buildDigests(s, 600);
    expect(pages.length).toBe(Math.ceil(1000 / Math.floor((600 - 11) / 4)));
    expect(pages.reduce((n, p) => n + p.hashes.length, 0)).toBe(1000);
    for (const p of pages) expect(encodedSize(p)).toBeLessThanOrEqual(600);
    const small = new Store(64);
    small.merge({ key: 'temperature', value: 25.5, ts: 1, origin: 0, deleted: false });
    const d = buildDigests(small, 1400);
    expect(d).toHaveLength(1);
    expect(d[0]?.indices).toHaveLength(1);
    expect(encodedSize(d[0]!)).toBe(19);
    expect(answerDigest(small, d[0]!, 1400)).toEqual([]);
    expect(answerDigest(new Store(64), d[0]!, 1400)).toHaveLength(1);
  });
});

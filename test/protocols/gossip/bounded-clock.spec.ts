/**
 * Bounded clocks: a version stamped more than `maxAheadNs` ahead of the
 * receiver's own physical clock is dropped and counted, never adopted. Unit
 * tests on one node, then a simulator property: one forged future timestamp,
 * sent from a spoofed peer to any node at any time, never stops later writes
 * from replicating.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { Simulator } from '../../../src/kernel/simulator.js';
import { MAX_ACCEPTED_TS, GossipNode, type GossipNodeSnapshot } from '../../../src/protocols/gossip/node.js';
import { resolveConfig } from '../../../src/protocols/gossip/presets.js';
import { GossipCluster } from '../../../src/sim/gossip-cluster.js';
import { compareVersion, type Entry } from '../../../src/protocols/gossip/store.js';
import { encodedSize, type GossipMessage } from '../../../src/protocols/gossip/wire.js';
import { Network } from '../../../src/net/network.js';
import { fcParams } from '../../fc.js';

const S = 1_000_000_000;
const MS = 1_000_000;
/** The forged timestamp of the issue: the largest the wire accepts. */
const FORGED_TS = MAX_ACCEPTED_TS;

function rumor(e: Entry): GossipMessage {
  return { type: 'rumor', rumors: [e], pull: false, reply: false };
}

function node(id = 0, overrides = {}): GossipNode {
  const n = new GossipNode({ id, peers: [0, 1, 2], rng: new Random(`n${id}`), config: resolveConfig('default', overrides) });
  n.start(0);
  n.pollActions();
  return n;
}

describe('the HLC of a node observes what it receives', () => {
  it('a timestamp received within the bound raises the clock: the next write and a snapshot are stamped after it; a physical clock ignores it', () => {
    const ahead = 10 * S + 400 * MS; // within the default bound (500 ms) at 10 s
    // A node that has received a version stamped `ahead` (and one a little older), then does `act` first.
    const received = (kind: 'hlc' | 'physical'): GossipNode => {
      const n = node(0, { clock: kind });
      n.handleMessage(2, rumor({ key: 'a', value: 1, ts: ahead, origin: 2, deleted: false }), 10 * S);
      n.handleMessage(1, rumor({ key: 'b', value: 1, ts: ahead - 5, origin: 1, deleted: false }), 10 * S);
      expect(n.store.entry('a')?.ts).toBe(ahead);
      return n;
    };
    // Each read first, on a node of its own: none of them may rely on another having brought the clock up to date.
    expect(received('hlc').put('c', 1, 10 * S + 1)).toMatchObject({ ok: true, ts: ahead + 1 });
    expect(received('hlc').snapshot().clockLastTs).toBe(ahead);
    expect(received('hlc').clock.lastTs).toBe(ahead);
    const restarted = received('hlc');
    restarted.start(10 * S); // a restart with state: the restart check reads the clock too
    expect(restarted.put('c', 1, 10 * S + 1)).toMatchObject({ ok: true, ts: ahead + 1 });
    expect(received('physical').put('c', 1, 10 * S + 1)).toMatchObject({ ok: true, ts: 10 * S + 1 });
    expect(received('physical').snapshot().clockLastTs).toBeLessThan(ahead);
    expect(received('physical').clock.lastTs).toBeLessThan(ahead);
  });
});

describe('bounded clocks (max ahead)', () => {
  it('drops a version stamped beyond the bound, counts it by sender, and keeps stamping near its own clock', () => {
    const n = node(0);
    n.handleMessage(2, rumor({ key: 'k', value: 'forged', ts: FORGED_TS, origin: 2, deleted: false }), 10 * S);
    expect(n.store.entry('k')).toBeUndefined();
    expect(n.clock.lastTs).toBeLessThan(10 * S + 500 * MS);
    expect(n.stats()).toMatchObject({ future_timestamp: 1, future_timestamp_last_from: 2 });
    expect([...n.futureTimestampsBySender]).toEqual([[2, 1]]);
    // No feedback for it (it was not "already known"), and the next write is stamped by the node's own clock.
    expect(n.pollActions().filter((a) => a.type === 'send')).toEqual([]);
    const w = n.put('k', 'mine', 11 * S);
    expect(w).toMatchObject({ ok: true, ts: 11 * S });
  });

  it('accepts a version just inside the bound, and one beyond it once its own clock has caught up', () => {
    const n = node(0);
    const edge: Entry = { key: 'a', value: 1, ts: 10 * S + 500 * MS, origin: 1, deleted: false };
    n.handleMessage(1, rumor(edge), 10 * S);
    expect(n.store.entry('a')).toBe(edge);
    const ahead: Entry = { key: 'b', value: 2, ts: 10 * S + 500 * MS + 1, origin: 1, deleted: false };
    n.handleMessage(1, { type: 'delta', entries: [ahead] }, 10 * S);
    expect(n.store.entry('b')).toBeUndefined();
    n.handleMessage(1, { type: 'delta', entries: [ahead] }, 10 * S + 1);
    expect(n.store.entry('b')).toBe(ahead);
    expect(n.stats()['future_timestamp']).toBe(1);
  });

  it('applies the bound to inline anti-entropy summaries too, and honours a configured bound', () => {
    const n = node(0, { maxAheadNs: 2 * S });
    const e: Entry = { key: 'c', value: 3, ts: 12 * S + 1, origin: 1, deleted: false };
    n.handleMessage(1, { type: 'summary', buckets: 64, bucket: 0, first: true, last: true, items: [e] }, 10 * S);
    expect(n.store.entry('c')).toBeUndefined();
    expect(n.stats()['future_timestamp']).toBe(1);
    const ok: Entry = { ...e, ts: 12 * S };
    n.handleMessage(1, { type: 'summary', buckets: 64, bucket: 0, first: true, last: true, items: [ok] }, 10 * S);
    expect(n.store.entry('c')).toBe(ok);
  });

  it('refuses a bound <= 0', () => {
    expect(() => node(0, { maxAheadNs: 0 })).toThrow(/max ahead/);
  });

  it('resets a poisoned clock and purges future entries restored from a snapshot at start', () => {
    const snapshot: GossipNodeSnapshot = {
      format: 1,
      id: 0,
      entries: [
        { key: 'forged', value: 'x', ts: FORGED_TS, origin: 1, deleted: false },
        { key: 'fine', value: 'y', ts: 5 * S, origin: 1, deleted: false },
      ],
      clockLastTs: FORGED_TS,
    };
    const n = new GossipNode({ id: 0, peers: [0, 1], rng: new Random('r'), snapshot, clockOffsetNs: 100 * S });
    n.start(0);
    expect(n.store.entry('forged')).toBeUndefined();
    expect(n.store.entry('fine')?.value).toBe('y');
    expect(n.clock.lastTs).toBe(100 * S);
    expect(n.stats()).toMatchObject({ future_clock_resets: 1, future_timestamp: 1 });
    expect(n.put('forged', 'z', 0)).toMatchObject({ ok: true, ts: 100 * S + 1 });
  });
});

interface Write {
  readonly atMs: number;
  readonly node: number;
  readonly key: string;
  readonly value: number;
}

const caseArb = fc
  .record({
    n: fc.integer({ min: 2, max: 7 }),
    preset: fc.constantFrom('default' as const, 'push-pull' as const, 'original' as const, 'demers-blind-coin' as const),
    clock: fc.constantFrom('hlc' as const, 'physical' as const),
    loss: fc.constantFrom(0, 0.05, 0.2),
    forgedAtMs: fc.integer({ min: 0, max: 3000 }),
    target: fc.nat(),
    spoofer: fc.nat(),
    forgedTs: fc.oneof(fc.constant(FORGED_TS), fc.integer({ min: 4 * S, max: FORGED_TS })),
    forgedKey: fc.constantFrom('a', 'b', 'c', 'other'),
    forgedVia: fc.constantFrom('rumor' as const, 'delta' as const),
    writes: fc.array(
      fc.record({ afterMs: fc.integer({ min: 1, max: 5000 }), node: fc.nat(), key: fc.constantFrom('a', 'b', 'c'), value: fc.integer() }),
      { minLength: 1, maxLength: 8 },
    ),
  })
  .map((c) => ({
    ...c,
    target: c.target % c.n,
    spoofer: c.spoofer % c.n,
    writes: c.writes.map((w): Write => ({ atMs: c.forgedAtMs + w.afterMs, node: w.node % c.n, key: w.key, value: w.value })),
  }));

describe('property: one forged future timestamp never stops later writes from replicating', () => {
  it('every node ends with the last-writer-wins winner of the writes made after the forgery, and never the forgery', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const sim = new Simulator({ seed: `forged-${c.n}-${c.forgedAtMs}` });
        const net = new Network<GossipMessage>(sim, { nodes: c.n, defaultLink: { latency: 5 * MS, loss: c.loss } });
        const config = resolveConfig(c.preset, { clock: c.clock, antiEntropyIntervalNs: 1 * S });
        const cluster = new GossipCluster(sim, net, { config });
        cluster.start();
        const forged: Entry = { key: c.forgedKey, value: 'forged', ts: c.forgedTs, origin: c.spoofer, deleted: false };
        const msg: GossipMessage = c.forgedVia === 'rumor' ? rumor(forged) : { type: 'delta', entries: [forged] };
        // The forgery arrives at the target as if from the spoofed peer (or from itself: a stranger's address).
        sim.schedule(c.forgedAtMs * MS, () => net.send(c.spoofer, c.target, msg, encodedSize(msg)), undefined, 'forge');
        const written: Entry[] = [];
        for (const w of c.writes) {
          sim.schedule(
            w.atMs * MS,
            () => {
              const r = cluster.call(w.node, { op: 'put', key: w.key, value: w.value });
              if (r !== undefined && r.ok && r.op === 'put') written.push({ key: w.key, value: w.value, ts: r.ts, origin: r.origin, deleted: false });
            },
            undefined,
            'write',
          );
        }
        const lastMs = Math.max(...c.writes.map((w) => w.atMs));
        sim.run({ until: (lastMs + 60_000) * MS });
        const winners = new Map<string, Entry>();
        for (const e of written) {
          const old = winners.get(e.key);
          if (old === undefined || compareVersion(e.ts, e.origin, old.ts, old.origin) > 0) winners.set(e.key, e);
        }
        for (let id = 0; id < c.n; id++) {
          const g = cluster.node(id);
          for (const [key, want] of winners) {
            const got = g.store.entry(key);
            if (got?.ts !== want.ts || got.origin !== want.origin) {
              throw new Error(`node ${id} holds ${JSON.stringify(got)} for ${key}, want ${JSON.stringify(want)}`);
            }
          }
          if (c.forgedTs > (lastMs + 60_000) * MS + 500 * MS) {
            expect(g.store.entry(c.forgedKey)?.value).not.toBe('forged');
            expect(g.clock.lastTs).toBeLessThan(c.forgedTs);
          }
        }
      }),
      fcParams({ numRuns: 150 }),
    );
  });
});

describe('a copy of the version a node stored last', () => {
  it('is known without a merge while no tombstone was tracked; a tombstone collected and forgotten is stored again when it comes back', () => {
    const gc = 1 * S;
    const n = node(0, { tombstoneGcNs: gc });
    const t: Entry = { key: 'k', value: null, ts: 5, origin: 1, deleted: true };
    n.handleMessage(1, rumor(t), 10 * MS);
    expect(n.store.entry('k')).toBe(t);
    // Peers 1 and 2 confirm it (feedback: they hold it); once old enough the gc timer collects it.
    n.handleMessage(1, { type: 'feedback', known: [t] }, 20 * MS);
    n.handleMessage(2, { type: 'feedback', known: [t] }, 20 * MS);
    n.handleTimer('gc', 2 * S);
    expect(n.store.entry('k')).toBeUndefined();
    // Its ghost refuses it for another gc period; after that it is stored again, as any tombstone is.
    n.handleMessage(1, rumor(t), 2 * S + 10 * MS);
    expect(n.store.entry('k')).toBeUndefined();
    n.handleTimer('gc', 4 * S);
    n.handleMessage(1, rumor(t), 4 * S + 10 * MS);
    expect(n.store.entry('k')).toBe(t);
  });
});

/**
 * A node with a wrong key in the simulated cluster (`GossipCluster`'s
 * `wrongKey`), as a real node given another key file: its datagrams reach the
 * others and are dropped and counted there, and it drops theirs. A unit test
 * of the counting, then a property: whatever the preset, loss and writes, the
 * right-key nodes converge on the last-writer-wins winner of their own writes
 * and never hold a version the wrong-key node wrote.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { Network } from '../../src/net/network.js';
import { resolveConfig } from '../../src/protocols/gossip/presets.js';
import { compareVersion, type Entry } from '../../src/protocols/gossip/store.js';
import type { GossipMessage } from '../../src/protocols/gossip/wire.js';
import { GossipCluster } from '../../src/sim/gossip-cluster.js';
import { fcParams } from '../fc.js';

const S = 1_000_000_000;
const MS = 1_000_000;

function cluster(n: number, wrongKey: readonly number[], seed = 'wrong-key'): { sim: Simulator; cluster: GossipCluster } {
  const sim = new Simulator({ seed });
  const net = new Network<GossipMessage>(sim, { nodes: n, defaultLink: { latency: 5 * MS } });
  const c = new GossipCluster(sim, net, { config: resolveConfig('default', { antiEntropyIntervalNs: 1 * S }), wrongKey });
  c.start();
  return { sim, cluster: c };
}

describe('a wrong-key node in the simulated cluster', () => {
  it("drops and counts the datagrams sealed with another key on both sides; the others' traffic is untouched", () => {
    const { sim, cluster: c } = cluster(3, [2]);
    sim.schedule(100 * MS, () => c.call(0, { op: 'put', key: 'a', value: 'right' }), undefined, 'write');
    sim.schedule(100 * MS, () => c.call(2, { op: 'put', key: 'b', value: 'wrong' }), undefined, 'write');
    sim.run({ until: 20 * S });
    expect(c.node(1).store.entry('a')?.value).toBe('right');
    expect(c.node(2).store.entry('a')).toBeUndefined();
    expect(c.node(0).store.entry('b')).toBeUndefined();
    expect(c.node(1).store.entry('b')).toBeUndefined();
    expect(c.node(2).store.entry('b')?.value).toBe('wrong');
    // Every node heard from the other side (rumors and anti-entropy digests) and dropped it.
    for (let id = 0; id < 3; id++) expect(c.unauthenticated[id]).toBeGreaterThan(0);
    expect(c.unauthenticatedTotal).toBe((c.unauthenticated[0] as number) + (c.unauthenticated[1] as number) + (c.unauthenticated[2] as number));
  });

  it('counts nothing and runs as before without wrong keys (same messages, same stores)', () => {
    const runs = [cluster(4, []), cluster(4, [])].map(({ sim, cluster: c }) => {
      sim.schedule(100 * MS, () => c.call(1, { op: 'put', key: 'a', value: 1 }), undefined, 'write');
      sim.run({ until: 10 * S });
      return { sent: c.sentTotals(), drops: c.unauthenticatedTotal, stores: [0, 1, 2, 3].map((id) => c.node(id).store.entry('a')) };
    });
    expect(runs[0]?.drops).toBe(0);
    expect(runs[0]).toEqual(runs[1]);
  });

  it('refuses a wrong-key node that is not on the network', () => {
    expect(() => cluster(3, [3])).toThrow(/wrongKey node 3 is not a node of the network/);
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
    n: fc.integer({ min: 3, max: 7 }),
    wrong: fc.nat(),
    preset: fc.constantFrom('default' as const, 'push-pull' as const, 'original' as const, 'demers-blind-coin' as const),
    loss: fc.constantFrom(0, 0.05, 0.2),
    writes: fc.array(
      fc.record({ atMs: fc.integer({ min: 0, max: 5000 }), node: fc.nat(), key: fc.constantFrom('a', 'b', 'c'), value: fc.integer() }),
      { minLength: 1, maxLength: 10 },
    ),
  })
  .map((c) => ({ ...c, wrong: c.wrong % c.n, writes: c.writes.map((w): Write => ({ ...w, node: w.node % c.n })) }));

describe('property: one wrong-key node never stops the others converging, and its writes never reach them', () => {
  it('every right-key node ends with the last-writer-wins winner of the right-key writes, and no version of the wrong-key node', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const sim = new Simulator({ seed: `wrong-key-${c.n}-${c.wrong}` });
        const net = new Network<GossipMessage>(sim, { nodes: c.n, defaultLink: { latency: 5 * MS, loss: c.loss } });
        const cluster = new GossipCluster(sim, net, { config: resolveConfig(c.preset, { antiEntropyIntervalNs: 1 * S }), wrongKey: [c.wrong] });
        cluster.start();
        const written: Entry[] = [];
        for (const w of c.writes) {
          sim.schedule(
            w.atMs * MS,
            () => {
              const r = cluster.call(w.node, { op: 'put', key: w.key, value: w.value });
              if (r?.ok === true && r.op === 'put') written.push({ key: w.key, value: w.value, ts: r.ts, origin: r.origin, deleted: false });
            },
            undefined,
            'write',
          );
        }
        const lastMs = Math.max(...c.writes.map((w) => w.atMs));
        sim.run({ until: (lastMs + 60_000) * MS });
        const winners = new Map<string, Entry>();
        for (const e of written) {
          if (e.origin === c.wrong) continue;
          const old = winners.get(e.key);
          if (old === undefined || compareVersion(e.ts, e.origin, old.ts, old.origin) > 0) winners.set(e.key, e);
        }
        for (let id = 0; id < c.n; id++) {
          if (id === c.wrong) continue;
          const g = cluster.node(id);
          for (const key of ['a', 'b', 'c']) {
            const got = g.store.entry(key);
            const want = winners.get(key);
            if (got?.origin === c.wrong) throw new Error(`node ${id} holds the wrong-key node's version of ${key}: ${JSON.stringify(got)}`);
            if (got?.ts !== want?.ts || got?.origin !== want?.origin) {
              throw new Error(`node ${id} holds ${JSON.stringify(got)} for ${key}, want ${JSON.stringify(want)}`);
            }
          }
        }
        // The wrong-key node holds only its own writes, and anti-entropy digests kept crossing: both sides counted drops.
        for (const key of ['a', 'b', 'c']) {
          const e = cluster.node(c.wrong).store.entry(key);
          if (e !== undefined) expect(e.origin).toBe(c.wrong);
        }
        expect(cluster.unauthenticated[c.wrong]).toBeGreaterThan(0);
        expect(cluster.unauthenticatedTotal).toBeGreaterThan(cluster.unauthenticated[c.wrong] as number);
      }),
      fcParams({ numRuns: 100 }),
    );
  });
});

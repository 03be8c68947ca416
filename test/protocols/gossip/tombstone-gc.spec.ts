/**
 * Tombstone collection cannot resurrect a deleted value. A tombstone is
 * collected only once it is older than `tombstone_gc_s` and every peer has
 * confirmed it, so a node cut off for any time (partitioned, held, crashed
 * with its state), here up to 20 times `tombstone_gc_s`, comes back and takes
 * the delete instead of bringing the old value back.
 *
 * The property (desim/testing on src/testing/gossip-module.ts): no node ever
 * stores a version older than a tombstone it collected, and at the end every
 * live node holds the last-writer-wins winner of every key (or nothing, where
 * the winner is a collected tombstone). A failure prints the fast-check seed,
 * the shrunk case and a scenario file that `desim run` replays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDigests, digestHashOf } from '../../../src/protocols/gossip/anti-entropy.js';
import type { GossipNode } from '../../../src/protocols/gossip/node.js';
import { Store } from '../../../src/protocols/gossip/store.js';
import * as gossipModule from '../../../src/testing/gossip-module.js';
import { checkProtocol, clusterCaseArb, nodeNames, runCase, type ClusterCase } from '../../../src/testing/index.js';
import type { FaultEntry } from '../../../src/scenarios/driver.js';
import { fcParams } from '../../fc.js';

const GC_S = 2;
const OPTIONS = { anti_entropy: { interval_s: 0.5 }, tombstone_gc_s: GC_S };
const dir = mkdtempSync(join(tmpdir(), 'gossip-tombstone-gc-'));
const built = resolve('dist/src/testing/gossip-module.js');

/** How a node is cut off from the rest between `from` and `to`. */
function cutOff(
  kind: 'partition' | 'one_way' | 'hold' | 'crash',
  victims: readonly string[],
  rest: readonly string[],
  from: number,
  to: number,
  name: string,
): FaultEntry[] {
  switch (kind) {
    case 'partition':
    case 'one_way':
      return [
        { at_s: from, partition: [[...victims], [...rest]], name, ...(kind === 'one_way' ? { one_way: true } : {}) },
        { at_s: to, repair: name },
      ];
    case 'hold':
      return [
        { at_s: from, hold: [[...victims], [...rest]], name },
        { at_s: to, release: name },
      ];
    case 'crash':
      return victims.flatMap((v) => [
        { at_s: from, crash: v },
        { at_s: to, restart: v, keep_state: true },
      ]);
  }
}

/**
 * A value is written and spreads; one or two nodes are cut off; the value is
 * deleted elsewhere while they are away; they come back after up to 40 s
 * (20 × tombstone_gc_s), with loss and a second write of another key as noise.
 */
const targeted: fc.Arbitrary<ClusterCase> = fc.integer({ min: 3, max: 8 }).chain((n) => {
  const nodes = nodeNames(n);
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      loss: fc.constantFrom(0, 0.05, 0.2),
      writer: fc.constantFrom(...nodes),
      victims: fc.shuffledSubarray(nodes, { minLength: 1, maxLength: Math.min(2, n - 1) }),
      kind: fc.constantFrom('partition' as const, 'one_way' as const, 'hold' as const, 'crash' as const),
      start_s: fc.double({ min: 0.5, max: 3, noNaN: true }),
      away_s: fc.double({ min: 0.1, max: 40, noNaN: true }),
      deleteAfter_s: fc.double({ min: 0.05, max: 2, noNaN: true }),
      deleterPick: fc.nat(),
      noise: fc.boolean(),
    })
    .map((r): ClusterCase => {
      const round = (x: number): number => Math.round(x * 1000) / 1000;
      const rest = nodes.filter((x) => !r.victims.includes(x));
      const deleter = rest[r.deleterPick % rest.length] as string;
      const start = round(r.start_s);
      const back = round(start + r.away_s);
      const del = round(Math.min(start + r.deleteAfter_s, back));
      const workload = [
        { at_s: 0.2, node: r.writer, call: { op: 'put', key: 'k', value: 1 } },
        ...(r.noise ? [{ at_s: 0.3, node: deleter, call: { op: 'put', key: 'j', value: 2 } }] : []),
        { at_s: del, node: deleter, call: { op: 'delete', key: 'k' } },
      ].sort((a, b) => a.at_s - b.at_s);
      return { nodes, seed: r.seed, link: { latency_ms: 5, loss: r.loss }, workload, faults: cutOff(r.kind, r.victims, rest, start, back, 'away') };
    });
});

describe('tombstone collection never resurrects a deleted value', () => {
  it('a node cut off for up to 20 × tombstone_gc_s and then returned never brings back a deleted value (targeted cases)', () => {
    let runs = 0;
    let collectedAll = 0;
    checkProtocol({
      module: gossipModule,
      modulePath: built,
      cases: targeted,
      duration_s: 120,
      options: OPTIONS,
      counterexampleDir: dir,
      name: 'tombstone-gc-targeted',
      params: fcParams({ numRuns: 120 }),
      property: (view) => {
        runs++;
        // Not vacuous: count the cases where every node collected the tombstone of k.
        const log = (view.shared.get('gossip') as { collected: { node: number; e: { key: string } }[] }).collected;
        if (new Set(log.filter((c) => c.e.key === 'k').map((c) => c.node)).size === view.nodes.length) collectedAll++;
        return gossipModule.invariant(view);
      },
    });
    expect(runs).toBe(120);
    console.log(`tombstone-gc-targeted: every node collected the tombstone in ${collectedAll} of ${runs} cases`);
    expect(collectedAll).toBeGreaterThan(runs / 2);
  });

  it('the same under random puts, deletes and faults (partitions, one-way, holds, crashes with state, loss, latency)', () => {
    const write = fc.oneof(
      {
        weight: 2,
        arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: 0, max: 99 }) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }) },
    );
    checkProtocol({
      module: gossipModule,
      modulePath: built,
      cases: clusterCaseArb({
        minNodes: 3,
        maxNodes: 10,
        call: write,
        minCalls: 2,
        maxCalls: 15,
        healBy_s: 30,
        maxFaults: 5,
        kinds: ['partition', 'one_way', 'hold', 'crash', 'loss', 'latency'],
        maxBaseLoss: 0.3,
        latency_ms: 5,
        options: fc.record({ preset: fc.constantFrom('default', 'original', 'demers-feedback-counter', 'demers-blind-coin') }),
      }),
      duration_s: 120,
      options: OPTIONS,
      counterexampleDir: dir,
      name: 'tombstone-gc-random',
      params: fcParams({ numRuns: 100 }),
    });
  });

  it('collection does happen, only after the cut-off node has confirmed the tombstone, and then everywhere', () => {
    const c: ClusterCase = {
      nodes: ['n0', 'n1', 'n2', 'n3'],
      seed: 5,
      link: { latency_ms: 5, loss: 0 },
      workload: [
        { at_s: 0.2, node: 'n0', call: { op: 'put', key: 'k', value: 1 } },
        { at_s: 2, node: 'n1', call: { op: 'delete', key: 'k' } },
      ],
      // n3 holds k = 1 and misses the delete for 20 s, ten times tombstone_gc_s.
      faults: cutOff('partition', ['n3'], ['n0', 'n1', 'n2'], 1, 21, 'away'),
    };
    const view = runCase(gossipModule, c, { duration_s: 60, options: OPTIONS });
    // The module's log of collections: { node, e (the tombstone), t (ns) }.
    const log = (view.shared.get('gossip') as { collected: { node: number; t: number }[] }).collected;
    const collectedAt = log.map((x): [string, number] => [view.names[x.node] ?? '?', x.t / 1e9]);
    expect(gossipModule.problems(view)).toEqual([]);
    // Every node collects it. A node may collect it more than once: a node that collected it
    // can get it again by anti-entropy from one whose own collection is still due (its copy is
    // younger); the echo dies out once every copy is old enough, and the stores end empty.
    expect([...new Set(collectedAt.map(([n]) => n))].sort()).toEqual(['n0', 'n1', 'n2', 'n3']);
    for (const [, t] of collectedAt) expect(t).toBeGreaterThan(21);
    for (const n of view.nodes) expect((n as GossipNode).store.size).toBe(0);
  });

  it('digestHashOf reads a bucket hash from dense and sparse digest pages (0 for an empty bucket, undefined outside the page)', () => {
    const fill = (keys: number): Store => {
      const st = new Store(64);
      for (let i = 0; i < keys; i++) st.put({ key: `key${i}`, value: i, ts: i + 1, origin: 0, deleted: false });
      return st;
    };
    const cases: [Store, boolean][] = [
      [fill(10), true], // few non-empty buckets: one sparse page
      [fill(300), false], // (nearly) every bucket used: dense
    ];
    for (const [st, sparse] of cases) {
      const pages = buildDigests(st, 576);
      expect(pages.every((m) => (m.indices !== undefined) === sparse)).toBe(true);
      for (let b = 0; b < 64; b++) {
        const covering = pages.map((m) => digestHashOf(m, b)).filter((h) => h !== undefined);
        expect(covering).toEqual([st.bucketHash(b)]);
      }
    }
    const store = fill(10);
    expect(store.remove('key3')).toBe(true);
    expect(store.entry('key3')).toBeUndefined();
    expect(store.remove('key3')).toBe(false);
  });
});

/**
 * The store on SWIM's view converges once faults heal (property, fast-check
 * with the pinned seed of test/fc.ts). Random joins, leaves, crashes, restarts
 * (with or without state), partitions and loss up to a time H, with store
 * writes (puts and deletes at members live at that time) among them; every
 * network fault is healed at H. By H plus a bound:
 *
 * 1. every live member's SWIM view (the members it holds alive or suspect) is
 *    exactly the live members, and the store's peers are that view;
 * 2. every live member's store holds, for every key, the reference entry: the
 *    last-writer-wins merge (largest (timestamp, origin)) of every version
 *    stored, in their current life, by the members live at the end. A node's
 *    "current life" starts at its last restart without state (or rejoin after
 *    leaving, which is one), so this is every write that reached a surviving
 *    state: acknowledged by a member live at the end (the writer keeps its own
 *    write), or received by one from a writer that later failed. A write whose
 *    every holder lost its state is lost, and is not expected; a tombstone and
 *    no entry count as the same (collection), though with `tombstone_gc_s` at
 *    its default (300 s) nothing is collected within a case.
 *
 * Node 0 is the seed joiners sync with and never fails: a join needs a live
 * seed (as `desim node --join` needs a live address).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { Network } from '../../src/net/network.js';
import { DEFAULT_CONFIG } from '../../src/protocols/gossip/config.js';
import { compareVersion, type Entry } from '../../src/protocols/gossip/store.js';
import type { SwimStoreMessage } from '../../src/protocols/swim-store/node.js';
import { DEFAULT_SWIM_CONFIG } from '../../src/protocols/swim/config.js';
import { SwimStoreCluster } from '../../src/sim/swim-store-cluster.js';
import { fcParams } from '../fc.js';

const S = 1e9;
const NODES = 10;
const INITIAL = 6;
const KEYS = ['a', 'b', 'c'] as const;
/** Faults and writes happen in [0, HEAL_S); at HEAL_S every partition is repaired and loss set to 0. */
const HEAL_S = 40;
/**
 * The bound after healing, as in the SWIM property test (test/sim/swim-convergence.properties.spec.ts):
 * reconnects every 5 s, push-pull every 30 s and a suspicion of 4 periods settle the views; the store's
 * anti-entropy (every 5 s, with a random current peer) then has several rounds to bring every member level.
 */
const BOUND_S = 90;

type Event =
  | { readonly atS: number; readonly kind: 'join' | 'leave' | 'crash'; readonly node: number }
  | { readonly atS: number; readonly kind: 'restart'; readonly node: number; readonly keep: boolean }
  | { readonly atS: number; readonly kind: 'partition'; readonly side: readonly number[] }
  | { readonly atS: number; readonly kind: 'repair' }
  | { readonly atS: number; readonly kind: 'loss'; readonly p: number }
  | { readonly atS: number; readonly kind: 'put'; readonly node: number; readonly key: string; readonly value: number }
  | { readonly atS: number; readonly kind: 'delete'; readonly node: number; readonly key: string };

const node = fc.integer({ min: 1, max: NODES - 1 });
const anyNode = fc.integer({ min: 0, max: NODES - 1 });
const key = fc.constantFrom(...KEYS);
const at = fc.double({ min: 0, max: HEAL_S - 0.001, noNaN: true });
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ atS: at, kind: fc.constantFrom('join' as const, 'leave' as const, 'crash' as const), node }),
  fc.record({ atS: at, kind: fc.constant('restart' as const), node, keep: fc.boolean() }),
  fc.record({
    atS: at,
    kind: fc.constant('partition' as const),
    side: fc.uniqueArray(fc.integer({ min: 0, max: NODES - 1 }), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({ atS: at, kind: fc.constant('repair' as const) }),
  fc.record({ atS: at, kind: fc.constant('loss' as const), p: fc.constantFrom(0.05, 0.2, 0.5) }),
  { weight: 4, arbitrary: fc.record({ atS: at, kind: fc.constant('put' as const), node: anyNode, key, value: fc.integer({ min: 0, max: 999 }) }) },
  { weight: 2, arbitrary: fc.record({ atS: at, kind: fc.constant('delete' as const), node: anyNode, key }) },
);

interface Outcome {
  readonly cluster: SwimStoreCluster;
  readonly live: number[];
  /** The reference entry of every key some live member ever stored (in its current life). */
  readonly reference: Map<string, Entry>;
  readonly writes: number;
}

function run(events: readonly Event[], seed: number, lifeguard: boolean): Outcome {
  const sim = new Simulator({ seed });
  const net = new Network<SwimStoreMessage>(sim, { nodes: NODES, defaultLink: { latency: 2_000_000 } });
  // The versions each node stored in its current life, newest per key.
  const lives = Array.from({ length: NODES }, () => new Map<string, Entry>());
  const cluster = new SwimStoreCluster(sim, net, {
    swim: { ...DEFAULT_SWIM_CONFIG, lifeguard, reconnectIntervalNs: 5 * S },
    store: { ...DEFAULT_CONFIG, antiEntropyIntervalNs: 5 * S },
    initial: Array.from({ length: INITIAL }, (_, i) => i),
    seeds: [0],
    metrics: {
      onStored: (id, e) => {
        const m = lives[id] as Map<string, Entry>;
        const cur = m.get(e.key);
        if (cur === undefined || compareVersion(e.ts, e.origin, cur.ts, cur.origin) > 0) m.set(e.key, e);
      },
    },
  });
  cluster.start();
  let writes = 0;
  /** Runs `act` on node `id`; a new node object afterwards means its state was wiped: a new life. */
  const onNode = (id: number, act: () => void): void => {
    const before = cluster.node(id);
    act();
    if (cluster.node(id) !== before) lives[id]?.clear();
  };
  for (const e of events) {
    sim.schedule(
      Math.round(e.atS * S),
      () => {
        switch (e.kind) {
          case 'join':
            return onNode(e.node, () => cluster.join(e.node));
          case 'leave':
            return cluster.leave(e.node);
          case 'crash':
            return cluster.crash(e.node);
          case 'restart':
            return onNode(e.node, () => cluster.restart(e.node, e.keep));
          case 'partition': {
            const other = Array.from({ length: NODES }, (_, i) => i).filter((i) => !e.side.includes(i));
            if (other.length > 0) net.partition(e.side, other);
            return;
          }
          case 'repair':
            return net.repair();
          case 'loss':
            return net.setDefaultLink({ loss: e.p });
          case 'put':
          case 'delete': {
            if (!cluster.isLive(e.node)) return;
            const reply = cluster.call(e.node, e.kind === 'put' ? { op: 'put', key: e.key, value: e.value } : { op: 'delete', key: e.key });
            if (reply !== undefined && 'ok' in reply && reply.ok) writes++;
            return;
          }
        }
      },
      0,
      `swim-store.test.${e.kind}`,
    );
  }
  sim.schedule(
    HEAL_S * S,
    () => {
      net.repair();
      net.setDefaultLink({ loss: 0 });
    },
    0,
    'swim-store.test.heal',
  );
  sim.run({ until: (HEAL_S + BOUND_S) * S });
  const live = cluster.liveMembers();
  const reference = new Map<string, Entry>();
  for (const id of live) {
    for (const [k, e] of lives[id] as Map<string, Entry>) {
      const cur = reference.get(k);
      if (cur === undefined || compareVersion(e.ts, e.origin, cur.ts, cur.origin) > 0) reference.set(k, e);
    }
  }
  return { cluster, live, reference, writes };
}

function viewProblems({ cluster, live }: Outcome): string[] {
  return live.flatMap((id) => {
    const n = cluster.node(id);
    const view = n.view().join(',');
    const peers = [...n.store.currentPeers].sort((a, b) => a - b).join(',');
    const out: string[] = [];
    if (view !== live.join(',')) out.push(`node ${id} sees [${view}], live are [${live.join(',')}]`);
    if (peers !== view) out.push(`node ${id}'s store gossips with [${peers}], its view is [${view}]`);
    return out;
  });
}

const show = (e: Entry | undefined): string =>
  e === undefined ? 'nothing' : `${e.deleted ? 'tombstone' : JSON.stringify(e.value)}@(${e.ts},${e.origin})`;

function storeProblems({ cluster, live, reference }: Outcome): string[] {
  return live.flatMap((id) => {
    const store = cluster.node(id).store.store;
    const keys = new Set<string>([...reference.keys(), ...[...store.entries()].map((e) => e.key)]);
    return [...keys].flatMap((k) => {
      const want = reference.get(k);
      const got = store.entry(k);
      const same =
        got === undefined || want === undefined
          ? (got === undefined || got.deleted) && (want === undefined || want.deleted)
          : got.ts === want.ts && got.origin === want.origin;
      return same ? [] : [`node ${id} holds ${show(got)} for ${k}, the reference is ${show(want)}`];
    });
  });
}

describe('the store on SWIM views converges once faults heal (property)', () => {
  for (const lifeguard of [false, true]) {
    it(`${lifeguard ? 'with' : 'without'} Lifeguard: after healing plus ${BOUND_S} s the views are the live members and every store holds the reference merge`, () => {
      let written = 0;
      fc.assert(
        fc.property(fc.array(event, { minLength: 6, maxLength: 24, size: 'medium' }), fc.integer({ min: 1, max: 1000 }), (events, seed) => {
          const outcome = run(events, seed, lifeguard);
          written += outcome.writes;
          expect(viewProblems(outcome)).toEqual([]);
          expect(storeProblems(outcome)).toEqual([]);
        }),
        fcParams({ numRuns: 60 }),
      );
      // The cases did write (the property is not vacuous).
      expect(written).toBeGreaterThan(100);
    });
  }
});

/**
 * Origin ids distinct from node ids. On real nodes a node id is local to each
 * node's member list: a node that joined by `--join` is id 0 in its own list,
 * like another member in its own. With the node id as origin, two such nodes
 * writing one key with equal timestamps tie, and each replica keeps the
 * version it heard first. With origin ids that differ (`originId`), every
 * replica picks the same winner.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import type { GossipMessage } from '../../../src/protocols/gossip/wire.js';

const S = 1_000_000_000;
const EPOCH_US = 1_750_000_000_000_000;

/** Three nodes A, B, C; each names the others by ids of its own list (global index per local id). */
const LISTS: readonly (readonly number[])[] = [
  [0, 1, 2], // A: itself 0, B 1, C 2
  [1, 0, 2], // B joined by --join: itself 0, A 1, C 2
  [0, 1, 2], // C: A 0, B 1, itself 2
];
const SELF = [0, 0, 2];

function cluster(origins: readonly (number | undefined)[]): GossipNode[] {
  return LISTS.map(
    (list, g) =>
      new GossipNode({
        id: SELF[g] as number,
        ...(origins[g] !== undefined ? { originId: origins[g] } : {}),
        peers: list.map((_, i) => i),
        rng: new Random(`origin-${g}`),
        config: { antiEntropyIntervalNs: S },
        timestampUnitNs: 1000,
        timestampEpoch: EPOCH_US,
      }),
  );
}

/** Delivers every queued message at once (FIFO), translating local ids through the lists. */
function drain(nodes: readonly GossipNode[], now: number): void {
  const queue: { to: number; from: number; msg: GossipMessage }[] = [];
  const collect = (g: number): void => {
    for (const a of (nodes[g] as GossipNode).pollActions()) {
      if (a.type !== 'send') continue;
      const to = (LISTS[g] as readonly number[])[a.to] as number;
      queue.push({ to, from: (LISTS[to] as readonly number[]).indexOf(g), msg: a.msg });
    }
  };
  nodes.forEach((_, g) => collect(g));
  for (let i = 0; i < queue.length && i < 100_000; i++) {
    const m = queue[i] as (typeof queue)[number];
    (nodes[m.to] as GossipNode).handleMessage(m.from, m.msg, now);
    collect(m.to);
  }
}

/** A and B write one key at the same instant (equal timestamps), then 20 rounds of gossip and anti-entropy. */
function tie(origins: readonly (number | undefined)[]): { ts: number[]; held: unknown[] } {
  const nodes = cluster(origins);
  nodes.forEach((n) => n.start(0));
  drain(nodes, 0);
  const ts = [nodes[0]?.put('k', 'from A', S), nodes[1]?.put('k', 'from B', S)].map((r) => (r?.ok === true && r.op === 'put' ? r.ts : NaN));
  drain(nodes, S);
  for (let t = 2; t <= 20; t++) {
    for (const n of nodes) {
      n.handleTimer('gossip', t * S);
      n.handleTimer('ae', t * S);
    }
    drain(nodes, t * S);
  }
  return { ts, held: nodes.map((n) => n.store.entry('k')?.value) };
}

describe('origin ids distinct from node ids', () => {
  it('two writers with one local node id but distinct origin ids converge on the larger origin', () => {
    const { ts, held } = tie([0x9e3779b9, 0x7f4a7c15, 0x2545f491]);
    expect(ts[0]).toBe(ts[1]); // a true tie of timestamps
    expect(held).toEqual(['from A', 'from A', 'from A']);
    const swapped = tie([0x7f4a7c15, 0x9e3779b9, 0x2545f491]);
    expect(swapped.held).toEqual(['from B', 'from B', 'from B']);
  });

  it('control: with the node id as origin (both 0) the same writes tie and the writers keep their own', () => {
    const { ts, held } = tie([undefined, undefined, undefined]);
    expect(ts[0]).toBe(ts[1]);
    expect(held[0]).toBe('from A');
    expect(held[1]).toBe('from B');
  });

  it('writes carry the origin id, and refuses one outside the wire u32', () => {
    const node = new GossipNode({ id: 3, originId: 0xffffffff, peers: [3], rng: new Random('1') });
    const r = node.put('k', 1, 1);
    expect(r.ok && r.op === 'put' ? r.origin : undefined).toBe(0xffffffff);
    expect(node.store.entry('k')?.origin).toBe(0xffffffff);
    for (const bad of [-1, 0x1_0000_0000, 1.5, NaN]) {
      expect(() => new GossipNode({ id: 0, originId: bad, peers: [0], rng: new Random('1') })).toThrow(/origin id/);
    }
  });
});

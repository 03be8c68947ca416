/**
 * GossipNode.setPeers: a node's peers change at run time (a membership view).
 * Rumors and anti-entropy go only to the current peers, and a tombstone is
 * collected once it is old enough and every *current* peer has confirmed it:
 * a removed peer no longer holds collection back, an added one must confirm.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import type { GossipMessage } from '../../../src/protocols/gossip/wire.js';
import type { Action } from '../../../src/protocols/sans-io.js';

const S = 1_000_000_000;

function sends(actions: readonly Action<GossipMessage>[]): { to: number; type: string }[] {
  return actions.flatMap((a) => (a.type === 'send' ? [{ to: a.to, type: a.msg.type }] : []));
}

describe('GossipNode.setPeers', () => {
  it('sends rumors and anti-entropy digests only to the current peers', () => {
    const node = new GossipNode({
      id: 0,
      peers: [0, 1, 2, 3, 4],
      rng: new Random('7'),
      config: { fanout: 2, stop: 'forever', antiEntropyIntervalNs: S, antiEntropyPhase: 'aligned', phase: 'aligned' },
    });
    node.start(0);
    node.pollActions();
    node.setPeers([3, 0, 4, 3]);
    expect(node.currentPeers).toEqual([3, 0, 4]);
    node.put('k', 1, 1);
    node.pollActions();
    const targets = new Set<number>();
    for (let t = 1; t <= 20; t++) {
      node.handleTimer('gossip', t * S);
      node.handleTimer('ae', t * S);
      for (const s of sends(node.pollActions())) targets.add(s.to);
    }
    expect([...targets].sort()).toEqual([3, 4]);
  });

  it('sends nothing with no peer but itself', () => {
    const node = new GossipNode({ id: 0, peers: [0, 1], rng: new Random('1'), config: { antiEntropyIntervalNs: S } });
    node.start(0);
    node.setPeers([0]);
    node.put('k', 1, 1);
    for (let t = 1; t <= 5; t++) {
      node.handleTimer('gossip', t * S);
      node.handleTimer('ae', t * S);
    }
    expect(sends(node.pollActions())).toEqual([]);
  });

  describe('tombstone collection follows the current peers', () => {
    const GC = 8 * S;
    function deleted(): GossipNode {
      const node = new GossipNode({
        id: 0,
        peers: [0, 1, 2],
        rng: new Random('3'),
        config: { mode: 'off', antiEntropyIntervalNs: 0, tombstoneGcNs: GC },
      });
      node.start(0);
      node.put('k', 'v', 0);
      node.delete('k', 1);
      node.pollActions();
      return node;
    }
    function confirmFrom(node: GossipNode, from: number, now: number): void {
      const e = node.store.entry('k');
      if (e === undefined) throw new Error('no tombstone');
      node.handleMessage(from, { type: 'feedback', known: [{ key: 'k', ts: e.ts, origin: e.origin }] }, now);
    }
    const held = (node: GossipNode): boolean => node.store.entry('k') !== undefined;

    it('waits for a peer that never confirms while it is a peer', () => {
      const node = deleted();
      confirmFrom(node, 1, 2);
      node.handleTimer('gc', 20 * S);
      expect(held(node)).toBe(true);
    });

    it('collects once the unconfirmed peer is dropped from the peers', () => {
      const node = deleted();
      confirmFrom(node, 1, 2);
      node.setPeers([0, 1]);
      node.handleTimer('gc', 20 * S);
      expect(held(node)).toBe(false);
    });

    it('keeps a confirmation across a change that keeps the peer, even at a new position', () => {
      const node = deleted();
      confirmFrom(node, 2, 2);
      node.setPeers([2, 0]);
      node.handleTimer('gc', 20 * S);
      expect(held(node)).toBe(false);
    });

    it('makes a newly added peer confirm before collection', () => {
      const node = deleted();
      confirmFrom(node, 1, 2);
      confirmFrom(node, 2, 2);
      node.setPeers([0, 1, 2, 5]);
      node.handleTimer('gc', 20 * S);
      expect(held(node)).toBe(true);
      confirmFrom(node, 5, 21 * S);
      node.handleTimer('gc', 22 * S);
      expect(held(node)).toBe(false);
    });

    it('forgets the confirmation of a peer that was removed and came back', () => {
      const node = deleted();
      confirmFrom(node, 1, 2);
      confirmFrom(node, 2, 2);
      node.setPeers([0, 1]);
      node.setPeers([0, 1, 2]);
      node.handleTimer('gc', 20 * S);
      expect(held(node)).toBe(true);
    });
  });
});

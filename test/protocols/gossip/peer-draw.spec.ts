/**
 * A node draws its gossip targets by index into its peer list. When the list is every id in order
 * (a simulated cluster's), the node skips reading it; the targets must be the same as reading it.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig } from '../../../src/protocols/gossip/presets.js';

const S = 1_000_000_000;

/** The targets of node `id`'s pushes over a few rounds, after one write. */
function targets(id: number, peers: readonly number[]): number[] {
  const n = new GossipNode({
    id,
    peers,
    rng: new Random('draws'),
    config: resolveConfig('demers-feedback-counter', { fanout: 3, phase: 'aligned' }),
  });
  n.start(0);
  n.put('k', 1, 0);
  const out: number[] = [];
  for (let round = 1; round <= 4; round++) {
    n.pollActions();
    n.handleTimer('gossip', round * S);
    for (const a of n.pollActions()) if (a.type === 'send') out.push(a.to);
  }
  return out;
}

describe('peer draws', () => {
  it('an index list (peers[i] = i) and a shifted list give the same draws, shifted', () => {
    const index = Array.from({ length: 50 }, (_, i) => i);
    const shifted = index.map((i) => i + 1000);
    const a = targets(7, index);
    const b = targets(1007, shifted);
    expect(a.length).toBe(12);
    expect(b).toEqual(a.map((t) => t + 1000));
    expect(a).not.toContain(7);
  });

  it('a list that is an index list but for one entry is read, not skipped', () => {
    const index = Array.from({ length: 50 }, (_, i) => i);
    const b = targets(7, index);
    const x = b[0] as number; // an entry that is drawn
    const almost = index.map((i) => (i === x ? 4900 : i));
    const a = targets(7, almost);
    // The same draws; wherever the index list gives x, the other list gives 4900.
    expect(a).toContain(4900);
    expect(a).toEqual(b.map((t) => (t === x ? 4900 : t)));
  });
});

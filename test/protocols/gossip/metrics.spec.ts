import { describe, expect, it } from 'vitest';
import { GossipMetrics } from '../../../src/protocols/gossip/metrics.js';
import type { Entry } from '../../../src/protocols/gossip/store.js';

const v = (ts: number, origin = 0): Entry => ({ key: 'k', value: ts, ts, origin, deleted: false });

describe('GossipMetrics', () => {
  it('t_ave, t_last and residue of one update; a newer version counts as having the older one', () => {
    const points: [number, number][] = [];
    const m = new GossipMetrics(4, { onInfection: (t, _k, f) => points.push([t, f]) });
    m.stored(0, v(10), 'local', 1000);
    m.stored(1, v(10), 'rumor', 3000);
    m.rumorReceived(2, v(10)); // reached by the rumor although it learns by anti-entropy first
    m.stored(2, v(10), 'anti_entropy', 2000);
    expect(m.converged).toBe(false);
    m.stored(3, v(20, 3), 'local', 6000); // node 3 writes a newer version: it has update 1 too
    const [u1, u2] = m.updates;
    expect(u1?.count).toBe(4);
    expect(u1?.maxDelayNs).toBe(5000);
    expect((u1?.sumDelayNs ?? 0) / 3).toBeCloseTo((2000 + 1000 + 5000) / 3);
    expect(m.complete(u1!)).toBe(true);
    expect(m.residue(u1!)).toBe(0); // 1 by rumor, 2 reached by a rumor too, 3 wrote a newer version itself
    expect(m.residue(u2!)).toBe(0.75);
    expect(m.complete(u2!)).toBe(false);
    expect(m.fraction('k')).toBe(0.25);
    m.flush();
    expect(points).toEqual([
      [1000, 0.25],
      [3000, 0.5],
      [2000, 0.75],
      [6000, 0.25],
    ]);
  });

  it('convergence: every live node holds the newest version; crashed nodes do not count; a wiped node must relearn', () => {
    const m = new GossipMetrics(3);
    m.stored(0, v(1), 'local', 0);
    m.stored(1, v(1), 'rumor', 10);
    expect(m.converged).toBe(false);
    m.nodeDown(2, 20);
    expect(m.converged).toBe(true);
    expect(m.lastConvergedNs).toBe(20);
    m.nodeUp(2, false, 30);
    expect(m.converged).toBe(false);
    m.stored(2, v(1), 'anti_entropy', 40);
    expect(m.converged).toBe(true);
    expect(m.lastConvergedNs).toBe(40);
    m.nodeDown(1, 50);
    m.nodeUp(1, true, 60); // kept its state: still holds it
    expect(m.converged).toBe(true);
    expect(m.lastConvergedNs).toBe(40);
  });
});

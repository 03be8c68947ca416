import { describe, expect, it } from 'vitest';
import { GossipMetrics } from '../../src/sim/gossip-metrics.js';
import type { Entry } from '../../src/protocols/gossip/store.js';

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

  it('a write wiped with its writer before anyone got it is lost: the older surviving version is the newest, and the cluster converges', () => {
    const m = new GossipMetrics(3);
    m.stored(1, v(1, 1), 'local', 0);
    m.stored(0, v(1, 1), 'rumor', 5);
    m.stored(2, v(1, 1), 'rumor', 5);
    m.stored(0, v(2, 0), 'local', 10); // newer write at node 0, which nobody else gets
    expect(m.newest('k')?.ts).toBe(2);
    m.nodeDown(0, 11);
    expect(m.converged).toBe(false); // node 0 may come back with its state and spread it
    expect(m.lost(m.updates[1]!)).toBe(false);
    m.nodeUp(0, false, 20); // wiped: version 2 is gone
    expect(m.lost(m.updates[1]!)).toBe(true);
    expect(m.newest('k')?.ts).toBe(1);
    expect(m.fraction('k')).toBeCloseTo(2 / 3);
    m.stored(0, v(1, 1), 'anti_entropy', 30);
    expect(m.converged).toBe(true);
    expect(m.lastConvergedNs).toBe(30);
    const s = m.summary();
    expect(s.lost).toBe(1);
    expect(s.tLastS).toBeCloseTo(25e-9); // node 0 got version 1 twice (5 and 30): the last ever reached
    expect(m.tAllNs(m.updates[0]!)).toBe(30);
  });

  it('t_last is known as soon as one node besides the writer has it; t_all only once every live node has, and again after a node returns without it', () => {
    const m = new GossipMetrics(4);
    m.stored(1, v(20, 1), 'local', 0); // a concurrent write with a higher version, at node 1
    m.stored(0, v(10, 0), 'local', 100); // node 1 already holds a newer version: it has this update from the start
    const u = m.updates[1]!;
    expect(u.how[1]).toBe(4);
    expect(m.tLastNs(u)).toBeNaN();
    m.stored(2, v(10, 0), 'rumor', 300);
    expect(m.tLastNs(u)).toBe(200);
    expect(m.tAllNs(u)).toBeNaN(); // node 3 lacks it
    m.stored(3, v(20, 1), 'rumor', 700); // the newer version supersedes it there
    expect(m.tLastNs(u)).toBe(600);
    expect(m.tAllNs(u)).toBe(600);
    expect(m.tAveNs(u)).toBe(400); // nodes 2 and 3; node 1 had it with no delay and is not an infection
    m.nodeDown(3, 800);
    m.nodeUp(3, false, 900);
    expect(m.tAllNs(u)).toBeNaN();
    expect(m.tLastNs(u)).toBe(600); // the last node ever reached
  });
});

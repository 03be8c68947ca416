/**
 * A SWIM group on the simulated network: failures are detected and learned by
 * every member, joins and leaves spread, a restarted member comes back with a
 * higher incarnation, and the same seed gives the same run.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { Network } from '../../src/net/network.js';
import { DEFAULT_SWIM_CONFIG, type SwimConfig } from '../../src/protocols/swim/config.js';
import type { SwimMessage } from '../../src/protocols/swim/wire.js';
import { SwimCluster } from '../../src/sim/swim-cluster.js';

const S = 1e9;

function group(n: number, extra = 0, config: Partial<SwimConfig> = {}, seed = 1): { sim: Simulator; cluster: SwimCluster } {
  const sim = new Simulator({ seed });
  const net = new Network<SwimMessage>(sim, { nodes: n + extra });
  const cluster = new SwimCluster(sim, net, { config: { ...DEFAULT_SWIM_CONFIG, ...config }, initial: Array.from({ length: n }, (_, i) => i) });
  cluster.start();
  return { sim, cluster };
}

describe('SwimCluster', () => {
  it('detects a crashed member within the round-robin bound, every member learns it is dead, and nobody live is declared dead', () => {
    const n = 20;
    const { sim, cluster } = group(n);
    sim.schedule(10 * S, () => cluster.crash(7), 0, 'crash');
    sim.run({ until: 60 * S });
    const [fail] = cluster.metrics.changes;
    expect(fail?.kind).toBe('fail');
    // Section 4.3: with round-robin probing every member is probed within 2n - 1 periods; detection ends the period.
    expect(fail?.detectedNs).toBeGreaterThan(10 * S);
    expect((fail?.detectedNs ?? Infinity) - 10 * S).toBeLessThanOrEqual((2 * n - 1 + 1) * S);
    // Then the suspicion timeout (4 periods at n = 20) and dissemination.
    expect(fail?.allKnowNs).toBeGreaterThan(fail?.detectedNs ?? Infinity);
    for (let id = 0; id < n; id++) if (id !== 7) expect(cluster.node(id).stateOfMember(7)).toBe('dead');
    expect(cluster.metrics.falsePositives).toBe(0);
    expect(cluster.metrics.falseSuspicions).toBe(0);
    expect(cluster.converged()).toBe(true);
  });

  it('a join and a leave reach every member, and the views agree', () => {
    const { sim, cluster } = group(10, 1);
    sim.schedule(5 * S, () => cluster.join(10), 0, 'join');
    sim.schedule(20 * S, () => cluster.leave(3), 0, 'leave');
    sim.run({ until: 40 * S });
    const [join, leave] = cluster.metrics.changes;
    expect(join).toMatchObject({ kind: 'join', node: 10 });
    expect(join?.allKnowNs).toBeGreaterThan(5 * S);
    expect(leave).toMatchObject({ kind: 'leave', node: 3 });
    expect(leave?.allKnowNs).toBeGreaterThan(20 * S);
    expect(cluster.node(10).view()).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10]);
    expect(cluster.node(0).stateOfMember(3)).toBe('left');
    expect(cluster.converged()).toBe(true);
  });

  it('a member restarted after it was declared dead rejoins with a higher incarnation', () => {
    const { sim, cluster } = group(10);
    sim.schedule(5 * S, () => cluster.crash(4), 0, 'crash');
    sim.schedule(30 * S, () => cluster.restart(4, false), 0, 'restart');
    sim.run({ until: 50 * S });
    expect(
      cluster
        .node(0)
        .members()
        .find((m) => m.node === 4),
    ).toEqual({ node: 4, state: 'alive', incarnation: 1 });
    expect(cluster.node(4).currentIncarnation).toBe(1);
    expect(cluster.converged()).toBe(true);
  });

  it('sends about two messages per member per period in a quiet group (a ping and an ack), whatever n', () => {
    for (const n of [10, 60]) {
      const { sim, cluster } = group(n, 0, { reconnectIntervalNs: 0, pushPullIntervalNs: 0 });
      sim.run({ until: 30 * S });
      const perMemberPeriod = cluster.totalSent().messages / (cluster.metrics.memberTimeNs(sim.now) / S);
      expect(perMemberPeriod).toBeGreaterThan(1.8);
      expect(perMemberPeriod).toBeLessThanOrEqual(2);
    }
  });

  it('gives the same run for the same seed, and another for another seed', () => {
    const log = (seed: number): string => {
      const { sim, cluster } = group(12, 0, {}, seed);
      const lines: string[] = [];
      cluster.host.traces.connect((e) => lines.push(`${e.timeNs} ${e.node} ${JSON.stringify(e.data)}`));
      sim.schedule(3 * S, () => cluster.crash(2), 0, 'crash');
      sim.run({ until: 30 * S });
      return lines.join('\n');
    };
    expect(log(5)).toBe(log(5));
    expect(log(5)).not.toBe(log(6));
  });
});

/**
 * Piggybacking SWIM's updates on the store's gossip, measured in the
 * simulator: a store cluster whose anti-entropy runs five times per SWIM
 * protocol period (every 200 ms, T = 1 s) takes a join at 10 s and a crash at
 * 30 s. For each of SEEDS seeds the same run is made with piggybacking on and
 * off, and the time for every live member to learn each change (SwimMetrics'
 * all-know time, in protocol periods) is compared. With piggybacking each
 * member has about seven messages per period to carry an update (five digests,
 * its ping and the acks it answers) instead of about two, so the retransmit
 * budget lambda * ceil(log10(n + 1)) is spent, and the change spread, in fewer
 * periods. The means are printed (they are the figures the README quotes).
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { Network } from '../../src/net/network.js';
import { DEFAULT_CONFIG } from '../../src/protocols/gossip/config.js';
import type { SwimStoreMessage } from '../../src/protocols/swim-store/node.js';
import { DEFAULT_SWIM_CONFIG } from '../../src/protocols/swim/config.js';
import { SwimStoreCluster } from '../../src/sim/swim-store-cluster.js';

const S = 1e9;
const T = S;
const N = 32;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const JOINER = N - 1;
const CRASHED = 5;

interface Outcome {
  /** All-know time of the join and of the crash, in periods. */
  readonly joinPeriods: number;
  readonly crashPeriods: number;
  /** Crash: from the first suspicion (detection) to every member holding it dead, in periods. */
  readonly crashSpreadPeriods: number;
  readonly carried: number;
  readonly swimMessages: number;
}

function run(seed: number, piggybackOnStore: boolean): Outcome {
  const sim = new Simulator({ seed });
  const net = new Network<SwimStoreMessage>(sim, { nodes: N, defaultLink: { latency: 2_000_000 } });
  const cluster = new SwimStoreCluster(sim, net, {
    swim: { ...DEFAULT_SWIM_CONFIG, probeIntervalNs: T },
    store: { ...DEFAULT_CONFIG, antiEntropyIntervalNs: 200_000_000 },
    initial: Array.from({ length: N - 1 }, (_, i) => i),
    seeds: [0],
    piggybackOnStore,
  });
  cluster.start();
  sim.schedule(1 * S, () => cluster.call(3, { op: 'put', key: 'k', value: 1 }), undefined, 'put');
  sim.schedule(10 * S, () => cluster.join(JOINER), undefined, 'join');
  sim.schedule(30 * S, () => cluster.crash(CRASHED), undefined, 'crash');
  sim.run({ until: 70 * S });
  const [join, crash] = cluster.membership.changes;
  if (join?.kind !== 'join' || crash?.kind !== 'fail') throw new Error('expected a join then a failure');
  if (join.allKnowNs < 0 || crash.allKnowNs < 0 || crash.detectedNs < 0) throw new Error(`seed ${seed}: a change did not reach every member`);
  const swim = cluster.swimTotals();
  return {
    joinPeriods: (join.allKnowNs - join.atNs) / T,
    crashPeriods: (crash.allKnowNs - crash.atNs) / T,
    crashSpreadPeriods: (crash.allKnowNs - crash.detectedNs) / T,
    carried: swim.carried,
    swimMessages: swim.messages,
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
};
/** Mean, median and min-max of a list, in periods. */
const stat = (xs: readonly number[]): string =>
  `mean ${mean(xs).toFixed(2)} median ${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;

describe('SWIM updates piggybacked on the store gossip', () => {
  it(`spread a join and a crash to every member in fewer periods (n = ${N}, seeds ${SEEDS.join(', ')})`, () => {
    const on = SEEDS.map((s) => run(s, true));
    const off = SEEDS.map((s) => run(s, false));
    const row = (label: string, xs: readonly Outcome[]): string =>
      `piggyback ${label} (n = ${N}, ${SEEDS.length} seeds), periods: join ${stat(xs.map((o) => o.joinPeriods))}; ` +
      `crash ${stat(xs.map((o) => o.crashPeriods))}; crash from detection ${stat(xs.map((o) => o.crashSpreadPeriods))}; ` +
      `updates on store messages ${mean(xs.map((o) => o.carried)).toFixed(0)}, SWIM messages ${mean(xs.map((o) => o.swimMessages)).toFixed(0)}`;
    console.log(`${row('on', on)}\n${row('off', off)}`);
    // Off, nothing rides on the store; on, updates do.
    expect(off.every((o) => o.carried === 0)).toBe(true);
    expect(on.every((o) => o.carried > 0)).toBe(true);
    // The means, and most seeds one by one.
    expect(mean(on.map((o) => o.joinPeriods))).toBeLessThan(mean(off.map((o) => o.joinPeriods)));
    expect(mean(on.map((o) => o.crashSpreadPeriods))).toBeLessThan(mean(off.map((o) => o.crashSpreadPeriods)));
    expect(mean(on.map((o) => o.crashPeriods))).toBeLessThan(mean(off.map((o) => o.crashPeriods)));
    const joinWins = SEEDS.filter((_, i) => (on[i] as Outcome).joinPeriods < (off[i] as Outcome).joinPeriods).length;
    expect(joinWins).toBeGreaterThanOrEqual(SEEDS.length - 2);
    const spreadWins = SEEDS.filter((_, i) => (on[i] as Outcome).crashSpreadPeriods < (off[i] as Outcome).crashSpreadPeriods).length;
    expect(spreadWins).toBeGreaterThanOrEqual(SEEDS.length - 2);
  });
});

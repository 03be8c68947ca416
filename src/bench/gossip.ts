/**
 * `desim bench gossip`: one update spread to n nodes by rumor mongering
 * (push, fanout 3, aligned 1 s rounds, feedback + counter k = 3, 1 ms links,
 * no loss), followed by one anti-entropy round of every node (all nodes send
 * their digest at t = 60 s; in-sync stores answer nothing). Every node is a
 * full {@link GossipNode} on the {@link SimHost} with its own random stream.
 * The simulator and network come from the scenario pipeline's builder
 * (`buildWorld`), the nodes from the gossip recipe's {@link GossipCluster}.
 */
import { GossipCluster } from '../sim/gossip-cluster.js';
import { resolveConfig } from '../protocols/gossip/presets.js';
import type { GossipMessage } from '../protocols/gossip/wire.js';
import { buildWorld, uniformNetwork } from '../scenarios/pipeline.js';

/** What {@link benchGossip} measured. */
export interface GossipBenchResult {
  readonly nodes: number;
  /** Wall time of setup + run (s): building nodes is part of the cost. */
  readonly wallS: number;
  /** Wall time of the run alone (s). */
  readonly runWallS: number;
  /** CPU time (user + system, all threads incl. GC helpers) of setup + run (s): less noisy than wall time on a shared machine. */
  readonly cpuS: number;
  readonly events: number;
  readonly eventsPerS: number;
  readonly peakRssMb: number;
  /** Simulated time until the last node had the update (s). */
  readonly tLastS: number;
  readonly residueFrac: number;
  readonly messages: number;
  readonly bytes: number;
  /** Digest messages of the anti-entropy round. */
  readonly digests: number;
}

/** The one line `desim bench gossip` prints. */
export function formatGossipBench(r: GossipBenchResult): string {
  return `gossip_${r.nodes >= 1000 && r.nodes % 1000 === 0 ? `${r.nodes / 1000}k` : r.nodes} wall_s=${r.wallS.toFixed(3)} events_per_s=${Math.round(r.eventsPerS)} peak_rss_mb=${Math.round(r.peakRssMb)}`;
}

/**
 * Runs the benchmark (the only place gossip code reads a wall clock).
 * @param rng `shared` (default: one random stream for all nodes, less memory and fewer cache misses) or `per-node`
 */
export function benchGossip(n = 100_000, seed = 1, rng: 'per-node' | 'shared' = 'shared'): GossipBenchResult {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const { sim, net } = buildWorld<GossipMessage>(seed, uniformNetwork(n, { latency_ms: 1 }), { initialCapacity: 4 * n, perLinkCounters: false });
  const config = resolveConfig('demers-feedback-counter', {
    fanout: 3,
    k: 3,
    antiEntropyIntervalNs: 60_000_000_000,
    antiEntropyPhase: 'aligned',
  });
  const cluster = new GossipCluster(sim, net, { config, rng });
  cluster.start();
  cluster.call(0, { op: 'put', key: 'bench', value: 1 });
  const t1 = process.hrtime.bigint();
  sim.run({ until: 61_000_000_000 });
  const t2 = process.hrtime.bigint();
  const cpu = process.cpuUsage(c0);
  const peakRss = Math.max(process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
  const s = cluster.metrics.summary();
  let messages = 0;
  let bytes = 0;
  let digests = 0;
  for (let i = 0; i < n; i++) {
    const c = cluster.node(i).sent;
    messages += c.messages;
    bytes += c.bytes;
    digests += c.digest;
  }
  const wallS = Number(t2 - t0) / 1e9;
  const runWallS = Number(t2 - t1) / 1e9;
  return {
    nodes: n,
    wallS,
    runWallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    events: sim.fired,
    eventsPerS: sim.fired / wallS,
    peakRssMb: peakRss / 2 ** 20,
    tLastS: s.tLastS,
    residueFrac: s.residueFrac,
    messages,
    bytes,
    digests,
  };
}

/**
 * `desim bench gossip`: one update spread to n nodes by rumor mongering
 * (push, fanout 3, aligned 1 s rounds, feedback + counter k = 3, 1 ms links,
 * no loss), followed by one anti-entropy round of every node (all nodes send
 * their digest at t = 60 s; in-sync stores answer nothing). Every node is a
 * full {@link GossipNode} on the {@link SimHost} with its own random stream.
 * The simulator and network come from the scenario pipeline's builder
 * (`buildWorld`), the nodes from the gossip recipe's {@link GossipCluster}.
 *
 * Events. `events` counts what the model handled: messages delivered and timers
 * fired, the events a simulator with one event per packet and per timer
 * fires. The kernel fires far fewer (`kernel_events`): sends to one instant
 * share an event, and so do timers due at one instant.
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
  /** Messages delivered plus timers fired. */
  readonly events: number;
  readonly eventsPerS: number;
  /** Events the kernel fired (batches and timer groups count one each). */
  readonly kernelEvents: number;
  readonly peakRssMb: number;
  /** Simulated time until the last node had the update (s). */
  readonly tLastS: number;
  readonly residueFrac: number;
  readonly messages: number;
  readonly bytes: number;
  /** Digest messages of the anti-entropy round. */
  readonly digests: number;
  /** Timers fired. */
  readonly timers: number;
}

/** Cluster sizes `desim bench gossip --nodes` accepts. */
export const MIN_GOSSIP_NODES = 10;
export const MAX_GOSSIP_NODES = 10_000_000;
/** Cluster sizes of `desim bench gossip --scaling`. */
export const GOSSIP_SCALING_NODES: readonly number[] = [10_000, 100_000, 1_000_000];

/** `gossip_100k`, `gossip_1000k`, `gossip_2500`: the benchmark's name for a cluster size. */
export function gossipBenchName(n: number): string {
  return `gossip_${n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n}`;
}

/** What `desim bench gossip --json` prints, one object per run (times in s, memory in MiB). */
export interface GossipBenchFields {
  readonly bench: string;
  readonly nodes: number;
  readonly events: number;
  readonly kernel_events: number;
  readonly wall_s: number;
  readonly events_per_s: number;
  readonly peak_rss_mb: number;
  readonly cpu_s: number;
}

export function gossipBenchFields(r: GossipBenchResult): GossipBenchFields {
  return {
    bench: gossipBenchName(r.nodes),
    nodes: r.nodes,
    events: r.events,
    kernel_events: r.kernelEvents,
    wall_s: r.wallS,
    events_per_s: Math.round(r.eventsPerS),
    peak_rss_mb: Math.round(r.peakRssMb),
    cpu_s: r.cpuS,
  };
}

/** The one line `desim bench gossip` prints. */
export function formatGossipBench(r: GossipBenchResult): string {
  const f = gossipBenchFields(r);
  return `${f.bench} wall_s=${f.wall_s.toFixed(3)} events_per_s=${f.events_per_s} peak_rss_mb=${f.peak_rss_mb} cpu_s=${f.cpu_s.toFixed(3)} kernel_events=${f.kernel_events}`;
}

/** Costs of one size of `desim bench gossip --scaling`: wall and CPU µs per node, CPU ns per event. */
export interface GossipScalingCosts {
  readonly wall_us_per_node: number;
  readonly cpu_us_per_node: number;
  readonly cpu_ns_per_event: number;
}

/** One line of `desim bench gossip --scaling`: the run's figures and what it cost per node and per event. */
export function formatGossipScaling(f: GossipBenchFields): { line: string; costs: GossipScalingCosts } {
  const costs = {
    wall_us_per_node: (f.wall_s * 1e6) / f.nodes,
    cpu_us_per_node: (f.cpu_s * 1e6) / f.nodes,
    cpu_ns_per_event: (f.cpu_s * 1e9) / f.events,
  };
  const line =
    `${f.bench} wall_s=${f.wall_s.toFixed(3)} events_per_s=${f.events_per_s} peak_rss_mb=${f.peak_rss_mb} cpu_s=${f.cpu_s.toFixed(3)} kernel_events=${f.kernel_events}` +
    ` wall_us_per_node=${costs.wall_us_per_node.toFixed(2)} cpu_us_per_node=${costs.cpu_us_per_node.toFixed(2)} cpu_ns_per_event=${Math.round(costs.cpu_ns_per_event)}`;
  return { line, costs };
}

/** Repetitions `desim bench gossip --scaling --reps` accepts. */
export const MAX_SCALING_REPS = 20;

/** How much more a node cost in the larger of two runs of one `--scaling` repetition than in the smaller. */
export interface GossipCostRatio {
  readonly rep: number;
  readonly larger: number;
  readonly smaller: number;
  /** `wall_us_per_node` of the larger run ÷ that of the smaller. */
  readonly wall_ratio: number;
  /** The same with `cpu_us_per_node`. */
  readonly cpu_ratio: number;
}

/**
 * The cost ratio of each size to the size before it, within one repetition of `--scaling` (runs
 * minutes apart on a shared machine differ by more than the ratio measures, so a ratio only ever
 * compares runs of one repetition, made one after the other).
 */
export function gossipCostRatios(rep: number, runs: readonly GossipBenchFields[]): GossipCostRatio[] {
  const out: GossipCostRatio[] = [];
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1] as GossipBenchFields;
    const b = runs[i] as GossipBenchFields;
    out.push({
      rep,
      larger: b.nodes,
      smaller: a.nodes,
      wall_ratio: b.wall_s / b.nodes / (a.wall_s / a.nodes),
      cpu_ratio: b.cpu_s / b.nodes / (a.cpu_s / a.nodes),
    });
  }
  return out;
}

/** The line `desim bench gossip --scaling` prints after each repetition, for each pair of sizes (naming the repetition when there are several). */
export function formatGossipCostRatio(r: GossipCostRatio, withRep: boolean): string {
  return `gossip_cost_ratio${withRep ? ` rep=${r.rep}` : ''} larger=${r.larger} smaller=${r.smaller} wall_ratio=${r.wall_ratio.toFixed(3)} cpu_ratio=${r.cpu_ratio.toFixed(3)}`;
}

/**
 * `desim bench gossip --scaling [--reps N]`: `reps` turns over `sizes`, each size run by `runSize`
 * (the CLI runs each in a fresh process). After each run it writes the run's line (or JSON object)
 * with its costs, after each turn one `gossip_cost_ratio` line per pair of consecutive sizes. With
 * several turns every line and object names its turn (`rep`); with one, none does.
 */
export function gossipScaling(
  reps: number,
  runSize: (nodes: number) => GossipBenchFields,
  json: boolean,
  write: (line: string) => void,
  sizes: readonly number[] = GOSSIP_SCALING_NODES,
): void {
  const tag = reps > 1;
  for (let rep = 1; rep <= reps; rep++) {
    const runs: GossipBenchFields[] = [];
    for (const n of sizes) {
      const f = runSize(n);
      runs.push(f);
      const { line, costs } = formatGossipScaling(f);
      if (json) write(JSON.stringify({ ...f, ...costs, ...(tag ? { rep } : {}) }));
      else write(line + (tag ? ` rep=${rep}` : ''));
    }
    for (const r of gossipCostRatios(rep, runs)) {
      if (json) {
        const { rep: turn, ...rest } = r;
        write(JSON.stringify({ bench: 'gossip_cost_ratio', ...(tag ? { rep: turn } : {}), ...rest }));
      } else write(formatGossipCostRatio(r, tag));
    }
  }
}

/**
 * Runs the benchmark (the only place gossip code reads a wall clock).
 * @param rng `shared` (default: one random stream for all nodes, less memory and fewer cache misses) or `per-node`
 */
export function benchGossip(n = 100_000, seed = 1, rng: 'per-node' | 'shared' = 'shared'): GossipBenchResult {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // At most about 2.4 n packets are in flight at once (measured at 10^4 to 10^6 nodes).
  const { sim, net } = buildWorld<GossipMessage>(seed, uniformNetwork(n, { latency_ms: 1 }), {
    initialCapacity: 4 * n,
    initialPackets: 3 * n,
    perLinkCounters: false,
  });
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
  const events = net.total.delivered + cluster.host.timersFired;
  const wallS = Number(t2 - t0) / 1e9;
  const runWallS = Number(t2 - t1) / 1e9;
  return {
    nodes: n,
    wallS,
    runWallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    events,
    eventsPerS: events / wallS,
    kernelEvents: sim.fired,
    peakRssMb: peakRss / 2 ** 20,
    tLastS: s.tLastS,
    residueFrac: s.residueFrac,
    messages,
    bytes,
    digests,
    timers: cluster.host.timersFired,
  };
}

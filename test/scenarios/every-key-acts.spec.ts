/**
 * Every key of a scenario file acts or is refused.
 *
 * The keys come from walking the JSON Schema of scenario files, so a new key
 * is covered as soon as it exists: the first test fails until a base scenario
 * below holds it. For each protocol family (gossip, tcp, module) and each key
 * of its reach (the common top level, network, faults and outputs, plus its own
 * protocol section and workload entries), the first base of that family that
 * holds the key is run as it is, then with the key set to each value derived
 * from the schema (the other choices of an enum or of a union, the other
 * boolean, a number doubled or halved within its range, 0 made nonzero) or,
 * where the schema cannot say (names, node lists, objects), from the HINTS
 * table. Each changed scenario must either be refused by validation with a
 * problem at the key's path (or at a section that holds it, e.g. `network`
 * when a protocol takes no network), or run (in-process, into a temporary
 * folder) to outputs that differ from the base run's: the set of files, or
 * the bytes of any file, with meta.json compared without the fields that
 * merely record the scenario (`scenario`, `scenario_hash`, `scenario_file`)
 * and without the one-line `headline`, which may echo a setting.
 *
 * A key whose effect needs a particular setting of another key (what a
 * pulled node serves needs nodes that pull; `forward_probability` needs
 * `stop: once`) is tried in a base of its own, commented in BASES. The one
 * key that documents rather than configures (`description`) is checked where
 * it lands, in meta.json's resolved scenario (DOCUMENTATION_KEYS). A fault
 * key on an entry whose verb has no use for it is tried too (the last tests).
 *
 * Nothing here knows which family takes which section: TCP bases with a
 * network and faults run their flows on it, and the same keys are expected to
 * act there as for gossip and modules.
 *
 * Bases are tiny (a few nodes, a few simulated seconds) and plots are off
 * except for the `outputs.plots` case, so the whole file runs in seconds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Issue, ProtocolDriver } from '../../src/scenarios/driver.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { moduleDriver, type UserProtocolModule } from '../../src/scenarios/drivers/module.js';
import { checkScenario } from '../../src/scenarios/loader.js';
import { formatPath, type PathSegment } from '../../src/scenarios/overrides.js';
import { runScenario } from '../../src/scenarios/runner.js';
import { scenarioJsonSchema } from '../../src/scenarios/schema.js';
import type { JsonNode } from './schema-walk.js';

/**
 * A user module for the `module` family. Each node pings a random peer every
 * 100 ms and on each call; a ping is answered. Every delivery is logged, and
 * the module's metrics report a hash of that log, so whatever the network does
 * to a message (delay, loss, duplication, a fault) shows in summary.csv, as
 * it would for any module that measures itself. `options.size_bytes` sizes
 * the messages.
 */
function echoModule(reply: string): UserProtocolModule {
  const logOf = (shared: Map<string, unknown>): string[] => {
    let log = shared.get('log') as string[] | undefined;
    if (log === undefined) shared.set('log', (log = []));
    return log;
  };
  return {
    createNode(id, ctx) {
      const out: ({ type: 'send'; to: number; msg: unknown; sizeBytes: number } | { type: 'set-timer'; timer: string; atNs: number })[] = [];
      const size = typeof ctx.options['size_bytes'] === 'number' ? ctx.options['size_bytes'] : 64;
      const log = logOf(ctx.shared);
      // State, so that a restart without it shows: the number of messages this instance received.
      let received = 0;
      const peer = (): number => ctx.peers[Math.floor(ctx.rng.uniform() * ctx.peers.length)] as number;
      return {
        start(now) {
          out.push({ type: 'set-timer', timer: 'tick', atNs: now + 100_000_000 });
        },
        handleMessage(from, msg, now) {
          log.push(`${now} ${from}>${id} ${String(msg)} #${++received}`);
          if (msg === 'ping') out.push({ type: 'send', to: from, msg: reply, sizeBytes: size });
        },
        handleTimer(_timer, now) {
          out.push({ type: 'send', to: peer(), msg: 'ping', sizeBytes: size });
          out.push({ type: 'set-timer', timer: 'tick', atNs: now + 100_000_000 });
        },
        handleCall(call) {
          out.push({ type: 'send', to: peer(), msg: 'ping', sizeBytes: size });
          return { id, call };
        },
        pollActions() {
          return out.splice(0);
        },
      };
    },
    metrics(view) {
      let h = 2166136261;
      for (const line of logOf(view.shared)) for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 16777619) >>> 0;
      return { deliveries: logOf(view.shared).length, delivery_log_hash: h };
    },
  };
}
const MODULES = new Map<string, UserProtocolModule>([
  ['./echo.js', echoModule('pong')],
  ['./echo-other.js', echoModule('pong-other')],
]);
const drivers: ProtocolDriver[] = BUILTIN_DRIVERS.map((d) => (d.name === 'module' ? (moduleDriver(MODULES) as ProtocolDriver) : d));

type Family = 'gossip' | 'tcp' | 'module' | 'swim';
type Raw = Record<string, unknown>;

// ---------------------------------------------------------------- base scenarios

const NODES = ['A', 'B', 'C', 'D', 'E', 'F'];
const ge = { model: 'gilbert-elliott', p_good_to_bad: 0.2, p_bad_to_good: 0.3, loss_good: 0.01, loss_bad: 0.5 };
const dists = [
  { dist: 'constant', ms: 2 },
  { dist: 'uniform', min_ms: 1, max_ms: 3 },
  { dist: 'exponential', mean_ms: 2 },
  { dist: 'normal', mean_ms: 2, sd_ms: 1 },
  { dist: 'lognormal', mu: 0.5, sigma: 0.3 },
  { dist: 'pareto', scale_ms: 1, shape: 2 },
];

/** A network that holds every link key: a default link and overrides with each latency distribution and Gilbert-Elliott loss. */
const NETWORK = {
  nodes: NODES,
  link: { latency_ms: 5, jitter_ms: 1, loss: 0.05, duplicate: 0.05, bandwidth_bps: 1e6, queue_packets: 50, queue_bytes: 100_000 },
  links: [
    // A slow, lossy, short-queued one-way link A -> B: its queue limits bind when A sends a burst.
    {
      from: 'A',
      to: 'B',
      both_ways: false,
      latency_ms: 20,
      jitter_ms: 2,
      loss: 0.1,
      duplicate: 0.1,
      bandwidth_bps: 20_000,
      queue_packets: 3,
      queue_bytes: 3000,
    },
    ...dists.map((d, i) => ({ from: NODES[(i + 1) % 6], to: NODES[(i + 2) % 6], latency_ms: d })),
    { from: 'C', to: 'A', loss: ge },
  ],
};

/** Faults that hold every verb and key; two partitions and two holds, so `all` differs from one name. */
const FAULTS = [
  { at_s: 0.5, partition: [['A'], ['B', 'C']], name: 'p', one_way: false },
  { at_s: 0.6, partition: [['D'], ['E']], name: 'q' },
  { at_s: 1.5, repair: 'p' },
  { at_s: 1.6, hold: [['A'], ['B']], name: 'h', one_way: false },
  { at_s: 1.6, hold: [['D'], ['F']], name: 'h2' },
  { at_s: 1.9, release: 'h' },
  { at_s: 2.0, crash: 'C' },
  { at_s: 2.5, restart: 'C', keep_state: true },
  { at_s: 2.6, set_latency_ms: 30, between: ['A', 'B'], one_way: false },
  { at_s: 2.7, set_loss: 0.5, between: ['A', 'C'], one_way: false },
  // Each distribution on a pair of its own that carries traffic to the end of the run (D-E stays cut, D-F held).
  ...dists.map((d, i) => ({
    at_s: 2.8 + i / 10,
    set_latency_ms: d,
    between: [
      ['B', 'D'],
      ['C', 'E'],
      ['B', 'F'],
      ['E', 'A'],
      ['F', 'C'],
      ['A', 'D'],
    ][i],
  })),
  { at_s: 3.5, set_loss: ge, between: ['B', 'C'], one_way: true },
];

/** Networks whose default link has each latency distribution (or Gilbert-Elliott loss). */
/** Regions by fractions (with a loss per pair) and by first indices (one loss for every pair): A in one region, B and C in the other. */
const regionNetworks = [
  {
    nodes: ['A', 'B', 'C'],
    regions: {
      fractions: [0.34, 0.66],
      latency_ms: [
        [1, 8],
        [12, 3],
      ],
      loss: [
        [0, 0.2],
        [0.1, 0],
      ],
    },
  },
  {
    nodes: ['A', 'B', 'C'],
    regions: {
      first: [0, 1],
      latency_ms: [
        [1, 8],
        [12, 3],
      ],
    },
  },
];
const linkNetworks = [
  ...dists.map((d, i) => ({ nodes: ['A', 'B', 'C'], link: { latency_ms: d, ...(i === 0 ? { loss: ge } : {}) } })),
  ...regionNetworks,
];

const OUTPUTS = { traces: 'all', plots: false };

/** Writes of many keys with long values, so that messages grow past the smallest MTU and digests differ. */
const manyPuts = Array.from({ length: 12 }, (_, i) => ({
  at_s: 0.1 + i / 100,
  node: NODES[i % 6],
  op: 'put',
  key: `key${i}`,
  value: 'x'.repeat(80),
}));
/** A write every 0.25 s from each node in turn, so that there is traffic on every link until the end of the run. */
const steadyPuts = (durationS: number, nodes: readonly string[]): Raw[] =>
  Array.from({ length: Math.floor(durationS / 0.25) - 1 }, (_, i) => ({
    at_s: 0.25 * (i + 1) + 0.01,
    node: nodes[i % nodes.length],
    op: 'put',
    key: `s${i % 4}`,
    value: i,
  }));

const gossipSection = {
  mode: 'push',
  timing: 'rounds',
  fanout: 2,
  interval_s: 0.2,
  phase: 'random',
  feedback: 'feedback',
  stop: 'counter',
  k: 2,
  counter_reset: true,
  connection_limit: 'none',
  regossip_anti_entropy: false,
  anti_entropy: { interval_s: 1, phase: 'random' },
  clock: { max_offset_ms: 5, max_drift_ppm: 50, nodes: [{ node: 'B', offset_ms: -3, drift_ppm: 20 }] },
};

const gossipWorkload = [
  { at_s: 0.2, node: 'A', op: 'put', key: 'k', value: 1.5 },
  { at_s: 0.3, node: 'B', op: 'put', key: 'j', value: 'v' },
  { at_s: 1.2, node: 'B', op: 'delete', key: 'k' },
  { at_s: 3, node: 'C', op: 'get', key: 'j' },
  { at_s: 3.1, node: 'D', op: 'get', key: 'k' },
];

const tcpSection = {
  bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 20, loss: 0.01, jitter_ms: 1 },
  return_path: { delay_ms: 10, loss: 0.01, jitter_ms: 0.5 },
  mss_bytes: 1000,
  header_bytes: 40,
  initial_window: 3,
  min_rto_s: 0.2,
  delayed_ack: true,
  delayed_ack_ms: 40,
  // Both flows use SACK (a flow's own sack is tried in the Gilbert-Elliott base, whose one flow loses bursts).
  sack: true,
  limited_transmit: true,
  prr: true,
  // Off here: with RACK on, both recoveries of this short run start on the first SACK (RACK's reordering
  // window is shorter than the gap after the lost segment), leaving limited transmit nothing to do.
  rack: false,
  flows: [
    // f0 completes (its size acts); f1 sends until the end.
    { variant: 'reno', name: 'f0', start_s: 0, extra_rtt_ms: 5, bytes: 50_000 },
    { variant: 'newreno', name: 'f1', start_s: 0.5, extra_rtt_ms: 0, bytes: 'unlimited' },
  ],
};

/** TCP on a network: the dumbbell's keys do not apply; flows on every pair that NETWORK or FAULTS touch (the 1 Mbps links bound them). */
const TCP_PAIRS = [
  ['A', 'B'],
  ['B', 'C'],
  ['C', 'D'],
  ['D', 'E'],
  ['E', 'F'],
  ['F', 'A'],
  ['C', 'A'],
  ['D', 'F'],
  ['B', 'D'],
  ['C', 'E'],
  ['B', 'F'],
  ['E', 'A'],
  ['F', 'C'],
  ['A', 'D'],
  ['A', 'C'],
];
const tcpNetSection = {
  mss_bytes: 1000,
  header_bytes: 40,
  initial_window: 3,
  min_rto_s: 0.2,
  delayed_ack: true,
  delayed_ack_ms: 40,
  // Unlimited flows both ways on each pair, so every link carries traffic to the end and one-way faults show.
  flows: TCP_PAIRS.flatMap((p) => [p, [p[1], p[0]]]).map(([from, to], i) => ({
    variant: (['reno', 'newreno', 'tahoe'] as const)[i % 3],
    name: `n${i}`,
    start_s: i / 50,
    bytes: 'unlimited',
    from,
    to,
  })),
};

const moduleWorkload = [
  { at_s: 0.1, node: 'A', call: { op: 'ping' } },
  { at_s: 0.5, node: 'B', call: 7 },
  { at_s: 2.2, node: 'C', call: 'x' },
];

interface Base {
  readonly family: Family;
  readonly label: string;
  readonly raw: Raw;
}

const common = (name: string, duration: number): Raw => ({
  name,
  description: 'a base of the every-key test',
  seed: 3,
  duration_s: duration,
  outputs: OUTPUTS,
});

/**
 * The bases, in order: a key is tried in the first base of its family that
 * holds it. Some keys act only in a base of their own (commented where given).
 */
const BASES: Base[] = [
  // gossip: every gossip key set explicitly (so each one, not the preset, decides), the full network and faults.
  {
    family: 'gossip',
    label: 'gossip',
    raw: {
      ...common('keys-gossip', 6),
      network: NETWORK,
      protocol: { gossip: gossipSection },
      workload: [...gossipWorkload, ...steadyPuts(6, NODES)],
      faults: FAULTS,
    },
  },
  // `round_semantics` decides what a pulled node serves: it acts only when nodes pull (`mode: push-pull` or `pull`).
  {
    family: 'gossip',
    label: 'gossip-pull',
    raw: {
      ...common('keys-gossip-pull', 4),
      network: { nodes: NODES, link: { latency_ms: 5, loss: 0.1 } },
      protocol: { gossip: { mode: 'push-pull', interval_s: 0.2, round_semantics: 'synchronous' } },
      workload: steadyPuts(4, NODES),
    },
  },
  // Anti-entropy repairs what rumors missed: heavy loss and rumors that die at once (k: 1) leave it work, many long values
  // make its messages grow past the smallest MTU, and a delete gives it a tombstone to collect.
  {
    family: 'gossip',
    label: 'gossip-anti-entropy',
    raw: {
      ...common('keys-gossip-anti-entropy', 4),
      network: { nodes: NODES, link: { latency_ms: 5, loss: 0.3 } },
      protocol: { gossip: { k: 1, tombstone_gc_s: 0.5, anti_entropy: { interval_s: 0.3, mode: 'push-pull', mtu_bytes: 1400, digest_buckets: 64 } } },
      workload: [...manyPuts, { at_s: 0.5, node: 'A', op: 'delete', key: 'key1' }],
    },
  },
  // Clocks: `kind` decides between two writes of one key when the later writer's clock is a second behind;
  // `max_ahead_ms` binds when a writer's clock is ahead of the others' by more than it.
  {
    family: 'gossip',
    label: 'gossip-clock',
    raw: {
      ...common('keys-gossip-clock', 3),
      network: { nodes: ['A', 'B', 'C', 'D'] },
      protocol: {
        gossip: {
          interval_s: 0.1,
          clock: {
            kind: 'hlc',
            max_ahead_ms: 500,
            nodes: [
              { node: 'A', offset_ms: 300 },
              { node: 'B', offset_ms: -1000 },
            ],
          },
        },
      },
      workload: [
        { at_s: 0.2, node: 'A', op: 'put', key: 'k', value: 'from A' },
        { at_s: 1, node: 'B', op: 'put', key: 'k', value: 'from B' },
        { at_s: 2, node: 'C', op: 'get', key: 'k' },
      ],
    },
  },
  // `rumor_budget` binds when a node's hot rumors need more messages than it allows: twelve long values written at one node.
  {
    family: 'gossip',
    label: 'gossip-budget',
    raw: {
      ...common('keys-gossip-budget', 3),
      network: { nodes: NODES },
      protocol: { gossip: { interval_s: 0.2, rumor_budget: 'none' } },
      workload: Array.from({ length: 12 }, (_, i) => ({ at_s: 0.1 + i / 1000, node: 'A', op: 'put', key: `b${i}`, value: 'x'.repeat(400) })),
    },
  },
  // `wrong_key`: C's datagrams are refused by A and B and theirs by C, so C's write stays on C and A's never reaches it.
  {
    family: 'gossip',
    label: 'gossip-wrong-key',
    raw: {
      ...common('keys-gossip-wrong-key', 3),
      network: { nodes: ['A', 'B', 'C'] },
      protocol: { gossip: { interval_s: 0.2, wrong_key: ['C'] } },
      workload: [
        { at_s: 0.1, node: 'A', op: 'put', key: 'a', value: 'from A' },
        { at_s: 0.2, node: 'C', op: 'put', key: 'c', value: 'from C' },
        { at_s: 2, node: 'B', op: 'get', key: 'c' },
        { at_s: 2, node: 'C', op: 'get', key: 'a' },
      ],
    },
  },
  // `preset` decides only the keys a file leaves out.
  {
    family: 'gossip',
    label: 'gossip-preset',
    raw: {
      ...common('keys-gossip-preset', 4),
      network: { nodes: NODES },
      protocol: { gossip: { preset: 'default' } },
      workload: gossipWorkload.slice(0, 2),
    },
  },
  // `forward_probability` is the forwarding chance of `stop: once`, and acts only there.
  {
    family: 'gossip',
    label: 'gossip-once',
    raw: {
      ...common('keys-gossip-once', 4),
      network: { nodes: NODES },
      protocol: { gossip: { stop: 'once', forward_probability: 0.5 } },
      workload: gossipWorkload.slice(0, 2),
    },
  },
  ...linkNetworks.map((network, i) => ({
    family: 'gossip' as const,
    label: `gossip-link-${i}`,
    raw: { ...common(`keys-gossip-link-${i}`, 3), network, protocol: { gossip: { interval_s: 0.2 } }, workload: steadyPuts(3, ['A', 'B', 'C']) },
  })),

  { family: 'tcp', label: 'tcp', raw: { ...common('keys-tcp', 2), protocol: { tcp: tcpSection } } },
  // The path settings: an ACK path slower than the ACKs (its queue overflows), a receive window, an initial ssthresh, Linux's recovery exit.
  {
    family: 'tcp',
    label: 'tcp-path',
    raw: {
      ...common('keys-tcp-path', 3),
      protocol: {
        tcp: {
          bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 20, loss: 0.02 },
          return_path: { delay_ms: 10, bandwidth_bps: 20_000, queue_packets: 4 },
          mss_bytes: 1000,
          initial_ssthresh_pkts: 4,
          rwnd_bytes: 8000,
          recovery_exit: 'linux',
          flows: [
            { variant: 'reno', name: 'p0' },
            { variant: 'newreno', name: 'p1', start_s: 0.3, initial_ssthresh_pkts: 6, rwnd_bytes: 3000 },
          ],
        },
      },
    },
  },
  // Gilbert-Elliott loss on both paths (the flow's own RACK-TLP off: its bursts are where RACK acts).
  {
    family: 'tcp',
    label: 'tcp-gilbert-elliott',
    raw: {
      ...common('keys-tcp-gilbert-elliott', 2),
      protocol: {
        tcp: { bottleneck: { bandwidth_bps: 2e6, loss: ge }, return_path: { loss: ge }, flows: [{ variant: 'reno', sack: true, rack: false }] },
      },
    },
  },
  // Queue disciplines on the bottleneck: RED marking ECN for ECN flows (every RED key, and the ECN keys), and CoDel dropping.
  {
    family: 'tcp',
    label: 'tcp-red',
    raw: {
      ...common('keys-tcp-red', 3),
      protocol: {
        tcp: {
          bottleneck: {
            bandwidth_bps: 2e6,
            delay_ms: 10,
            queue_packets: 60,
            aqm: { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, gentle: true, mean_packet_bytes: 500, ecn: true },
          },
          return_path: { delay_ms: 10 },
          // Idle gaps (slow start, then a pause between the flows) make RED's idle-time rule act.
          flows: [
            { variant: 'reno', ecn: true, bytes: 40_000 },
            { variant: 'newreno', start_s: 0.8, ecn: false },
          ],
        },
      },
    },
  },
  {
    family: 'tcp',
    label: 'tcp-codel',
    raw: {
      ...common('keys-tcp-codel', 3),
      protocol: {
        tcp: {
          bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 60, aqm: { kind: 'codel', target_ms: 6, interval_ms: 20, ecn: false } },
          return_path: { delay_ms: 10 },
          flows: [{ variant: 'reno' }, { variant: 'newreno', start_s: 0.3 }],
        },
      },
    },
  },
  // Drop-tail through the measured queue.
  {
    family: 'tcp',
    label: 'tcp-droptail',
    raw: {
      ...common('keys-tcp-droptail', 2),
      protocol: {
        tcp: { bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 30, aqm: { kind: 'droptail' } }, flows: [{ variant: 'reno' }] },
      },
    },
  },
  // `preset` fills the keys a file leaves out.
  { family: 'tcp', label: 'tcp-preset', raw: { ...common('keys-tcp-preset', 2), protocol: { tcp: { preset: 'original' } } } },
  // TCP on the shared network with its faults: a flow on every pair a link key or a fault touches, so each one shows.
  {
    family: 'tcp',
    label: 'tcp-network',
    raw: { ...common('keys-tcp-network', 6), network: NETWORK, protocol: { tcp: tcpNetSection }, faults: FAULTS },
  },
  // Queue disciplines on the links of a network, each kind on the default link and on a pair, for ECN flows.
  {
    family: 'tcp',
    label: 'tcp-network-aqm',
    raw: {
      ...common('keys-tcp-network-aqm', 3),
      network: {
        nodes: ['A', 'B', 'C'],
        link: {
          latency_ms: 10,
          bandwidth_bps: 2e6,
          queue_packets: 60,
          aqm: { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, gentle: true, mean_packet_bytes: 500, ecn: true },
        },
        links: [
          { from: 'A', to: 'C', both_ways: false, aqm: { kind: 'codel', target_ms: 6, interval_ms: 20, ecn: true } },
          {
            from: 'C',
            to: 'B',
            both_ways: false,
            aqm: { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, gentle: true, mean_packet_bytes: 500, ecn: true },
          },
          { from: 'B', to: 'A', both_ways: false, aqm: { kind: 'droptail' } },
        ],
      },
      protocol: {
        tcp: {
          ecn: true,
          flows: [
            { variant: 'reno', from: 'A', to: 'B', bytes: 40_000 },
            { variant: 'reno', from: 'A', to: 'B', start_s: 0.8 },
            { variant: 'reno', from: 'A', to: 'C' },
            { variant: 'reno', from: 'C', to: 'B', start_s: 0.8 },
            { variant: 'reno', from: 'B', to: 'A', start_s: 0.2 },
          ],
        },
      },
    },
  },
  {
    family: 'tcp',
    label: 'tcp-network-codel',
    raw: {
      ...common('keys-tcp-network-codel', 3),
      network: {
        nodes: ['A', 'B', 'C'],
        link: { latency_ms: 10, bandwidth_bps: 2e6, queue_packets: 60, aqm: { kind: 'codel', target_ms: 6, interval_ms: 20, ecn: false } },
        links: [{ from: 'A', to: 'C', aqm: { kind: 'droptail' } }],
      },
      protocol: {
        tcp: {
          flows: [
            { variant: 'reno', from: 'A', to: 'B' },
            { variant: 'reno', from: 'A', to: 'C' },
            { variant: 'reno', from: 'B', to: 'A', start_s: 0.2 },
          ],
        },
      },
    },
  },
  {
    family: 'tcp',
    label: 'tcp-network-droptail',
    raw: {
      ...common('keys-tcp-network-droptail', 2),
      network: { nodes: ['A', 'B'], link: { latency_ms: 10, bandwidth_bps: 2e6, queue_packets: 20, aqm: { kind: 'droptail' } } },
      protocol: { tcp: { flows: [{ variant: 'reno', from: 'A', to: 'B' }] } },
    },
  },
  ...linkNetworks.map((network, i) => ({
    family: 'tcp' as const,
    label: `tcp-link-${i}`,
    raw: {
      ...common(`keys-tcp-link-${i}`, 2),
      network,
      protocol: {
        tcp: {
          flows: [
            { variant: 'reno', from: 'A', to: 'B', bytes: 200_000 },
            { variant: 'reno', from: 'B', to: 'C', bytes: 200_000 },
          ],
        },
      },
    },
  })),

  {
    family: 'module',
    label: 'module',
    raw: {
      ...common('keys-module', 6),
      network: NETWORK,
      protocol: { module: { path: './echo.js', options: {} } },
      workload: moduleWorkload,
      faults: FAULTS,
    },
  },
  ...linkNetworks.map((network, i) => ({
    family: 'module' as const,
    label: `module-link-${i}`,
    raw: { ...common(`keys-module-link-${i}`, 3), network, protocol: { module: { path: './echo.js' } }, workload: moduleWorkload.slice(0, 2) },
  })),
  // swim: every swim key set (Lifeguard on, so its two multipliers act), a join and a leave, churn that crashes and brings in nodes.
  {
    family: 'swim',
    label: 'swim',
    raw: {
      ...common('keys-swim', 20),
      network: { nodes: NODES, link: { latency_ms: 5, jitter_ms: 20, loss: 0.1 } },
      protocol: {
        swim: {
          interval_s: 0.5,
          probe_timeout_s: 0.05,
          indirect_checks: 2,
          retransmit_mult: 2,
          max_piggyback: 1,
          suspicion: true,
          suspicion_mult: 3,
          lifeguard: true,
          suspicion_max_timeout_mult: 1,
          awareness_max_multiplier: 2,
          reconnect_interval_s: 2,
          push_pull_interval_s: 3,
          phase: 'random',
          initial: 4,
          seeds: ['A', 'C'],
          churn: { from_s: 4, to_s: 14, joins_per_second: 0.3, failures_per_second: 0.3 },
        },
      },
      workload: [
        { at_s: 1, node: 'E', op: 'join' },
        { at_s: 2, node: 'B', op: 'leave' },
      ],
    },
  },
  // swim beside gossip: `piggyback_on_store` acts only there (refused in the plain swim base). The store's
  // anti-entropy runs twice per SWIM period, so its messages carry SWIM's updates of the join and the leave.
  {
    family: 'swim',
    label: 'swim-store',
    raw: {
      ...common('keys-swim-store', 20),
      network: { nodes: NODES, link: { latency_ms: 5, jitter_ms: 20, loss: 0.1 } },
      protocol: { gossip: { anti_entropy: { interval_s: 0.5 } }, swim: { piggyback_on_store: true } },
      workload: [
        { at_s: 1, node: 'E', op: 'join' },
        { at_s: 2, node: 'B', op: 'leave' },
      ],
    },
  },
];

// ---------------------------------------------------------------- the schema's keys

/** Every key of the schema as a pattern (`network.links[].latency_ms{dist=normal}.sd_ms`), with its schema nodes. */
function schemaKeys(node: JsonNode, tags: Set<string>, prefix = '', out = new Map<string, JsonNode[]>()): Map<string, JsonNode[]> {
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) schemaKeys(alt, tags, prefix, out);
  if (node.items !== undefined && !Array.isArray(node.items)) schemaKeys(node.items, tags, `${prefix}[]`, out);
  if (node.properties !== undefined) {
    const tag = Object.entries(node.properties).find(([k, v]) => v.const !== undefined && (node.required ?? []).includes(k));
    if (tag !== undefined) tags.add(tag[0]);
    const here = tag !== undefined ? `${prefix}{${tag[0]}=${String(tag[1].const)}}` : prefix;
    for (const [k, v] of Object.entries(node.properties)) {
      const p = here === '' ? k : `${here}.${k}`;
      out.set(p, [...(out.get(p) ?? []), v]);
      schemaKeys(v, tags, p, out);
    }
  }
  return out;
}

const tags = new Set<string>();
const SCHEMA = schemaKeys(scenarioJsonSchema(drivers), tags);
/** Keys whose value is set through keys below them (objects, lists of objects): they act when their keys act. */
const containers = new Set(
  [...SCHEMA.keys()].filter((p) => [...SCHEMA.keys()].some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[]`) || q.startsWith(`${p}{`))),
);
const leaves = [...SCHEMA.keys()].filter((p) => !containers.has(p));

/** Which families a key belongs to: its own protocol's section and workload entries, or all of them. */
function familiesOf(pattern: string): Family[] {
  if (pattern.startsWith('protocol.swim.') || /^workload\[\]\{op=(join|leave)\}/.test(pattern)) return ['swim'];
  if (pattern.startsWith('protocol.gossip.') || pattern.startsWith('workload[]{op=')) return ['gossip'];
  if (pattern.startsWith('protocol.tcp.')) return ['tcp'];
  if (pattern.startsWith('protocol.module.') || pattern.startsWith('workload[].')) return ['module'];
  // A queue discipline is refused without TCP flows (the loader says so): its keys are TCP's.
  if (/^network\.links?(\[\])?\.aqm/.test(pattern)) return ['tcp'];
  return ['gossip', 'tcp', 'module'];
}

/** Every key in a base: its path and pattern, in the same form as {@link schemaKeys}. */
function baseKeys(v: unknown, path: PathSegment[] = [], pattern = '', out: { path: PathSegment[]; pattern: string }[] = []) {
  if (Array.isArray(v)) {
    if (pattern === '' || containers.has(pattern)) v.forEach((x, i) => baseKeys(x, [...path, i], `${pattern}[]`, out));
  } else if (v !== null && typeof v === 'object') {
    const o = v as Raw;
    // A tag only where the schema has a union picked by it (`kind` picks a queue discipline, not a clock).
    const tag = Object.keys(o).find((k) => tags.has(k) && typeof o[k] === 'string' && SCHEMA.has(`${pattern}{${k}=${String(o[k])}}.${k}`));
    const here = tag !== undefined ? `${pattern}{${tag}=${String(o[tag])}}` : pattern;
    for (const [k, x] of Object.entries(o)) {
      const p = here === '' ? k : `${here}.${k}`;
      out.push({ path: [...path, k], pattern: p });
      // A value the schema leaves free (a call, the module's options) has no keys of its own.
      if (containers.has(p)) baseKeys(x, [...path, k], p, out);
    }
  }
  return out;
}

// ---------------------------------------------------------------- values to try

const REMOVE = Symbol('remove');
type Change = { readonly path: readonly PathSegment[]; readonly value: unknown };

function getAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let v = raw;
  for (const s of path) v = (v as Record<PathSegment, unknown>)[s];
  return v;
}

function applyChanges(raw: Raw, changes: readonly Change[]): Raw {
  const out = structuredClone(raw);
  for (const c of changes) {
    const parent = getAt(out, c.path.slice(0, -1)) as Record<PathSegment, unknown>;
    const last = c.path[c.path.length - 1] as PathSegment;
    if (c.value === REMOVE) delete parent[last];
    else parent[last] = structuredClone(c.value);
  }
  return out;
}

/** Another node of the base's network than `n` (the next one in the list). */
function otherNode(raw: Raw, n: string): string {
  const nodes = (raw['network'] as { nodes?: string[] } | undefined)?.nodes ?? NODES;
  return nodes[(nodes.indexOf(n) + 1) % nodes.length] as string;
}

/** A node of the base's network that is neither end of the flow at `path` (a `from` or `to` key). */
function freeNode(raw: Raw, path: readonly PathSegment[]): string {
  const flow = getAt(raw, path.slice(0, -1)) as { from?: string; to?: string };
  const nodes = (raw['network'] as { nodes?: string[] } | undefined)?.nodes ?? NODES;
  return nodes.find((n) => n !== flow.from && n !== flow.to) as string;
}

/** A distribution of another kind, in the same few milliseconds. */
const OTHER_DIST: Record<string, unknown> = {
  constant: { dist: 'exponential', mean_ms: 2 },
  uniform: { dist: 'constant', ms: 2 },
  exponential: { dist: 'uniform', min_ms: 1, max_ms: 3 },
  normal: { dist: 'pareto', scale_ms: 1, shape: 2 },
  lognormal: { dist: 'normal', mean_ms: 2, sd_ms: 1 },
  pareto: { dist: 'lognormal', mu: 0.5, sigma: 0.3 },
};

/**
 * Values the schema cannot derive: names, node lists, free objects, and the
 * discriminators (`dist`, `model`, `op`), which pick another branch with its
 * own keys. Each entry gives the changes to try (each one a separate run).
 */
const HINTS: Record<string, (raw: Raw, path: readonly PathSegment[], value: unknown) => Change[][]> = {
  name: (_r, path, v) => [[{ path, value: `${String(v)}-2` }]],
  description: (_r, path) => [[{ path, value: 'another description' }]],
  'network.nodes': (_r, path, v) => [[{ path, value: [...(v as string[]), 'G'] }]],
  'network.links[].from': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'network.links[].to': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'faults[].partition': (_r, path, v) => [[{ path, value: [(v as string[][])[0]] }]],
  'faults[].hold': (_r, path, v) => [[{ path, value: [(v as string[][])[0]] }]],
  'faults[].repair': (_r, path) => [[{ path, value: 'all' }]],
  'faults[].release': (_r, path) => [[{ path, value: 'all' }]],
  'faults[].crash': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'faults[].restart': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'faults[].between': (r, path, v) => [[{ path, value: [(v as string[])[0], otherNode(r, (v as string[])[1] as string)] }]],
  // A name is what repair and release refer to: swapping the names of the two partitions makes `repair: p` end the other one.
  'faults[].name': (r, path, v) => {
    const faults = r['faults'] as Raw[];
    const verb = 'partition' in (faults[path[1] as number] as Raw) ? 'partition' : 'hold';
    const j = faults.findIndex((f, i) => i !== path[1] && verb in f && typeof f['name'] === 'string');
    return [
      [
        { path, value: faults[j]?.['name'] },
        { path: ['faults', j, 'name'], value: v },
      ],
    ];
  },
  'protocol.gossip.clock.nodes[].node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'protocol.gossip.wrong_key': (_r, path) => [[{ path, value: [] }], [{ path, value: ['B'] }]],
  // An MTU binds from below: the smallest allowed one (576 bytes, RFC 791's minimum datagram).
  'protocol.gossip.anti_entropy.mtu_bytes': (_r, path) => [[{ path, value: 576 }]],
  // A budget binds from below: one message per contact.
  'protocol.gossip.rumor_budget': (_r, path) => [[{ path, value: 1 }]],
  // The bound on timestamps ahead binds below the writer's 300 ms lead.
  'protocol.gossip.clock.max_ahead_ms': (_r, path) => [[{ path, value: 50 }]],
  // A queue limit binds from below: none at all, so a packet that finds the link busy is dropped.
  'network.link.queue_packets': (_r, path) => [[{ path, value: 0 }]],
  'network.link.queue_bytes': (_r, path) => [[{ path, value: 0 }]],
  'network.links[].queue_packets': (_r, path) => [[{ path, value: 0 }]],
  'network.links[].queue_bytes': (_r, path) => [[{ path, value: 0 }]],
  // Another split of the nodes: half of the last region's share moves to the first; the regions after the first start one node later.
  'network.regions.fractions': (_r, path, v) => {
    const f = v as number[];
    const half = (f[f.length - 1] as number) / 2;
    return [[{ path, value: [(f[0] as number) + half, ...f.slice(1, -1), half] }]];
  },
  'network.regions.first': (_r, path, v) => [[{ path, value: (v as number[]).map((x, i) => (i === 0 ? x : x + 1)) }]],
  'network.regions.latency_ms': (_r, path, v) => [[{ path, value: (v as number[][]).map((row) => row.map((ms) => 2 * ms + 1)) }]],
  'network.regions.loss': (_r, path, v) => [
    [{ path, value: Array.isArray(v) ? (v as number[][]).map((row) => row.map((p) => (p === 0 ? 0.3 : p / 2))) : 0.5 }],
  ],
  // A probability on a link that carries few packets: every packet duplicated.
  'network.links[].duplicate': (_r, path) => [[{ path, value: 1 }]],
  // Collection needs every peer's confirmation, which takes a while: a bound beyond the run, or none.
  'protocol.gossip.tombstone_gc_s': (_r, path) => [[{ path, value: 10 }], [{ path, value: 'never' }]],
  // The delayed-ACK timer binds when it is shorter than the wait for the next segment (about an RTT here).
  'protocol.tcp.delayed_ack_ms': (_r, path) => [[{ path, value: 5 }]],
  'protocol.tcp.flows[].name': (_r, path, v) => [[{ path, value: `${String(v)}-2` }]],
  // Another node than both ends of the flow.
  'protocol.tcp.flows[].from': (r, path) => [[{ path, value: freeNode(r, path) }]],
  'protocol.tcp.flows[].to': (r, path) => [[{ path, value: freeNode(r, path) }]],
  // `original` is the one preset: its alternative is none.
  'protocol.tcp.preset': (_r, path) => [[{ path, value: REMOVE }]],
  'protocol.module.path': (_r, path) => [[{ path, value: './echo-other.js' }]],
  'protocol.module.options': (_r, path) => [[{ path, value: { size_bytes: 200 } }]],
  'workload[].node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'workload[].call': (_r, path, v) => [[{ path, value: { other: v } }]],
  'workload[]{op=put}.node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'workload[]{op=get}.node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'workload[]{op=delete}.node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'protocol.swim.seeds': (_r, path) => [[{ path, value: ['B'] }]],
  'workload[]{op=join}.node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'workload[]{op=leave}.node': (r, path, v) => [[{ path, value: otherNode(r, v as string) }]],
  'workload[]{op=join}.op': (_r, path) => [[{ path, value: 'leave' }]],
  'workload[]{op=leave}.op': (_r, path) => [[{ path, value: 'join' }]],
  'workload[]{op=put}.key': (_r, path) => [[{ path, value: 'k-other' }]],
  'workload[]{op=get}.key': (_r, path) => [[{ path, value: 'k' }]],
  'workload[]{op=delete}.key': (_r, path) => [[{ path, value: 'j' }]],
  'workload[]{op=put}.value': (_r, path) => [[{ path, value: 'another value' }]],
  'workload[]{op=put}.op': (_r, path) => [
    [
      { path, value: 'delete' },
      { path: [...path.slice(0, -1), 'value'], value: REMOVE },
    ],
  ],
  'workload[]{op=get}.op': (_r, path) => [[{ path, value: 'delete' }]],
  'workload[]{op=delete}.op': (_r, path) => [
    [
      { path, value: 'put' },
      { path: [...path.slice(0, -1), 'value'], value: 'v' },
    ],
  ],
};

/** The hints of the discriminators of distributions and loss models (one per place they occur). */
function discriminatorHint(pattern: string): ((raw: Raw, path: readonly PathSegment[], value: unknown) => Change[][]) | undefined {
  if (/\{dist=[a-z]+\}\.dist$/.test(pattern)) return (_r, path, v) => [[{ path: path.slice(0, -1), value: OTHER_DIST[v as string] }]];
  // Another queue discipline: its own keys are not the other's, so the whole section is replaced.
  if (/\{kind=[a-z]+\}\.kind$/.test(pattern))
    return (_r, path, v) =>
      [{ kind: 'droptail' }, { kind: 'red', min_th_packets: 2, max_th_packets: 6, w_q: 0.05 }, { kind: 'codel', target_ms: 6, interval_ms: 20 }]
        .filter((k) => k.kind !== v)
        .map((k) => [{ path: path.slice(0, -1), value: k }]);
  // Gilbert-Elliott is the one loss model: its alternative is a plain probability.
  if (/\{model=gilbert-elliott\}\.model$/.test(pattern)) return (_r, path) => [[{ path: path.slice(0, -1), value: 0.2 }]];
  // The good state's loss: on the few packets of a small run, a loss that shows (half of them).
  if (/\{model=gilbert-elliott\}\.loss_good$/.test(pattern)) return (_r, path) => [[{ path, value: 0.5 }]];
  return undefined;
}

function flat(nodes: readonly JsonNode[]): JsonNode[] {
  return nodes.flatMap((n) => [n, ...flat([...(n.anyOf ?? []), ...(n.oneOf ?? [])])]);
}

/** Values of a key derived from its schema: the other enum choices and constants, the other boolean, a number doubled or halved within range. */
function derived(nodes: readonly JsonNode[], value: unknown): unknown[] | undefined {
  const all = flat(nodes);
  const choices = all
    .flatMap((n) => [...((n as { enum?: unknown[] }).enum ?? []), ...(n.const !== undefined ? [n.const] : [])])
    .filter((c) => typeof c === 'string');
  const num = all.find((n) => n.type === 'number' || n.type === 'integer');
  if (typeof value === 'boolean') return [!value];
  const out: unknown[] = [];
  if (typeof value === 'string') {
    if (!choices.includes(value)) return undefined;
    out.push(...new Set(choices.filter((c) => c !== value)));
    if (num !== undefined) out.push(Math.max(num.minimum ?? 1, 1) * 2);
    return out;
  }
  if (typeof value === 'number' && num !== undefined) {
    const lo = num.minimum ?? num.exclusiveMinimum ?? -Infinity;
    const hi = num.maximum ?? num.exclusiveMaximum ?? Infinity;
    let v = value === 0 ? (lo <= 1 && 1 <= hi ? 1 : hi) : value * 2 <= hi ? value * 2 : value / 2;
    if (num.type === 'integer') v = Math.round(v);
    out.push(v, ...new Set(choices));
    return out;
  }
  return undefined;
}

// ---------------------------------------------------------------- running and comparing

const tmpRoot = mkdtempSync(join(tmpdir(), 'desim-every-key-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
let runCount = 0;

/** A run's outputs: file name to content (meta.json without the fields that record the scenario, and without the headline). */
async function outputsOf(raw: Raw): Promise<{ ok: true; files: Map<string, string>; recorded: Raw } | { ok: false; issues: Issue[] }> {
  const r = checkScenario(raw, drivers);
  if (!r.ok) return r;
  const outDir = join(tmpRoot, `run${runCount++}`);
  await runScenario(r.scenario, { outDir });
  const files = new Map<string, string>();
  let recorded: Raw = {};
  for (const f of readdirSync(outDir).sort()) {
    let text = readFileSync(join(outDir, f), 'utf8');
    if (f === 'meta.json') {
      const meta = JSON.parse(text) as Raw;
      recorded = meta['scenario'] as Raw;
      for (const k of ['scenario', 'scenario_hash', 'scenario_file', 'headline']) delete meta[k];
      text = JSON.stringify(meta);
    }
    files.set(f, text);
  }
  rmSync(outDir, { recursive: true, force: true });
  return { ok: true, files, recorded };
}

/** A problem names the key at `text` when it is at the key, below it, or at a section that holds it. */
function names(issue: Issue, text: string): boolean {
  const under = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return under(issue.path, text) || (issue.path !== '' && under(text, issue.path));
}

function differs(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k));
}

/**
 * Keys that document a scenario rather than configure it: they act by being
 * recorded in meta.json's resolved scenario (and `description` is the line
 * `desim list` shows), which is what the check for them compares.
 */
const DOCUMENTATION_KEYS: ReadonlySet<string> = new Set(['description']);

// ---------------------------------------------------------------- the cases

interface Case {
  readonly family: Family;
  readonly base: Base;
  readonly pattern: string;
  readonly path: PathSegment[];
}

const cases: Case[] = [];
const seen = new Set<string>();
for (const base of BASES) {
  for (const k of baseKeys(base.raw)) {
    const id = `${base.family} ${k.pattern}`;
    if (containers.has(k.pattern) || seen.has(id)) continue;
    seen.add(id);
    cases.push({ family: base.family, base, pattern: k.pattern, path: k.path });
  }
}

/** Runs `changes` on the base and says how it went: `'acted'`, `'refused'` (naming `text`), or a failure (a sentence). */
async function judge(
  base: Base,
  baseRun: Awaited<ReturnType<typeof outputsOf>>,
  pattern: string,
  text: string,
  changes: readonly Change[],
): Promise<string> {
  const shown = changes.map((ch) => `${formatPath(ch.path)}=${ch.value === REMOVE ? '(removed)' : JSON.stringify(ch.value)}`).join(', ');
  const label = `${base.label}: ${shown}`;
  const after = await outputsOf(applyChanges(base.raw, changes));
  if (!after.ok)
    return after.issues.some((i) => names(i, text)) ? 'refused' : `${label}: refused without naming ${text}: ${JSON.stringify(after.issues)}`;
  if (!baseRun.ok) return `${label}: the base is refused (${JSON.stringify(baseRun.issues)}) but this change runs`;
  const acted = DOCUMENTATION_KEYS.has(pattern)
    ? JSON.stringify(getAt(baseRun.recorded, changes[0]?.path ?? [])) !== JSON.stringify(getAt(after.recorded, changes[0]?.path ?? []))
    : differs(baseRun.files, after.files).length > 0;
  return acted ? 'acted' : `${label}: accepted, and the outputs are byte-identical to the base run's`;
}

const baseRuns = new Map<string, Awaited<ReturnType<typeof outputsOf>>>();
async function baseRunOf(base: Base): Promise<Awaited<ReturnType<typeof outputsOf>>> {
  let r = baseRuns.get(base.label);
  if (r === undefined) {
    r = await outputsOf(base.raw);
    baseRuns.set(base.label, r);
  }
  return r;
}

describe('every key of a scenario acts or is refused', () => {
  it('every key of the schema, in each family it belongs to, is in a base scenario (so the checks below cover it)', () => {
    expect(leaves.length).toBeGreaterThan(150);
    const missing = leaves.flatMap((p) => familiesOf(p).map((f) => `${f} ${p}`)).filter((id) => !seen.has(id));
    expect(missing.sort()).toEqual([]);
  });

  it('every base validates (they are scenarios that run, not refusals)', () => {
    for (const b of BASES) {
      const r = checkScenario(b.raw, drivers);
      expect(r.ok ? [] : r.issues, b.label).toEqual([]);
    }
  });

  for (const family of ['gossip', 'tcp', 'module', 'swim'] as const) {
    it(`${family}: each key set to another valid value changes the outputs, or the file is refused naming that key`, async () => {
      const failures: string[] = [];
      let acted = 0;
      let refused = 0;
      for (const c of cases.filter((x) => x.family === family)) {
        const text = formatPath(c.path);
        const value = getAt(c.base.raw, c.path);
        const hint = HINTS[c.pattern] ?? discriminatorHint(c.pattern);
        let tries: Change[][];
        if (hint !== undefined) tries = hint(c.base.raw, c.path, value);
        else {
          const values = derived(SCHEMA.get(c.pattern) ?? [], value);
          if (values === undefined) {
            failures.push(`${c.base.label}: ${text}: no value derived from the schema for ${JSON.stringify(value)}: add a hint`);
            continue;
          }
          tries = values.map((v) => [{ path: c.path, value: v }]);
        }
        const base = await baseRunOf(c.base);
        for (const changes of tries) {
          const verdict = await judge(c.base, base, c.pattern, text, changes);
          if (verdict === 'acted') acted++;
          else if (verdict === 'refused') refused++;
          else failures.push(verdict);
        }
      }
      expect(failures, `${acted} changes acted, ${refused} were refused naming their key`).toEqual([]);
      // Not vacuous: most changes act.
      expect(acted).toBeGreaterThan({ gossip: 120, tcp: 30, module: 80, swim: 15 }[family]);
    });
  }
});

/**
 * A fault entry is one mapping for every verb, so a key may sit on an entry
 * whose verb has no use for it (`between` on a partition, `name` on a crash).
 * Each key of the fault schema that an entry of a base lacks is added to it in
 * turn (with a value another entry gives it, or a non-default one): it acts,
 * or is refused naming it.
 */
describe('a fault key added to an entry that lacks it acts or is refused', () => {
  const faultKeys = leaves.filter((p) => /^faults\[\]\.[a-z_]+$/.test(p)).map((p) => p.slice('faults[].'.length));
  // Not the defaults (one_way: false, keep_state: true), which are the same as the key left out.
  const own: Raw = { name: 'extra', one_way: true, keep_state: false };
  const valueOf = (key: string): unknown => (key in own ? own[key] : FAULTS.find((f) => key in f)?.[key as keyof (typeof FAULTS)[number]]);

  for (const family of ['gossip', 'tcp', 'module'] as const) {
    it(`${family}: each absent fault key on each entry`, async () => {
      const base = BASES.find((b) => b.family === family && Array.isArray(b.raw['faults'])) as Base;
      const baseRun = await baseRunOf(base);
      const failures: string[] = [];
      let tried = 0;
      for (const [i, entry] of (base.raw['faults'] as Raw[]).entries()) {
        for (const key of faultKeys.filter((k) => !(k in entry))) {
          tried++;
          const path = ['faults', i, key];
          const verdict = await judge(base, baseRun, `faults[].${key}`, formatPath(path), [{ path, value: valueOf(key) }]);
          if (verdict !== 'acted' && verdict !== 'refused') failures.push(verdict);
        }
      }
      expect(failures).toEqual([]);
      expect(tried).toBeGreaterThan(100);
    });
  }
});

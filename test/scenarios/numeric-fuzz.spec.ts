/**
 * Every numeric field of the scenario schema, at the boundary values 0,
 * negatives, 1e-300, 1e308, NaN, infinities and huge integers: validation
 * either refuses the value (a problem that names the field) or accepts it, and
 * then the run finishes without an internal error.
 *
 * The fields come from walking the JSON Schema of scenario files, so a new
 * numeric field is covered as soon as it exists: the first test fails until
 * one of the fixtures below holds it. Runs are in-process without outputs, and
 * validation here refuses runs estimated above TEST_MAX_EVENTS (the CLI's limit
 * is 1e9), so every accepted case is small.
 */
import { describe, expect, it } from 'vitest';
import type { ProtocolDriver } from '../../src/scenarios/driver.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { moduleDriver, type UserProtocolModule } from '../../src/scenarios/drivers/module.js';
import { checkScenario } from '../../src/scenarios/loader.js';
import { applyOverrides, formatPath, type PathSegment } from '../../src/scenarios/overrides.js';
import { executeScenario } from '../../src/scenarios/runner.js';
import { scenarioJsonSchema } from '../../src/scenarios/schema.js';
import { numericFields, type JsonNode } from './schema-walk.js';

const TEST_MAX_EVENTS = 200_000;

/** A tiny protocol: each call is sent to the next node, which answers once. */
const echo: UserProtocolModule = {
  createNode(id, ctx) {
    const out: { type: 'send'; to: number; msg: unknown; sizeBytes: number }[] = [];
    return {
      start() {},
      handleMessage(from, msg) {
        if (msg === 'ping') out.push({ type: 'send', to: from, msg: 'pong', sizeBytes: 64 });
      },
      handleTimer() {},
      handleCall() {
        const to = ctx.peers[0];
        if (to !== undefined) out.push({ type: 'send', to, msg: 'ping', sizeBytes: 64 });
        return id;
      },
      pollActions() {
        return out.splice(0);
      },
    };
  },
  invariant: () => undefined,
};
const drivers: ProtocolDriver[] = BUILTIN_DRIVERS.map((d) => (d.name === 'module' ? (moduleDriver(echo) as ProtocolDriver) : d));

const dists = [
  { dist: 'constant', ms: 2 },
  { dist: 'uniform', min_ms: 1, max_ms: 3 },
  { dist: 'exponential', mean_ms: 2 },
  { dist: 'normal', mean_ms: 2, sd_ms: 1 },
  { dist: 'lognormal', mu: 0.5, sigma: 0.3 },
  { dist: 'pareto', scale_ms: 1, shape: 2 },
];
const ge = { model: 'gilbert-elliott', p_good_to_bad: 0.01, p_bad_to_good: 0.3, loss_good: 0, loss_bad: 0.5 };

/** Small scenarios that, together, hold every numeric field of the schema. */
const FIXTURES: Record<string, Record<string, unknown>> = {
  gossip: {
    name: 'fuzz-gossip',
    seed: 3,
    duration_s: 4,
    network: {
      nodes: ['A', 'B', 'C'],
      link: { latency_ms: 1, jitter_ms: 0.5, loss: 0.01, duplicate: 0.01, bandwidth_bps: 1e6, queue_packets: 50, queue_bytes: 100000 },
      links: [
        ...dists.map((d, i) => ({ from: ['A', 'B', 'C'][i % 3], to: ['B', 'C', 'A'][i % 3], both_ways: i % 2 === 0, latency_ms: d })),
        { from: 'A', to: 'C', loss: ge, jitter_ms: 1, duplicate: 0, bandwidth_bps: 1e7, queue_packets: 10, queue_bytes: 20000 },
      ],
    },
    protocol: {
      gossip: {
        fanout: 2,
        interval_s: 0.5,
        k: 2,
        connection_limit: 3,
        rumor_budget: 2,
        forward_probability: 0.5,
        anti_entropy: { interval_s: 1, mtu_bytes: 1400, digest_buckets: 16 },
        tombstone_gc_s: 2,
        clock: { kind: 'hlc', max_offset_ms: 5, max_drift_ppm: 50, max_ahead_ms: 500, nodes: [{ node: 'B', offset_ms: -3, drift_ppm: 20 }] },
      },
    },
    workload: [
      { at_s: 0.2, node: 'A', op: 'put', key: 'k', value: 1.5 },
      { at_s: 0.4, node: 'B', op: 'delete', key: 'k' },
      { at_s: 1, node: 'C', op: 'get', key: 'k' },
    ],
    faults: [
      { at_s: 0.5, partition: [['A'], ['B', 'C']], name: 'p' },
      { at_s: 1, repair: 'p' },
      { at_s: 1.1, hold: [['A'], ['B']], name: 'h' },
      { at_s: 1.2, release: 'h' },
      { at_s: 1.3, crash: 'C' },
      { at_s: 1.4, restart: 'C', keep_state: false },
      { at_s: 1.5, set_latency_ms: 3, between: ['A', 'B'] },
      { at_s: 1.6, set_loss: 0.1, between: ['A', 'B'] },
      ...dists.map((d, i) => ({ at_s: 1.7 + i / 100, set_latency_ms: d, between: ['B', 'C'] })),
      { at_s: 1.8, set_loss: ge, between: ['B', 'C'], one_way: true },
    ],
  },
  regionsByFraction: {
    name: 'fuzz-regions-fractions',
    duration_s: 2,
    network: {
      nodes: 4,
      regions: {
        fractions: [0.5, 0.5],
        latency_ms: [
          [1, 5],
          [5, 1],
        ],
        loss: [
          [0, 0.1],
          [0.1, 0],
        ],
      },
    },
    protocol: { gossip: {} },
    workload: [{ at_s: 0.1, node: 'n1', op: 'put', key: 'k', value: 'v' }],
  },
  regionsByFirst: {
    name: 'fuzz-regions-first',
    duration_s: 2,
    network: {
      nodes: 4,
      regions: {
        first: [0, 1, 3],
        latency_ms: [
          [1, 5, 9],
          [5, 1, 4],
          [9, 4, 1],
        ],
        loss: 0.05,
      },
    },
    protocol: { gossip: {} },
    workload: [{ at_s: 0.1, node: 'n1', op: 'put', key: 'k', value: 'v' }],
  },
  gossipCount: {
    name: 'fuzz-count',
    duration_s: 2,
    network: { nodes: 4 },
    protocol: { gossip: { preset: 'push-pull' } },
    workload: [{ at_s: 0.1, node: 'n1', op: 'put', key: 'k', value: 'v' }],
  },
  tcp: {
    name: 'fuzz-tcp',
    seed: 2,
    duration_s: 2,
    protocol: {
      tcp: {
        bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 20, loss: 0.01, jitter_ms: 1 },
        return_path: { delay_ms: 10, loss: ge, jitter_ms: 0.5 },
        mss_bytes: 1000,
        header_bytes: 40,
        initial_window: 3,
        min_rto_s: 0.2,
        delayed_ack: true,
        delayed_ack_ms: 40,
        flows: [
          { variant: 'reno', start_s: 0, extra_rtt_ms: 5, bytes: 200000 },
          { variant: 'newreno', start_s: 0.5, extra_rtt_ms: 0 },
        ],
      },
    },
  },
  // The path settings: a return link with a rate and a queue, an initial ssthresh and a receive window (section and flow).
  tcpPath: {
    name: 'fuzz-tcp-path',
    duration_s: 2,
    protocol: {
      tcp: {
        bottleneck: { bandwidth_bps: 2e6, delay_ms: 10, queue_packets: 20 },
        return_path: { delay_ms: 10, bandwidth_bps: 100_000, queue_packets: 10 },
        initial_ssthresh_pkts: 10,
        rwnd_bytes: 20_000,
        flows: [{ variant: 'reno', initial_ssthresh_pkts: 5, rwnd_bytes: 10_000 }],
      },
    },
  },
  tcpRed: {
    name: 'fuzz-tcp-red',
    duration_s: 2,
    protocol: {
      tcp: {
        bottleneck: {
          bandwidth_bps: 2e6,
          queue_packets: 50,
          aqm: { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, mean_packet_bytes: 500 },
        },
        flows: [{ variant: 'reno' }, { variant: 'reno' }],
      },
    },
  },
  tcpCodel: {
    name: 'fuzz-tcp-codel',
    duration_s: 2,
    protocol: {
      tcp: {
        bottleneck: { bandwidth_bps: 2e6, queue_packets: 50, aqm: { kind: 'codel', target_ms: 6, interval_ms: 20 } },
        flows: [{ variant: 'reno' }, { variant: 'reno' }],
      },
    },
  },
  ...Object.fromEntries(
    [
      [
        { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, mean_packet_bytes: 500 },
        { kind: 'codel', target_ms: 6, interval_ms: 20 },
      ],
      [
        { kind: 'codel', target_ms: 6, interval_ms: 20 },
        { kind: 'red', min_th_packets: 2, max_th_packets: 6, max_p: 0.1, w_q: 0.05, mean_packet_bytes: 500 },
      ],
    ].map(([link, pair], i) => [
      `tcp-net-aqm-${i}`,
      {
        name: `fuzz-tcp-net-aqm-${i}`,
        duration_s: 2,
        network: {
          nodes: ['A', 'B', 'C'],
          link: { latency_ms: 5, bandwidth_bps: 2e6, queue_packets: 50, aqm: link },
          links: [{ from: 'A', to: 'C', both_ways: false, aqm: pair }],
        },
        protocol: {
          tcp: {
            flows: [
              { variant: 'reno', from: 'A', to: 'B' },
              { variant: 'reno', from: 'A', to: 'C' },
              { variant: 'reno', from: 'B', to: 'A' },
            ],
          },
        },
      },
    ]),
  ),
  tcpGe: {
    name: 'fuzz-tcp-ge',
    duration_s: 1,
    protocol: { tcp: { bottleneck: { loss: ge }, return_path: { loss: 0.01 } } },
  },
  // The default link with each latency distribution (and Gilbert-Elliott loss), links with plain numbers.
  ...Object.fromEntries(
    dists.map((d, i) => [
      `link-${d.dist}`,
      {
        name: `fuzz-link-${d.dist}`,
        duration_s: 2,
        network: {
          nodes: ['A', 'B'],
          link: { latency_ms: d, ...(i === 0 ? { loss: ge } : {}) },
          links: [{ from: 'A', to: 'B', latency_ms: 2, loss: 0.1 }],
        },
        protocol: { gossip: {} },
        workload: [{ at_s: 0.1, node: 'A', op: 'put', key: 'k', value: true }],
      },
    ]),
  ),
  module: {
    name: 'fuzz-module',
    duration_s: 2,
    network: { nodes: ['A', 'B'], link: { latency_ms: 1 } },
    protocol: { module: { path: './echo.js', options: {} } },
    workload: [
      { at_s: 0.1, node: 'A', call: { op: 'ping' } },
      { at_s: 0.5, node: 'B', call: 7 },
    ],
  },
  swim: {
    name: 'fuzz-swim',
    duration_s: 4,
    network: { nodes: ['A', 'B', 'C', 'D'], link: { latency_ms: 1 } },
    protocol: {
      swim: {
        interval_s: 0.5,
        probe_timeout_s: 0.1,
        indirect_checks: 2,
        retransmit_mult: 3,
        max_piggyback: 4,
        suspicion_mult: 3,
        lifeguard: true,
        suspicion_max_timeout_mult: 4,
        awareness_max_multiplier: 4,
        reconnect_interval_s: 2,
        push_pull_interval_s: 2,
        initial: 3,
        churn: { from_s: 1, to_s: 3, joins_per_second: 1, failures_per_second: 1 },
      },
    },
    workload: [
      { at_s: 0.5, node: 'D', op: 'join' },
      { at_s: 1.5, node: 'A', op: 'leave' },
    ],
  },
};

/** Every number in a fixture: its path, and its pattern in the same form as {@link numericFields}. */
function fixtureLeaves(
  v: unknown,
  path: PathSegment[],
  pattern: string,
  discriminators: ReadonlySet<string>,
  out: { path: PathSegment[]; pattern: string }[],
): void {
  if (typeof v === 'number') out.push({ path, pattern });
  else if (Array.isArray(v)) v.forEach((x, i) => fixtureLeaves(x, [...path, i], `${pattern}[]`, discriminators, out));
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A tag only where the schema has a union picked by it (`kind` picks a queue discipline, not a clock).
    const tag = Object.keys(o).find(
      (k) => discriminators.has(k) && typeof o[k] === 'string' && [...schemaFields].some((f) => f.startsWith(`${pattern}{${k}=${String(o[k])}}`)),
    );
    const here = tag !== undefined ? `${pattern}{${tag}=${String(o[tag])}}` : pattern;
    for (const [k, x] of Object.entries(o)) fixtureLeaves(x, [...path, k], here === '' ? k : `${here}.${k}`, discriminators, out);
  }
}

const discriminators = new Set<string>();
const schemaFields = new Set(numericFields(scenarioJsonSchema(drivers) as JsonNode, discriminators).map((f) => f.pattern));
// Each field once (in the first fixture that holds it), or the same field would be fuzzed many times over.
const seen = new Set<string>();
const cases = Object.entries(FIXTURES).flatMap(([name, f]) => {
  const leaves: { path: PathSegment[]; pattern: string }[] = [];
  fixtureLeaves(f, [], '', discriminators, leaves);
  return leaves.filter((l) => !seen.has(l.pattern) && seen.add(l.pattern)).map((l) => ({ fixture: name, ...l }));
});

const BOUNDARY = [0, -0, -1, -1e308, 1e-300, -1e-300, 0.5, 1.5, 1e308, NaN, Infinity, -Infinity, 2 ** 53 + 2, 1e21, 1e15, 1e9];

describe('numeric fields of the scenario schema', () => {
  it('every numeric field of the schema is in a fixture (so the fuzz below covers it)', () => {
    expect(schemaFields.size).toBeGreaterThan(60);
    const covered = new Set(cases.map((c) => c.pattern));
    expect([...schemaFields].filter((f) => !covered.has(f)).sort()).toEqual([]);
  });

  it('the fixtures themselves are valid and run', () => {
    for (const [name, f] of Object.entries(FIXTURES)) {
      const r = checkScenario(f, drivers, [], { maxEvents: TEST_MAX_EVENTS });
      expect(r.ok ? [] : r.issues, name).toEqual([]);
      if (r.ok) executeScenario(r.scenario, undefined);
    }
  });

  it('at boundary values, each field is refused with its path named, or accepted and then runs without an internal error', () => {
    let accepted = 0;
    let refused = 0;
    const failures: string[] = [];
    for (const c of cases) {
      for (const value of BOUNDARY) {
        const text = formatPath(c.path);
        const label = `${c.fixture}: ${text}=${String(value)}`;
        const raw = applyOverrides(FIXTURES[c.fixture], [{ path: c.path, value, text }]);
        if (!raw.ok) throw new Error(label);
        const r = checkScenario(raw.value, drivers, [], { maxEvents: TEST_MAX_EVENTS });
        if (!r.ok) {
          refused++;
          const last = String(c.path[c.path.length - 1]);
          const named = r.issues.some(
            (i) =>
              i.path === text || i.path.startsWith(text) || text.startsWith(i.path + '.') || i.message.includes(last) || i.message.includes(text),
          );
          if (!named) failures.push(`${label}: refused without naming the field: ${JSON.stringify(r.issues)}`);
          continue;
        }
        accepted++;
        try {
          executeScenario(r.scenario, undefined);
        } catch (err) {
          failures.push(`${label}: accepted, then the run failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Both outcomes happen: the test is not vacuous.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(500);
  });
});

/**
 * The `swim` scenario driver: SWIM group membership and failure detection
 * (with Lifeguard as an option) on the simulated network, from the
 * `protocol.swim` section of a scenario file.
 *
 * Section (every key optional; snake_case with units):
 *
 * ```yaml
 * protocol:
 *   swim:
 *     interval_s: 1                    # protocol period T
 *     probe_timeout_s: 0.5             # wait for a direct ack; below interval_s
 *     indirect_checks: 3               # k members asked to probe after a missed ack
 *     retransmit_mult: 4               # lambda: updates piggybacked lambda * ceil(log10(n + 1)) times
 *     max_piggyback: 8                 # updates per message
 *     suspicion: true                  # false: a failed probe declares death at once
 *     suspicion_mult: 4                # suspicion timeout = suspicion_mult * max(1, log10 n) periods
 *     lifeguard: false                 # local health multiplier, nacks, dynamic suspicion timeout
 *     suspicion_max_timeout_mult: 6    # Lifeguard: the longest timeout, in base timeouts
 *     awareness_max_multiplier: 8      # Lifeguard: health score 0 .. this - 1
 *     reconnect_interval_s: 30         # sync with a member held dead this often (with probability dead / alive); 0 = off
 *     push_pull_interval_s: 30         # sync with a random live member this often (scaled above 32 members); 0 = off
 *     phase: random                    # aligned | random
 *     piggyback_on_store: true         # with protocol.gossip only: updates ride on the store's gossip too
 *     initial: all                     # or N: the first N nodes form the group at time 0
 *     seeds: []                        # whom joiners sync with (default: the initial members)
 *     churn: { from_s: 10, to_s: 60, joins_per_second: 0.1, failures_per_second: 0.1 }   # default none
 * ```
 *
 * Workload entries: `{ at_s, node, op: join }` (a node not in the group
 * joins through the seeds; a crashed one restarts afresh) and `{ at_s, node,
 * op: leave }` (a member leaves gracefully). Join and leave are calls of the
 * protocol, as put and get are the gossip store's, so they are workload, not
 * network faults; `crash` and `restart` faults act on the members as usual (a
 * restarted member rejoins). Churn draws joins and failures as Poisson
 * processes (stream `swim.churn`) over [from_s, to_s): a failure crashes a
 * live member chosen at random, a join brings in a node outside the group
 * chosen at random (none: nothing happens).
 *
 * Trace `members` (time_s, node, member, state, incarnation, via): every change
 * of every member's table. Table `changes`: one row per group change (kind =
 * fail | join | leave, node, at_s, detection_s, all_know_s). Metrics
 * ({@link SWIM_METRICS}): see docs/outputs.md.
 */
import { z } from 'zod';
import { count } from '../../io/count.js';
import type { Cell } from '../../io/csv.js';
import { formatSeconds, seconds } from '../../kernel/time.js';
import { droppedTotal, type NodeId } from '../../net/network.js';
import { DEFAULT_SWIM_CONFIG, type SwimConfig } from '../../protocols/swim/config.js';
import type { SwimMessage } from '../../protocols/swim/wire.js';
import type { TraceSource } from '../../kernel/trace.js';
import type { NodeTraceEvent } from '../../sim/host.js';
import { SwimCluster } from '../../sim/swim-cluster.js';
import type { SwimMetrics } from '../../sim/swim-metrics.js';
import { membershipStoreOf } from './swim-store.js';
import type { Issue, ProtocolDriver, RunContext, RunResult, ScenarioFor, WorkEstimate } from '../driver.js';
import { unknownNode } from '../loader.js';
import { runPipeline, type Attached, type Recipe, type World } from '../pipeline.js';
import { MAX_DURATION_S, positiveS, timeS } from '../schema.js';

const D = DEFAULT_SWIM_CONFIG;

/** The largest rate of churn events, per second. */
export const MAX_CHURN_PER_S = 1000;

const swimSectionShape = z.strictObject({
  interval_s: positiveS(3600).default(D.probeIntervalNs / 1e9),
  probe_timeout_s: positiveS(3600).default(D.probeTimeoutNs / 1e9),
  indirect_checks: z.int().min(0).max(100).default(D.indirectChecks),
  retransmit_mult: z.int().min(1).max(100).default(D.retransmitMult),
  max_piggyback: z.int().min(1).max(1000).default(D.maxPiggyback),
  suspicion: z.boolean().default(D.suspicion),
  suspicion_mult: z.int().min(1).max(1000).default(D.suspicionMult),
  lifeguard: z.boolean().default(D.lifeguard),
  suspicion_max_timeout_mult: z.int().min(1).max(1000).default(D.suspicionMaxTimeoutMult),
  awareness_max_multiplier: z.int().min(1).max(1000).default(D.awarenessMaxMultiplier),
  reconnect_interval_s: z
    .number()
    .min(0)
    .max(MAX_DURATION_S)
    .default(D.reconnectIntervalNs / 1e9),
  push_pull_interval_s: z
    .number()
    .min(0)
    .max(MAX_DURATION_S)
    .default(D.pushPullIntervalNs / 1e9),
  phase: z.enum(['aligned', 'random']).default(D.phase),
  // Optional, not defaulted: it acts only beside protocol.gossip (default true there) and is refused elsewhere.
  piggyback_on_store: z.boolean().optional(),
  initial: z.union([z.literal('all'), z.int().min(1).max(1_000_000)]).default('all'),
  seeds: z.array(z.string()).default([]),
  churn: z
    .strictObject({
      from_s: timeS(),
      to_s: timeS(),
      joins_per_second: z.number().min(0).max(MAX_CHURN_PER_S),
      failures_per_second: z.number().min(0).max(MAX_CHURN_PER_S),
    })
    .optional(),
});

/** Schema of the `protocol.swim` section (strict; defaults filled in). */
export const swimSectionSchema = z.preprocess((raw) => (raw === null ? {} : raw), swimSectionShape);

/** The parsed `protocol.swim` section. */
export type SwimSettings = z.output<typeof swimSectionShape>;

/** Schema of one workload entry. */
export const swimWorkloadSchema = z.discriminatedUnion('op', [
  z.strictObject({ at_s: timeS(), node: z.string().min(1), op: z.literal('join') }),
  z.strictObject({ at_s: timeS(), node: z.string().min(1), op: z.literal('leave') }),
]);

/** A parsed workload entry. */
export type SwimWorkload = z.output<typeof swimWorkloadSchema>;

/** The member configuration of a parsed section. */
export function toSwimConfig(s: SwimSettings): SwimConfig {
  return {
    probeIntervalNs: seconds(s.interval_s),
    probeTimeoutNs: seconds(s.probe_timeout_s),
    indirectChecks: s.indirect_checks,
    retransmitMult: s.retransmit_mult,
    maxPiggyback: s.max_piggyback,
    suspicion: s.suspicion,
    suspicionMult: s.suspicion_mult,
    lifeguard: s.lifeguard,
    suspicionMaxTimeoutMult: s.suspicion_max_timeout_mult,
    awarenessMaxMultiplier: s.awareness_max_multiplier,
    reconnectIntervalNs: seconds(s.reconnect_interval_s),
    pushPullIntervalNs: seconds(s.push_pull_interval_s),
    phase: s.phase,
  };
}

/** Columns of trace-members.csv. */
export const MEMBER_COLUMNS = ['time_s', 'node', 'member', 'state', 'incarnation', 'via'] as const;
/** Columns of the `changes` table. */
export const CHANGE_COLUMNS = ['kind', 'node', 'at_s', 'detection_s', 'all_know_s'] as const;
/** The metrics, in order (see docs/outputs.md). */
export const SWIM_METRICS = [
  'nodes',
  'members_final',
  'failures',
  'joins',
  'leaves',
  'detection_time_mean_s',
  'detection_time_max_s',
  'detection_time_mean_periods',
  'undetected',
  'all_know_time_mean_s',
  'all_know_time_max_s',
  'all_know_time_mean_periods',
  'not_all_known',
  'false_suspicions',
  'false_positives',
  'false_deaths',
  'false_deaths_per_member_hour',
  'false_suspicions_per_member_hour',
  'messages_per_member_period',
  'sent_bytes_per_member_period',
  'packets_dropped',
  'converged',
] as const;

/** Extra observation points of {@link swimRecipe} (tests and the validation tables use them). */
export interface SwimRunHooks {
  /** The cluster, once attached. */
  readonly onCluster?: (cluster: SwimCluster) => void;
}

/** The SWIM recipe: a {@link SwimCluster} on every node of the run's network, its trace, table and {@link SWIM_METRICS}. */
export function swimRecipe(hooks: SwimRunHooks = {}): Recipe<SwimSettings, SwimWorkload> {
  return {
    name: 'swim',
    world: (scenario) => {
      const n = scenario.network.nodes.length;
      return { initialCapacity: Math.min(1 << 20, 8 * n + 1024), perLinkCounters: n <= 1000 };
    },
    attach: (world, scenario, ctx) => attachSwim(world as World<SwimMessage>, scenario, ctx, hooks),
  };
}

/** The number of members at time 0 of a parsed section on `n` nodes. */
export function initialCount(s: SwimSettings, n: number): number {
  return s.initial === 'all' ? n : Math.min(s.initial, n);
}

function attachSwim(
  world: World<SwimMessage>,
  scenario: ScenarioFor<SwimSettings, SwimWorkload>,
  ctx: RunContext,
  hooks: SwimRunHooks,
): Attached<SwimWorkload> {
  const { sim, net, names } = world;
  const s = scenario.settings;
  const T = seconds(s.interval_s);
  const store = membershipStoreOf(world as unknown as World);
  if (store !== undefined) {
    // Beside protocol.gossip: the gossip recipe built the nodes (and takes faults and workload); report SWIM's part.
    openMembersTrace(store.host.traces, names, ctx);
    if (s.churn !== undefined) scheduleChurn(world, store, s.churn);
    const group: Group = { metrics: store.membership, totalSent: () => store.swimTotals(), converged: () => store.viewsConverged() };
    return { start: () => {}, finish: () => summarize(group, names, T, sim.now, droppedTotal(net.total)) };
  }
  const n = names.length;
  const initial = Array.from({ length: initialCount(s, n) }, (_, i) => i);
  const seeds = s.seeds.map((name) => world.ids.get(name) as NodeId);
  const cluster = new SwimCluster(sim, net, { config: toSwimConfig(s), initial, ...(seeds.length > 0 ? { seeds } : {}) });
  hooks.onCluster?.(cluster);
  openMembersTrace(cluster.host.traces, names, ctx);
  if (s.churn !== undefined)
    scheduleChurn(world, { isLive: (id) => cluster.metrics.isLive(id), join: (id) => cluster.join(id), crash: (id) => cluster.crash(id) }, s.churn);
  return {
    crash: (id) => cluster.crash(id),
    restart: (id, keep) => cluster.restart(id, keep),
    call: (w) => {
      const id = world.ids.get(w.node) as NodeId;
      if (w.op === 'join') cluster.join(id);
      else cluster.leave(id);
    },
    start: () => cluster.start(),
    finish: () => summarize(cluster, names, T, sim.now, droppedTotal(net.total)),
  };
}

/** Writes trace-members.csv from the `member` traces of a group's host. */
function openMembersTrace(traces: TraceSource<NodeTraceEvent>, names: readonly string[], ctx: RunContext): void {
  const trace = ctx.openTrace('members', MEMBER_COLUMNS);
  if (trace === undefined) return;
  traces.connect((e) => {
    if (e.name !== 'member') return;
    const d = e.data;
    trace.write([formatSeconds(e.timeNs), names[e.node], names[d['member'] as number], d['state'], d['incarnation'], d['via']]);
  });
}

/** What churn acts on: a SWIM group, alone or under the store. */
interface Churnable {
  isLive(id: NodeId): boolean;
  join(id: NodeId): void;
  crash(id: NodeId): void;
}

/** What the summary reads: the group's SWIM metrics, SWIM's messages and whether the views agree. */
interface Group {
  readonly metrics: SwimMetrics;
  totalSent(): { messages: number; bytes: number };
  converged(): boolean;
}

function scheduleChurn(world: World<SwimMessage>, cluster: Churnable, churn: NonNullable<SwimSettings['churn']>): void {
  const { sim } = world;
  const rng = sim.rng.stream('swim.churn');
  const n = world.net.nodeCount;
  const pick = (want: boolean): NodeId | undefined => {
    const pool: NodeId[] = [];
    for (let id = 0; id < n; id++) if (cluster.isLive(id) === want) pool.push(id);
    return pool.length === 0 ? undefined : pool[Math.floor(rng.uniform() * pool.length)];
  };
  const events: { atNs: number; join: boolean }[] = [];
  const draw = (rate: number, join: boolean): void => {
    if (rate <= 0) return;
    let t = churn.from_s;
    for (;;) {
      t += -Math.log(1 - rng.uniform()) / rate;
      if (t >= churn.to_s) return;
      events.push({ atNs: seconds(t), join });
    }
  };
  draw(churn.failures_per_second, false);
  draw(churn.joins_per_second, true);
  events.sort((a, b) => a.atNs - b.atNs || Number(a.join) - Number(b.join));
  for (const e of events) {
    sim.schedule(
      e.atNs,
      (join: boolean) => {
        const id = pick(!join);
        if (id === undefined) return;
        if (join) cluster.join(id);
        else {
          cluster.crash(id);
        }
      },
      e.join,
      'swim.churn',
    );
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function max(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

function summarize(cluster: Group, names: readonly string[], periodNs: number, nowNs: number, dropped: number): RunResult {
  const m = cluster.metrics;
  const changes = m.changes;
  const detections: number[] = [];
  const allKnow: number[] = [];
  let undetected = 0;
  let notAllKnown = 0;
  for (const c of changes) {
    if (c.kind === 'fail') {
      if (c.detectedNs >= 0) detections.push((c.detectedNs - c.atNs) / 1e9);
      else undetected++;
    }
    if (c.allKnowNs >= 0) allKnow.push((c.allKnowNs - c.atNs) / 1e9);
    else notAllKnown++;
  }
  const T = periodNs / 1e9;
  const memberPeriods = m.memberTimeNs(nowNs) / periodNs;
  const memberHours = m.memberTimeNs(nowNs) / 3.6e12;
  const sent = cluster.totalSent();
  const converged = cluster.converged();
  const metrics: Record<(typeof SWIM_METRICS)[number], number> = {
    nodes: names.length,
    members_final: m.liveCount,
    failures: changes.filter((c) => c.kind === 'fail').length,
    joins: changes.filter((c) => c.kind === 'join').length,
    leaves: changes.filter((c) => c.kind === 'leave').length,
    detection_time_mean_s: mean(detections),
    detection_time_max_s: max(detections),
    detection_time_mean_periods: mean(detections) / T,
    undetected,
    all_know_time_mean_s: mean(allKnow),
    all_know_time_max_s: max(allKnow),
    all_know_time_mean_periods: mean(allKnow) / T,
    not_all_known: notAllKnown,
    false_suspicions: m.falseSuspicions,
    false_positives: m.falsePositives,
    false_deaths: m.falseDeaths,
    false_deaths_per_member_hour: memberHours > 0 ? m.falseDeaths / memberHours : NaN,
    false_suspicions_per_member_hour: memberHours > 0 ? m.falseSuspicions / memberHours : NaN,
    messages_per_member_period: memberPeriods > 0 ? sent.messages / memberPeriods : NaN,
    sent_bytes_per_member_period: memberPeriods > 0 ? sent.bytes / memberPeriods : NaN,
    packets_dropped: dropped,
    converged: converged ? 1 : 0,
  };
  const sec = (ns: number, from: number): Cell => (ns < 0 ? NaN : (ns - from) / 1e9);
  const rows: Cell[][] = changes.map((c) => [
    c.kind,
    names[c.node] ?? '',
    c.atNs / 1e9,
    c.kind === 'fail' ? sec(c.detectedNs, c.atNs) : NaN,
    sec(c.allKnowNs, c.atNs),
  ]);
  const det = detections.length > 0 ? `, detected in ${mean(detections).toFixed(2)} s on average` : '';
  return {
    metrics,
    tables: { changes: { columns: CHANGE_COLUMNS, rows } },
    headline: `${count(m.liveCount, 'member')} at the end, ${count(metrics.failures, 'failure')}${det}, ${count(m.falsePositives, 'false positive')}, ${metrics.messages_per_member_period.toFixed(2)} messages per member per period, ${converged ? 'views agree' : 'views differ'}`,
  };
}

/** Checks needing the whole scenario: workload nodes, seeds, the initial count, the probe timeout, churn's interval. */
export function checkSwim(scenario: ScenarioFor<SwimSettings, SwimWorkload>): Issue[] {
  const issues: Issue[] = [];
  const names = new Set(scenario.network.nodes);
  const s = scenario.settings;
  scenario.workload.forEach((w, i) => {
    if (!names.has(w.node)) issues.push({ path: `workload[${i}].node`, message: unknownNode(w.node, names) });
  });
  s.seeds.forEach((node, i) => {
    if (!names.has(node)) issues.push({ path: `protocol.swim.seeds[${i}]`, message: unknownNode(node, names) });
  });
  if (typeof s.initial === 'number' && s.initial > names.size)
    issues.push({ path: 'protocol.swim.initial', message: `expected at most the ${names.size} nodes of the network, got ${s.initial}` });
  if (s.probe_timeout_s >= s.interval_s)
    issues.push({ path: 'protocol.swim.probe_timeout_s', message: `expected less than interval_s (${s.interval_s}), got ${s.probe_timeout_s}` });
  if (s.churn !== undefined && s.churn.to_s < s.churn.from_s)
    issues.push({ path: 'protocol.swim.churn.to_s', message: `expected at least from_s (${s.churn.from_s}), got ${s.churn.to_s}` });
  if (names.size < 2) issues.push({ path: 'network.nodes', message: 'swim needs at least 2 nodes' });
  if (s.piggyback_on_store !== undefined && scenario.protocol['gossip'] === undefined)
    issues.push({
      path: 'protocol.swim.piggyback_on_store',
      message: 'acts only on the store on SWIM (protocol.gossip beside protocol.swim): remove it, or add protocol.gossip',
    });
  return issues;
}

/** Work estimate: every member probes once per period (ping, ack, sometimes ping-req and relays: about 6 events). */
export function estimateSwim(scenario: ScenarioFor<SwimSettings, SwimWorkload>): WorkEstimate[] {
  const s = scenario.settings;
  const n = scenario.network.nodes.length;
  const d = scenario.duration_s;
  return [
    { events: n * (d / s.interval_s) * 6, path: 'protocol.swim.interval_s', why: `${count(n, 'node')} x ${d} s / interval_s ${s.interval_s} x 6` },
  ];
}

/** The `swim` scenario driver. */
export const swimDriver: ProtocolDriver<SwimSettings, SwimWorkload> = {
  name: 'swim',
  schema: swimSectionSchema,
  workloadSchema: swimWorkloadSchema,
  traces: ['members'],
  check: checkSwim,
  estimate: estimateSwim,
  recipe: swimRecipe(),
  run: (scenario, ctx) => runPipeline(scenario, ctx, [swimRecipe()]),
};

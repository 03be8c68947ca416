/**
 * The `gossip` scenario driver: the gossip-replicated key-value store on the
 * simulated network, from the `protocol.gossip` section of a scenario file.
 *
 * Section (every key optional, snake_case with units; unset keys come from
 * the preset, whose own unset keys come from the `default` preset):
 *
 * ```yaml
 * protocol:
 *   gossip:
 *     preset: default          # default | original | demers-feedback-counter | demers-feedback-coin
 *                              # | demers-blind-counter | demers-blind-coin | infect-forever | push-pull
 *                              # | demers-pull-feedback-counter
 *     mode: push               # push | push-pull | pull | off (anti-entropy only)
 *     timing: rounds           # rounds | immediate (forward once at once, the original program)
 *     fanout: 2                # peers per round
 *     interval_s: 1            # gossip round
 *     phase: random            # aligned (synchronous rounds) | random (per-node offset)
 *     feedback: feedback       # feedback | blind
 *     stop: counter            # counter | coin | forever | once
 *     k: 3                     # counter limit, or coin: lose interest with probability 1/k
 *     counter_reset: true      # feedback + counter: k consecutive unnecessary contacts (false: k in all)
 *     round_semantics: synchronous  # synchronous (serve from the round after learning) | relay
 *     connection_limit: none   # or an integer >= 1: rumor connections a node accepts per round
 *     rumor_budget: none       # or an integer >= 1: rumor messages per contact (least sent, newest first)
 *     forward_probability: 0.5 # for stop: once
 *     anti_entropy: { interval_s: 10, phase: random, mode: push-pull, mtu_bytes: 1400, digest_buckets: 64 }  # interval_s 0 = off;
 *                              # mtu_bytes bounds every message the node sends
 *     regossip_anti_entropy: false # true: a version learned by anti-entropy becomes a hot rumor
 *     tombstone_gc_s: 300      # or "never"; collected once this old and confirmed by every peer
 *     clock: { kind: hlc, max_offset_ms: 0, max_drift_ppm: 0, max_ahead_ms: 500, nodes: [{ node: A, offset_ms: 5, drift_ppm: 100 }] }
 *     wrong_key: []            # nodes given a key no other node holds (as `desim node --key-file` with another file)
 * ```
 *
 * Each node's clock offset and drift are drawn uniformly in ±max (stream
 * `gossip.clock`) unless `clock.nodes` sets them. `max_ahead_ms` (1 ns to 1 h) is the
 * bound on received timestamps (a version stamped further ahead of the
 * receiver's own clock is dropped and counted: see `GossipNode`).
 *
 * `wrong_key` lists nodes that seal their datagrams with a key of their own:
 * every datagram between one of them and another node crosses the network
 * and is dropped by the receiver, as a real node drops a datagram that does
 * not authenticate (see `GossipCluster`). Such a node still takes client
 * calls, so its writes stay on it and it learns nothing; the others never
 * see its writes. Their drops are added to `packets_dropped`, and the
 * headline gives their number. `converged` still asks every live node, so a
 * wrong-key node that wrote, or missed a write, keeps it at 0.
 *
 * Workload entries: `{ at_s, node, op: put, key, value }`, `{ at_s, node,
 * op: get, key }`, `{ at_s, node, op: delete, key }` (a call at a node that
 * is down at that time fails and is counted in `failed_calls`).
 *
 * Traces: `deliveries` (time_s, node, key, origin, version, via = rumor |
 * anti_entropy; version = the write's timestamp), `infection` (time_s, key,
 * live_holding_newest_frac: one point per key and instant it changes).
 * Tables: `reads` (time_s, node, key, value, value_type: its JSON type, found, stale: the
 * version read is not the newest surviving one at that time: the newest
 * version some node, live or crashed with its state, stores) and `updates` (one row per
 * write: t_ave_s, t_last_s, t_all_s, residue_frac, rumor_messages,
 * rumor_bytes, lost = 1 when no node stores it or a newer version).
 *
 * Metrics, in order ({@link GOSSIP_METRICS}): nodes; updates (writes);
 * lost_writes (writes that no node, live or crashed with its state, stores,
 * nor a newer version of their key: their writer and whoever got them were
 * restarted without state); t_ave_s, t_last_s, t_all_s, residue_frac (means
 * over the surviving writes: t_ave and t_last over those that reached a node
 * besides the writer, t_all over those every live node has; see
 * `metrics.ts`); messages_sent, sent_bytes (every
 * message of every type, encoded sizes); messages_per_node, sent_per_node_bytes,
 * rumor_messages_per_node; packets_dropped (network drops, all causes, plus
 * datagrams a receiver refused for a wrong key);
 * converged (1 when every live node holds the newest surviving version of
 * every key at the end); convergence_time_s (time of the last transition into that state
 * minus the time the last fault healed: the latest repair, release or
 * restart, 0 without faults; NaN when not converged); stale_reads; reads;
 * failed_calls (calls at nodes that were down, or refused writes).
 */
import { z } from 'zod';
import { valueCell, valueType } from '../../io/csv-format.js';
import { count } from '../../io/count.js';
import { fmt } from '../../io/csv.js';
import type { Cell } from '../../io/csv.js';
import type { Random } from '../../kernel/random.js';
import { formatSeconds, milliseconds, seconds } from '../../kernel/time.js';
import { DEFAULT_CONFIG, MIN_MTU_BYTES, type GossipConfig } from '../../protocols/gossip/config.js';
import { PRESETS, PRESET_NAMES, type PresetName } from '../../protocols/gossip/presets.js';
import { GossipCluster } from '../../sim/gossip-cluster.js';
import type { Via } from '../../protocols/gossip/node.js';
import type { Entry } from '../../protocols/gossip/store.js';
import type { GossipMessage, KvCall, KvReply } from '../../protocols/gossip/wire.js';
import type { GossipMetrics, GossipMetricsOptions } from '../../sim/gossip-metrics.js';
import type { SwimStoreCluster } from '../../sim/swim-store-cluster.js';
import { buildMembershipStore } from './swim-store.js';
import type { SwimSettings } from './swim.js';
import { droppedTotal, type NodeId } from '../../net/network.js';
import type { Issue, ProtocolDriver, RunContext, RunResult, ScenarioFor, WorkEstimate } from '../driver.js';
import { unknownNode } from '../loader.js';
import { nodeNameSet } from '../network-section.js';
import { runPipeline, type Attached, type Recipe, type World } from '../pipeline.js';
import { delayMs, MAX_DELAY_MS, MAX_DRIFT_PPM, MAX_DURATION_S, MIN_TIME_S, positiveS, prob, timeS } from '../schema.js';

/** Anti-entropy's interval: 0 (off) or a positive duration of at least 1 ns. */
const offOrPositiveS = () =>
  z
    .number()
    .min(0)
    .max(MAX_DURATION_S)
    .refine((v) => v === 0 || v >= MIN_TIME_S, { message: `expected 0 (off) or at least ${MIN_TIME_S} (1 ns)` });

const gossipSectionShape = z.strictObject({
  preset: z.enum(PRESET_NAMES).default('default'),
  mode: z.enum(['push', 'push-pull', 'pull', 'off']),
  timing: z.enum(['rounds', 'immediate']),
  fanout: z.int().min(1).max(10_000),
  interval_s: positiveS(),
  phase: z.enum(['aligned', 'random']),
  feedback: z.enum(['feedback', 'blind']),
  stop: z.enum(['counter', 'coin', 'forever', 'once']),
  k: z.int().min(1).max(1_000_000),
  counter_reset: z.boolean(),
  round_semantics: z.enum(['synchronous', 'relay']),
  connection_limit: z.union([z.int().min(1).max(1_000_000), z.literal('none')]),
  rumor_budget: z.union([z.int().min(1).max(1_000_000), z.literal('none')]),
  forward_probability: prob(),
  regossip_anti_entropy: z.boolean(),
  anti_entropy: z.strictObject({
    interval_s: offOrPositiveS(),
    phase: z.enum(['aligned', 'random']),
    mode: z.enum(['push', 'pull', 'push-pull']),
    mtu_bytes: z.int().min(MIN_MTU_BYTES).max(65507),
    digest_buckets: z.int().min(1).max(65535),
  }),
  tombstone_gc_s: z.union([positiveS(), z.literal('never')]),
  clock: z.strictObject({
    kind: z.enum(['hlc', 'physical']),
    max_offset_ms: delayMs().default(0),
    max_drift_ppm: z.number().min(0).max(MAX_DRIFT_PPM).default(0),
    max_ahead_ms: z.number().min(1e-6).max(MAX_DELAY_MS),
    nodes: z
      .array(
        z.strictObject({
          node: z.string(),
          offset_ms: z.number().min(-MAX_DELAY_MS).max(MAX_DELAY_MS).default(0),
          drift_ppm: z.number().min(-MAX_DRIFT_PPM).max(MAX_DRIFT_PPM).default(0),
        }),
      )
      .default([]),
  }),
  wrong_key: z.array(z.string()).default([]),
});

/** The parsed `protocol.gossip` section (every key resolved). */
export type GossipSettings = z.output<typeof gossipSectionShape>;

/** A preset's values in section form. */
export function presetSection(name: PresetName): Omit<GossipSettings, 'preset'> {
  const c: GossipConfig = { ...DEFAULT_CONFIG, ...PRESETS[name] };
  return {
    mode: c.mode,
    timing: c.timing,
    fanout: c.fanout,
    interval_s: c.intervalNs / 1e9,
    phase: c.phase,
    feedback: c.feedback,
    stop: c.stop,
    k: c.k,
    counter_reset: c.counterReset,
    round_semantics: c.roundSemantics,
    connection_limit: c.connectionLimit === Infinity ? 'none' : c.connectionLimit,
    rumor_budget: c.rumorBudget === Infinity ? 'none' : c.rumorBudget,
    forward_probability: c.forwardProbability,
    regossip_anti_entropy: c.regossipAntiEntropy,
    anti_entropy: {
      interval_s: c.antiEntropyIntervalNs / 1e9,
      phase: c.antiEntropyPhase,
      mode: c.antiEntropyMode,
      mtu_bytes: c.mtuBytes,
      digest_buckets: c.digestBuckets,
    },
    tombstone_gc_s: c.tombstoneGcNs === Infinity ? 'never' : c.tombstoneGcNs / 1e9,
    clock: { kind: c.clock, max_offset_ms: 0, max_drift_ppm: 0, max_ahead_ms: c.maxAheadNs / 1e6, nodes: [] },
    wrong_key: [],
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function applyPreset(raw: unknown): unknown {
  const given = raw === undefined || raw === null ? {} : raw;
  if (!isRecord(given)) return raw;
  const name = given['preset'] ?? 'default';
  // An unknown preset (a typo) is the one problem: the other unset keys come from the default
  // preset, so that they are not each reported missing.
  const known = typeof name === 'string' && (PRESET_NAMES as readonly string[]).includes(name);
  const base = presetSection(known ? (name as PresetName) : 'default');
  const out: Record<string, unknown> = { ...base, ...given, preset: name };
  for (const key of ['anti_entropy', 'clock'] as const) {
    const g = given[key];
    if (isRecord(g)) out[key] = { ...base[key], ...g };
  }
  return out;
}

/** Schema of the `protocol.gossip` section (strict; unset keys from the preset). */
export const gossipSectionSchema = z.preprocess(applyPreset, gossipSectionShape);

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const base = { at_s: timeS(), node: z.string().min(1), key: z.string().min(1).max(255) };

/** Schema of one workload entry (`join` and `leave` need `protocol.swim` beside the section). */
export const gossipWorkloadSchema = z.discriminatedUnion('op', [
  z.strictObject({ ...base, op: z.literal('put'), value: scalar }),
  z.strictObject({ ...base, op: z.literal('get') }),
  z.strictObject({ ...base, op: z.literal('delete') }),
  z.strictObject({ at_s: timeS(), node: z.string().min(1), op: z.literal('join') }),
  z.strictObject({ at_s: timeS(), node: z.string().min(1), op: z.literal('leave') }),
]);

/** A parsed workload entry. */
export type GossipWorkload = z.output<typeof gossipWorkloadSchema>;

/** The node configuration of a parsed section. */
export function toGossipConfig(s: GossipSettings): GossipConfig {
  return {
    mode: s.mode,
    timing: s.timing,
    fanout: s.fanout,
    intervalNs: seconds(s.interval_s),
    phase: s.phase,
    feedback: s.feedback,
    stop: s.stop,
    k: s.k,
    counterReset: s.counter_reset,
    roundSemantics: s.round_semantics,
    connectionLimit: s.connection_limit === 'none' ? Infinity : s.connection_limit,
    rumorBudget: s.rumor_budget === 'none' ? Infinity : s.rumor_budget,
    forwardProbability: s.forward_probability,
    antiEntropyIntervalNs: seconds(s.anti_entropy.interval_s),
    antiEntropyPhase: s.anti_entropy.phase,
    antiEntropyMode: s.anti_entropy.mode,
    regossipAntiEntropy: s.regossip_anti_entropy,
    mtuBytes: s.anti_entropy.mtu_bytes,
    digestBuckets: s.anti_entropy.digest_buckets,
    tombstoneGcNs: s.tombstone_gc_s === 'never' ? Infinity : seconds(s.tombstone_gc_s),
    clock: s.clock.kind,
    maxAheadNs: milliseconds(s.clock.max_ahead_ms),
  };
}

/** Columns of trace-deliveries.csv (`version_ns`: the write's timestamp, ns of the writer's clock). */
export const DELIVERY_COLUMNS = ['time_s', 'node', 'key', 'origin', 'version_ns', 'via'] as const;
/** Columns of trace-infection.csv. */
export const INFECTION_COLUMNS = ['time_s', 'key', 'live_holding_newest_frac'] as const;
/** Columns of the `reads` table. */
export const READ_COLUMNS = ['time_s', 'node', 'key', 'value', 'value_type', 'found', 'stale'] as const;
/** Columns of the `updates` table. */
export const UPDATE_COLUMNS = [
  'written_s',
  'node',
  'key',
  'op',
  'version_ns',
  't_ave_s',
  't_last_s',
  't_all_s',
  'residue_frac',
  'rumor_messages',
  'rumor_bytes',
  'lost',
] as const;
/** The metrics, in order. */
export const GOSSIP_METRICS = [
  'nodes',
  'updates',
  'lost_writes',
  't_ave_s',
  't_last_s',
  't_all_s',
  'residue_frac',
  'messages_sent',
  'sent_bytes',
  'messages_per_node',
  'sent_per_node_bytes',
  'rumor_messages_per_node',
  'packets_dropped',
  'converged',
  'convergence_time_s',
  'stale_reads',
  'reads',
  'failed_calls',
] as const;

/**
 * The value a read returned, as two cells: the value, plain (a string as it
 * is, a number at full precision, a boolean as 1/0, `null` empty), and its
 * JSON type, which tells `"1"`, `1` and `true` apart, and `null` from `""`;
 * both empty when nothing was found.
 */
function readValueCells(r: KvReply): [Cell, Cell] {
  return r.op === 'get' && r.ok && r.found ? [valueCell(r.value), valueType(r.value)] : ['', ''];
}

/** A read's value in the headline: JSON, so that `"1"` and `1` differ. */
function valueText(r: KvReply): string {
  return r.op === 'get' && r.ok && r.found ? JSON.stringify(r.value) : '';
}

/** Extra observation points of {@link gossipRecipe} (tests use them; the driver passes none). */
export interface GossipRunHooks {
  /** Every version stored at any node (local writes included). */
  readonly onStored?: (node: NodeId, entry: Entry, via: Via, nowNs: number) => void;
  /** A node actually restarted (it was down). */
  readonly onRestart?: (node: NodeId, keepState: boolean, nowNs: number) => void;
}

/** Per-node clock offsets (ns) and drifts (ppm) of a scenario, by node id. */
export interface GossipClocks {
  readonly offsetsNs: Float64Array;
  readonly driftsPpm: Float64Array;
}

/**
 * Draws every node's clock offset and drift of a `protocol.gossip` section:
 * uniform in ±max_offset_ms and ±max_drift_ppm, node by node in id order,
 * from `rng()` (the run's stream `gossip.clock`, asked for only when there is
 * something to draw), then the `clock.nodes` overrides. `desim run` and the
 * `desim/testing` gossip module both draw their clocks here, so the same
 * scenario gives the same clocks by both routes.
 */
export function drawClocks(s: GossipSettings, names: readonly string[], rng: () => Random): GossipClocks {
  const n = names.length;
  const offsetsNs = new Float64Array(n);
  const driftsPpm = new Float64Array(n);
  if (s.clock.max_offset_ms > 0 || s.clock.max_drift_ppm > 0) {
    const r = rng();
    for (let i = 0; i < n; i++) {
      offsetsNs[i] = Math.round(r.range(-1, 1) * milliseconds(s.clock.max_offset_ms));
      driftsPpm[i] = r.range(-1, 1) * s.clock.max_drift_ppm;
    }
  }
  for (const c of s.clock.nodes) {
    const id = names.indexOf(c.node);
    if (id < 0) throw new RangeError(`unknown node ${c.node}`);
    offsetsNs[id] = milliseconds(c.offset_ms);
    driftsPpm[id] = c.drift_ppm;
  }
  return { offsetsNs, driftsPpm };
}

/** The name of the random stream {@link drawClocks} draws from. */
export const GOSSIP_CLOCK_STREAM = 'gossip.clock';

/** One row of trace-deliveries.csv ({@link DELIVERY_COLUMNS}). */
export function deliveryRow(names: readonly string[], timeNs: number, node: NodeId, entry: Entry, via: Via): Cell[] {
  return [formatSeconds(timeNs), names[node], entry.key, names[entry.origin], entry.ts, via];
}

/** What the recipe needs of its cluster: a {@link GossipCluster}, or the SWIM-backed store through {@link membershipAdapter}. */
interface StoreCluster {
  readonly metrics: GossipMetrics;
  readonly unauthenticatedTotal: number;
  call(id: NodeId, call: KvCall): KvReply | undefined;
  crash(id: NodeId): void;
  restart(id: NodeId, keepState: boolean): void;
  isUp(id: NodeId): boolean;
  start(): void;
  sentTotals(): { messages: number; bytes: number; rumor: number };
}

/** The SWIM-backed store as a {@link StoreCluster}: the store's calls and counts (SWIM's messages are the SWIM recipe's). */
function membershipAdapter(c: SwimStoreCluster): StoreCluster {
  return {
    metrics: c.metrics,
    unauthenticatedTotal: 0,
    call: (id, kv) => c.call(id, kv) as KvReply | undefined,
    crash: (id) => c.crash(id),
    restart: (id, keep) => c.restart(id, keep),
    isUp: (id) => c.net.isUp(id),
    start: () => c.start(),
    sentTotals: () => c.storeTotals(),
  };
}

/**
 * The gossip recipe: a {@link GossipCluster} on every node of the run's
 * network, the scenario's clocks, the `deliveries` and `infection` traces,
 * the `reads` and `updates` tables and {@link GOSSIP_METRICS}.
 */
export function gossipRecipe(hooks: GossipRunHooks = {}): Recipe<GossipSettings, GossipWorkload> {
  return {
    name: 'gossip',
    world: (scenario) => {
      const n = scenario.network.nodes.length;
      // Fanout-3 pushes and their answers have up to about 2.4 n packets in flight (measured at 10^4 to
      // 10^6 nodes); other settings may need more, and the arrays then double from this room as usual.
      return { initialCapacity: Math.min(1 << 20, 4 * n + 1024), initialPackets: Math.min(1 << 23, 3 * n + 1024), perLinkCounters: n <= 1000 };
    },
    // Every gossip message carries its type (rumor, digest, ...); a TCP segment has none.
    owns: (msg) => typeof (msg as { type?: unknown } | null)?.type === 'string',
    attach: (world, scenario, ctx) => attachGossip(world as World<GossipMessage>, scenario, ctx, hooks),
  };
}

function attachGossip(
  world: World<GossipMessage>,
  scenario: ScenarioFor<GossipSettings, GossipWorkload>,
  ctx: RunContext,
  hooks: GossipRunHooks,
): Attached<GossipWorkload> {
  const { sim, net } = world;
  const s = scenario.settings;
  const names = world.names;
  const n = names.length;
  const clocks = drawClocks(s, names, () => sim.rng.stream(GOSSIP_CLOCK_STREAM));

  const deliveries = ctx.openTrace('deliveries', DELIVERY_COLUMNS);
  const infection = ctx.openTrace('infection', INFECTION_COLUMNS);
  // The last point of each key's curve, so every curve can be carried to the end of the run.
  const infectionLast = new Map<string, { t: number; f: number }>();
  const swim = scenario.protocol['swim'] as SwimSettings | undefined;
  const metrics: GossipMetricsOptions = {
    ...(hooks.onStored !== undefined ? { onStored: hooks.onStored } : {}),
    ...(deliveries !== undefined ? { onDelivery: (d) => deliveries.write(deliveryRow(names, d.timeNs, d.node, d.entry, d.via)) } : {}),
    ...(infection !== undefined
      ? {
          onInfection: (t: number, key: string, f: number) => {
            infectionLast.set(key, { t, f });
            infection.write([formatSeconds(t), key, fmt.float(f, 6)]);
          },
        }
      : {}),
  };
  const storeOptions = {
    config: toGossipConfig(s),
    clockOffsetNs: (id: NodeId) => clocks.offsetsNs[id] as number,
    clockDriftPpm: (id: NodeId) => clocks.driftsPpm[id] as number,
    metrics,
  };
  // With a `protocol.swim` section the store's peers are SWIM's view (see swim-store.ts); else every other node.
  const membership = swim === undefined ? undefined : buildMembershipStore(world as unknown as World, swim, storeOptions);
  const cluster: StoreCluster =
    membership === undefined
      ? new GossipCluster(sim, net, { ...storeOptions, wrongKey: s.wrong_key.map((name) => world.ids.get(name) as number) })
      : membershipAdapter(membership);

  let lastHealNs = 0;
  for (const f of scenario.faults) {
    if ('repair' in f || 'release' in f || 'restart' in f) lastHealNs = Math.max(lastHealNs, seconds(f.at_s));
  }

  const reads: Cell[][] = [];
  const gets: string[] = [];
  let stale = 0;
  let failed = 0;
  let puts = 0;
  let deletes = 0;
  const call = (w: GossipWorkload): void => {
    const id = world.ids.get(w.node) as number;
    if (w.op === 'join' || w.op === 'leave') {
      // Checked: only with protocol.swim.
      if (w.op === 'join') membership?.join(id);
      else membership?.leave(id);
      return;
    }
    const reply = cluster.call(id, w.op === 'put' ? { op: 'put', key: w.key, value: w.value } : { op: w.op, key: w.key });
    if (reply === undefined || !reply.ok) {
      failed++;
      return;
    }
    if (w.op !== 'get') {
      if (w.op === 'put') puts++;
      else deletes++;
      return;
    }
    const newest = cluster.metrics.newest(w.key);
    let isStale = false;
    if (reply.op === 'get' && newest !== undefined) {
      isStale = reply.found ? reply.ts !== newest.ts || reply.origin !== newest.origin : !newest.deleted;
    }
    if (isStale) stale++;
    const value = valueText(reply);
    reads.push([formatSeconds(sim.now), w.node, w.key, ...readValueCells(reply), reply.op === 'get' && reply.found, isStale]);
    gets.push(`get@${w.node}=${value === '' ? 'NOT FOUND' : value}`);
  };

  const endNs = seconds(scenario.duration_s);
  return {
    crash: (id) => cluster.crash(id),
    restart: (id, keep) => {
      if (!cluster.isUp(id) && hooks.onRestart !== undefined) hooks.onRestart(id, keep, sim.now);
      cluster.restart(id, keep);
    },
    call,
    start: () => cluster.start(),
    finish: () => {
      cluster.metrics.flush();
      // Each key's curve ends at the end of the run (a step, not a last change), so plots span the run.
      for (const [key, last] of infectionLast) if (last.t < endNs) infection?.write([formatSeconds(endNs), key, fmt.float(last.f, 6)]);
      return summarize();
    },
  };

  function summarize(): RunResult {
    const m = cluster.metrics;
    const sum = m.summary();
    const totals = cluster.sentTotals();
    const converged = m.converged;
    const convergenceS = converged ? Math.max(0, m.lastConvergedNs - lastHealNs) / 1e9 : NaN;
    const metrics: Record<(typeof GOSSIP_METRICS)[number], number> = {
      nodes: n,
      updates: sum.updates,
      lost_writes: sum.lost,
      t_ave_s: sum.tAveS,
      t_last_s: sum.tLastS,
      t_all_s: sum.tAllS,
      residue_frac: sum.residueFrac,
      messages_sent: totals.messages,
      sent_bytes: totals.bytes,
      messages_per_node: totals.messages / n,
      sent_per_node_bytes: totals.bytes / n,
      rumor_messages_per_node: totals.rumor / n,
      packets_dropped: droppedTotal(net.total) + cluster.unauthenticatedTotal,
      converged: converged ? 1 : 0,
      convergence_time_s: convergenceS,
      stale_reads: stale,
      reads: reads.length,
      failed_calls: failed,
    };
    const updates: Cell[][] = m.updates.map((u) => [
      formatSeconds(u.writtenAtNs),
      names[u.origin],
      u.key,
      u.deleted ? 'delete' : 'put',
      u.ts,
      u.reached > 0 ? fmt.float(m.tAveNs(u) / 1e9, 9) : '',
      u.reached > 0 ? formatSeconds(m.tLastNs(u)) : '',
      m.complete(u) ? formatSeconds(m.tAllNs(u)) : '',
      fmt.float(m.residue(u), 6),
      u.messages,
      u.bytes,
      m.lost(u),
    ]);
    const writes = [count(puts, 'put'), ...(deletes > 0 ? [count(deletes, 'delete')] : [])].join(', ');
    const shownGets = gets.length <= 4 ? gets : [...gets.slice(0, 4), `... (${gets.length} gets)`];
    const conv = converged ? `converged at t=${formatSeconds(m.lastConvergedNs)} s` : 'not converged at the end';
    const lostText = sum.lost > 0 ? [`${count(sum.lost, 'write')} lost`] : [];
    const refused = cluster.unauthenticatedTotal;
    const keyText = s.wrong_key.length > 0 ? [`${count(refused, 'datagram')} refused for a wrong key`] : [];
    const headline = [`${count(n, 'node')}, ${writes}`, ...(shownGets.length > 0 ? [shownGets.join(' ')] : []), ...lostText, ...keyText, conv].join(
      '; ',
    );
    return {
      metrics,
      tables: { reads: { columns: READ_COLUMNS, rows: reads }, updates: { columns: UPDATE_COLUMNS, rows: updates } },
      headline,
    };
  }
}

function checkGossip(scenario: ScenarioFor<GossipSettings, GossipWorkload>): Issue[] {
  const issues: Issue[] = [];
  const names = nodeNameSet(scenario.network);
  scenario.workload.forEach((w, i) => {
    if (!names.has(w.node)) issues.push({ path: `workload[${i}].node`, message: unknownNode(w.node, names) });
  });
  const clockNodes = scenario.settings.clock.nodes.map((c) => c.node);
  clockNodes.forEach((node, i) => {
    if (!names.has(node)) issues.push({ path: `protocol.gossip.clock.nodes[${i}].node`, message: unknownNode(node, names) });
    // A later entry for the same node would replace this one, which would then do nothing.
    const later = clockNodes.indexOf(node, i + 1);
    if (later >= 0)
      issues.push({
        path: `protocol.gossip.clock.nodes[${i}].node`,
        message: `node ${JSON.stringify(node)} again in clock.nodes[${later}]: give each node one entry`,
      });
  });
  const swim = scenario.protocol['swim'] !== undefined;
  scenario.workload.forEach((w, i) => {
    if (!swim && (w.op === 'join' || w.op === 'leave'))
      issues.push({ path: `workload[${i}].op`, message: `${w.op} needs membership: add a protocol.swim section beside protocol.gossip` });
  });
  const wrong = scenario.settings.wrong_key;
  if (swim && wrong.length > 0)
    issues.push({
      path: 'protocol.gossip.wrong_key',
      message: 'not supported with protocol.swim (the SWIM-backed store has no key check): remove it',
    });
  wrong.forEach((node, i) => {
    if (!names.has(node)) issues.push({ path: `protocol.gossip.wrong_key[${i}]`, message: unknownNode(node, names) });
    else if (wrong.indexOf(node) < i)
      issues.push({ path: `protocol.gossip.wrong_key[${i}]`, message: `node ${JSON.stringify(node)} is listed twice` });
  });
  if (names.size < 2) issues.push({ path: 'network.nodes', message: 'gossip needs at least 2 nodes' });
  const g = scenario.settings;
  if (g.regossip_anti_entropy && (g.mode === 'off' || g.anti_entropy.interval_s === 0)) {
    issues.push({
      path: 'protocol.gossip.regossip_anti_entropy',
      message: `true needs rumor mongering and anti-entropy, but ${g.mode === 'off' ? 'mode is off' : 'anti_entropy.interval_s is 0'}`,
    });
  }
  return issues;
}

/**
 * Work estimate: rumor rounds (every node ticks every interval_s while it has
 * rumors, sending to fanout peers, each answered), anti-entropy rounds (a
 * digest exchange of a few messages per node per interval), and forwarding on
 * receipt for `timing: immediate`.
 */
export function estimateGossip(scenario: ScenarioFor<GossipSettings, GossipWorkload>): WorkEstimate[] {
  const s = scenario.settings;
  const n = scenario.network.nodes.length;
  const d = scenario.duration_s;
  const writes = scenario.workload.filter((w) => w.op !== 'get').length;
  const terms: WorkEstimate[] = [];
  if (s.mode !== 'off' && s.timing === 'rounds' && (writes > 0 || s.mode === 'push-pull')) {
    terms.push({
      events: n * (d / s.interval_s) * (1 + 2 * s.fanout),
      path: 'protocol.gossip.interval_s',
      why: `${count(n, 'node')} x ${d} s / interval_s ${s.interval_s} x (1 + 2 x fanout ${s.fanout})`,
    });
  }
  if (s.mode !== 'off' && s.timing === 'immediate') {
    terms.push({
      events: writes * n * s.fanout * 2,
      path: 'protocol.gossip.fanout',
      why: `${count(writes, 'write')} x ${count(n, 'node')} x fanout ${s.fanout} x 2`,
    });
  }
  if (s.anti_entropy.interval_s > 0) {
    const ae = s.anti_entropy.interval_s;
    terms.push({
      events: n * (d / ae) * 5,
      path: 'protocol.gossip.anti_entropy.interval_s',
      why: `${count(n, 'node')} x ${d} s / anti_entropy.interval_s ${ae} x 5`,
    });
  }
  return terms;
}

/** The `gossip` scenario driver. */
export const gossipDriver: ProtocolDriver<GossipSettings, GossipWorkload> = {
  name: 'gossip',
  schema: gossipSectionSchema,
  workloadSchema: gossipWorkloadSchema,
  traces: ['deliveries', 'infection'],
  check: checkGossip,
  estimate: estimateGossip,
  recipe: gossipRecipe(),
  run: (scenario, ctx) => runPipeline(scenario, ctx, [gossipRecipe()]),
};

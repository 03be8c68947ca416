/**
 * The `tcp` scenario driver: TCP flows (Tahoe, Reno, NewReno, CUBIC), from the
 * `protocol.tcp` section of a scenario file, on one of two paths:
 *
 * - the dumbbell (no `network:` section): every flow shares the bottleneck
 *   `protocol.tcp.bottleneck`, ACKs return on per-flow links (`return_path`
 *   plus the flow's `extra_rtt_ms`);
 * - the scenario's network (a `network:` section): each flow names its
 *   sender and receiver nodes (`from`, `to`); data segments take the link
 *   from → to and ACKs the link to → from, with everything a link has
 *   (bandwidth, queue, latency, jitter, loss, duplication, per-link
 *   overrides), and every fault verb applies (partition / repair, hold /
 *   release, crash / restart of an endpoint, set_loss, set_latency_ms).
 *   Flows between the same two nodes share those links and their queues.
 *   `bottleneck`, `return_path`, `extra_rtt_ms` and `preset` describe the
 *   dumbbell and are refused there; an endpoint restarts with its state
 *   (`keep_state: false` is refused: desim models no connection reset).
 *
 * Section (every key optional, snake_case with units; defaults below):
 *
 * ```yaml
 * protocol:
 *   tcp:
 *     preset: original          # optional: fills unset keys with the original demo (Reno, 2% loss, 100 ms RTT, cwnd 1)
 *     bottleneck: { bandwidth_bps: 10000000, delay_ms: 50, queue_packets: 100, loss: 0, jitter_ms: 0 }
 *     return_path: { delay_ms: 50, loss: 0, jitter_ms: 0, bandwidth_bps: unlimited, queue_packets: unlimited }
 *     mss_bytes: 1460
 *     header_bytes: 40
 *     initial_window: rfc5681   # rfc5681 | rfc6928 | a number of segments
 *     min_rto_s: 1
 *     delayed_ack: false
 *     delayed_ack_ms: 200
 *     sack: false               # RFC 2018 / RFC 6675 SACK for every flow (a flow's own `sack` overrides it)
 *     limited_transmit: true    # with SACK only: RFC 3042 (unset: on)
 *     prr: true                 # with SACK only: RFC 6937 PRR (unset: on)
 *     rack: false               # with SACK only: RFC 8985 RACK-TLP (a flow's own `rack` overrides it)
 *     initial_ssthresh_pkts: unlimited  # or a number of segments (a flow's own overrides it)
 *     rwnd_bytes: unlimited     # the receive window every receiver advertises (a flow's own overrides it)
 *     recovery_exit: rfc        # rfc | linux: whether the ACK that ends fast recovery also grows the window
 *     flows: [{ variant: reno, start_s: 0, extra_rtt_ms: 0, bytes: unlimited, name: flow0, from: A, to: B, sack: true,
 *               initial_ssthresh_pkts: 20, rwnd_bytes: 65535 }]
 * ```
 *
 * Writes `trace-cwnd.csv` (one row per ACK and per event of every flow) when
 * asked, and `trace-segments.csv` (one row per data segment sent) only when
 * `outputs.traces` names `segments` (`all` leaves it out: it is as long as the
 * run has packets); returns whole-run metrics and a `flows` table. For a single flow
 * the metrics also carry the Mathis and Padhye model throughputs
 * (`model_mathis_bps`, `model_padhye_bps`) at the configured Bernoulli loss
 * rate (or the measured loss-event rate when the loss is not Bernoulli),
 * the measured mean RTT, the RTO the sender had at its timeouts, and b = 2
 * segments per ACK with delayed ACKs (else 1).
 */
import { z } from 'zod';
import { count } from '../../io/count.js';
import { fmt } from '../../io/csv.js';
import { formatSeconds, milliseconds, seconds } from '../../kernel/time.js';
import { VARIANTS } from '../../protocols/tcp/congestion/index.js';
import { rfc5681InitialWindow, rfc6928InitialWindow } from '../../protocols/tcp/control-block.js';
import { Dumbbell } from '../../sim/dumbbell.js';
import { TcpFlows, type FlowSummary, type TcpFlowsConfig } from '../../sim/tcp-flows.js';
import type { Network, NodeId } from '../../net/network.js';
import type { TcpPacket } from '../../protocols/tcp/packet.js';
import { jainIndex, mathisBps, padhyeBps } from '../../protocols/tcp/models.js';
import type { TcpTraceRecord } from '../../protocols/tcp/sender.js';
import type { Issue, LinkSection, NetworkSection, ProtocolDriver, RunContext, RunResult, ScenarioFor, WorkEstimate } from '../driver.js';
import { unknownNode } from '../loader.js';
import { nodeNameSet, toAqmSpec, toLossSpec } from '../network-section.js';
import { runPipeline, type Attached, type Recipe, type World } from '../pipeline.js';
import { aqmSchema, type AqmSection, bandwidthBps, delayMs, lossSchema, positiveMs, positiveS, queueLimit, timeS } from '../schema.js';

/** Largest initial window, in segments (RFC 6928's 10, times a thousand). */
export const MAX_INITIAL_WINDOW = 10_000;
/** Largest initial ssthresh, in segments. */
export const MAX_INITIAL_SSTHRESH = 1_000_000_000;
/** Largest receive window, in bytes: RFC 7323's, 65535 scaled by 2^14. */
export const MAX_RWND_BYTES = 65535 * 2 ** 14;

/** An initial ssthresh in segments (at least RFC 5681 eq. 4's floor of 2), or `unlimited`. */
const ssthreshPkts = () => z.union([z.int().min(2).max(MAX_INITIAL_SSTHRESH), z.literal('unlimited')]);
/** A receive window in bytes (at least one segment: checked against mss_bytes), or `unlimited`. */
const rwndBytes = () => z.union([z.int().min(1).max(MAX_RWND_BYTES), z.literal('unlimited')]);

const flowSchema = z.strictObject({
  /** Congestion control: tahoe, reno, newreno or cubic (RFC 9438). */
  variant: z.enum(VARIANTS).default('reno'),
  /** Name in traces and tables. Default `flow<i>`. */
  name: z.string().min(1).optional(),
  /** When the application starts sending (s). */
  start_s: timeS().default(0),
  /** Delay added to this flow's RTT (ms), on its own return link. */
  extra_rtt_ms: delayMs().default(0),
  /** Bytes to send, or `unlimited`. */
  bytes: z.union([z.int().min(0).max(Number.MAX_SAFE_INTEGER), z.literal('unlimited')]).default('unlimited'),
  /** With a `network:` section: the sender's node. */
  from: z.string().optional(),
  /** With a `network:` section: the receiver's node. */
  to: z.string().optional(),
  /** SACK for this flow (default: the section's `sack`). */
  sack: z.boolean().optional(),
  /** With SACK: RFC 8985 RACK-TLP for this flow (default: the section's `rack`). */
  rack: z.boolean().optional(),
  /** Initial ssthresh of this flow (default: the section's). */
  initial_ssthresh_pkts: ssthreshPkts().optional(),
  /** Receive window of this flow's receiver (default: the section's). */
  rwnd_bytes: rwndBytes().optional(),
  /** ECN for this flow (default: the section's `ecn`). */
  ecn: z.boolean().optional(),
});

const tcpSectionShape = z.strictObject({
  /** `original`: unset keys take the original demo's values (see ORIGINAL_PRESET). */
  preset: z.literal('original').optional(),
  bottleneck: z
    .strictObject({
      bandwidth_bps: bandwidthBps().default(10_000_000),
      delay_ms: delayMs().default(50),
      queue_packets: queueLimit().default(100),
      loss: lossSchema.default(0),
      jitter_ms: delayMs().default(0),
      aqm: aqmSchema.optional(),
    })
    .prefault({}),
  return_path: z
    .strictObject({
      delay_ms: delayMs().default(50),
      loss: lossSchema.default(0),
      jitter_ms: delayMs().default(0),
      /** Unset: no serialization and no queue (the ACK path as before). */
      bandwidth_bps: bandwidthBps().optional(),
      /** Unset: unlimited. Needs bandwidth_bps. */
      queue_packets: queueLimit().optional(),
    })
    .prefault({}),
  mss_bytes: z.int().min(1).max(65535).default(1460),
  header_bytes: z.int().min(0).max(65535).default(40),
  initial_window: z.union([z.enum(['rfc5681', 'rfc6928']), z.number().min(1).max(MAX_INITIAL_WINDOW)]).default('rfc5681'),
  // RFC 6298 (2.5) allows an upper bound of at least 60 s on the RTO; the sender's maximum is 60 s.
  min_rto_s: positiveS(60).default(1),
  delayed_ack: z.boolean().default(false),
  // RFC 1122 (4.2.3.2): the delay must be less than 0.5 seconds.
  delayed_ack_ms: positiveMs(500).default(200),
  sack: z.boolean().default(false),
  limited_transmit: z.boolean().optional(),
  prr: z.boolean().optional(),
  rack: z.boolean().optional(),
  initial_ssthresh_pkts: ssthreshPkts().default('unlimited'),
  rwnd_bytes: rwndBytes().default('unlimited'),
  recovery_exit: z.enum(['rfc', 'linux']).default('rfc'),
  ecn: z.boolean().optional(),
  flows: z
    .array(flowSchema)
    .min(1)
    .default([{ variant: 'reno', start_s: 0, extra_rtt_ms: 0, bytes: 'unlimited' }]),
});

/**
 * The original demo (a per-RTT Reno loop: rtt=1, loss_rate=0.02,
 * duration=30 RTTs, cwnd starting at 1) as packet-level settings: one Reno
 * flow, 2% Bernoulli loss on data, 100 ms RTT (50 ms each way), a 10 Mbps
 * bottleneck (the window stays loss-limited) and an initial window of one
 * segment. Keys the file sets win.
 */
export const ORIGINAL_PRESET = {
  bottleneck: { bandwidth_bps: 10_000_000, delay_ms: 50, queue_packets: 100, loss: 0.02 },
  return_path: { delay_ms: 50, loss: 0 },
  initial_window: 1,
  flows: [{ variant: 'reno', name: 'reno' }],
} as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function applyPreset(raw: unknown): unknown {
  if (!isRecord(raw) || raw['preset'] !== 'original') return raw;
  const out: Record<string, unknown> = { ...ORIGINAL_PRESET, ...raw };
  for (const key of ['bottleneck', 'return_path'] as const) {
    const given = raw[key];
    if (isRecord(given)) out[key] = { ...ORIGINAL_PRESET[key], ...given };
  }
  return out;
}

/** Schema of the `protocol.tcp` section (strict, defaults filled in). */
export const tcpSectionSchema = z.preprocess(applyPreset, tcpSectionShape);

/** The parsed `protocol.tcp` section. */
export type TcpSettings = z.output<typeof tcpSectionShape>;

/** TCP takes no workload entries: the flows are its workload. */
export const tcpWorkloadSchema = z.never();

/** Columns of trace-cwnd.csv, in order. */
export const CWND_TRACE_COLUMNS = [
  'time_s',
  'time_rtt',
  'flow',
  'cwnd_pkts',
  'cwnd_bytes',
  'ssthresh_pkts',
  'state',
  'snd_una_bytes',
  'snd_nxt_bytes',
  'dupacks',
  'srtt_s',
  'rto_s',
  'event',
] as const;

/** Columns of trace-segments.csv, in order. */
export const SEGMENT_TRACE_COLUMNS = [
  'time_s',
  'flow',
  'seq_bytes',
  'len_bytes',
  'kind',
  'rto_deadline_s',
  'cwnd_bytes',
  'pipe_bytes',
  'state',
  'dropped',
] as const;

/** Columns of the `flows` table, in order. */
export const FLOW_TABLE_COLUMNS = [
  'flow',
  'variant',
  'rtt_s',
  'start_s',
  'goodput_bps',
  'throughput_bps',
  'delivered_bytes',
  'data_packets',
  'retransmits',
  'fast_retransmits',
  'timeouts',
  'loss_events',
  'data_drops',
  'mean_rtt_s',
  'timeout_rto_s',
  'completed_s',
] as const;

/** The flow's display name. */
function flowName(s: TcpSettings, i: number): string {
  return s.flows[i]?.name ?? `flow${i}`;
}

/** Initial window in segments. */
export function initialWindowSegments(s: TcpSettings): number {
  if (s.initial_window === 'rfc5681') return rfc5681InitialWindow(s.mss_bytes);
  if (s.initial_window === 'rfc6928') return rfc6928InitialWindow(s.mss_bytes);
  return s.initial_window;
}

/** Whether a SACK flow runs RFC 8985 RACK-TLP when neither the section nor the flow says. */
export const RACK_DEFAULT = true;

/** The settings every flow of a parsed section shares, as {@link TcpFlows} (and the dumbbell) take them. */
function sharedFlowSettings(s: TcpSettings): Omit<TcpFlowsConfig, 'flows'> {
  return {
    mssBytes: s.mss_bytes,
    headerBytes: s.header_bytes,
    initialWindowSegments: initialWindowSegments(s),
    minRtoNs: seconds(s.min_rto_s),
    delayedAck: s.delayed_ack,
    delayedAckNs: milliseconds(s.delayed_ack_ms),
    sack: s.sack,
    limitedTransmit: s.limited_transmit ?? true,
    prr: s.prr ?? true,
    rack: s.rack ?? RACK_DEFAULT,
    ...(s.initial_ssthresh_pkts !== 'unlimited' ? { initialSsthreshSegments: s.initial_ssthresh_pkts } : {}),
    ...(s.rwnd_bytes !== 'unlimited' ? { rwndBytes: s.rwnd_bytes } : {}),
    recoveryExit: s.recovery_exit,
    ...(s.ecn !== undefined ? { ecn: s.ecn } : {}),
  };
}

/** A flow's own overrides of the section's initial ssthresh and receive window, as {@link TcpFlows} takes them. */
function flowOverrides(f: TcpSettings['flows'][number]): { initialSsthreshSegments?: number; rwndBytes?: number } {
  const ssthresh = f.initial_ssthresh_pkts;
  const rwnd = f.rwnd_bytes;
  return {
    ...(ssthresh !== undefined ? { initialSsthreshSegments: ssthresh === 'unlimited' ? Infinity : ssthresh } : {}),
    ...(rwnd !== undefined ? { rwndBytes: rwnd === 'unlimited' ? Infinity : rwnd } : {}),
  };
}

/** Builds the dumbbell of a parsed section on a world's (empty) network; the world's seed is the simulator's. */
export function buildDumbbell(world: Pick<World, 'sim' | 'net'>, s: TcpSettings): Dumbbell {
  return new Dumbbell(world.sim, {
    net: world.net as Network<TcpPacket>,
    bottleneck: {
      bandwidthBps: s.bottleneck.bandwidth_bps,
      delayNs: milliseconds(s.bottleneck.delay_ms),
      queuePackets: s.bottleneck.queue_packets,
      loss: toLossSpec(s.bottleneck.loss),
      jitterNs: milliseconds(s.bottleneck.jitter_ms),
      ...(s.bottleneck.aqm !== undefined ? { aqm: toAqmSpec(s.bottleneck.aqm) } : {}),
    },
    returnPath: {
      delayNs: milliseconds(s.return_path.delay_ms),
      loss: toLossSpec(s.return_path.loss),
      jitterNs: milliseconds(s.return_path.jitter_ms),
      ...(s.return_path.bandwidth_bps !== undefined ? { bandwidthBps: s.return_path.bandwidth_bps } : {}),
      ...(s.return_path.queue_packets !== undefined ? { queuePackets: s.return_path.queue_packets } : {}),
    },
    flows: s.flows.map((f) => ({
      variant: f.variant,
      startNs: seconds(f.start_s),
      totalBytes: f.bytes === 'unlimited' ? Infinity : f.bytes,
      extraRttNs: milliseconds(f.extra_rtt_ms),
      ...(f.sack !== undefined ? { sack: f.sack } : {}),
      ...(f.rack !== undefined ? { rack: f.rack } : {}),
      ...flowOverrides(f),
      ...(f.ecn !== undefined ? { ecn: f.ecn } : {}),
    })),
    ...sharedFlowSettings(s),
  });
}

/** True when the scenario's flows run on its `network:` section rather than on the dumbbell. */
export function onNetwork(scenario: { readonly network: NetworkSection }): boolean {
  return scenario.network.nodes.length > 0;
}

/** The link section in force from `from` to `to`: the default link with every matching override applied in order. */
export function linkBetween(section: NetworkSection, from: string, to: string): LinkSection {
  let link: LinkSection = { ...section.link };
  for (const l of section.links) {
    if ((l.from === from && l.to === to) || (l.both_ways && l.from === to && l.to === from)) {
      const patch: Record<string, unknown> = { ...l };
      delete patch['from'];
      delete patch['to'];
      delete patch['both_ways'];
      link = { ...link, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    }
  }
  return link;
}

/** The flows of a scenario on a world built from its `network:` section (faults are the pipeline's business). */
export function buildNetworkFlows(world: Pick<World, 'sim' | 'net' | 'ids'>, scenario: ScenarioFor<TcpSettings, unknown>): TcpFlows {
  const s = scenario.settings;
  const node = (name: string | undefined): number => world.ids.get(name ?? '') as number;
  return new TcpFlows(world.sim, world.net as Network<TcpPacket>, {
    flows: s.flows.map((f) => ({
      variant: f.variant,
      sender: node(f.from),
      receiver: node(f.to),
      startNs: seconds(f.start_s),
      totalBytes: f.bytes === 'unlimited' ? Infinity : f.bytes,
      ...(f.sack !== undefined ? { sack: f.sack } : {}),
      ...(f.rack !== undefined ? { rack: f.rack } : {}),
      ...flowOverrides(f),
      ...(f.ecn !== undefined ? { ecn: f.ecn } : {}),
    })),
    ...sharedFlowSettings(s),
  });
}

/** Whole-run results of a TCP scenario (what `metrics` carries), computed from the per-flow summaries. */
export function tcpMetrics(
  s: TcpSettings,
  flows: readonly FlowSummary[],
  configuredLoss: number | object = s.bottleneck.loss,
): Record<string, number> {
  let goodput = 0;
  let throughput = 0;
  let retransmits = 0;
  let fast = 0;
  let timeouts = 0;
  let lossEvents = 0;
  let sent = 0;
  let drops = 0;
  let rttWeighted = 0;
  let rttWeight = 0;
  for (const f of flows) {
    goodput += f.goodputBps;
    throughput += f.throughputBps;
    retransmits += f.retransmits;
    fast += f.fastRetransmits;
    timeouts += f.timeouts;
    lossEvents += f.lossEvents;
    sent += f.segmentsSent;
    drops += f.dataDrops;
    if (Number.isFinite(f.meanRttNs)) {
      rttWeighted += f.meanRttNs * f.segmentsSent;
      rttWeight += f.segmentsSent;
    }
  }
  const m: Record<string, number> = {
    goodput_bps: goodput,
    throughput_bps: throughput,
    data_packets: sent,
    retransmits,
    fast_retransmits: fast,
    timeouts,
    loss_events: lossEvents,
    loss_event_rate: sent > 0 ? lossEvents / sent : 0,
    data_drops: drops,
    mean_rtt_s: rttWeight > 0 ? rttWeighted / rttWeight / 1e9 : NaN,
    jain_index: jainIndex(flows.map((f) => f.goodputBps)),
  };
  // CUBIC sharing a path with other variants: the fraction of the goodput the CUBIC flows got.
  const cubicGoodput = flows.reduce((sum, f) => sum + (f.variant === 'cubic' ? f.goodputBps : 0), 0);
  if (flows.some((f) => f.variant === 'cubic') && flows.some((f) => f.variant !== 'cubic'))
    m['cubic_goodput_frac'] = goodput > 0 ? cubicGoodput / goodput : NaN;
  const only = flows.length === 1 ? flows[0] : undefined;
  if (only !== undefined) {
    const loss = configuredLoss;
    const p = typeof loss === 'number' && loss > 0 ? loss : (m['loss_event_rate'] as number);
    const rttS = Number.isFinite(only.meanRttNs) ? only.meanRttNs / 1e9 : only.baseRttNs / 1e9;
    const t0S = only.meanTimeoutRtoNs / 1e9;
    const b = s.delayed_ack ? 2 : 1;
    const mathis = p > 0 ? mathisBps(s.mss_bytes, rttS, p, b) : NaN;
    const padhye = p > 0 ? padhyeBps({ mssBytes: s.mss_bytes, rttS, p, t0S, b }) : NaN;
    m['model_p'] = p;
    m['model_t0_s'] = t0S;
    m['model_mathis_bps'] = mathis;
    m['model_padhye_bps'] = padhye;
    m['goodput_over_mathis'] = goodput / mathis;
    m['goodput_over_padhye'] = goodput / padhye;
  }
  const [a, b] = flows;
  if (flows.length === 2 && a !== undefined && b !== undefined) {
    // RTT fairness of two flows: the first's goodput over the second's, beside the measured RTT ratio
    // (the second's over the first's) to the power 1 (Mathis et al. 1997 at a common loss rate) and 2
    // (Lakshman and Madhow 1997, drop-tail losses that hit both flows at once).
    const rttRatio = b.meanRttNs / a.meanRttNs;
    m['goodput_ratio'] = a.goodputBps / b.goodputBps;
    m['rtt_ratio'] = rttRatio;
    m['model_goodput_ratio_rtt1'] = rttRatio;
    m['model_goodput_ratio_rtt2'] = rttRatio * rttRatio;
  }
  return m;
}

function rateText(bps: number): string {
  if (!Number.isFinite(bps)) return 'n/a';
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(3)} Gbps`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(3)} Mbps`;
  return `${(bps / 1e3).toFixed(1)} kbps`;
}

/** True when a TCP message is this driver's (a segment or an ACK), for a network TCP shares with another protocol. */
export function isTcpPacket(msg: unknown): boolean {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Partial<Record<keyof TcpPacket | 'type', unknown>>;
  return typeof m.flow === 'number' && typeof m.seq === 'number' && typeof m.len === 'number' && m.type === undefined;
}

/** Extra observation points of {@link tcpRecipe} (`desim/testing` uses them; the driver passes none). */
export interface TcpRunHooks {
  /** Called with the flows once they are built, before anything runs (connect to their traces here). */
  readonly onFlows?: (flows: TcpFlows) => void;
}

/**
 * The TCP recipe: the scenario's flows on the world's network (with a
 * `network:` section), or on a dumbbell built on the world's empty network;
 * the `cwnd` trace, the `flows` table, and the metrics of {@link tcpMetrics}.
 * With a `network:` section the pipeline's faults reach the flows: a crash
 * or restart of a node that runs a TCP end stops or restarts it.
 */
export function tcpRecipe(hooks: TcpRunHooks = {}): Recipe<TcpSettings, never> {
  return {
    name: 'tcp',
    world: () => ({ perLinkCounters: false }),
    owns: isTcpPacket,
    attach: (world, scenario, ctx) => attachTcp(world, scenario, ctx, hooks),
  };
}

function attachTcp(world: World, scenario: ScenarioFor<TcpSettings, never>, ctx: RunContext, hooks: TcpRunHooks): Attached<never> {
  const s = scenario.settings;
  const network = onNetwork(scenario);
  const bed = network ? buildNetworkFlows(world, scenario) : buildDumbbell(world, s).flows;
  hooks.onFlows?.(bed);
  const csv = ctx.openTrace('cwnd', CWND_TRACE_COLUMNS);
  if (csv !== undefined) {
    const names = s.flows.map((_, i) => flowName(s, i));
    const rtts = names.map((_, i) => bed.baseRttNs(i));
    bed.trace.connect((r: TcpTraceRecord) => {
      const mss = r.segmentSize;
      csv.write([
        formatSeconds(r.timeNs),
        fmt.float(r.timeNs / (rtts[r.flow] as number), 6),
        names[r.flow],
        fmt.float(r.cwndBytes / mss, 6),
        r.cwndBytes,
        r.ssthreshBytes === Infinity ? '' : fmt.float(r.ssthreshBytes / mss, 6),
        r.state,
        r.sndUna,
        r.sndNxt,
        r.dupacks,
        formatSeconds(Math.round(r.srttNs)),
        formatSeconds(r.rtoNs),
        r.event,
      ]);
    });
  }
  // Not part of `all`: a row per segment sent; written when named.
  const wanted = scenario.outputs.traces;
  const segCsv = Array.isArray(wanted) && wanted.includes('segments') ? ctx.openTrace('segments', SEGMENT_TRACE_COLUMNS) : undefined;
  if (segCsv !== undefined) {
    const names = s.flows.map((_, i) => flowName(s, i));
    bed.segments.connect((r) => {
      segCsv.write([
        formatSeconds(r.timeNs),
        names[r.flow],
        r.seq,
        r.len,
        r.kind,
        formatSeconds(r.rtoDeadlineNs),
        r.cwndBytes,
        r.pipeBytes >= 0 ? r.pipeBytes : '',
        r.state,
        r.dropped ? 1 : 0,
      ]);
    });
  }
  const runsEnd = (id: NodeId): boolean => bed.host.nodes[id] !== undefined;
  return {
    // Nodes without a TCP end are the network's (or another recipe's) to crash and restart.
    crash: (id) => {
      if (runsEnd(id)) bed.crash(id);
    },
    restart: (id, keepState) => {
      if (runsEnd(id)) bed.restart(id, keepState);
    },
    start: () => bed.start(),
    finish: () => tcpResult(scenario, bed.summary(seconds(scenario.duration_s)), queueMetrics(bed)),
  };
}

/**
 * Metrics of the links with a queue discipline (`aqm`), over all of them; none when no link has one
 * (so runs without AQM keep their columns): mean and largest sojourn time in the queue of the
 * packets that left it, drops by the discipline and by the queue limit, ECN marks, and the
 * senders' ECN window reductions.
 */
export function queueMetrics(bed: TcpFlows): Record<string, number> {
  let departed = 0;
  let sum = 0;
  let max = 0;
  let aqmDrops = 0;
  let overflow = 0;
  let marks = 0;
  let any = false;
  for (const { stats } of bed.net.managedQueues()) {
    any = true;
    departed += stats.departed;
    sum += stats.sojournSumNs;
    max = Math.max(max, stats.sojournMaxNs);
    aqmDrops += stats.aqmDrops;
    overflow += stats.overflowDrops;
    marks += stats.marks;
  }
  if (!any) return {};
  let reductions = 0;
  for (let i = 0; i < bed.flowCount; i++) reductions += bed.sender(i).stats.ecnReductions;
  return {
    queue_delay_s: departed > 0 ? sum / departed / 1e9 : NaN,
    queue_delay_max_s: max / 1e9,
    aqm_drops: aqmDrops,
    queue_overflow_drops: overflow,
    ecn_marks: marks,
    ecn_reductions: reductions,
  };
}

/** The metrics, `flows` table and headline of a TCP run whose flows ended with `flows`. */
function tcpResult(scenario: ScenarioFor<TcpSettings, never>, flows: readonly FlowSummary[], queue: Record<string, number> = {}): RunResult {
  const s = scenario.settings;
  const durationS = scenario.duration_s;
  const network = onNetwork(scenario);
  const only = s.flows.length === 1 ? s.flows[0] : undefined;
  const loss = network ? (only !== undefined ? (linkBetween(scenario.network, only.from ?? '', only.to ?? '').loss ?? 0) : 0) : s.bottleneck.loss;
  const metrics = { ...tcpMetrics(s, flows, loss), ...queue };
  const rows = flows.map((f, i) => [
    flowName(s, i),
    f.variant,
    formatSeconds(f.baseRttNs),
    formatSeconds(f.startNs),
    fmt.float(f.goodputBps),
    fmt.float(f.throughputBps),
    f.bytesDelivered,
    f.segmentsSent,
    f.retransmits,
    f.fastRetransmits,
    f.timeouts,
    f.lossEvents,
    f.dataDrops,
    Number.isFinite(f.meanRttNs) ? formatSeconds(Math.round(f.meanRttNs)) : '',
    formatSeconds(Math.round(f.meanTimeoutRtoNs)),
    f.completedNs >= 0 ? formatSeconds(f.completedNs) : '',
  ]);
  const variants = [...new Set(flows.map((f) => f.variant))].join('/');
  const path = network ? `on the network (${s.flows.map((f) => `${f.from}->${f.to}`).join(', ')})` : `over ${rateText(s.bottleneck.bandwidth_bps)}`;
  let headline =
    `${count(flows.length, `${variants} flow`)} ${path}` +
    `, ${durationS} s: goodput ${rateText(metrics['goodput_bps'] as number)}` +
    `, ${count(metrics['fast_retransmits'] as number, 'fast retransmit')}, ${count(metrics['timeouts'] as number, 'timeout')}`;
  if (flows.length === 1) {
    headline += `; Mathis ${rateText(metrics['model_mathis_bps'] as number)} (x${fmt.float(metrics['goodput_over_mathis'] as number, 3)})`;
    headline += `, Padhye ${rateText(metrics['model_padhye_bps'] as number)} (x${fmt.float(metrics['goodput_over_padhye'] as number, 3)})`;
  } else {
    headline += `; Jain index ${fmt.float(metrics['jain_index'] as number, 4)}`;
  }
  if (queue['queue_delay_s'] !== undefined) headline += `; queue delay ${fmt.float(queue['queue_delay_s'] * 1000, 4)} ms`;
  return { metrics, tables: { flows: { columns: FLOW_TABLE_COLUMNS, rows } }, headline };
}

/** The dumbbell's keys as the schema fills them when the file leaves them out. */
const DUMBBELL_DEFAULTS = tcpSectionShape.parse({});

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Checks that need the whole scenario. */
function checkTcp(scenario: ScenarioFor<TcpSettings, never>): Issue[] {
  const issues: Issue[] = [];
  const s = scenario.settings;
  s.flows.forEach((f, i) => {
    if (f.start_s >= scenario.duration_s) {
      issues.push({
        path: `protocol.tcp.flows[${i}].start_s`,
        message: `flow starts at ${f.start_s} s, not before the end of the run (duration_s ${scenario.duration_s})`,
      });
    }
  });
  if (onNetwork(scenario)) {
    // The path is the network's links: the dumbbell's keys would be silently ignored.
    const names = nodeNameSet(scenario.network);
    const dumbbell = "describes the dumbbell; with a network section the path is the network's links";
    if (s.preset !== undefined) issues.push({ path: 'protocol.tcp.preset', message: `${dumbbell}: remove it` });
    if (!sameJson(s.bottleneck, DUMBBELL_DEFAULTS.bottleneck))
      issues.push({ path: 'protocol.tcp.bottleneck', message: `${dumbbell} (set the link from sender to receiver under network.links): remove it` });
    if (!sameJson(s.return_path, DUMBBELL_DEFAULTS.return_path))
      issues.push({ path: 'protocol.tcp.return_path', message: `${dumbbell} (set the link from receiver to sender under network.links): remove it` });
    s.flows.forEach((f, i) => {
      const p = `protocol.tcp.flows[${i}]`;
      if (f.extra_rtt_ms !== 0) issues.push({ path: `${p}.extra_rtt_ms`, message: `${dumbbell} (set the latency of the flow's links): remove it` });
      if (f.from === undefined) issues.push({ path: `${p}.from`, message: 'required with a network section: the node the sender runs on' });
      else if (!names.has(f.from)) issues.push({ path: `${p}.from`, message: unknownNode(f.from, names) });
      if (f.to === undefined) issues.push({ path: `${p}.to`, message: 'required with a network section: the node the receiver runs on' });
      else if (!names.has(f.to)) issues.push({ path: `${p}.to`, message: unknownNode(f.to, names) });
      if (f.from !== undefined && f.from === f.to) issues.push({ path: `${p}.to`, message: `expected a node other than from (${f.from})` });
    });
    const ends = new Set(s.flows.flatMap((f) => [f.from, f.to]));
    // Beside another protocol (gossip), every node runs that protocol's node; alone, a node without a TCP end carries nothing.
    const others = Object.keys(scenario.protocol).filter((k) => k !== 'tcp');
    if (others.length === 0) {
      scenario.network.nodes.forEach((n, i) => {
        if (!ends.has(n))
          issues.push({ path: `network.nodes[${i}]`, message: `node ${n} runs no TCP end (a flow's from or to): remove it, it would carry nothing` });
      });
    } else {
      scenario.faults.forEach((f, i) => {
        const verb = 'crash' in f ? 'crash' : 'restart' in f ? 'restart' : undefined;
        const node = 'crash' in f ? f.crash : 'restart' in f ? f.restart : undefined;
        if (verb !== undefined && node !== undefined && ends.has(node))
          issues.push({
            path: `faults[${i}].${verb}`,
            message: `node ${node} runs a TCP end beside ${others.join(', ')}: a ${verb} of a node two protocols share is not supported yet (crash a node without a TCP end)`,
          });
      });
    }
    scenario.faults.forEach((f, i) => {
      if ('restart' in f && f.keep_state === false && ends.has(f.restart)) {
        issues.push({
          path: `faults[${i}].keep_state`,
          message: `node ${f.restart} runs a TCP end, which restarts with its state (desim models no connection reset): remove keep_state: false`,
        });
      }
    });
  } else {
    s.flows.forEach((f, i) => {
      for (const key of ['from', 'to'] as const) {
        if (f[key] !== undefined)
          issues.push({
            path: `protocol.tcp.flows[${i}].${key}`,
            message: 'names a node of the network section, and there is none (the dumbbell places flows itself): add a network section or remove it',
          });
      }
    });
  }
  const sackFlows = s.flows.filter((f) => f.sack ?? s.sack).length;
  const sackOnly = (['limited_transmit', 'prr'] as const).filter((key) => s[key] !== undefined);
  // RACK-TLP needs SACK (RFC 8985 section 4: its loss detection reads the SACK scoreboard).
  if (s.rack === true && sackFlows === 0)
    issues.push({
      path: 'protocol.tcp.rack',
      message: "RACK-TLP (RFC 8985) reads SACK blocks, and no flow uses SACK: set sack: true (or a flow's sack) or remove it",
    });
  s.flows.forEach((f, i) => {
    if (f.rack === true && !(f.sack ?? s.sack))
      issues.push({
        path: `protocol.tcp.flows[${i}].rack`,
        message: 'RACK-TLP (RFC 8985) reads SACK blocks, and this flow does not use SACK: set its sack: true or remove it',
      });
  });
  if (sackOnly.length > 0 && sackFlows === 0) {
    for (const key of sackOnly)
      issues.push({
        path: `protocol.tcp.${key}`,
        message: "applies to SACK recovery, and no flow uses SACK: set sack: true (or a flow's sack) or remove it",
      });
    issues.push({
      path: 'protocol.tcp.sack',
      message: `no flow uses SACK, yet ${sackOnly.join(' and ')} ${sackOnly.length > 1 ? 'are' : 'is'} set (SACK only): set sack: true or remove ${sackOnly.length > 1 ? 'them' : 'it'}`,
    });
  }
  s.flows.forEach((f, i) => {
    if ((f.sack ?? s.sack) && f.variant === 'tahoe')
      issues.push({
        path: `protocol.tcp.flows[${i}].variant`,
        message:
          'tahoe has no fast recovery, which SACK recovery (RFC 6675) needs, and this flow uses SACK: use reno or newreno, or set its sack: false',
      });
  });
  // A window below one segment would stall the flow (desim models no persist timer or silly-window avoidance).
  const rwndIssue = (path: string, rwnd: number | 'unlimited' | undefined): void => {
    if (typeof rwnd === 'number' && rwnd < s.mss_bytes)
      issues.push({
        path,
        message: `expected at least one segment (mss_bytes ${s.mss_bytes}), got ${rwnd}: a smaller window never lets a full segment out`,
      });
  };
  rwndIssue('protocol.tcp.rwnd_bytes', s.rwnd_bytes);
  if (s.recovery_exit !== 'rfc' && s.flows.every((f) => f.variant === 'tahoe'))
    issues.push({
      path: 'protocol.tcp.recovery_exit',
      message: 'tahoe has no fast recovery to exit, and every flow is tahoe: use reno or newreno, or remove it',
    });
  s.flows.forEach((f, i) => rwndIssue(`protocol.tcp.flows[${i}].rwnd_bytes`, f.rwnd_bytes));
  if (s.return_path.queue_packets !== undefined && s.return_path.bandwidth_bps === undefined)
    issues.push({
      path: 'protocol.tcp.return_path.queue_packets',
      message: 'a queue forms only behind a bandwidth, and return_path has none: set return_path.bandwidth_bps or remove it',
    });
  // ECN acts only where a queue discipline marks (aqm with ecn: true) and a flow negotiates it.
  const aqms: { path: string; aqm: AqmSection }[] = onNetwork(scenario)
    ? [
        ...(scenario.network.link.aqm !== undefined ? [{ path: 'network.link.aqm', aqm: scenario.network.link.aqm }] : []),
        ...scenario.network.links.flatMap((l, i) => (l.aqm !== undefined ? [{ path: `network.links[${i}].aqm`, aqm: l.aqm }] : [])),
      ]
    : s.bottleneck.aqm !== undefined
      ? [{ path: 'protocol.tcp.bottleneck.aqm', aqm: s.bottleneck.aqm }]
      : [];
  const marking = aqms.filter((a) => a.aqm.kind !== 'droptail' && a.aqm.ecn);
  const ecnFlows = s.flows.filter((f) => f.ecn ?? s.ecn ?? false).length;
  if (ecnFlows > 0 && marking.length === 0) {
    const path = s.ecn === true ? 'protocol.tcp.ecn' : `protocol.tcp.flows[${s.flows.findIndex((f) => f.ecn === true)}].ecn`;
    const where = onNetwork(scenario) ? "a link's aqm" : 'bottleneck.aqm';
    issues.push({
      path,
      message: `ECN acts only where a queue marks, and no queue discipline has ecn: true (set ${where}: { kind: red or codel, ecn: true }): remove it`,
    });
    for (const a of aqms)
      issues.push({
        path: a.path,
        message: 'ECN flows send ECN-capable packets, and this discipline drops them: use red or codel with ecn: true, or remove ecn from the flows',
      });
  }
  if (marking.length > 0 && ecnFlows === 0) {
    if (s.ecn === false) issues.push({ path: 'protocol.tcp.ecn', message: 'a queue discipline marks ECN, and no flow uses ECN: set it to true' });
    s.flows.forEach((f, i) => {
      if (f.ecn === false)
        issues.push({ path: `protocol.tcp.flows[${i}].ecn`, message: 'a queue discipline marks ECN, and no flow uses ECN: set it to true' });
    });
    for (const a of marking)
      issues.push({
        path: `${a.path}.ecn`,
        message:
          "marks ECN-capable packets, and no flow uses ECN (it would only drop): set protocol.tcp.ecn: true (or a flow's ecn), or ecn: false here",
      });
  }
  const names = s.flows.map((_, i) => flowName(s, i));
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) issues.push({ path: `protocol.tcp.flows[${i}].name`, message: `duplicate flow name '${n}'` });
  });
  return issues;
}

/**
 * Work estimate: about 4 kernel events per data packet (its arrival, the ACK's
 * arrival, timers), at the bottleneck rate or, with Bernoulli loss p, at most
 * 4 times the Mathis et al. 1997 rate (MSS / RTT) x sqrt(3 / (2p)) per flow,
 * whichever is lower; plus each flow's initial window, sent at once.
 */
export function estimateTcp(scenario: ScenarioFor<TcpSettings, never>): WorkEstimate[] {
  const s = scenario.settings;
  const d = scenario.duration_s;
  const packetBits = 8 * (s.mss_bytes + s.header_bytes);
  const iw = initialWindowSegments(s);
  const iwTerm = {
    events: 2 * iw * s.flows.length,
    path: 'protocol.tcp.initial_window',
    why: `${count(s.flows.length, 'flow')} x initial_window ${iw}`,
  };
  if (onNetwork(scenario)) {
    // Per flow: the rate of its data link, at most the Mathis rate at its loss, and at most its bytes.
    let events = 0;
    let largest = -1;
    let path = 'network.link.bandwidth_bps';
    let why = '';
    s.flows.forEach((f, i) => {
      const link = linkBetween(scenario.network, f.from ?? '', f.to ?? '');
      const back = linkBetween(scenario.network, f.to ?? '', f.from ?? '');
      let rate = link.bandwidth_bps ?? Infinity;
      const loss = link.loss;
      const lat = (l: LinkSection): number => (typeof l.latency_ms === 'number' ? l.latency_ms : 0);
      const rttS = (lat(link) + lat(back)) / 1000;
      if (typeof loss === 'number' && loss > 0 && rttS > 0) rate = Math.min(rate, (4 * 8 * s.mss_bytes * Math.sqrt(3 / (2 * loss))) / rttS);
      // A receive window caps the rate at rwnd per RTT.
      const rwnd = f.rwnd_bytes ?? s.rwnd_bytes;
      if (typeof rwnd === 'number' && rttS > 0) rate = Math.min(rate, (8 * rwnd) / rttS);
      let e = (4 * rate * d) / packetBits;
      if (f.bytes !== 'unlimited') e = Math.min(e, 4 * Math.ceil(f.bytes / s.mss_bytes) * 10);
      if (!(e <= largest)) {
        largest = e;
        path = Number.isFinite(e) ? 'network.link.bandwidth_bps' : `protocol.tcp.flows[${i}].bytes`;
        why = Number.isFinite(e)
          ? `${fmt.float(rate, 4)} bit/s for ${d} s on ${f.from} -> ${f.to}, 4 events a packet`
          : `an unlimited flow on a link without bandwidth_bps or loss (${f.from} -> ${f.to}) grows its window without bound`;
      }
      events += e;
    });
    return [{ events, path, why }, iwTerm];
  }
  const loss = s.bottleneck.loss;
  let rate = s.bottleneck.bandwidth_bps;
  if (typeof loss === 'number' && loss > 0) {
    let cap = 0;
    for (const f of s.flows) {
      const rttS = (s.bottleneck.delay_ms + s.return_path.delay_ms + f.extra_rtt_ms) / 1000;
      cap += rttS > 0 ? (4 * 8 * s.mss_bytes * Math.sqrt(3 / (2 * loss))) / rttS : Infinity;
    }
    rate = Math.min(rate, cap);
  }
  return [
    {
      events: (4 * rate * d) / packetBits,
      path: 'protocol.tcp.bottleneck.bandwidth_bps',
      why: `${fmt.float(rate, 4)} bit/s for ${d} s in ${s.mss_bytes + s.header_bytes}-byte packets, 4 events each`,
    },
    iwTerm,
  ];
}

/** `2 flows` on a network; `1 flow on a dumbbell` (one shared bottleneck) without one. */
function summarizeTcp(scenario: ScenarioFor<TcpSettings, never>): string {
  const n = scenario.settings.flows.length;
  const flows = count(n, 'flow');
  return onNetwork(scenario) ? flows : `${flows} on a dumbbell`;
}

/** The `tcp` protocol driver. */
export const tcpDriver: ProtocolDriver<TcpSettings, never> = {
  name: 'tcp',
  schema: tcpSectionSchema,
  workloadSchema: tcpWorkloadSchema,
  traces: ['cwnd', 'segments'],
  check: checkTcp,
  estimate: estimateTcp,
  summary: summarizeTcp,
  recipe: tcpRecipe(),
  run: (scenario, ctx) => runPipeline(scenario, ctx, [tcpRecipe()]),
};

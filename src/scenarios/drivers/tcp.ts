/**
 * The `tcp` scenario driver: TCP flows (Tahoe, Reno, NewReno) sharing one
 * bottleneck, from the `protocol.tcp` section of a scenario file.
 *
 * Section (every key optional, snake_case with units; defaults below):
 *
 * ```yaml
 * protocol:
 *   tcp:
 *     preset: original          # optional: fills unset keys with the original demo (Reno, 2% loss, 100 ms RTT, cwnd 1)
 *     bottleneck: { bandwidth_bps: 10000000, delay_ms: 50, queue_packets: 100, loss: 0, jitter_ms: 0 }
 *     return_path: { delay_ms: 50, loss: 0, jitter_ms: 0 }
 *     mss_bytes: 1460
 *     header_bytes: 40
 *     initial_window: rfc5681   # rfc5681 | rfc6928 | a number of segments
 *     min_rto_s: 1
 *     delayed_ack: false
 *     delayed_ack_ms: 200
 *     flows: [{ variant: reno, start_s: 0, extra_rtt_ms: 0, bytes: unlimited, name: flow0 }]
 * ```
 *
 * Writes `trace-cwnd.csv` (one row per ACK and per event of every flow) when
 * asked, returns whole-run metrics and a `flows` table. For a single flow
 * the metrics also carry the Mathis and Padhye model throughputs
 * (`model_mathis_bps`, `model_padhye_bps`) at the configured Bernoulli loss
 * rate (or the measured loss-event rate when the loss is not Bernoulli),
 * the measured mean RTT, the RTO the sender had at its timeouts, and b = 2
 * segments per ACK with delayed ACKs (else 1).
 */
import { z } from 'zod';
import { fmt } from '../../io/csv.js';
import { Simulator } from '../../kernel/simulator.js';
import { formatSeconds, milliseconds, seconds } from '../../kernel/time.js';
import { VARIANTS } from '../../protocols/tcp/congestion/index.js';
import { rfc5681InitialWindow, rfc6928InitialWindow } from '../../protocols/tcp/control-block.js';
import { Dumbbell, type FlowSummary } from '../../sim/dumbbell.js';
import { jainIndex, mathisBps, padhyeBps } from '../../protocols/tcp/models.js';
import type { TcpTraceRecord } from '../../protocols/tcp/sender.js';
import type { Issue, ProtocolDriver, RunContext, RunResult, ScenarioFor, WorkEstimate } from '../driver.js';
import { toLossSpec } from '../network-section.js';
import { bandwidthBps, delayMs, lossSchema, positiveMs, positiveS, queueLimit, timeS } from '../schema.js';

/** Largest initial window, in segments (RFC 6928's 10, times a thousand). */
export const MAX_INITIAL_WINDOW = 10_000;

const flowSchema = z.strictObject({
  /** Congestion control. */
  variant: z.enum(VARIANTS).default('reno'),
  /** Name in traces and tables. Default `flow<i>`. */
  name: z.string().min(1).optional(),
  /** When the application starts sending (s). */
  start_s: timeS().default(0),
  /** Delay added to this flow's RTT (ms), on its own return link. */
  extra_rtt_ms: delayMs().default(0),
  /** Bytes to send, or `unlimited`. */
  bytes: z.union([z.int().min(0).max(Number.MAX_SAFE_INTEGER), z.literal('unlimited')]).default('unlimited'),
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
    })
    .prefault({}),
  return_path: z
    .strictObject({
      delay_ms: delayMs().default(50),
      loss: lossSchema.default(0),
      jitter_ms: delayMs().default(0),
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
  flows: z.array(flowSchema).min(1).default([{ variant: 'reno', start_s: 0, extra_rtt_ms: 0, bytes: 'unlimited' }]),
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
  'snd_una',
  'snd_nxt',
  'dupacks',
  'srtt_s',
  'rto_s',
  'event',
] as const;

/** Columns of the `flows` table, in order. */
export const FLOW_TABLE_COLUMNS = [
  'flow',
  'variant',
  'rtt_s',
  'start_s',
  'goodput_bps',
  'throughput_bps',
  'bytes_delivered',
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

/** Builds the dumbbell of a parsed section (the scenario's seed goes to the simulator). */
export function buildDumbbell(sim: Simulator, s: TcpSettings): Dumbbell {
  return new Dumbbell(sim, {
    bottleneck: {
      bandwidthBps: s.bottleneck.bandwidth_bps,
      delayNs: milliseconds(s.bottleneck.delay_ms),
      queuePackets: s.bottleneck.queue_packets,
      loss: toLossSpec(s.bottleneck.loss),
      jitterNs: milliseconds(s.bottleneck.jitter_ms),
    },
    returnPath: {
      delayNs: milliseconds(s.return_path.delay_ms),
      loss: toLossSpec(s.return_path.loss),
      jitterNs: milliseconds(s.return_path.jitter_ms),
    },
    flows: s.flows.map((f) => ({
      variant: f.variant,
      startNs: seconds(f.start_s),
      totalBytes: f.bytes === 'unlimited' ? Infinity : f.bytes,
      extraRttNs: milliseconds(f.extra_rtt_ms),
    })),
    mssBytes: s.mss_bytes,
    headerBytes: s.header_bytes,
    initialWindowSegments: initialWindowSegments(s),
    minRtoNs: seconds(s.min_rto_s),
    delayedAck: s.delayed_ack,
    delayedAckNs: milliseconds(s.delayed_ack_ms),
  });
}

/** Whole-run results of a TCP scenario (what `metrics` carries), computed from the per-flow summaries. */
export function tcpMetrics(s: TcpSettings, flows: readonly FlowSummary[]): Record<string, number> {
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
  const only = flows.length === 1 ? flows[0] : undefined;
  if (only !== undefined) {
    const loss = s.bottleneck.loss;
    const p = typeof loss === 'number' && loss > 0 ? loss : m['loss_event_rate'] as number;
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
  return m;
}


function rateText(bps: number): string {
  if (!Number.isFinite(bps)) return 'n/a';
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(3)} Gbps`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(3)} Mbps`;
  return `${(bps / 1e3).toFixed(1)} kbps`;
}

/** Runs a parsed TCP section for `durationS` seconds; `ctx` supplies the seed, traces and progress. */
export function runTcp(s: TcpSettings, durationS: number, ctx: RunContext): RunResult {
  const sim = new Simulator({ seed: ctx.seed });
  const bed = buildDumbbell(sim, s);
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
  bed.start();
  const endNs = seconds(durationS);
  const steps = 20;
  for (let i = 1; i <= steps; i++) {
    sim.run({ until: Math.round((endNs * i) / steps) });
    ctx.progress(i / steps);
  }
  const flows = bed.summary(endNs);
  const metrics = tcpMetrics(s, flows);
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
  let headline =
    `${flows.length} ${variants} flow${flows.length === 1 ? '' : 's'} over ${rateText(s.bottleneck.bandwidth_bps)}` +
    `, ${durationS} s: goodput ${rateText(metrics['goodput_bps'] as number)}` +
    `, ${metrics['fast_retransmits']} fast retransmits, ${metrics['timeouts']} timeouts`;
  if (flows.length === 1) {
    headline += `; Mathis ${rateText(metrics['model_mathis_bps'] as number)} (x${fmt.float(metrics['goodput_over_mathis'] as number, 3)})`;
    headline += `, Padhye ${rateText(metrics['model_padhye_bps'] as number)} (x${fmt.float(metrics['goodput_over_padhye'] as number, 3)})`;
  } else {
    headline += `; Jain index ${fmt.float(metrics['jain_index'] as number, 4)}`;
  }
  return { metrics, tables: { flows: { columns: FLOW_TABLE_COLUMNS, rows } }, headline };
}

/** Checks that need the whole scenario. */
function checkTcp(scenario: ScenarioFor<TcpSettings, never>): Issue[] {
  const issues: Issue[] = [];
  scenario.settings.flows.forEach((f, i) => {
    if (f.start_s >= scenario.duration_s) {
      issues.push({
        path: `protocol.tcp.flows[${i}].start_s`,
        message: `flow starts at ${f.start_s} s, not before the end of the run (duration_s ${scenario.duration_s})`,
      });
    }
  });
  // The dumbbell is built from protocol.tcp alone: a network or faults section would be silently ignored.
  if (scenario.network.nodes.length > 0) {
    issues.push({ path: 'network', message: 'TCP scenarios do not use the network section yet (the dumbbell comes from protocol.tcp.bottleneck and return_path): remove it' });
  }
  if (scenario.faults.length > 0) {
    issues.push({ path: 'faults', message: 'TCP scenarios do not apply faults yet: remove the faults section (loss and delay are set in protocol.tcp.bottleneck and return_path)' });
  }
  const names = scenario.settings.flows.map((_, i) => flowName(scenario.settings, i));
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
  const iw = initialWindowSegments(s);
  return [
    { events: (4 * rate * d) / packetBits, path: 'protocol.tcp.bottleneck.bandwidth_bps', why: `${fmt.float(rate, 4)} bit/s for ${d} s in ${s.mss_bytes + s.header_bytes}-byte packets, 4 events each` },
    { events: 2 * iw * s.flows.length, path: 'protocol.tcp.initial_window', why: `${s.flows.length} flows x initial_window ${iw}` },
  ];
}

/** The `tcp` protocol driver. */
export const tcpDriver: ProtocolDriver<TcpSettings, never> = {
  name: 'tcp',
  schema: tcpSectionSchema,
  workloadSchema: tcpWorkloadSchema,
  traces: ['cwnd'],
  check: checkTcp,
  estimate: estimateTcp,
  run: (scenario, ctx) => runTcp(scenario.settings, scenario.duration_s, ctx),
};

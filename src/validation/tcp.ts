/**
 * Validation of the packet-level Reno model against the analytic models:
 * Mathis et al. 1997 (square-root law) and Padhye et al. 1998 (full model,
 * with timeouts).
 *
 * Setup (the same as `src/scenarios/bundled/tcp-mathis-padhye.yaml`): one
 * Reno flow, no delayed ACKs (b = 1), base RTT 100 ms, MSS 1460 bytes,
 * minimum RTO 1 s, a 1 Gbps bottleneck with a 10,000-packet queue (the
 * window is limited by loss, not by the link), Bernoulli loss p on data
 * segments, no ACK loss. Each run lasts until at least `minLossEvents` loss
 * events (fast retransmits plus first timeouts) have happened. The models
 * use the RTT the sender measured (mean of its Karn-valid samples) and, for
 * Padhye, T0 = the mean RTO that expired at the sender's timeouts.
 *
 * Criteria: for p <= 0.01, goodput within 20% of Mathis; for larger p
 * (where timeouts matter and Mathis over-predicts), goodput between
 * 0.8 x Padhye and 1.2 x Mathis.
 *
 * SACK rows (`sack: true`: RFC 6675 recovery with limited transmit and PRR)
 * run the same setup for p <= 0.01, with the criterion SACK TCP is expected
 * to meet there: between 1.0 and 1.25 x Mathis (C = sqrt(3/2), b = 1). With
 * random loss several drops often fall in one window and SACK repairs them in
 * one recovery, so loss events are rarer than lost packets and goodput
 * should reach the square-root law computed with the packet loss rate.
 */
import { seconds } from '../kernel/time.js';
import { buildWorld, uniformNetwork } from '../scenarios/pipeline.js';
import { buildDumbbell, tcpMetrics, tcpSectionSchema, type TcpSettings } from '../scenarios/drivers/tcp.js';

/** The loss rates of the validation table. */
export const VALIDATION_LOSS_RATES: readonly number[] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05];

/** The loss rates of the SACK rows (the square-root regime, p <= 0.01). */
export const VALIDATION_SACK_LOSS_RATES: readonly number[] = [0.001, 0.002, 0.005, 0.01];

/** The `protocol.tcp` section of the validation runs (loss set per run). */
export const VALIDATION_SECTION = {
  bottleneck: { bandwidth_bps: 1_000_000_000, delay_ms: 50, queue_packets: 10_000, loss: 0.01 },
  return_path: { delay_ms: 50, loss: 0 },
  mss_bytes: 1460,
  initial_window: 'rfc5681',
  min_rto_s: 1,
  delayed_ack: false,
  flows: [{ variant: 'reno', name: 'reno' }],
} as const;

/** One row of the validation table. */
export interface ValidationRow {
  /** Bernoulli loss probability of data segments. */
  readonly p: number;
  readonly simulatedS: number;
  readonly dataPackets: number;
  readonly lossEvents: number;
  readonly fastRetransmits: number;
  readonly timeouts: number;
  /** Measured mean RTT (s) and the T0 used for Padhye (s). */
  readonly meanRttS: number;
  readonly t0S: number;
  readonly goodputBps: number;
  readonly mathisBps: number;
  readonly padhyeBps: number;
  readonly ratioMathis: number;
  readonly ratioPadhye: number;
  /** The criterion applied to this row, in words. */
  readonly criterion: string;
  readonly pass: boolean;
}

/** Options of {@link validateReno} and {@link validationTable}. */
export interface ValidationOptions {
  /** Run until at least this many loss events. Default 1000. */
  readonly minLossEvents?: number;
  /** Root seed. Default 1. */
  readonly seed?: number;
  /** Simulated time per step between loss-event checks (s). Default 50. */
  readonly stepS?: number;
  /** Delayed ACKs at the receiver (Padhye's b = 2). Default false (the acceptance setting). */
  readonly delayedAck?: boolean;
  /** SACK recovery (RFC 6675, limited transmit and PRR on). Default false. */
  readonly sack?: boolean;
}

/** The criterion of the acceptance test for loss rate p (SACK rows: 1.0 to 1.25 x Mathis for p <= 0.01). */
export function validationPasses(p: number, ratioMathis: number, ratioPadhye: number, sack = false): boolean {
  if (p <= 0.01 && sack) return ratioMathis >= 1 && ratioMathis <= 1.25;
  if (p <= 0.01) return ratioMathis >= 0.8 && ratioMathis <= 1.2;
  return ratioPadhye >= 0.8 && ratioMathis <= 1.2;
}

/** Runs one validation point. */
export function validateReno(p: number, options: ValidationOptions = {}): ValidationRow {
  const minEvents = options.minLossEvents ?? 1000;
  const stepNs = seconds(options.stepS ?? 50);
  const settings: TcpSettings = tcpSectionSchema.parse({
    ...VALIDATION_SECTION,
    bottleneck: { ...VALIDATION_SECTION.bottleneck, loss: p },
    delayed_ack: options.delayedAck ?? false,
    sack: options.sack ?? false,
  });
  const world = buildWorld(`${options.seed ?? 1}/p=${p}`, uniformNetwork(0, {}), { perLinkCounters: false });
  const sim = world.sim;
  const bed = buildDumbbell(world, settings);
  bed.start();
  const sender = bed.sender(0);
  let t = 0;
  do {
    t += stepNs;
    sim.run({ until: t });
  } while (sender.stats.fastRetransmits + sender.stats.firstTimeouts < minEvents);
  const flows = bed.summary(t);
  const m = tcpMetrics(settings, flows);
  const f = flows[0];
  const ratioMathis = m['goodput_over_mathis'] as number;
  const ratioPadhye = m['goodput_over_padhye'] as number;
  return {
    p,
    simulatedS: t / 1e9,
    dataPackets: f?.segmentsSent ?? 0,
    lossEvents: f?.lossEvents ?? 0,
    fastRetransmits: f?.fastRetransmits ?? 0,
    timeouts: f?.timeouts ?? 0,
    meanRttS: m['mean_rtt_s'] as number,
    t0S: m['model_t0_s'] as number,
    goodputBps: m['goodput_bps'] as number,
    mathisBps: m['model_mathis_bps'] as number,
    padhyeBps: m['model_padhye_bps'] as number,
    ratioMathis,
    ratioPadhye,
    criterion:
      p <= 0.01
        ? options.sack === true
          ? '1.0 <= goodput/Mathis <= 1.25'
          : '0.8 <= goodput/Mathis <= 1.2'
        : 'goodput >= 0.8 Padhye and <= 1.2 Mathis',
    pass: validationPasses(p, ratioMathis, ratioPadhye, options.sack ?? false),
  };
}

/** The full validation table (every loss rate of {@link VALIDATION_LOSS_RATES}, >= 1000 loss events each). */
export function validationTable(options: ValidationOptions = {}, ps: readonly number[] = VALIDATION_LOSS_RATES): ValidationRow[] {
  return ps.map((p) => validateReno(p, options));
}

/** The table as Markdown (for the README). */
export function formatValidationTable(rows: readonly ValidationRow[]): string {
  const lines = [
    '| p | simulated s | loss events | timeouts | mean RTT s | T0 s | goodput Mbps | Mathis Mbps | Padhye Mbps | /Mathis | /Padhye | pass |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.p} | ${r.simulatedS} | ${r.lossEvents} | ${r.timeouts} | ${r.meanRttS.toFixed(4)} | ${r.t0S.toFixed(3)} | ` +
        `${(r.goodputBps / 1e6).toFixed(3)} | ${(r.mathisBps / 1e6).toFixed(3)} | ${(r.padhyeBps / 1e6).toFixed(3)} | ` +
        `${r.ratioMathis.toFixed(3)} | ${r.ratioPadhye.toFixed(3)} | ${r.pass ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}

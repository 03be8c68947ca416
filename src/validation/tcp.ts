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
import { Worker } from 'node:worker_threads';
import { seconds } from '../kernel/time.js';
import { cubicAverageWindow, cubicRenoFriendlyWindow } from '../protocols/tcp/congestion/cubic.js';
import { builtWorkerFile } from '../scenarios/package-info.js';
import { buildWorld, uniformNetwork } from '../scenarios/pipeline.js';
import { buildDumbbell, tcpMetrics, tcpSectionSchema, type TcpSettings } from '../scenarios/drivers/tcp.js';

/** The loss rates of the validation table. */
export const VALIDATION_LOSS_RATES: readonly number[] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05];

/** The loss rates of the SACK rows (the square-root regime, p <= 0.01). */
export const VALIDATION_SACK_LOSS_RATES: readonly number[] = [0.001, 0.002, 0.005, 0.01];

/**
 * Loss events per SACK row in `desim reproduce`. A 1,000-event row moves by about
 * ±2% from seed to seed, too much to place p = 0.005 and 0.01 on either side of
 * the 1.0 x Mathis floor; 10,000 events narrow that to a few tenths of a percent,
 * for about 11 CPU seconds for the four rows (half of it the p = 0.001 row).
 */
export const VALIDATION_SACK_MIN_LOSS_EVENTS = 10_000;

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
  /** With `sack`: RFC 8985 RACK-TLP (unset: the scenario default). */
  readonly rack?: boolean;
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
    ...(options.rack !== undefined ? { rack: options.rack } : {}),
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

/**
 * {@link validationTable} with its rows in up to `jobs` worker threads, the
 * first rows (the longest: the lowest p) first. Each row draws from its own
 * stream (`seed/p=...`), so the rows are the same whatever `jobs`; with
 * `jobs` <= 1 it runs them here, one after another.
 */
export async function validationTableInWorkers(options: ValidationOptions, ps: readonly number[], jobs: number): Promise<ValidationRow[]> {
  if (jobs <= 1) return validationTable(options, ps);
  const rows: ValidationRow[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ps.length) {
      const i = next++;
      rows[i] = await validateRenoInWorker(ps[i] as number, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, ps.length) }, lane));
  return rows;
}

/** What the main thread hands `tcp-worker.js`. */
export interface ValidationWorkerData {
  readonly p: number;
  readonly options: ValidationOptions;
}

function validateRenoInWorker(p: number, options: ValidationOptions): Promise<ValidationRow> {
  const file = builtWorkerFile(import.meta.url, 'tcp-worker.js');
  return new Promise((resolve, reject) => {
    let row: ValidationRow | undefined;
    const data: ValidationWorkerData = { p, options };
    const worker = new Worker(file, { workerData: data });
    worker.once('message', (r: ValidationRow) => (row = r));
    worker.once('error', reject);
    worker.once('exit', (code) => (row !== undefined ? resolve(row) : reject(new Error(`validation worker for p = ${p} exited with code ${code}`))));
  });
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

/*
 * CUBIC against its response function (RFC 8312 section 5.1, kept in RFC 9438 section 5.1): in its
 * cubic region, with one loss every 1/p packets, CUBIC's average window is
 * (C (3 + beta) / (4 (1 - beta)))^(1/4) * RTT^(3/4) / p^(3/4) segments, its throughput that much per
 * RTT. The derivation counts the packets of one congestion epoch (from one window reduction to the
 * next), so p is the loss-event rate: window reductions per data packet sent. With random loss and
 * SACK several drops often fall in one recovery and make one event; the table gives the model at the
 * measured event rate (the criterion) and at the configured drop rate p.
 *
 * The cubic region is where the cubic average window exceeds the Reno-friendly one, sqrt(3 / (2 p))
 * segments (RFC 9438 section 4.3 makes CUBIC take the larger): RTT > about 1.22 p^(1/3) seconds. The
 * sweep takes (RTT, p) points with the cubic window at least 1.4 times the Reno-friendly one (the
 * `regionRatio` column), so the cubic curve governs; nearer the boundary the Reno-friendly estimate
 * lifts the window above the model.
 *
 * Setup: the Reno table's (one flow, no delayed ACKs, MSS 1460 bytes, minimum RTO 1 s, a 1 Gbps
 * bottleneck with a 10,000-packet queue so the window is loss-limited, Bernoulli loss p on data
 * segments, none on ACKs), the RTT split evenly between the two directions, SACK recovery (RFC 6675
 * with limited transmit and PRR, as Linux runs CUBIC), each run until at least `minLossEvents` loss
 * events. The model uses the measured mean RTT. Criterion: goodput within 20% of the model at the
 * measured loss-event rate.
 */

/** The (RTT s, p) points of the CUBIC table: all in the cubic region (see {@link cubicRegionRatio}). */
export const CUBIC_VALIDATION_POINTS: readonly (readonly [number, number])[] = [
  [0.1, 0.0001],
  [0.2, 0.0005],
  [0.2, 0.001],
  [0.4, 0.001],
  [0.4, 0.002],
  [0.4, 0.005],
  [0.8, 0.01],
];

/** The cubic average window over the Reno-friendly one at (RTT, p): above 1, the cubic region. */
export function cubicRegionRatio(rttS: number, p: number): number {
  return cubicAverageWindow(rttS, p) / cubicRenoFriendlyWindow(p);
}

/** One row of the CUBIC table. */
export interface CubicValidationRow {
  /** Configured base RTT (s) and Bernoulli loss probability of data segments. */
  readonly rttS: number;
  readonly p: number;
  /** The cubic average window over the Reno-friendly one at the configured RTT and p. */
  readonly regionRatio: number;
  readonly simulatedS: number;
  readonly dataPackets: number;
  readonly lossEvents: number;
  /** Loss events per data packet sent (the model's p). */
  readonly lossEventRate: number;
  readonly timeouts: number;
  readonly meanRttS: number;
  readonly goodputBps: number;
  /** Mean window (segments per RTT) implied by the goodput: goodput * mean RTT / MSS. */
  readonly windowSegs: number;
  /** The response function's window at the mean RTT and the loss-event rate, and at the configured p. */
  readonly modelWindowSegs: number;
  readonly modelWindowAtPSegs: number;
  /** windowSegs / modelWindowSegs (the criterion) and windowSegs / modelWindowAtPSegs. */
  readonly ratio: number;
  readonly ratioAtP: number;
  readonly pass: boolean;
}

/** Options of {@link validateCubic}. */
export interface CubicValidationOptions {
  /** Run until at least this many loss events. Default 1000. */
  readonly minLossEvents?: number;
  /** Root seed. Default 1. */
  readonly seed?: number;
  /** Simulated time per step between loss-event checks (s). Default 50. */
  readonly stepS?: number;
  /** SACK recovery (RFC 6675, limited transmit and PRR). Default true. */
  readonly sack?: boolean;
}

/** Runs one point of the CUBIC table. */
export function validateCubic(rttS: number, p: number, options: CubicValidationOptions = {}): CubicValidationRow {
  const minEvents = options.minLossEvents ?? 1000;
  const stepNs = seconds(options.stepS ?? 50);
  const oneWayMs = (rttS * 1000) / 2;
  const settings: TcpSettings = tcpSectionSchema.parse({
    ...VALIDATION_SECTION,
    bottleneck: { ...VALIDATION_SECTION.bottleneck, delay_ms: oneWayMs, loss: p },
    return_path: { ...VALIDATION_SECTION.return_path, delay_ms: oneWayMs },
    flows: [{ variant: 'cubic', name: 'cubic' }],
    sack: options.sack ?? true,
  });
  const world = buildWorld(`${options.seed ?? 1}/cubic/rtt=${rttS}/p=${p}`, uniformNetwork(0, {}), { perLinkCounters: false });
  const bed = buildDumbbell(world, settings);
  bed.start();
  const sender = bed.sender(0);
  let t = 0;
  do {
    t += stepNs;
    world.sim.run({ until: t });
  } while (sender.stats.fastRetransmits + sender.stats.firstTimeouts < minEvents);
  const f = bed.summary(t)[0];
  if (f === undefined) throw new Error('internal: the CUBIC validation run has no flow');
  const meanRttS = f.meanRttNs / 1e9;
  const lossEventRate = f.lossEvents / f.segmentsSent;
  const windowSegs = (f.goodputBps * meanRttS) / (settings.mss_bytes * 8);
  const modelWindowSegs = cubicAverageWindow(meanRttS, lossEventRate);
  const modelWindowAtPSegs = cubicAverageWindow(meanRttS, p);
  const ratio = windowSegs / modelWindowSegs;
  return {
    rttS,
    p,
    regionRatio: cubicRegionRatio(rttS, p),
    simulatedS: t / 1e9,
    dataPackets: f.segmentsSent,
    lossEvents: f.lossEvents,
    lossEventRate,
    timeouts: f.timeouts,
    meanRttS,
    goodputBps: f.goodputBps,
    windowSegs,
    modelWindowSegs,
    modelWindowAtPSegs,
    ratio,
    ratioAtP: windowSegs / modelWindowAtPSegs,
    pass: ratio >= 0.8 && ratio <= 1.2,
  };
}

/** The CUBIC table: every point of {@link CUBIC_VALIDATION_POINTS}. */
export function cubicValidationTable(options: CubicValidationOptions = {}, points = CUBIC_VALIDATION_POINTS): CubicValidationRow[] {
  return points.map(([rtt, p]) => validateCubic(rtt, p, options));
}

/** The CUBIC table as Markdown (for the README). */
export function formatCubicValidationTable(rows: readonly CubicValidationRow[]): string {
  const lines = [
    '| RTT s | p | cubic / Reno-friendly | simulated s | loss events | event rate | timeouts | mean RTT s | goodput Mbps | window segs | model segs (event rate) | /model | model segs (p) | /model (p) | pass |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.rttS} | ${r.p} | ${r.regionRatio.toFixed(2)} | ${r.simulatedS} | ${r.lossEvents} | ${r.lossEventRate.toPrecision(3)} | ${r.timeouts} | ` +
        `${r.meanRttS.toFixed(4)} | ${(r.goodputBps / 1e6).toFixed(3)} | ${r.windowSegs.toFixed(1)} | ${r.modelWindowSegs.toFixed(1)} | ` +
        `${r.ratio.toFixed(3)} | ${r.modelWindowAtPSegs.toFixed(1)} | ${r.ratioAtP.toFixed(3)} | ${r.pass ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}

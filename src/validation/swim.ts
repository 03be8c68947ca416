/**
 * SWIM against its paper (Das, Gupta and Motivala, DSN 2002), at n = 100 to
 * 10,000 members on a lossless network with 1 ms links:
 *
 * - time to first detection of a failed member, in protocol periods, from the
 *   start of the first period after the crash to the end of the period whose
 *   probe of it failed: section 3.1 gives e/(e - 1) = 1.58 periods for
 *   members that each probe one uniformly random member per period (we probe
 *   round-robin over a shuffled list, section 4.3, which has the same
 *   expectation as n grows: the chance that no member reaches the failed one
 *   in its first k probes is (1 - k/(n - 1))^(n - 1), about e^-k);
 * - dissemination: from the first member declaring it dead to every member
 *   holding it dead, in periods; infection-style dissemination takes O(log n)
 *   periods (section 4.1), so the ratio to ln n should stay about level;
 * - messages per member per period: constant in n (section 3.1; about 2, a
 *   ping and an ack, plus indirect probes after a failure and the periodic
 *   full-table syncs).
 *
 * Members tick in aligned periods (the paper's analysis); members crash half
 * a period after a period starts, in rounds every `gapPeriods`, so each
 * failure is detected and spread before the next round. A round crashes one
 * member per 2,500 (at least one): one at n <= 3,000, four at 10,000, so the
 * 10,000-member row gets its 40 failures in 10 rounds (310 simulated
 * seconds) instead of 40 (1,210 s). Four dead among 10,000 change the others'
 * probes and piggyback queues by a negligible amount.
 *
 * Cost: each member holds a table of n entries (about 40 bytes per member per
 * other member in all: state, incarnation, probe list), so 10,000 members take
 * about 730 MB; memberlist's push-pull sends whole tables (n records) every
 * 30 s scaled by log2 n, the one cost that grows with n per member. The whole
 * table (five rows) takes about 110 s of CPU (under a minute per row at
 * 10,000).
 */
import { Simulator } from '../kernel/simulator.js';
import { Network } from '../net/network.js';
import { DEFAULT_SWIM_CONFIG } from '../protocols/swim/config.js';
import type { SwimMessage } from '../protocols/swim/wire.js';
import { SwimCluster } from '../sim/swim-cluster.js';

/** The group sizes of the README table. */
export const SWIM_VALIDATION_SIZES: readonly number[] = [100, 300, 1000, 3000, 10000];

/** e / (e - 1): the paper's expected periods to first detection (section 3.1). */
export const FIRST_DETECTION_PERIODS = Math.E / (Math.E - 1);

/** One row of the table. */
export interface SwimValidationRow {
  readonly n: number;
  readonly failures: number;
  /** Mean periods to first detection (see the module comment). */
  readonly detectionPeriods: number;
  /** Its standard error (sd / sqrt(failures)). */
  readonly detectionSe: number;
  /** Mean periods from the first dead declaration to every member holding it dead. */
  readonly disseminationPeriods: number;
  readonly messagesPerMemberPerPeriod: number;
}

/** Members crashed per round in a group of `n`: one per 2,500 members, at least one. */
export function crashesPerRound(n: number): number {
  return Math.max(1, Math.floor(n / 2500));
}

/**
 * Runs `failures` crashes in a group of `n`, `perRound` at a time every `gapPeriods` (see the module
 * comment); returns the row.
 */
export function swimValidationRow(
  n: number,
  failures = 40,
  gapPeriods = 30,
  seed = 'swim-validation',
  perRound = crashesPerRound(n),
): SwimValidationRow {
  const T = DEFAULT_SWIM_CONFIG.probeIntervalNs;
  const sim = new Simulator({ seed: `${seed}:${n}`, initialCapacity: 8 * n + 1024 });
  const net = new Network<SwimMessage>(sim, { nodes: n, perLinkCounters: false });
  const cluster = new SwimCluster(sim, net, { config: { ...DEFAULT_SWIM_CONFIG, phase: 'aligned' } });
  cluster.start();
  const pick = sim.rng.stream('swim.validation');
  const victims: number[] = [];
  const rounds = Math.ceil(failures / perRound);
  for (let f = 0; f < failures; f++) {
    const atNs = (10 + Math.floor(f / perRound) * gapPeriods) * T + T / 2;
    sim.schedule(
      atNs,
      () => {
        const live = Array.from({ length: n }, (_, i) => i).filter((i) => cluster.metrics.isLive(i));
        const v = live[Math.floor(pick.uniform() * live.length)] as number;
        victims.push(v);
        cluster.crash(v);
      },
      0,
      'swim.validation.crash',
    );
  }
  const endNs = (10 + rounds * gapPeriods) * T;
  sim.run({ until: endNs });
  const fails = cluster.metrics.changes.filter((c) => c.kind === 'fail');
  const det: number[] = [];
  const dis: number[] = [];
  for (const c of fails) {
    const periodStart = Math.ceil(c.atNs / T) * T;
    if (c.detectedNs >= 0) det.push((c.detectedNs - periodStart) / T);
    if (c.confirmedNs >= 0 && c.allKnowNs >= 0) dis.push((c.allKnowNs - c.confirmedNs) / T);
  }
  const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const m = mean(det);
  const sd = Math.sqrt(det.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, det.length - 1));
  return {
    n,
    failures: fails.length,
    detectionPeriods: m,
    detectionSe: sd / Math.sqrt(Math.max(1, det.length)),
    disseminationPeriods: mean(dis),
    messagesPerMemberPerPeriod: cluster.totalSent().messages / (cluster.metrics.memberTimeNs(endNs) / T),
  };
}

/** The README table, as markdown: each measurement beside the paper's figure. */
export function formatSwimValidation(rows: readonly SwimValidationRow[]): string {
  const lines = [
    '| n | failures | first detection, periods ± standard error | paper (section 3.1): e/(e-1) | dissemination, periods | ln n | dissemination / ln n (paper, section 4.1: O(log n), so level) | messages per member per period | paper (section 3.1): constant in n |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.n} | ${r.failures} | ${r.detectionPeriods.toFixed(2)} ± ${r.detectionSe.toFixed(2)} | ${FIRST_DETECTION_PERIODS.toFixed(2)} | ${r.disseminationPeriods.toFixed(2)} | ${Math.log(r.n).toFixed(2)} | ${(r.disseminationPeriods / Math.log(r.n)).toFixed(2)} | ${r.messagesPerMemberPerPeriod.toFixed(3)} | 2 (a ping and its ack) |`,
    );
  }
  return lines.join('\n');
}

/** The whole report (`results/validation/swim.md`). */
export function swimValidationReport(sizes: readonly number[] = SWIM_VALIDATION_SIZES): string {
  return formatSwimValidation(sizes.map((n) => swimValidationRow(n)));
}

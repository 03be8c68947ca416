/**
 * Validation of the gossip node against the literature, on the real
 * {@link GossipNode} in the simulator (aligned 1 s rounds, 1 ms constant
 * links, no loss, no anti-entropy, one update written at t = 0 at node 0).
 * Rounds are counted from the write: a node infected by a message sent in
 * round r (at r s) has delay r s + 1 ms, i.e. r rounds.
 *
 * - Pittel 1987: push, fanout 1, "infect forever" reaches all n nodes in
 *   log2(n) + ln(n) + O(1) rounds. {@link spreadRounds} measures the mean
 *   rounds to reach everyone for push with fanout 1, 2, 3 and push-pull.
 * - Demers et al. 1987, rumor mongering tables (n = 1000): residue s,
 *   traffic m (rumor messages per node), t_ave and t_last (rounds) for
 *   feedback + counter and blind + coin, k = 1..5, in {@link demersTable}
 *   next to the paper's published values ({@link DEMERS_PUBLISHED}).
 *
 * Counter rule (feedback + counter), exactly: each hot rumor has a counter,
 * initially 0; every feedback message from a recipient that already had the
 * rumor adds 1; the node loses interest when the counter reaches k. Coin
 * rule (blind + coin): after each round in which the node sent the rumor it
 * loses interest with probability 1/k.
 */
import { Simulator } from '../kernel/simulator.js';
import { GossipCluster } from '../protocols/gossip/sim-cluster.js';
import { resolveConfig, type PresetName } from '../protocols/gossip/presets.js';
import type { GossipConfig } from '../protocols/gossip/config.js';
import type { GossipMessage } from '../protocols/gossip/wire.js';
import { Network } from '../protocols/net/network.js';

const INTERVAL_NS = 1_000_000_000;
const LATENCY_NS = 1_000_000;

/** One spread of one update, in rounds. */
export interface SpreadRun {
  /** Rounds until the last node that ever got it had it (Infinity if `maxRounds` passed first, infect-forever only). */
  readonly tLastRounds: number;
  /** Mean rounds to infection over the nodes (other than the writer) that got it. */
  readonly tAveRounds: number;
  /** Fraction of nodes never reached. */
  readonly residue: number;
  /** Rumor messages sent (carrying the update, or empty pull requests in push-pull) per node. */
  readonly messagesPerNode: number;
}

/** Spreads one update over `n` nodes with the given configuration (aligned rounds, no AE) and measures it. */
export function spreadOnce(n: number, overrides: Partial<GossipConfig>, preset: PresetName, seed: string, maxRounds = 200): SpreadRun {
  const sim = new Simulator({ seed });
  const net = new Network<GossipMessage>(sim, { nodes: n, defaultLink: { latency: LATENCY_NS }, perLinkCounters: false });
  const config = resolveConfig(preset, { phase: 'aligned', antiEntropyIntervalNs: 0, intervalNs: INTERVAL_NS, ...overrides });
  const cluster = new GossipCluster(sim, net, { config });
  cluster.start();
  cluster.call(0, { op: 'put', key: 'x', value: 1 });
  const u = cluster.metrics.updates[0];
  if (u === undefined) throw new Error('spreadOnce: the write failed');
  const forever = config.stop === 'forever';
  let round = 0;
  // Infect-forever never goes idle: step round by round until everyone has it.
  while (round < maxRounds) {
    round++;
    const reason = sim.run({ until: round * INTERVAL_NS + INTERVAL_NS / 2 });
    if (forever ? u.count === n : sim.pending === 0 && reason === 'until') break;
  }
  const reached = u.count;
  let rumor = 0;
  for (let i = 0; i < n; i++) rumor += cluster.node(i).sent.rumor;
  const rounds = (ns: number): number => (ns - LATENCY_NS) / INTERVAL_NS;
  return {
    tLastRounds: forever && reached < n ? Infinity : rounds(u.maxDelayNs),
    tAveRounds: reached > 1 ? rounds(u.sumDelayNs / (reached - 1)) : 0,
    residue: cluster.metrics.residue(u),
    messagesPerNode: rumor / n,
  };
}

/** Mean and sample standard deviation. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, sd: Math.sqrt(v) };
}

/** A row of the spread-time table. */
export interface SpreadRow {
  readonly variant: string;
  readonly n: number;
  readonly reps: number;
  readonly meanRounds: number;
  readonly sdRounds: number;
  readonly messagesPerNode: number;
  /** log2(n) + ln(n) for push fanout 1 (Pittel), else NaN. */
  readonly predictedRounds: number;
}

/** Pittel's prediction for push, fanout 1: log2(n) + ln(n). */
export function pittelRounds(n: number): number {
  return Math.log2(n) + Math.log(n);
}

/** Rounds until all n nodes have the update, infect forever: push fanout 1, 2, 3 and push-pull (fanout 1). */
export function spreadTable(n = 1000, reps = 50, seed = 'pittel'): SpreadRow[] {
  const variants: { name: string; preset: PresetName; fanout: number }[] = [
    { name: 'push fanout 1', preset: 'infect-forever', fanout: 1 },
    { name: 'push fanout 2', preset: 'infect-forever', fanout: 2 },
    { name: 'push fanout 3', preset: 'infect-forever', fanout: 3 },
    { name: 'push-pull fanout 1', preset: 'push-pull', fanout: 1 },
  ];
  return variants.map((v) => {
    const runs = Array.from({ length: reps }, (_, r) => spreadOnce(n, { fanout: v.fanout }, v.preset, `${seed}/${v.name}/${r}`));
    const t = meanSd(runs.map((x) => x.tLastRounds));
    return {
      variant: v.name,
      n,
      reps,
      meanRounds: t.mean,
      sdRounds: t.sd,
      messagesPerNode: meanSd(runs.map((x) => x.messagesPerNode)).mean,
      predictedRounds: v.name === 'push fanout 1' ? pittelRounds(n) : NaN,
    };
  });
}

/** One row of a Demers table: measured means and the paper's values. */
export interface DemersRow {
  readonly k: number;
  readonly residue: number;
  readonly traffic: number;
  readonly tAve: number;
  readonly tLast: number;
  readonly paper: { readonly residue: number; readonly traffic: number; readonly tAve: number; readonly tLast: number } | undefined;
}

/**
 * Demers et al. 1987, n = 1000 (Tables 1 and 2 of section 1.4): residue s,
 * traffic m, t_ave and t_last, k = 1..5.
 */
export const DEMERS_PUBLISHED: Readonly<Record<'feedback-counter' | 'blind-coin', readonly [number, number, number, number][]>> = {
  'feedback-counter': [
    [0.176, 1.74, 11.0, 16.8],
    [0.037, 3.3, 12.1, 16.9],
    [0.011, 4.53, 12.5, 17.4],
    [0.0036, 5.64, 12.7, 17.5],
    [0.0012, 6.68, 12.8, 17.7],
  ],
  'blind-coin': [
    [0.96, 0.04, 19, 38],
    [0.205, 1.59, 17, 33],
    [0.06, 2.82, 15, 32],
    [0.021, 3.91, 14.1, 32],
    [0.008, 4.95, 13.8, 32],
  ],
};

/** Measures a Demers table: push, fanout 1, aligned rounds, n nodes, k = 1..5, `reps` runs per k. */
export function demersTable(variant: 'feedback-counter' | 'blind-coin', n = 1000, reps = 50, seed = 'demers'): DemersRow[] {
  const preset: PresetName = variant === 'feedback-counter' ? 'demers-feedback-counter' : 'demers-blind-coin';
  const rows: DemersRow[] = [];
  for (let k = 1; k <= 5; k++) {
    const runs = Array.from({ length: reps }, (_, r) => spreadOnce(n, { k }, preset, `${seed}/${variant}/${k}/${r}`));
    const p = DEMERS_PUBLISHED[variant][k - 1];
    rows.push({
      k,
      residue: meanSd(runs.map((x) => x.residue)).mean,
      traffic: meanSd(runs.map((x) => x.messagesPerNode)).mean,
      tAve: meanSd(runs.map((x) => x.tAveRounds)).mean,
      tLast: meanSd(runs.map((x) => x.tLastRounds)).mean,
      paper: p === undefined ? undefined : { residue: p[0], traffic: p[1], tAve: p[2], tLast: p[3] },
    });
  }
  return rows;
}

/** Markdown rendering of a Demers table, measured next to published. */
export function formatDemersTable(title: string, rows: readonly DemersRow[]): string {
  const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const lines = [
    `${title}`,
    '',
    '| k | residue s (desim / paper) | traffic m (desim / paper) | t_ave (desim / paper) | t_last (desim / paper) |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p = r.paper;
    lines.push(
      `| ${r.k} | ${f(r.residue, 4)} / ${p ? p.residue : ''} | ${f(r.traffic, 2)} / ${p ? p.traffic : ''} | ${f(r.tAve, 1)} / ${p ? p.tAve : ''} | ${f(r.tLast, 1)} / ${p ? p.tLast : ''} |`,
    );
  }
  return lines.join('\n');
}

/** Markdown rendering of the spread table. */
export function formatSpreadTable(rows: readonly SpreadRow[]): string {
  const lines = ['| variant (infect forever) | n | reps | mean rounds to reach all | sd | rumor messages per node | log2(n) + ln(n) |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.variant} | ${r.n} | ${r.reps} | ${r.meanRounds.toFixed(2)} | ${r.sdRounds.toFixed(2)} | ${r.messagesPerNode.toFixed(2)} | ${Number.isFinite(r.predictedRounds) ? r.predictedRounds.toFixed(2) : ''} |`,
    );
  }
  return lines.join('\n');
}

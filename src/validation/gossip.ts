/**
 * Validation of the gossip node against the literature, on the real
 * {@link GossipNode} in the simulator (aligned 1 s rounds, 1 ms constant
 * links, no loss, one update written at t = 0 at node 0). The simulator and
 * network come from the scenario pipeline's builder (`buildWorld`), the
 * nodes from the {@link GossipCluster} the gossip recipe uses.
 *
 * Round convention: the write happens in round 0 and the first round of
 * gossip is round 1 (t = 1 s). A node infected by a message of round r (sent
 * at r s, arriving a few ms later) counts as infected in round r: its
 * infection round is floor(infection time / 1 s). t_last is the largest
 * infection round, t_ave the mean over the nodes other than the writer that
 * got the update. Traffic m is the number of messages carrying the update,
 * divided by n (pull requests, feedback and `learned` answers not counted,
 * as in the paper).
 *
 * - Pittel 1987: push, fanout 1, "infect forever" reaches all n nodes in
 *   log2(n) + ln(n) + O(1) rounds ({@link pittelRounds}).
 * - The textbook recurrences for the fraction p_i of nodes still susceptible
 *   after round i (Demers et al. 1987, section 1.3): pull p_{i+1} = p_i^2,
 *   push p_{i+1} = p_i e^{-(1 - p_i)} (so p_i / e in the tail), push-pull
 *   their product; {@link recurrenceRounds} turns them into expected rounds
 *   to reach everyone. They hold for infect-forever rumor mongering and for
 *   anti-entropy alone (one exchange per node per round with a uniformly
 *   random partner) alike: {@link epidemicTable}.
 * - Demers et al. 1987, rumor mongering (n = 1000): Tables 1 (push, feedback
 *   + counter), 2 (push, blind + coin) and 3 (pull, feedback + counter):
 *   residue s, traffic m, t_ave and t_last, in {@link demersTable} next to
 *   the paper's values ({@link DEMERS_PUBLISHED}).
 *
 * Counter rule (feedback + counter): the paper's: a hot rumor's counter
 * starts at 0, each unnecessary contact adds 1, each necessary contact resets
 * it to 0, and the node loses interest at k (k consecutive unnecessary
 * contacts). Coin rule (blind + coin): after each round in which the node
 * sent the rumor it loses interest with probability 1/k.
 */
import { GossipCluster } from '../sim/gossip-cluster.js';
import { resolveConfig, type PresetName } from '../protocols/gossip/presets.js';
import type { AntiEntropyMode, GossipConfig } from '../protocols/gossip/config.js';
import type { GossipMessage } from '../protocols/gossip/wire.js';
import { buildWorld, uniformNetwork } from '../scenarios/pipeline.js';

const INTERVAL_NS = 1_000_000_000;
const LATENCY_MS = 1;

/** One spread of one update, in rounds. */
export interface SpreadRun {
  /** Largest infection round over the nodes that got it (Infinity if a run that must reach everyone did not within `maxRounds`). */
  readonly tLastRounds: number;
  /** Mean infection round over the nodes (other than the writer) that got it. */
  readonly tAveRounds: number;
  /** Fraction of nodes the rumor never reached. */
  readonly residue: number;
  /** Traffic m: messages carrying the update, per node. */
  readonly messagesPerNode: number;
  /** Every message sent (any type: pull requests, feedback, anti-entropy), per node. */
  readonly allMessagesPerNode: number;
}

/**
 * Spreads one update over `n` nodes with the given configuration (aligned
 * rounds, anti-entropy off unless `overrides` turn it on) and measures it.
 * Infect-forever and anti-entropy-only runs go until every node has the
 * update; the others until no node has a hot rumor left.
 */
export function spreadOnce(n: number, overrides: Partial<GossipConfig>, preset: PresetName, seed: string, maxRounds = 200): SpreadRun {
  const { sim, net } = buildWorld<GossipMessage>(seed, uniformNetwork(n, { latency_ms: LATENCY_MS }), { perLinkCounters: false });
  const config = resolveConfig(preset, {
    phase: 'aligned',
    antiEntropyIntervalNs: 0,
    antiEntropyPhase: 'aligned',
    intervalNs: INTERVAL_NS,
    ...overrides,
  });
  const infected = new Int32Array(n).fill(-1);
  const cluster = new GossipCluster(sim, net, {
    config,
    metrics: {
      onStored: (node, _e, via, nowNs) => {
        if (via !== 'local' && infected[node] === -1) infected[node] = Math.floor(nowNs / INTERVAL_NS);
      },
    },
  });
  cluster.start();
  cluster.call(0, { op: 'put', key: 'x', value: 1 });
  const u = cluster.metrics.updates[0];
  if (u === undefined) throw new Error('spreadOnce: the write failed');
  const untilAll = config.stop === 'forever' || config.mode === 'off';
  const idle = (): boolean => {
    for (let i = 0; i < n; i++) if (cluster.node(i).hotRumors > 0) return false;
    return true;
  };
  let round = 0;
  while (round < maxRounds) {
    round++;
    sim.run({ until: round * INTERVAL_NS + INTERVAL_NS / 2 });
    if (untilAll ? u.count === n : idle()) break;
  }
  let sum = 0;
  let reached = 0;
  let last = 0;
  for (let i = 1; i < n; i++) {
    const r = infected[i] as number;
    if (r < 0) continue;
    reached++;
    sum += r;
    if (r > last) last = r;
  }
  let all = 0;
  for (let i = 0; i < n; i++) all += cluster.node(i).sent.messages;
  return {
    tLastRounds: untilAll && u.count < n ? Infinity : last,
    tAveRounds: reached > 0 ? sum / reached : 0,
    residue: cluster.metrics.residue(u),
    messagesPerNode: u.messages / n,
    allMessagesPerNode: all / n,
  };
}

/** Mean and sample standard deviation. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, sd: Math.sqrt(v) };
}

/** Pittel's prediction for push, fanout 1: log2(n) + ln(n). */
export function pittelRounds(n: number): number {
  return Math.log2(n) + Math.log(n);
}

/** The three forms of an epidemic exchange. */
export type EpidemicForm = AntiEntropyMode;

/**
 * One step of the mean-field recurrence: the probability that a node other
 * than the writer is still susceptible after the next round, given `p` now,
 * when every node contacts one uniformly random other node per round.
 * Push: each of the I = 1 + (n - 1)(1 - p) infected nodes misses it with
 * probability 1 - 1/(n - 1); pull: it asks a susceptible node, probability
 * 1 - I/(n - 1); push-pull: both. For large n these are the textbook
 * p e^{-(1-p)}, p^2 and p^2 e^{-(1-p)}.
 */
export function recurrenceStep(p: number, n: number, form: EpidemicForm): number {
  const infected = 1 + (n - 1) * (1 - p);
  const pushMiss = Math.pow(1 - 1 / (n - 1), infected);
  const pullMiss = Math.max(0, 1 - infected / (n - 1));
  return form === 'push' ? p * pushMiss : form === 'pull' ? p * pullMiss : p * pullMiss * pushMiss;
}

/**
 * Expected rounds until all n nodes have the update, from the recurrence:
 * p_0 = 1 (only the writer has it), P(not done after round i) =
 * 1 - (1 - p_i)^(n - 1) (nodes taken as independent), E[T] = the sum of
 * those probabilities over i >= 0.
 */
export function recurrenceRounds(n: number, form: EpidemicForm): number {
  let p = 1;
  let expected = 0;
  for (let i = 0; i < 10_000; i++) {
    const notDone = 1 - Math.pow(1 - p, n - 1);
    if (notDone < 1e-12) break;
    expected += notDone;
    p = recurrenceStep(p, n, form);
  }
  return expected;
}

/** A row of a spread-time table. */
export interface SpreadRow {
  readonly variant: string;
  readonly n: number;
  readonly reps: number;
  readonly meanRounds: number;
  readonly sdRounds: number;
  /** Traffic: messages carrying the update per node (rumor mongering), or every message per node (anti-entropy). */
  readonly messagesPerNode: number;
  /** log2(n) + ln(n) for push fanout 1 (Pittel), else NaN. */
  readonly pittel: number;
  /** Expected rounds from the recurrence of the row's form (fanout 1 only), else NaN. */
  readonly recurrence: number;
}

interface Variant {
  readonly name: string;
  readonly preset: PresetName;
  readonly overrides: Partial<GossipConfig>;
  readonly form: EpidemicForm | undefined;
  readonly antiEntropy: boolean;
}

const FOREVER_PULL: Partial<GossipConfig> = { feedback: 'blind', stop: 'forever' };

function rumorVariant(form: EpidemicForm, fanout = 1): Variant {
  const preset: PresetName = form === 'push' ? 'infect-forever' : form === 'push-pull' ? 'push-pull' : 'demers-pull-feedback-counter';
  return {
    name: `${form} fanout ${fanout}`,
    preset,
    overrides: form === 'pull' ? { ...FOREVER_PULL, fanout } : { fanout },
    form: fanout === 1 ? form : undefined,
    antiEntropy: false,
  };
}

function antiEntropyVariant(form: EpidemicForm): Variant {
  return {
    name: `anti-entropy ${form}`,
    preset: 'default',
    overrides: { mode: 'off', antiEntropyIntervalNs: INTERVAL_NS, antiEntropyPhase: 'aligned', antiEntropyMode: form },
    form,
    antiEntropy: true,
  };
}

function spreadRow(v: Variant, n: number, reps: number, seed: string): SpreadRow {
  const runs = Array.from({ length: reps }, (_, r) => spreadOnce(n, v.overrides, v.preset, `${seed}/${v.name}/${n}/${r}`));
  const t = meanSd(runs.map((x) => x.tLastRounds));
  return {
    variant: v.name,
    n,
    reps,
    meanRounds: t.mean,
    sdRounds: t.sd,
    messagesPerNode: meanSd(runs.map((x) => (v.antiEntropy ? x.allMessagesPerNode : x.messagesPerNode))).mean,
    pittel: v.form === 'push' && !v.antiEntropy ? pittelRounds(n) : NaN,
    recurrence: v.form === undefined ? NaN : recurrenceRounds(n, v.form),
  };
}

/** Rounds until all n nodes have the update, infect forever: push with fanout 1, 2, 3, push-pull and pull (fanout 1). */
export function spreadTable(n = 1000, reps = 50, seed = 'pittel'): SpreadRow[] {
  const variants = [rumorVariant('push', 1), rumorVariant('push', 2), rumorVariant('push', 3), rumorVariant('push-pull'), rumorVariant('pull')];
  return variants.map((v) => spreadRow(v, n, reps, seed));
}

/** Which epidemics {@link epidemicTable} measures. */
export type EpidemicKind = 'rumor' | 'anti-entropy';

/**
 * Rounds until all n nodes have the update, for each size and each of the
 * push, pull and push-pull forms (fanout 1): rumor mongering with infect
 * forever, or anti-entropy alone (every node starts one exchange per round
 * with a uniformly random partner; no rumors). `reps(n)` replications per size.
 * A row's runs depend only on (seed, kind, form, n, replication), so rows can
 * be computed separately (a subset of `forms` or `sizes`) and put together.
 */
export function epidemicTable(
  kind: EpidemicKind,
  sizes: readonly number[],
  reps: (n: number) => number,
  seed = 'epidemic',
  forms: readonly EpidemicForm[] = ['push', 'pull', 'push-pull'],
): SpreadRow[] {
  const rows: SpreadRow[] = [];
  for (const n of sizes) {
    for (const form of forms) rows.push(spreadRow(kind === 'rumor' ? rumorVariant(form) : antiEntropyVariant(form), n, reps(n), `${seed}/${kind}`));
  }
  return rows;
}

/** The Demers et al. tables desim reproduces. */
export type DemersVariant = 'feedback-counter' | 'blind-coin' | 'pull-feedback-counter';

/** One row of a Demers table: measured means and the paper's values. */
export interface DemersRow {
  readonly k: number;
  readonly reps: number;
  readonly residue: number;
  readonly traffic: number;
  readonly tAve: number;
  readonly tLast: number;
  readonly paper: { readonly residue: number; readonly traffic: number; readonly tAve: number; readonly tLast: number } | undefined;
}

/**
 * Demers et al. 1987, n = 1000: residue s, traffic m, t_ave and t_last per k.
 *
 * Tables 1 and 2 are as printed in the technical-report version (Xerox PARC
 * CSL-89-1, January 1989, page 10, "Performance of an epidemic on 1000 sites
 * using feedback and counters" and "... using blind and coin"), which gives
 * two significant digits for s and m. Table 3 (pull, feedback and counters)
 * could not be checked against a copy of the paper: its values are from
 * memory and are marked so wherever they are shown.
 */
export const DEMERS_PUBLISHED: Readonly<Record<DemersVariant, readonly [number, number, number, number][]>> = {
  'feedback-counter': [
    [0.18, 1.7, 11.0, 16.8],
    [0.037, 3.3, 12.1, 16.9],
    [0.011, 4.5, 12.5, 17.4],
    [0.0036, 5.6, 12.7, 17.5],
    [0.0012, 6.7, 12.8, 17.7],
  ],
  'blind-coin': [
    [0.96, 0.04, 19, 38],
    [0.2, 1.6, 17, 33],
    [0.06, 2.8, 15, 32],
    [0.021, 3.9, 14.1, 32],
    [0.008, 4.9, 13.8, 32],
  ],
  'pull-feedback-counter': [
    [0.031, 2.7, 9.97, 17.63],
    [0.00058, 4.5, 10.07, 15.39],
    [0.000004, 6.1, 10.08, 14.0],
  ],
};

/** True for the tables whose paper column was checked against a copy of the paper. */
export const DEMERS_VERIFIED: Readonly<Record<DemersVariant, boolean>> = {
  'feedback-counter': true,
  'blind-coin': true,
  'pull-feedback-counter': false,
};

const DEMERS_PRESET: Readonly<Record<DemersVariant, PresetName>> = {
  'feedback-counter': 'demers-feedback-counter',
  'blind-coin': 'demers-blind-coin',
  'pull-feedback-counter': 'demers-pull-feedback-counter',
};

/** Measures a Demers table: fanout 1, aligned rounds, n nodes, every k of the paper's table, `reps` runs per k. */
export function demersTable(variant: DemersVariant, n = 1000, reps = 200, seed = 'demers', overrides: Partial<GossipConfig> = {}): DemersRow[] {
  const rows: DemersRow[] = [];
  const published = DEMERS_PUBLISHED[variant];
  for (let k = 1; k <= published.length; k++) {
    const runs = Array.from({ length: reps }, (_, r) => spreadOnce(n, { ...overrides, k }, DEMERS_PRESET[variant], `${seed}/${variant}/${k}/${r}`));
    const p = published[k - 1];
    rows.push({
      k,
      reps,
      residue: meanSd(runs.map((x) => x.residue)).mean,
      traffic: meanSd(runs.map((x) => x.messagesPerNode)).mean,
      tAve: meanSd(runs.map((x) => x.tAveRounds)).mean,
      tLast: meanSd(runs.map((x) => x.tLastRounds)).mean,
      paper: p === undefined ? undefined : { residue: p[0], traffic: p[1], tAve: p[2], tLast: p[3] },
    });
  }
  return rows;
}

/** Relative difference of desim's value from the paper's, as a signed percentage ('' without a paper value). */
function pct(ours: number, paper: number | undefined): string {
  if (paper === undefined || paper === 0 || !Number.isFinite(ours)) return '';
  const d = Math.round(((ours - paper) / paper) * 100);
  return d === 0 ? '0 %' : `${d > 0 ? '+' : '−'}${Math.abs(d)} %`;
}

function sig(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  return x >= 0.01 ? x.toFixed(3) : x.toExponential(1);
}

/** Markdown rendering of a Demers table, measured next to published, with the difference. */
export function formatDemersTable(title: string, rows: readonly DemersRow[]): string {
  const lines = [
    `${title}`,
    '',
    '| k | runs | residue s: desim / paper (diff) | traffic m: desim / paper (diff) | t_ave: desim / paper | t_last: desim / paper (diff) |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p = r.paper;
    lines.push(
      `| ${r.k} | ${r.reps} | ${sig(r.residue)} / ${p ? sig(p.residue) : ''} (${pct(r.residue, p?.residue)}) | ${r.traffic.toFixed(2)} / ${p ? p.traffic : ''} (${pct(r.traffic, p?.traffic)}) | ${r.tAve.toFixed(1)} / ${p ? p.tAve : ''} | ${r.tLast.toFixed(1)} / ${p ? p.tLast : ''} (${pct(r.tLast, p?.tLast)}) |`,
    );
  }
  return lines.join('\n');
}

/** Markdown rendering of a spread table. */
export function formatSpreadTable(rows: readonly SpreadRow[]): string {
  const lines = [
    '| variant | n | reps | mean rounds to reach all | sd | messages per node | log2(n) + ln(n) | recurrence |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const opt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '');
  for (const r of rows) {
    lines.push(
      `| ${r.variant} | ${r.n} | ${r.reps} | ${r.meanRounds.toFixed(2)} | ${r.sdRounds.toFixed(2)} | ${r.messagesPerNode.toFixed(2)} | ${opt(r.pittel)} | ${opt(r.recurrence)} |`,
    );
  }
  return lines.join('\n');
}

/** Replications per size of the {@link epidemicTable}s that `npm run reproduce` writes. */
export function epidemicReps(n: number): number {
  return n <= 100 ? 50 : n <= 1000 ? 20 : n <= 10_000 ? 10 : 2;
}

/** Sizes of the {@link epidemicTable}s that `npm run reproduce` writes. */
export const EPIDEMIC_SIZES: readonly number[] = [100, 1000, 10_000, 100_000];

/** Names of the gossip validation reports, in the order {@link gossipValidationReports} computes them. */
export const GOSSIP_REPORTS = [
  'gossip-demers-feedback-counter',
  'gossip-demers-blind-coin',
  'gossip-demers-pull-feedback-counter',
  'gossip-demers-feedback-counter-no-reset',
  'gossip-pittel',
  'gossip-rumor-sizes',
  'gossip-anti-entropy-sizes',
] as const;

/** A gossip validation report name. */
export type GossipReport = (typeof GOSSIP_REPORTS)[number];

/** Computes one gossip validation report (the README's tables) as Markdown. */
export function gossipValidationReport(name: GossipReport): string {
  switch (name) {
    case 'gossip-demers-feedback-counter':
      return formatDemersTable('Table 1: push, feedback + counter (k consecutive unnecessary contacts), n = 1000', demersTable('feedback-counter'));
    case 'gossip-demers-blind-coin':
      return formatDemersTable('Table 2: push, blind + coin, n = 1000', demersTable('blind-coin'));
    case 'gossip-demers-pull-feedback-counter':
      return formatDemersTable(
        'Table 3: pull, feedback + counter, n = 1000 (paper column from memory, not checked against a copy of the paper)',
        demersTable('pull-feedback-counter'),
      );
    case 'gossip-demers-feedback-counter-no-reset':
      return formatDemersTable(
        "Table 1 with counter_reset: false (k unnecessary contacts in all, desim's earlier rule), n = 1000",
        demersTable('feedback-counter', 1000, 50, 'demers-no-reset', { counterReset: false }),
      );
    case 'gossip-pittel':
      return formatSpreadTable(spreadTable());
    case 'gossip-rumor-sizes':
      return formatSpreadTable(epidemicTable('rumor', EPIDEMIC_SIZES, epidemicReps));
    case 'gossip-anti-entropy-sizes':
      return formatSpreadTable(epidemicTable('anti-entropy', EPIDEMIC_SIZES, epidemicReps));
  }
}

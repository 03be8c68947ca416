/**
 * The plot recipes of SWIM:
 *
 * - a run's `trace-members.csv` → `members.svg`, how many members each of the
 *   first ten nodes holds dead or left over time (one step line per node; a
 *   bootstrapped group starts at 0), the run's fault episodes shaded. A
 *   failure shows as every line stepping up; a false positive as one line
 *   stepping up and back down when the member refutes;
 * - a sweep that varies both `protocol.swim.suspicion` and
 *   `protocol.swim.lifeguard` (`aggregate.csv`) → `false-positives.svg`, the
 *   false deaths per member-hour of each of the four settings, mean and 95%
 *   confidence interval on a log axis, with the mean written beside each point.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, streamCsv } from './data.js';
import { scenarioFaultEpisodes, type FaultEpisode } from './faults.js';
import { header, nodeColor, PALETTE, readableName, stepLinesByNode, topLevel, type Figure, type FigureOptions } from './style.js';
import { readAggregate, type SweepTable } from './sweep.js';

/** At most this many observers get a line. */
export const MAX_MEMBER_OBSERVERS = 10;

/** The figures of a SWIM folder: `members` when it has a members trace with a row; `false-positives` for a sweep of suspicion and Lifeguard. */
export async function swimFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const path = join(dir, 'trace-members.csv');
  if (existsSync(path)) {
    const spec = membersSpec(await readMembersTrace(path), options, scenarioFaultEpisodes(options.scenario));
    if (spec !== undefined) figures.push({ name: 'members', spec });
  }
  const aggregate = join(dir, 'aggregate.csv');
  if (existsSync(aggregate)) {
    const spec = falsePositivesSpec(await readAggregate(aggregate, join(dir, 'sweep.json')), options);
    if (spec !== undefined) figures.push({ name: 'false-positives', spec });
  }
  return figures;
}

/** The varied parameters `false-positives.svg` needs. */
export const SWIM_SETTING_PARAMETERS = ['protocol.swim.suspicion', 'protocol.swim.lifeguard'] as const;
/** The metric `false-positives.svg` draws. */
export const FALSE_POSITIVE_METRIC = 'false_deaths_per_member_hour';

/** `0`/`1`/`false`/`true` (a boolean parameter as aggregate.csv writes it) → on or off, else undefined. */
function onOff(cell: string | undefined): boolean | undefined {
  if (cell === '1' || cell === 'true') return true;
  if (cell === '0' || cell === 'false') return false;
  return undefined;
}

/**
 * The Vega-Lite spec of `false-positives.svg`: x = suspicion off / on, one
 * colour per Lifeguard off / on, y = {@link FALSE_POSITIVE_METRIC} (mean and
 * 95% CI, log axis; an interval reaching zero is cut at the bottom). Undefined
 * unless the sweep varies both settings (and nothing else) and has the metric.
 */
export function falsePositivesSpec(table: SweepTable, options: FigureOptions = {}): Record<string, unknown> | undefined {
  const h = table.header;
  const [suspicionName, lifeguardName] = SWIM_SETTING_PARAMETERS;
  if (table.vary.length !== 2 || !table.vary.includes(suspicionName) || !table.vary.includes(lifeguardName)) return undefined;
  const at = {
    suspicion: col(h, suspicionName),
    lifeguard: col(h, lifeguardName),
    mean: col(h, `${FALSE_POSITIVE_METRIC}_mean`),
    lo: col(h, `${FALSE_POSITIVE_METRIC}_ci95_lo`),
    hi: col(h, `${FALSE_POSITIVE_METRIC}_ci95_hi`),
    runs: col(h, 'runs'),
  };
  if (at.mean < 0) return undefined;
  const suspicionLabel = (on: boolean): string => (on ? 'Suspicion on' : 'Suspicion off');
  const lifeguardLabel = (on: boolean): string => (on ? 'on' : 'off');
  const points: { x: string; series: string; y: number; lo: number; hi: number; label: string }[] = [];
  const runs: number[] = [];
  for (const row of table.rows) {
    const suspicion = onOff(row[at.suspicion]);
    const lifeguard = onOff(row[at.lifeguard]);
    const y = num(row[at.mean]);
    if (suspicion === undefined || lifeguard === undefined || !(y > 0)) continue;
    const lo = at.lo >= 0 ? num(row[at.lo]) : Number.NaN;
    const hi = at.hi >= 0 ? num(row[at.hi]) : Number.NaN;
    points.push({
      x: suspicionLabel(suspicion),
      series: lifeguardLabel(lifeguard),
      y,
      lo: Number.isFinite(lo) ? lo : y,
      hi: Number.isFinite(hi) ? hi : y,
      label: y >= 10 ? y.toFixed(1) : y.toPrecision(2),
    });
    if (at.runs >= 0 && Number.isFinite(num(row[at.runs]))) runs.push(num(row[at.runs]));
  }
  if (points.length === 0) return undefined;
  // Log axis: a decade below the lowest positive bound and above the highest; bars reaching 0 or below stop at the bottom.
  const lows = points.flatMap((p) => [p.y, p.lo]).filter((v) => v > 0);
  const bottom = 10 ** Math.floor(Math.log10(Math.min(...lows)));
  const top = 10 ** Math.ceil(Math.log10(Math.max(...points.map((p) => Math.max(p.y, p.hi)))));
  for (const p of points) if (!(p.lo > bottom)) p.lo = bottom;
  const xDomain = [suspicionLabel(false), suspicionLabel(true)];
  const seriesDomain = [lifeguardLabel(false), lifeguardLabel(true)];
  const x = { field: 'x', type: 'nominal', title: null, sort: xDomain, scale: { domain: xDomain, paddingInner: 0.4 }, axis: { labelAngle: 0 } };
  const xOffset = { field: 'series', type: 'nominal', sort: seriesDomain, scale: { domain: seriesDomain, paddingOuter: 0.5 } };
  const y = {
    field: 'y',
    type: 'quantitative',
    title: readableName(FALSE_POSITIVE_METRIC),
    scale: { type: 'log', domain: [bottom, top], nice: false },
  };
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'Lifeguard',
    scale: { domain: seriesDomain, range: [PALETTE[0], PALETTE[1]] },
    legend: { orient: 'bottom', symbolOpacity: 1 },
  };
  const n =
    runs.length === 0 ? undefined : Math.min(...runs) === Math.max(...runs) ? `${Math.min(...runs)}` : `${Math.min(...runs)}–${Math.max(...runs)}`;
  const caption = `Live members declared dead (once per incarnation), per live member-hour${n === undefined ? '' : `; mean of ${n} runs per point`}; bars: 95% confidence interval`;
  const layer: unknown[] = [
    {
      data: { name: 'points' },
      mark: { type: 'rule', strokeWidth: 1.75 },
      encoding: { x, xOffset, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
    },
    {
      data: { name: 'points' },
      mark: { type: 'tick', thickness: 1.75, size: 12, orient: 'horizontal' },
      encoding: { x, xOffset, y: { ...y, field: 'lo' }, color },
    },
    {
      data: { name: 'points' },
      mark: { type: 'tick', thickness: 1.75, size: 12, orient: 'horizontal' },
      encoding: { x, xOffset, y: { ...y, field: 'hi' }, color },
    },
    { data: { name: 'points' }, mark: { type: 'point', filled: true, size: 70, opacity: 1 }, encoding: { x, xOffset, y, color } },
    {
      data: { name: 'points' },
      mark: { type: 'text', align: 'left', dx: 9, fontSize: 12, color: '#222' },
      encoding: { x, xOffset, y, text: { field: 'label', type: 'nominal' } },
    },
  ];
  return topLevel(header('False positives by setting', options, caption), { points }, layer);
}

/** The points of members.svg. */
export interface MembersPlotData {
  readonly nodes: readonly string[];
  readonly totalNodes: number;
  readonly rows: readonly { readonly timeS: number; readonly node: string; readonly down: number }[];
}

/** Reads trace-members.csv (time_s, node, member, state, ...): per observer, the members it holds dead or left after each change. */
export async function readMembersTrace(path: string): Promise<MembersPlotData> {
  const byNode = new Map<string, { states: Map<string, boolean>; down: number; t: number[]; n: number[] }>();
  const skipped = new Set<string>();
  let idx = { t: -1, node: -1, member: -1, state: -1 };
  await streamCsv(
    path,
    (cells) => {
      const node = cells[idx.node] ?? '';
      let s = byNode.get(node);
      if (s === undefined) {
        if (byNode.size >= MAX_MEMBER_OBSERVERS) {
          skipped.add(node);
          return;
        }
        s = { states: new Map(), down: 0, t: [], n: [] };
        byNode.set(node, s);
      }
      const member = cells[idx.member] ?? '';
      if (member === node) return;
      const state = cells[idx.state] ?? '';
      const down = state === 'dead' || state === 'left';
      const was = s.states.get(member) === true;
      s.states.set(member, down);
      if (down === was) return;
      s.down += down ? 1 : -1;
      s.t.push(num(cells[idx.t]));
      s.n.push(s.down);
    },
    (head) => {
      idx = { t: col(head, 'time_s'), node: col(head, 'node'), member: col(head, 'member'), state: col(head, 'state') };
      if (idx.t < 0 || idx.node < 0 || idx.member < 0 || idx.state < 0) throw new Error(`plot: ${path} needs columns time_s, node, member and state`);
    },
  );
  const rows: { timeS: number; node: string; down: number }[] = [];
  for (const [node, s] of byNode) {
    if (s.t.length === 0) continue;
    rows.push({ timeS: 0, node, down: 0 });
    for (const i of bucketKeep(s.t, s.n, MAX_TRACE_POINTS_PER_SERIES)) rows.push({ timeS: s.t[i] ?? Number.NaN, node, down: s.n[i] ?? Number.NaN });
  }
  return { nodes: [...byNode.keys()], totalNodes: byNode.size + skipped.size, rows };
}

/** The Vega-Lite spec of members.svg, or undefined when no member changed. */
export function membersSpec(
  data: MembersPlotData,
  options: FigureOptions = {},
  episodes: readonly FaultEpisode[] = [],
): Record<string, unknown> | undefined {
  const points = data.rows.filter((r) => Number.isFinite(r.timeS)).map((r, i) => ({ i, x: r.timeS, node: r.node, y: r.down }));
  if (points.length === 0) return undefined;
  const nodes = [...new Set(points.map((p) => p.node))];
  const note = data.totalNodes > data.nodes.length ? `First ${data.nodes.length} of ${data.totalNodes} nodes` : undefined;
  const y = { field: 'y', type: 'quantitative', title: 'Members held dead or left', scale: { zero: true }, axis: { tickMinStep: 1 } };
  const { layers: layer, faults } = stepLinesByNode(points, episodes, y, nodeColor(nodes));
  const datasets: Record<string, unknown[]> = { points };
  if (faults.length > 0) datasets['faults'] = faults;
  return topLevel(header('Members held dead or left', options, note), datasets, layer);
}

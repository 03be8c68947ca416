/**
 * The plot recipe of SWIM runs: `trace-members.csv` → `members.svg`, how
 * many members each of the first ten nodes holds dead or left over time (one
 * step line per node; a bootstrapped group starts at 0), the run's fault
 * episodes shaded. A failure shows as every line stepping up; a false
 * positive as one line stepping up and back down when the member refutes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, streamCsv } from './data.js';
import { faultLayers, faultRows, scenarioFaultEpisodes, type FaultEpisode } from './faults.js';
import { header, PALETTE, PLOT_WIDTH_PX, topLevel, type Figure, type FigureOptions } from './style.js';

/** At most this many observers get a line. */
export const MAX_MEMBER_OBSERVERS = 10;

/** The figures of a SWIM run: `members` when the folder has a members trace with a row. */
export async function swimFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const path = join(dir, 'trace-members.csv');
  if (!existsSync(path)) return [];
  const spec = membersSpec(await readMembersTrace(path), options, scenarioFaultEpisodes(options.scenario));
  return spec === undefined ? [] : [{ name: 'members', spec }];
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
  const x = { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { zero: false, nice: false, padding: 10 } };
  const y = { field: 'y', type: 'quantitative', title: 'Members held dead or left', scale: { zero: true }, axis: { tickMinStep: 1 } };
  const color = {
    field: 'node',
    type: 'nominal',
    title: 'Node',
    scale: { domain: nodes, range: [...PALETTE] },
    legend: { orient: 'bottom', columns: Math.min(5, nodes.length), symbolType: 'stroke' },
  };
  const xMin = Math.min(...points.map((p) => p.x), ...episodes.map((e) => e.startS));
  const xMax = Math.max(...points.map((p) => p.x), ...episodes.map((e) => e.endS));
  const faults = faultRows(episodes, (t) => t - xMin, xMax > xMin ? PLOT_WIDTH_PX / (xMax - xMin) : 1).map((f) => ({
    ...f,
    x: f.x + xMin,
    x2: f.x2 + xMin,
  }));
  const layer: unknown[] = [
    ...(faults.length === 0 ? [] : faultLayers(x)),
    {
      data: { name: 'points' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: { x, y, color, detail: { field: 'node', type: 'nominal' }, order: { field: 'i', type: 'quantitative' } },
    },
  ];
  const datasets: Record<string, unknown[]> = { points };
  if (faults.length > 0) datasets['faults'] = faults;
  return topLevel(header('Members held dead or left', options, note), datasets, layer);
}

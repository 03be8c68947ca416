/**
 * The plot recipe of protocol modules: `trace-calls.csv` → `calls.svg`, the
 * client calls made so far, one step line per node (first ten nodes), failed
 * calls marked, the run's fault episodes shaded.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, streamCsv } from './data.js';
import { scenarioFaultEpisodes, type FaultEpisode } from './faults.js';
import { header, nodeColor, PALETTE, stepLinesByNode, topLevel, type Figure, type FigureOptions } from './style.js';

/** At most this many nodes of the calls trace get a line. */
export const MAX_CALL_NODES = 10;

/** The figures of a protocol module's run: `calls` when the folder has a calls trace with a call. */
export async function moduleFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const path = join(dir, 'trace-calls.csv');
  if (!existsSync(path)) return [];
  const spec = callsSpec(await readCallsTrace(path), options, scenarioFaultEpisodes(options.scenario));
  return spec === undefined ? [] : [{ name: 'calls', spec }];
}

/** The points of calls.svg. */
export interface CallsPlotData {
  /** Nodes plotted (at most {@link MAX_CALL_NODES}, by first appearance). */
  readonly nodes: readonly string[];
  /** Nodes in the file. */
  readonly totalNodes: number;
  /** One point per call of a plotted node, in file order: the node's calls so far, and whether this one failed. */
  readonly rows: readonly { readonly timeS: number; readonly node: string; readonly calls: number; readonly failed: boolean }[];
}

/** Reads trace-calls.csv (time_s, node, call, reply, error): the running count of calls per node, first ten nodes, thinned per node. */
export async function readCallsTrace(path: string): Promise<CallsPlotData> {
  const byNode = new Map<string, { t: number[]; n: number[]; failed: boolean[] }>();
  const skipped = new Set<string>();
  let idx = { t: -1, node: -1, error: -1 };
  await streamCsv(
    path,
    (cells) => {
      const node = cells[idx.node] ?? '';
      let s = byNode.get(node);
      if (s === undefined) {
        if (byNode.size >= MAX_CALL_NODES) {
          skipped.add(node);
          return;
        }
        s = { t: [], n: [], failed: [] };
        byNode.set(node, s);
      }
      s.t.push(num(cells[idx.t]));
      s.n.push(s.n.length + 1);
      s.failed.push(idx.error >= 0 && (cells[idx.error] ?? '') !== '');
    },
    (head) => {
      idx = { t: col(head, 'time_s'), node: col(head, 'node'), error: col(head, 'error') };
      if (idx.t < 0 || idx.node < 0) throw new Error(`plot: ${path} needs columns time_s and node`);
    },
  );
  const rows: { timeS: number; node: string; calls: number; failed: boolean }[] = [];
  for (const [node, s] of byNode) {
    const keep = new Set(bucketKeep(s.t, s.n, MAX_TRACE_POINTS_PER_SERIES));
    // Failed calls are always kept: each gets a marker.
    s.failed.forEach((f, i) => f && keep.add(i));
    for (const i of [...keep].sort((a, b) => a - b)) {
      rows.push({ timeS: s.t[i] ?? Number.NaN, node, calls: s.n[i] ?? Number.NaN, failed: s.failed[i] === true });
    }
  }
  return { nodes: [...byNode.keys()], totalNodes: byNode.size + skipped.size, rows };
}

/** The Vega-Lite spec of calls.svg, or undefined when the trace has no call. */
export function callsSpec(
  data: CallsPlotData,
  options: FigureOptions = {},
  episodes: readonly FaultEpisode[] = [],
): Record<string, unknown> | undefined {
  const points = data.rows.filter((r) => Number.isFinite(r.timeS)).map((r, i) => ({ i, x: r.timeS, node: r.node, y: r.calls, failed: r.failed }));
  if (points.length === 0) return undefined;
  const failed = points.filter((p) => p.failed);
  const multi = data.nodes.length > 1;
  const note =
    data.totalNodes > data.nodes.length
      ? `First ${data.nodes.length} of ${data.totalNodes} nodes`
      : multi
        ? undefined
        : `Node: ${data.nodes[0] ?? ''}`;
  const y = { field: 'y', type: 'quantitative', title: 'Client calls so far', scale: { zero: true }, axis: { tickMinStep: 1 } };
  const color = multi ? nodeColor(data.nodes) : { value: PALETTE[0] };
  const { x, layers: layer, faults } = stepLinesByNode(points, episodes, y, color);
  if (failed.length > 0) {
    layer.push({
      data: { name: 'failed' },
      mark: { type: 'point', shape: 'cross', size: 60, filled: true, color: '#000000' },
      encoding: { x, y },
    });
  }
  const datasets: Record<string, unknown[]> = failed.length > 0 ? { points, failed } : { points };
  if (faults.length > 0) datasets['faults'] = faults;
  return topLevel(header('Client calls', options, note), datasets, layer);
}

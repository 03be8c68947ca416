/**
 * TCP's plot recipe: `trace-cwnd.csv` → `cwnd.svg`, cwnd (solid) and ssthresh
 * (dashed) per flow, markers at fast retransmits and timeouts. Long traces are
 * thinned per flow ({@link bucketKeep}); rows that change the window in a way
 * worth showing exactly are never thinned.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, streamCsv } from './data.js';
import { faultLayers, faultRows, scenarioFaultEpisodes, type FaultEpisode } from './faults.js';
import { header, PALETTE, paperConfig, PLOT_WIDTH_PX, topLevel, type Figure, type FigureOptions } from './style.js';

/** With more flows than this, the cwnd plot becomes small multiples: one panel per flow. */
export const MAX_FLOWS_ON_ONE_PLOT = 2;

/** The figures of a TCP run: `cwnd` when the folder has a cwnd trace with a plottable row. */
export async function tcpFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const path = join(dir, 'trace-cwnd.csv');
  if (!existsSync(path)) return [];
  const spec = cwndSpec(await readCwndTrace(path), options, scenarioFaultEpisodes(options.scenario));
  return spec === undefined ? [] : [{ name: 'cwnd', spec }];
}

/** Event names of trace-cwnd.csv that get a marker, with their legend label and symbol. */
const CWND_MARKERS = [
  { event: 'fast_retransmit', label: 'Fast retransmit', shape: 'triangle-up' },
  { event: 'timeout', label: 'Timeout', shape: 'cross' },
] as const;

/** The thinned cwnd trace, ready to plot. */
export interface CwndPlotData {
  /** Flow ids in order of first appearance. */
  readonly flows: readonly string[];
  /** True when x is time in RTTs (single flow with a time_rtt column), else time in seconds. */
  readonly xInRtts: boolean;
  /** Seconds per unit of x: the RTT when {@link CwndPlotData.xInRtts}, else 1. */
  readonly secondsPerX: number;
  /** Rows kept, in file order. */
  readonly rows: readonly CwndRow[];
  /** Data rows in the file. */
  readonly totalRows: number;
}

/** One kept row of trace-cwnd.csv. */
export interface CwndRow {
  readonly x: number;
  readonly flow: string;
  readonly cwndPkts: number;
  /** NaN when the cell was empty (infinite ssthresh). */
  readonly ssthreshPkts: number;
  readonly event: string;
}

interface FlowColumns {
  timeS: number[];
  timeRtt: number[];
  cwnd: number[];
  ssthresh: number[];
  event: string[];
  /** Index into the per-flow arrays of rows that are always kept. */
  always: number[];
}

/** Rows whose event changes the window in a way worth showing exactly: never thinned. */
function alwaysKept(event: string): boolean {
  return event !== 'ack' && event !== 'dupack' && event !== 'drop';
}

/**
 * Reads trace-cwnd.csv and thins it: every row whose event is not `ack`,
 * `dupack` or `drop` (fast_retransmit, timeout, recovery_exit, unknown
 * events) is kept; the others are thinned per flow to at most
 * {@link MAX_TRACE_POINTS_PER_SERIES} rows by first/last/min/max per time bucket.
 */
export async function readCwndTrace(path: string): Promise<CwndPlotData> {
  const flows = new Map<string, FlowColumns>();
  let totalRows = 0;
  let idx = { timeS: -1, timeRtt: -1, flow: -1, cwnd: -1, ssthresh: -1, event: -1 };
  await streamCsv(
    path,
    (cells) => {
      totalRows++;
      const flow = idx.flow >= 0 ? (cells[idx.flow] ?? '') : '';
      let f = flows.get(flow);
      if (f === undefined) {
        f = { timeS: [], timeRtt: [], cwnd: [], ssthresh: [], event: [], always: [] };
        flows.set(flow, f);
      }
      const event = idx.event >= 0 ? (cells[idx.event] ?? '') : '';
      if (alwaysKept(event)) f.always.push(f.event.length);
      f.timeS.push(num(cells[idx.timeS]));
      f.timeRtt.push(idx.timeRtt >= 0 ? num(cells[idx.timeRtt]) : Number.NaN);
      f.cwnd.push(num(cells[idx.cwnd]));
      f.ssthresh.push(idx.ssthresh >= 0 ? num(cells[idx.ssthresh]) : Number.NaN);
      f.event.push(event);
    },
    (head) => {
      idx = {
        timeS: col(head, 'time_s'),
        timeRtt: col(head, 'time_rtt'),
        flow: col(head, 'flow'),
        cwnd: col(head, 'cwnd_pkts'),
        ssthresh: col(head, 'ssthresh_pkts'),
        event: col(head, 'event'),
      };
      if (idx.timeS < 0 || idx.cwnd < 0) throw new Error(`plot: ${path} needs columns time_s and cwnd_pkts`);
    },
  );
  const flowIds = [...flows.keys()];
  const single = flowIds.length === 1;
  const firstFlow = flows.get(flowIds[0] ?? '');
  const xInRtts = single && firstFlow !== undefined && firstFlow.timeRtt.every((x) => !Number.isNaN(x));
  const rows: CwndRow[] = [];
  for (const [flow, f] of flows) {
    const xs = xInRtts ? f.timeRtt : f.timeS;
    const bulk: number[] = [];
    const alwaysSet = new Set(f.always);
    for (let i = 0; i < f.event.length; i++) if (!alwaysSet.has(i)) bulk.push(i);
    const bulkX = bulk.map((i) => xs[i] ?? Number.NaN);
    const bulkY = bulk.map((i) => f.cwnd[i] ?? Number.NaN);
    const keep = new Set<number>(f.always);
    for (const k of bucketKeep(bulkX, bulkY, MAX_TRACE_POINTS_PER_SERIES)) keep.add(bulk[k] ?? 0);
    const kept = [...keep].sort((a, b) => a - b);
    for (const i of kept) {
      rows.push({
        x: xs[i] ?? Number.NaN,
        flow,
        cwndPkts: f.cwnd[i] ?? Number.NaN,
        ssthreshPkts: f.ssthresh[i] ?? Number.NaN,
        event: f.event[i] ?? '',
      });
    }
  }
  let secondsPerX = 1;
  if (xInRtts && firstFlow !== undefined) {
    const i = firstFlow.timeS.findIndex((t, k) => t > 0 && (firstFlow.timeRtt[k] ?? 0) > 0);
    if (i >= 0) secondsPerX = (firstFlow.timeS[i] ?? 1) / (firstFlow.timeRtt[i] ?? 1);
  }
  return { flows: flowIds, xInRtts, secondsPerX, rows, totalRows };
}

/** The Vega-Lite spec of cwnd.svg, or undefined when the trace has no plottable row. */
export function cwndSpec(
  data: CwndPlotData,
  options: FigureOptions = {},
  episodes: readonly FaultEpisode[] = [],
): Record<string, unknown> | undefined {
  const finite = data.rows.filter((r) => Number.isFinite(r.x) && Number.isFinite(r.cwndPkts));
  if (finite.length === 0) return undefined;
  const multi = data.flows.length > 1;
  // Numeric ids read as "Flow 0"; named flows (e.g. `rtt40`) keep their name.
  const flowLabel = (flow: string): string => (flow === '' ? 'flow' : /^\d+$/.test(flow) ? `Flow ${flow}` : flow);
  // Lines: per flow and series, in file order, without the points of a step line that repeat the previous level.
  // `i` fixes the drawing order of points at the same time (a line mark would otherwise sort by x alone).
  const byFlow = new Map<string, CwndRow[]>(data.flows.map((f) => [f, []]));
  for (const r of finite) byFlow.get(r.flow)?.push(r);
  const lines: { i: number; x: number; flow: string; series: string; y: number }[] = [];
  for (const series of ['cwnd', 'ssthresh'] as const) {
    for (const [flow, flowRows] of byFlow) {
      const pts = flowRows.map((r) => ({ x: r.x, y: series === 'cwnd' ? r.cwndPkts : r.ssthreshPkts })).filter((p) => Number.isFinite(p.y));
      pts.forEach((p, i) => {
        if (i === 0 || i === pts.length - 1 || p.y !== pts[i - 1]?.y) {
          lines.push({ i: lines.length, x: p.x, flow: flowLabel(flow), series, y: p.y });
        }
      });
    }
  }
  const markerDefs = CWND_MARKERS.filter((m) => finite.some((r) => r.event === m.event));
  const markers = finite
    .filter((r) => markerDefs.some((m) => m.event === r.event))
    .map((r) => ({
      x: r.x,
      flow: flowLabel(r.flow),
      event: markerDefs.find((m) => m.event === r.event)?.label ?? r.event,
      y: r.cwndPkts,
    }));
  const flowDomain = data.flows.map(flowLabel);
  const seriesDomain = lines.some((l) => l.series === 'ssthresh') ? ['cwnd', 'ssthresh'] : ['cwnd'];
  const xTitle = data.xInRtts ? 'Time (RTTs)' : 'Time (s)';
  const panels = data.flows.length > MAX_FLOWS_ON_ONE_PLOT;
  const x = { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: true, nice: false } };
  const y = { field: 'y', type: 'quantitative', title: panels ? 'cwnd (packets)' : 'Congestion window (packets)', scale: { zero: true } };
  const color = multi
    ? {
        field: 'flow',
        type: 'nominal',
        title: null,
        scale: { domain: flowDomain, range: [...PALETTE] },
        // Flows above the plot, line styles and markers below: each row stays within the plot's width.
        // Small multiples name the flow above each panel instead.
        legend: panels ? null : { orient: 'top', symbolType: 'stroke', columns: Math.min(6, flowDomain.length) },
      }
    : { value: PALETTE[0] };
  const strokeDash = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: {
      domain: seriesDomain,
      range: [
        [1, 0],
        [6, 4],
      ].slice(0, seriesDomain.length),
    },
    legend: { orient: 'bottom', symbolType: 'stroke', symbolStrokeColor: '#333' },
  };
  const shape = {
    field: 'event',
    type: 'nominal',
    title: null,
    scale: { domain: markerDefs.map((m) => m.label), range: markerDefs.map((m) => m.shape) },
    legend: { orient: 'bottom', symbolFillColor: multi ? '#333' : '#c0392b', symbolStrokeColor: multi ? '#333' : '#c0392b' },
  };
  const dataLayers = (xEnc: Record<string, unknown>, flow?: string): unknown[] => {
    const only = flow === undefined ? {} : { transform: [{ filter: { field: 'flow', equal: flow } }] };
    const layer: unknown[] = [
      {
        data: { name: 'lines' },
        ...only,
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: { x: xEnc, y, color, detail: { field: 'flow', type: 'nominal' }, order: { field: 'i', type: 'quantitative' }, strokeDash },
      },
    ];
    if (markers.length > 0) {
      layer.push({
        data: { name: 'markers' },
        ...only,
        mark: { type: 'point', filled: true, size: 80, opacity: 1, stroke: 'white', strokeWidth: 0.8 },
        encoding: { x: xEnc, y, color: multi ? { field: 'flow', type: 'nominal' } : { value: '#c0392b' }, shape },
      });
    }
    return layer;
  };
  const secondsToX = (t: number): number => t / data.secondsPerX;
  const xMax = Math.max(...finite.map((r) => r.x));
  const faults = faultRows(episodes, secondsToX, xMax > 0 ? PLOT_WIDTH_PX / xMax : 1);
  const datasets = faults.length === 0 ? { lines, markers } : { lines, markers, faults };
  if (!panels) {
    return topLevel(header('Congestion window', options), datasets, [...(faults.length === 0 ? [] : faultLayers(x)), ...dataLayers(x)]);
  }
  // Small multiples: one panel per flow on a shared time axis, each with its own window scale, so that one
  // flow's slow-start overshoot does not flatten the others. The time axis is labelled under the last panel;
  // fault labels are written in the first.
  const panelHeight = Math.max(70, Math.min(140, Math.round(480 / data.flows.length)));
  const vconcat = flowDomain.map((flow, k) => {
    const last = k === flowDomain.length - 1;
    const xEnc = last ? x : { ...x, axis: { title: null, labels: false } };
    const bands = faults.length === 0 ? [] : faultLayers(xEnc).slice(0, k === 0 ? 3 : 1);
    return {
      width: PLOT_WIDTH_PX,
      height: panelHeight,
      title: { text: flow, fontSize: 13, fontWeight: 'bold', color: PALETTE[k % PALETTE.length], offset: 4 },
      layer: [...bands, ...dataLayers(xEnc, flow)],
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header('Congestion window', options, 'One panel per flow; shared time axis'),
    config: paperConfig(),
    datasets,
    vconcat,
    spacing: 10,
    resolve: { scale: { x: 'shared', y: 'independent' } },
  };
}

/**
 * SVG plots from the CSV files a run or a sweep wrote.
 *
 * Theory of operation: a plot is a recipe keyed by a file name. For each
 * recipe whose CSV exists in the folder, we read the CSV (streaming; traces
 * can be large), thin long series deterministically ({@link bucketKeep}),
 * build a Vega-Lite spec with the data inline, compile it to Vega and render
 * it headlessly to SVG (Vega `View` with renderer `none`, `toSVG()`; no
 * canvas, text measured from Helvetica metrics, see `plot-text.ts`). Each SVG
 * is written atomically (temporary file + rename). The same CSVs give the
 * same SVG bytes: data order is file order, all choices are pure functions of
 * the data, and nothing reads the clock.
 *
 * Recipes (file in `dir` → SVG written):
 * - `trace-cwnd.csv` → `cwnd.svg`: cwnd (solid) and ssthresh (dashed) per flow,
 *   markers at fast retransmits and timeouts.
 * - `trace-infection.csv` → `infection.svg`: fraction of live nodes holding the
 *   newest version, one line per key (first ten keys).
 * - `trace-calls.csv` → `calls.svg` (a protocol module's run): client calls
 *   made so far, one step line per node (first ten nodes), failed calls marked.
 * - `aggregate.csv` (+ `sweep.json`) → `<metric>.svg` per metric: mean with 95%
 *   confidence interval against the first varied parameter; model curves
 *   (`model_*_bps`) overlaid on the goodput plot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { OutputError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { bucketKeep, col, num, readCsv, streamCsv } from './plot-data.js';
import { installTextMetrics } from './plot-text.js';

/** Options of {@link plotDirectory}. */
export interface PlotOptions {
  /**
   * Shown under each plot's own title, e.g. the scenario name. Default: the
   * scenario named in the folder's `sweep.json` (`scenario`) or `meta.json`
   * (`scenario.name`), else none; `''` for none.
   */
  readonly title?: string;
  /**
   * Called for each plot file that already exists in the folder: true lets it
   * be replaced, false stops with an OutputError (a file desim did not write
   * is never replaced). Default: every existing file may be replaced.
   */
  readonly replaceable?: (name: string) => boolean;
  /** Where to write the plot files. Default: the folder the CSVs are read from. */
  readonly into?: string;
}

/** Options of {@link renderVegaLite}. */
export interface RenderOptions {
  /** Receives Vega-Lite / Vega warnings (the library never prints). Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

/** Plot width in pixels (the data rectangle; axes and legends add about 80 px). */
export const PLOT_WIDTH_PX = 560;
/** Plot height in pixels (the data rectangle). */
export const PLOT_HEIGHT_PX = 320;
/** At most this many `ack`-like rows of the cwnd trace are plotted per flow. */
export const MAX_TRACE_POINTS_PER_SERIES = 4000;
/** At most this many keys of the infection trace get a line. */
export const MAX_INFECTION_KEYS = 10;

/** The categorical palette (Tableau 10, Vega's default), fixed here so colours never depend on a Vega default. */
export const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
] as const;

const FONT = 'Helvetica, Arial, sans-serif';

type Engines = { readonly vega: typeof import('vega'); readonly compile: typeof import('vega-lite').compile };
let engines: Promise<Engines> | undefined;

/**
 * Loads vega and vega-lite on first use (about 0.2 s of import time that runs,
 * sweep workers and CLI commands which do not plot should not pay), and
 * installs the text measure.
 */
function loadEngines(): Promise<Engines> {
  engines ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => {
    installTextMetrics(vega);
    return { vega, compile: vegaLite.compile };
  });
  return engines;
}

/**
 * Compiles a Vega-Lite spec to Vega and renders it to SVG text, headlessly.
 * Deterministic: the same spec gives byte-identical SVG, whatever was rendered
 * before and whether or not the optional `canvas` package is installed (text
 * is measured with Helvetica metrics). The spec is used as given (Vega's
 * defaults apply: transparent background, sans-serif); the recipes of
 * {@link plotDirectory} set a white background and Helvetica/Arial.
 * @param spec a Vega-Lite top-level spec, data inline
 * @returns the SVG document, ending with a newline
 * @throws Error when Vega-Lite or Vega reports an error
 */
export async function renderVegaLite(spec: object, options: RenderOptions = {}): Promise<string> {
  const { vega, compile } = await loadEngines();
  // Vega numbers clip paths and gradients from process-wide counters: renders run one at a time, each from
  // reset counters, so an SVG never depends on what was rendered before it (or concurrently).
  const run = renderQueue.then(async () => {
    vega.resetSVGDefIds();
    const errors: string[] = [];
    const handler = (_method: string, level: string, args: unknown[]): void => {
      const message = args.map(String).join(' ');
      if (level === 'ERROR') errors.push(message);
      else options.onWarning?.(message);
    };
    const logger = vega.logger(vega.Warn, undefined, handler);
    const compiled = compile(spec as TopLevelSpec, { logger }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.Warn });
    try {
      const svg = await view.toSVG();
      if (errors.length > 0) throw new Error(`plot: Vega failed: ${errors.join('; ')}`);
      return svg.endsWith('\n') ? svg : `${svg}\n`;
    } finally {
      view.finalize();
    }
  });
  renderQueue = run.catch(() => undefined);
  return run;
}

let renderQueue: Promise<unknown> = Promise.resolve();

/**
 * Renders every plot that the CSV files in `dir` support and writes
 * `<name>.svg` next to them, atomically (temporary file + rename).
 * @returns the written file names (not paths), in a fixed order: `cwnd.svg`,
 *   `infection.svg`, then one per sweep metric in `sweep.json` order
 */
export async function plotDirectory(dir: string, options: PlotOptions = {}): Promise<string[]> {
  if (options.title === undefined) {
    const title = titleFromFolder(dir);
    if (title !== undefined) options = { ...options, title };
  }
  const written: string[] = [];
  const emit = async (name: string, spec: object): Promise<void> => {
    const path = join(options.into ?? dir, name);
    if (options.replaceable !== undefined && existsSync(path) && !options.replaceable(name)) {
      throw new OutputError(path, `exists and desim did not write it; move it away to let desim draw ${name}`);
    }
    writeFileAtomic(path, await renderVegaLite(spec));
    written.push(name);
  };
  const cwndPath = join(dir, 'trace-cwnd.csv');
  if (existsSync(cwndPath)) {
    const spec = cwndSpec(await readCwndTrace(cwndPath), options);
    if (spec !== undefined) await emit('cwnd.svg', spec);
  }
  const infectionPath = join(dir, 'trace-infection.csv');
  if (existsSync(infectionPath)) {
    const spec = infectionSpec(await readInfectionTrace(infectionPath), options);
    if (spec !== undefined) await emit('infection.svg', spec);
  }
  const callsPath = join(dir, 'trace-calls.csv');
  if (existsSync(callsPath)) {
    const spec = callsSpec(await readCallsTrace(callsPath), options);
    if (spec !== undefined) await emit('calls.svg', spec);
  }
  const aggregatePath = join(dir, 'aggregate.csv');
  if (existsSync(aggregatePath)) {
    const sweep = await readAggregate(aggregatePath, join(dir, 'sweep.json'));
    for (const metric of sweep.metrics) {
      if (metric.startsWith('model_')) continue;
      const spec = sweepMetricSpec(sweep, metric, options);
      if (spec !== undefined) await emit(`${safeFileStem(metric)}.svg`, spec);
    }
  }
  return written;
}

/**
 * The scenario name recorded in the folder (`sweep.json` → `scenario`, else
 * `meta.json` → `scenario.name`), so `desim plot DIR` redraws exactly what the
 * run or sweep drew. Undefined when neither file names one.
 */
function titleFromFolder(dir: string): string | undefined {
  const fromJson = (name: string, pick: (j: Record<string, unknown>) => unknown): string | undefined => {
    const path = join(dir, name);
    if (!existsSync(path)) return undefined;
    try {
      const value = pick(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>);
      return typeof value === 'string' && value !== '' ? value : undefined;
    } catch {
      return undefined; // a damaged file only costs the subtitle
    }
  };
  return (
    fromJson('sweep.json', (j) => j['scenario']) ??
    fromJson('meta.json', (j) => (j['scenario'] as Record<string, unknown> | undefined)?.['name'])
  );
}

function safeFileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

// ---------------------------------------------------------------------------
// Shared look

function paperConfig(): Record<string, unknown> {
  return {
    font: FONT,
    background: 'white',
    padding: { left: 6, right: 14, top: 6, bottom: 6 },
    view: { stroke: null },
    title: {
      fontSize: 16,
      fontWeight: 'bold',
      anchor: 'start',
      offset: 12,
      subtitleFontSize: 12,
      subtitleColor: '#555',
      subtitlePadding: 4,
      color: '#111',
    },
    axis: {
      titleFontSize: 14,
      titleFontWeight: 'normal',
      titleColor: '#111',
      titlePadding: 10,
      labelFontSize: 12,
      labelColor: '#222',
      domainColor: '#444',
      tickColor: '#444',
      gridColor: '#e8e8e8',
      labelOverlap: true,
      labelFlush: false,
    },
    legend: {
      orient: 'bottom',
      direction: 'horizontal',
      layout: { bottom: { margin: 28, anchor: 'start' }, top: { margin: 28, anchor: 'start' } },
      symbolOpacity: 1,
      titleFontSize: 12,
      titleFontWeight: 'bold',
      labelFontSize: 12,
      symbolSize: 120,
      symbolStrokeWidth: 2,
      columnPadding: 18,
      labelLimit: 240,
      titleLimit: 240,
    },
    line: { strokeWidth: 1.75 },
    range: { category: [...PALETTE] },
  };
}

function header(title: string, options: PlotOptions, caption?: string): Record<string, unknown> {
  const subtitle: string[] = [];
  if (options.title !== undefined && options.title !== '') subtitle.push(options.title);
  if (caption !== undefined) subtitle.push(caption);
  return subtitle.length === 0 ? { text: title } : { text: title, subtitle };
}

function topLevel(
  title: Record<string, unknown>,
  datasets: Record<string, unknown[]>,
  layer: unknown[],
  resolve?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: PLOT_WIDTH_PX,
    height: PLOT_HEIGHT_PX,
    config: paperConfig(),
    datasets,
    layer,
    ...(resolve === undefined ? {} : { resolve }),
  };
}

// ---------------------------------------------------------------------------
// Recipe 1: congestion window

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
  await streamCsv(path, (cells) => {
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
  }, (head) => {
    idx = {
      timeS: col(head, 'time_s'),
      timeRtt: col(head, 'time_rtt'),
      flow: col(head, 'flow'),
      cwnd: col(head, 'cwnd_pkts'),
      ssthresh: col(head, 'ssthresh_pkts'),
      event: col(head, 'event'),
    };
    if (idx.timeS < 0 || idx.cwnd < 0) throw new Error(`plot: ${path} needs columns time_s and cwnd_pkts`);
  });
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
  return { flows: flowIds, xInRtts, rows, totalRows };
}

/** The Vega-Lite spec of cwnd.svg, or undefined when the trace has no plottable row. */
export function cwndSpec(data: CwndPlotData, options: PlotOptions = {}): Record<string, unknown> | undefined {
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
      const pts = flowRows
        .map((r) => ({ x: r.x, y: series === 'cwnd' ? r.cwndPkts : r.ssthreshPkts }))
        .filter((p) => Number.isFinite(p.y));
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
  const x = { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: true, nice: false } };
  const y = { field: 'y', type: 'quantitative', title: 'Congestion window (packets)', scale: { zero: true } };
  const color = multi
    ? {
        field: 'flow',
        type: 'nominal',
        title: null,
        scale: { domain: flowDomain, range: [...PALETTE] },
        // Flows above the plot, line styles and markers below: each row stays within the plot's width.
        legend: { orient: 'top', symbolType: 'stroke', columns: Math.min(6, flowDomain.length) },
      }
    : { value: PALETTE[0] };
  const layer: unknown[] = [
    {
      data: { name: 'lines' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
      encoding: {
        x,
        y,
        color,
        detail: { field: 'flow', type: 'nominal' },
        order: { field: 'i', type: 'quantitative' },
        strokeDash: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: seriesDomain, range: [[1, 0], [6, 4]].slice(0, seriesDomain.length) },
          legend: { orient: 'bottom', symbolType: 'stroke', symbolStrokeColor: '#333' },
        },
      },
    },
  ];
  if (markers.length > 0) {
    layer.push({
      data: { name: 'markers' },
      mark: { type: 'point', filled: true, size: 80, opacity: 1, stroke: 'white', strokeWidth: 0.8 },
      encoding: {
        x,
        y,
        color: multi ? { field: 'flow', type: 'nominal' } : { value: '#c0392b' },
        shape: {
          field: 'event',
          type: 'nominal',
          title: null,
          scale: { domain: markerDefs.map((m) => m.label), range: markerDefs.map((m) => m.shape) },
          legend: { orient: 'bottom', symbolFillColor: multi ? '#333' : '#c0392b', symbolStrokeColor: multi ? '#333' : '#c0392b' },
        },
      },
    });
  }
  return topLevel(header('Congestion window', options), { lines, markers }, layer);
}

// ---------------------------------------------------------------------------
// Recipe 2: infection curve

/** The infection trace, ready to plot. */
export interface InfectionPlotData {
  /** Keys plotted (at most {@link MAX_INFECTION_KEYS}, by first appearance). */
  readonly keys: readonly string[];
  /** Keys in the file. */
  readonly totalKeys: number;
  /** Points kept, grouped by key in `keys` order, each group in file order. */
  readonly rows: readonly { readonly timeS: number; readonly key: string; readonly fraction: number }[];
}

/** Reads trace-infection.csv (time_s, key, fraction_live_holding_newest), first ten keys, thinned per key. */
export async function readInfectionTrace(path: string): Promise<InfectionPlotData> {
  const byKey = new Map<string, { t: number[]; f: number[] }>();
  const skipped = new Set<string>();
  let idx = { t: -1, key: -1, f: -1 };
  await streamCsv(
    path,
    (cells) => {
      const key = idx.key >= 0 ? (cells[idx.key] ?? '') : '';
      let s = byKey.get(key);
      if (s === undefined) {
        if (byKey.size >= MAX_INFECTION_KEYS) {
          skipped.add(key);
          return;
        }
        s = { t: [], f: [] };
        byKey.set(key, s);
      }
      s.t.push(num(cells[idx.t]));
      s.f.push(num(cells[idx.f]));
    },
    (head) => {
      idx = { t: col(head, 'time_s'), key: col(head, 'key'), f: col(head, 'fraction_live_holding_newest') };
      if (idx.t < 0 || idx.f < 0) throw new Error(`plot: ${path} needs columns time_s and fraction_live_holding_newest`);
    },
  );
  const rows: { timeS: number; key: string; fraction: number }[] = [];
  for (const [key, s] of byKey) {
    for (const i of bucketKeep(s.t, s.f, MAX_TRACE_POINTS_PER_SERIES)) {
      rows.push({ timeS: s.t[i] ?? Number.NaN, key, fraction: s.f[i] ?? Number.NaN });
    }
  }
  return { keys: [...byKey.keys()], totalKeys: byKey.size + skipped.size, rows };
}

/** The Vega-Lite spec of infection.svg, or undefined when the trace has no plottable row. */
export function infectionSpec(data: InfectionPlotData, options: PlotOptions = {}): Record<string, unknown> | undefined {
  const points = data.rows
    .filter((r) => Number.isFinite(r.timeS) && Number.isFinite(r.fraction))
    .map((r, i) => ({ i, x: r.timeS, key: r.key, y: r.fraction }));
  if (points.length === 0) return undefined;
  // The trace has a row per change, so a level holds until the next row: hold each key's last level a little
  // past the last change (5% of the time span), so a curve ending at 1 shows as a flat line, not a jump at the edge.
  const tFirst = Math.min(...points.map((p) => p.x));
  const tLast = Math.max(...points.map((p) => p.x));
  const tEnd = tLast + 0.05 * (tLast - tFirst);
  for (const key of data.keys) {
    let last: { x: number; key: string; y: number } | undefined;
    for (const p of points) if (p.key === key) last = p;
    if (last !== undefined && last.x < tEnd) points.push({ i: points.length, x: tEnd, key, y: last.y });
  }
  const multi = data.keys.length > 1;
  const note =
    data.totalKeys > data.keys.length ? `First ${data.keys.length} of ${data.totalKeys} keys` : multi ? undefined : `Key: ${data.keys[0] ?? ''}`;
  const layer = [
    {
      data: { name: 'points' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { zero: false, nice: false, padding: 10 } },
        y: {
          field: 'y',
          type: 'quantitative',
          title: 'Fraction of live nodes with newest version',
          scale: { domain: [0, 1] },
          axis: { tickCount: 5 },
        },
        color: multi
          ? {
              field: 'key',
              type: 'nominal',
              title: 'Key',
              scale: { domain: [...data.keys], range: [...PALETTE] },
              legend: { orient: 'bottom', columns: Math.min(5, data.keys.length), symbolType: 'stroke' },
            }
          : { value: PALETTE[0] },
        detail: { field: 'key', type: 'nominal' },
        order: { field: 'i', type: 'quantitative' },
      },
    },
  ];
  return topLevel(header('Infection curve', options, note), { points }, layer);
}

// ---------------------------------------------------------------------------
// Recipe 2b: client calls of a protocol module's run

/** The points of calls.svg. */
export interface CallsPlotData {
  /** Nodes plotted (at most {@link MAX_INFECTION_KEYS}, by first appearance). */
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
        if (byNode.size >= MAX_INFECTION_KEYS) {
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
export function callsSpec(data: CallsPlotData, options: PlotOptions = {}): Record<string, unknown> | undefined {
  const points = data.rows.filter((r) => Number.isFinite(r.timeS)).map((r, i) => ({ i, x: r.timeS, node: r.node, y: r.calls, failed: r.failed }));
  if (points.length === 0) return undefined;
  const failed = points.filter((p) => p.failed);
  const multi = data.nodes.length > 1;
  const note = data.totalNodes > data.nodes.length ? `First ${data.nodes.length} of ${data.totalNodes} nodes` : multi ? undefined : `Node: ${data.nodes[0] ?? ''}`;
  const x = { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { zero: false, nice: false, padding: 10 } };
  const y = { field: 'y', type: 'quantitative', title: 'Client calls so far', scale: { zero: true }, axis: { tickMinStep: 1 } };
  const color = multi
    ? {
        field: 'node',
        type: 'nominal',
        title: 'Node',
        scale: { domain: [...data.nodes], range: [...PALETTE] },
        legend: { orient: 'bottom', columns: Math.min(5, data.nodes.length), symbolType: 'stroke' },
      }
    : { value: PALETTE[0] };
  const layer: unknown[] = [
    {
      data: { name: 'points' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: { x, y, color, detail: { field: 'node', type: 'nominal' }, order: { field: 'i', type: 'quantitative' } },
    },
  ];
  if (failed.length > 0) {
    layer.push({
      data: { name: 'failed' },
      mark: { type: 'point', shape: 'cross', size: 60, filled: true, color: '#000000' },
      encoding: { x, y },
    });
  }
  return topLevel(header('Client calls', options, note), failed.length > 0 ? { points, failed } : { points }, layer);
}

// ---------------------------------------------------------------------------
// Recipe 3: sweep metrics

/** aggregate.csv with the names from sweep.json. */
export interface SweepTable {
  /** Varied parameters (column names), in order. */
  readonly vary: readonly string[];
  /** Metric names, in order (from sweep.json, else from the `*_mean` columns). */
  readonly metrics: readonly string[];
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * Reads aggregate.csv and sweep.json (`{"vary": [...], "metrics": [...]}`).
 * Without sweep.json the varied parameters are the columns before `runs` and
 * the metrics are the `<m>_mean` columns.
 */
export async function readAggregate(aggregatePath: string, sweepJsonPath: string): Promise<SweepTable> {
  const { header: head, rows } = await readCsv(aggregatePath);
  let vary: string[] | undefined;
  let metrics: string[] | undefined;
  if (existsSync(sweepJsonPath)) {
    const parsed = JSON.parse(readFileSync(sweepJsonPath, 'utf8')) as { vary?: unknown; metrics?: unknown };
    if (Array.isArray(parsed.vary)) vary = parsed.vary.map(String);
    if (Array.isArray(parsed.metrics)) metrics = parsed.metrics.map(String);
  }
  const runsAt = head.indexOf('runs');
  vary ??= runsAt >= 0 ? head.slice(0, runsAt) : [];
  metrics ??= head.filter((c) => c.endsWith('_mean')).map((c) => c.slice(0, -'_mean'.length));
  return { vary: vary.filter((v) => head.includes(v)), metrics: metrics.filter((m) => head.includes(`${m}_mean`)), header: head, rows };
}

/** Known model curves and their legend labels. */
const MODEL_LABELS: Readonly<Record<string, string>> = {
  model_mathis_bps: 'Mathis et al. 1997',
  model_padhye_bps: 'Padhye et al. 1998',
};

/** Legend label of a `model_*` metric. */
export function modelLabel(metric: string): string {
  const known = MODEL_LABELS[metric];
  if (known !== undefined) return known;
  const core = metric.replace(/^model_/, '').replace(/_(bps|s|ms|bytes|pkts|frac)$/, '');
  return `Model: ${capitalise(core.replace(/_/g, ' '))}`;
}

const UNIT_SUFFIXES: readonly (readonly [string, string | undefined])[] = [
  ['_bps', 'bit/s'],
  ['_Bps', 'bytes/s'],
  ['_bytes', 'bytes'],
  ['_pkts', 'packets'],
  ['_ms', 'ms'],
  ['_us', 'µs'],
  ['_ns', 'ns'],
  ['_s', 's'],
  ['_rtt', 'RTTs'],
  ['_pct', '%'],
  ['_frac', 'fraction'],
];

/** Words written differently in titles: acronyms, proper names, and `over` (a ratio) as a slash. */
const WORDS: Readonly<Record<string, string>> = {
  rtt: 'RTT',
  mss: 'MSS',
  rto: 'RTO',
  ack: 'ACK',
  acks: 'ACKs',
  id: 'ID',
  mathis: 'Mathis',
  padhye: 'Padhye',
  jain: 'Jain',
  over: '/',
};

/**
 * A readable axis title for a metric or parameter name with its unit:
 * `goodput_bps` → `Goodput (bit/s)`, `protocol.tcp.bottleneck.loss` →
 * `Bottleneck loss rate`, `network.links[0].latency_ms` → `Latency (ms)`.
 */
export function readableName(name: string): string {
  const segments = name.split('.');
  const last = (segments[segments.length - 1] ?? name).replace(/\[\d+\]$/, '');
  const parentRaw = segments.length >= 2 ? (segments[segments.length - 2] ?? '') : '';
  const generic = new Set(['protocol', 'network', 'workload', 'tcp', 'gossip', 'link', 'links', 'defaults', 'default', 'scenario', 'faults', 'outputs']);
  const parent = /\[\d+\]$/.test(parentRaw) || generic.has(parentRaw) ? '' : parentRaw;
  let core = last;
  let unit: string | undefined;
  for (const [suffix, label] of UNIT_SUFFIXES) {
    if (core.endsWith(suffix) && core.length > suffix.length) {
      core = core.slice(0, -suffix.length);
      unit = label;
      break;
    }
  }
  if (core === 'loss') core = 'loss_rate';
  const words = [...(parent === '' ? [] : parent.split(/[_-]/)), ...core.split('_')]
    .filter((w) => w !== '')
    .map((w) => WORDS[w.toLowerCase()] ?? w);
  const text = capitalise(words.join(' '));
  return unit === undefined ? text : `${text} (${unit})`;
}

function capitalise(s: string): string {
  return s.length === 0 ? s : `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
}

/** Sorted distinct values of a column: numerically when all are numbers, else by first appearance. */
function distinctValues(values: readonly string[]): { values: string[]; numeric: boolean } {
  const seen: string[] = [];
  for (const v of values) if (!seen.includes(v)) seen.push(v);
  const numeric = seen.length > 0 && seen.every((v) => !Number.isNaN(num(v)));
  if (numeric) seen.sort((a, b) => num(a) - num(b));
  return { values: seen, numeric };
}

/** The Vega-Lite spec of `<metric>.svg`, or undefined when the metric has no finite mean. */
export function sweepMetricSpec(table: SweepTable, metric: string, options: PlotOptions = {}): Record<string, unknown> | undefined {
  const h = table.header;
  const xName = table.vary[0];
  const meanAt = col(h, `${metric}_mean`);
  if (meanAt < 0) return undefined;
  const loAt = col(h, `${metric}_ci95_lo`);
  const hiAt = col(h, `${metric}_ci95_hi`);
  const runsAt = col(h, 'runs');
  const xAt = xName === undefined ? -1 : col(h, xName);
  const seriesParams = table.vary.slice(1).map((v) => ({ name: v, at: col(h, v) }));
  const seriesOf = (row: readonly string[]): string =>
    seriesParams.length === 1
      ? (row[seriesParams[0]?.at ?? -1] ?? '')
      : seriesParams.map((p) => `${readableName(p.name)} = ${row[p.at] ?? ''}`).join(', ');
  const xCells = table.rows.map((r) => (xAt >= 0 ? (r[xAt] ?? '') : ''));
  const xDistinct = distinctValues(xCells);
  const xNumeric = xAt >= 0 && xDistinct.numeric;
  const series = distinctValues(table.rows.map(seriesOf));
  const hasSeries = seriesParams.length > 0;

  const models =
    metric === 'goodput_bps'
      ? h.filter((c) => /^model_.*_bps_mean$/.test(c)).map((c) => c.slice(0, -'_mean'.length))
      : [];
  const simLabel = 'Simulation';
  const points: { x: number | string; series: string; y: number; lo?: number; hi?: number }[] = [];
  const modelPoints: { x: number | string; series: string; source: string; y: number }[] = [];
  const runs: number[] = [];
  table.rows.forEach((row, i) => {
    const xv = xNumeric ? num(xCells[i]) : (xCells[i] ?? '');
    const s = hasSeries ? seriesOf(row) : simLabel;
    const y = num(row[meanAt]);
    if (Number.isFinite(y)) {
      const lo = loAt >= 0 ? num(row[loAt]) : Number.NaN;
      const hi = hiAt >= 0 ? num(row[hiAt]) : Number.NaN;
      points.push({ x: xv, series: s, y, ...(Number.isFinite(lo) && Number.isFinite(hi) ? { lo, hi } : {}) });
      if (runsAt >= 0 && Number.isFinite(num(row[runsAt]))) runs.push(num(row[runsAt]));
    }
    for (const m of models) {
      const my = num(row[col(h, `${m}_mean`)]);
      if (Number.isFinite(my)) modelPoints.push({ x: xv, series: s, source: modelLabel(m), y: my });
    }
  });
  if (points.length === 0) return undefined;
  const modelNames = models.map(modelLabel).filter((m) => modelPoints.some((p) => p.source === m));
  const withModels = modelNames.length > 0;

  // Scales: log x when positive and wide (or always positive on the model plot); log y on the model plot.
  const xs = points.map((p) => p.x).filter((v): v is number => typeof v === 'number');
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const xLog = xNumeric && xMin > 0 && (withModels || xMax / xMin > 20);
  const ys = [...points.map((p) => p.y), ...modelPoints.map((p) => p.y)];
  const yLog = withModels && ys.every((v) => v > 0);
  let yDomain: [number, number] | undefined;
  if (yLog) {
    const his = points.map((p) => p.hi ?? p.y);
    const positiveLos = points.map((p) => p.lo ?? p.y).filter((v) => v > 0);
    const lowest = Math.min(...ys, ...positiveLos);
    const highest = Math.max(...ys, ...his);
    yDomain = [lowest / 1.25, highest * 1.25];
    // Error bars reaching zero or below are clipped at the bottom of a log axis.
    for (const p of points) if (p.lo !== undefined && p.lo < yDomain[0]) p.lo = yDomain[0];
  }
  const yValues = [...ys, ...points.flatMap((p) => (p.lo === undefined || p.hi === undefined ? [] : [p.lo, p.hi]))];
  const yFlat = !yLog && Math.min(...yValues) === Math.max(...yValues);
  const yFlatPad = yFlat ? Math.abs(yValues[0] ?? 0) * 0.1 || 1 : 0;
  if (!yLog && points.every((p) => p.y >= 0)) {
    // A metric whose means are all >= 0 (counts, rates, times) cannot be negative: the normal-approximation
    // interval is clipped at 0 rather than stretching the axis below zero.
    for (const p of points) if (p.lo !== undefined && p.lo < 0) p.lo = 0;
  }
  const unitIsRate = /_(bps|Bps|bytes)$/.test(metric);
  const yMaxAbs = Math.max(...ys.map(Math.abs), ...points.map((p) => Math.abs(p.hi ?? p.y)));
  const yFormat = unitIsRate && yMaxAbs >= 1e4 ? '~s' : undefined;

  const xEnc: Record<string, unknown> = xNumeric
    ? {
        field: 'x',
        type: 'quantitative',
        title: readableName(xName ?? ''),
        scale: xLog ? { type: 'log', nice: false, padding: 12 } : { zero: false, nice: true, padding: 12 },
        // On a log axis, ticks at the swept values (when few) label every point; else about six ticks.
        axis: xLog ? (xDistinct.values.length <= 12 ? { values: xDistinct.values.map(num) } : { tickCount: 6 }) : {},
      }
    : { field: 'x', type: 'ordinal', title: xName === undefined ? null : readableName(xName), sort: xDistinct.values, axis: { labelAngle: 0 } };
  const yEnc: Record<string, unknown> = {
    field: 'y',
    type: 'quantitative',
    title: readableName(metric),
    scale: yLog
      ? { type: 'log', domain: yDomain, nice: false }
      : yFlat // a constant metric (e.g. Jain's index of one flow): centre it instead of a one-value axis
        ? { domain: [(yValues[0] ?? 0) - yFlatPad, (yValues[0] ?? 0) + yFlatPad], nice: true }
        : { zero: false, nice: true },
    ...(yFormat === undefined ? {} : { axis: { format: yFormat } }),
  };
  const seriesTitle = seriesParams.length === 1 ? readableName(seriesParams[0]?.name ?? '') : 'Parameters';
  const colorBySeries = hasSeries
    ? {
        field: 'series',
        type: 'nominal',
        title: seriesTitle,
        scale: { domain: series.values, range: [...PALETTE] },
        legend: { orient: 'bottom', columns: Math.min(5, series.values.length), symbolOpacity: 1 },
      }
    : undefined;

  const layer: unknown[] = [];
  // Without a second parameter, one legend names the sources: simulation (point) and each model (dashed line).
  const sources = [simLabel, ...modelNames];
  const dashes: number[][] = [[1, 0], [7, 3], [2, 2], [8, 3, 2, 3], [4, 4]];
  const sourceLegend = { orient: 'bottom', symbolOpacity: 1 };
  const sourceColor = {
    field: 'source',
    type: 'nominal',
    title: null,
    scale: { domain: sources, range: ['#222222', PALETTE[2], PALETTE[0], PALETTE[4], PALETTE[6], PALETTE[1]].slice(0, sources.length) },
    legend: sourceLegend,
  };
  const sourceShape = {
    field: 'source',
    type: 'nominal',
    title: null,
    scale: { domain: sources, range: sources.map((_, i) => (i === 0 ? 'circle' : 'stroke')) },
    legend: sourceLegend,
  };
  const sourceDash = {
    field: 'source',
    type: 'nominal',
    title: null,
    scale: { domain: sources, range: sources.map((_, i) => dashes[Math.min(i, dashes.length - 1)] ?? [1, 0]) },
    legend: sourceLegend,
  };
  const simColor = colorBySeries ?? (withModels ? sourceColor : { value: PALETTE[0] });
  const sim = points.map((p) => ({ ...p, source: simLabel }));
  // Simulation: error bars, points, and (without models) a connecting line.
  if (points.some((p) => p.lo !== undefined)) {
    layer.push({
      data: { name: 'sim' },
      transform: [{ filter: 'isValid(datum.lo)' }],
      mark: { type: 'errorbar', ticks: { size: 8 }, thickness: 1.5 },
      encoding: { x: xEnc, y: { ...yEnc, field: 'lo' }, y2: { field: 'hi' }, color: simColor },
    });
  }
  if (!withModels && xNumeric) {
    layer.push({
      data: { name: 'sim' },
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: { x: xEnc, y: yEnc, color: simColor, detail: { field: 'series', type: 'nominal' } },
    });
  }
  layer.push({
    data: { name: 'sim' },
    mark: { type: 'point', filled: true, size: 55, opacity: 1 },
    encoding: {
      x: xEnc,
      y: yEnc,
      color: simColor,
      detail: { field: 'series', type: 'nominal' },
      ...(withModels && !hasSeries ? { shape: sourceShape } : {}),
    },
  });
  if (withModels) {
    // Model curves go first so that the simulation's points are drawn on top of them.
    layer.unshift({
      data: { name: 'models' },
      mark: { type: 'line', strokeWidth: 1.75 },
      encoding: hasSeries
        ? {
            x: xEnc,
            y: yEnc,
            color: { field: 'series', type: 'nominal' },
            detail: { field: 'series', type: 'nominal' },
            strokeDash: {
              field: 'source',
              type: 'nominal',
              title: 'Model',
              scale: { domain: modelNames, range: modelNames.map((_, i) => dashes[Math.min(i + 1, dashes.length - 1)] ?? [1, 0]) },
              legend: { orient: 'bottom', symbolType: 'stroke', symbolStrokeColor: '#333' },
            },
          }
        : { x: xEnc, y: yEnc, color: sourceColor, strokeDash: sourceDash },
    });
  }
  const runsNote =
    runs.length === 0
      ? undefined
      : Math.min(...runs) === Math.max(...runs)
        ? `Mean of ${Math.min(...runs)} runs per point; bars: 95% confidence interval`
        : `Mean of ${Math.min(...runs)}–${Math.max(...runs)} runs per point; bars: 95% confidence interval`;
  const title = `${readableName(metric).replace(/ \(.*\)$/, '')} vs ${xName === undefined ? 'run' : readableName(xName).replace(/ \(.*\)$/, '').toLowerCase()}`;
  return topLevel(header(title, options, runsNote), { sim, models: modelPoints }, layer);
}

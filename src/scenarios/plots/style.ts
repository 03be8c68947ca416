/**
 * The shared look of desim's figures: size, palette, fonts, title block, and
 * readable axis titles with units derived from column names. Every recipe
 * builds its spec with {@link topLevel}, so all figures match.
 */
import { faultLayers, faultRows, type FaultEpisode } from './faults.js';

/** What every recipe may be told. */
export interface FigureOptions {
  /**
   * Shown under each plot's own title, e.g. the scenario name; absent or `''`
   * for none.
   */
  readonly title?: string;
  /**
   * The run's fully resolved scenario, as recorded in `meta.json` (`scenario`):
   * time plots take their fault bands from it, gossip plots the node names.
   * Absent for sweeps.
   */
  readonly scenario?: Readonly<Record<string, unknown>>;
}

/** One figure a recipe draws: the file stem (`cwnd` → `cwnd.svg`) and its Vega-Lite spec, data inline. */
export interface Figure {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

/** A plot recipe: the figures it draws from the CSV files of a results folder (none when its files are absent). */
export type PlotRecipe = (dir: string, options: FigureOptions) => Promise<readonly Figure[]>;

/** Plot width in pixels (the data rectangle; axes and legends add about 80 px). */
export const PLOT_WIDTH_PX = 560;
/** Plot height in pixels (the data rectangle). */
export const PLOT_HEIGHT_PX = 320;

/** The categorical palette (Tableau 10, Vega's default), fixed here so colours never depend on a Vega default. */
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] as const;

/** The font of every figure: the text measure (`text.ts`) uses Helvetica metrics, and PDFs use Helvetica. */
export const FONT = 'Helvetica, Arial, sans-serif';

/** The Vega-Lite `config` of every figure: white background, Helvetica, titles, axes and legends at paper sizes. */
export function paperConfig(): Record<string, unknown> {
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

/** The title block: `title`, then the scenario name (`options.title`) and the caption as subtitle lines. */
export function header(title: string, options: FigureOptions, caption?: string): Record<string, unknown> {
  const subtitle: string[] = [];
  if (options.title !== undefined && options.title !== '') subtitle.push(options.title);
  if (caption !== undefined) subtitle.push(caption);
  return subtitle.length === 0 ? { text: title } : { text: title, subtitle };
}

/** A single-view figure of {@link PLOT_WIDTH_PX} × {@link PLOT_HEIGHT_PX} with the shared look; data in named `datasets`. */
export function topLevel(
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

/** The colour encoding of one line per node: the palette in `nodes` order, a stroke legend below in up to five columns. */
export function nodeColor(nodes: readonly string[]): Record<string, unknown> {
  return {
    field: 'node',
    type: 'nominal',
    title: 'Node',
    scale: { domain: [...nodes], range: [...PALETTE] },
    legend: { orient: 'bottom', columns: Math.min(5, nodes.length), symbolType: 'stroke' },
  };
}

/** A point of {@link stepLinesByNode}: `i` orders each node's line, `x` is seconds of simulated time. */
export interface NodeStepPoint {
  readonly i: number;
  readonly x: number;
  readonly node: string;
  readonly y: number;
}

/**
 * The layers of a time plot with one step-after line per node: the run's fault
 * bands first (drawn under the data, dataset `faults`), then the lines (dataset
 * `points`, split by `node`, in `i` order). The x range spans the points and
 * the fault episodes, so a band that starts before the first point or ends
 * after the last is drawn whole.
 * @param points the dataset `points`, at least one
 * @param y the y encoding (its title and scale are the caller's)
 * @param color the colour encoding, e.g. {@link nodeColor} or a fixed `{ value }` for one node
 * @returns the shared x encoding, the layers, and the rows of the dataset `faults` (empty: leave the dataset out)
 */
export function stepLinesByNode(
  points: readonly NodeStepPoint[],
  episodes: readonly FaultEpisode[],
  y: Record<string, unknown>,
  color: Record<string, unknown>,
): { x: Record<string, unknown>; layers: unknown[]; faults: { x: number; x2: number; label: string; labelY: number }[] } {
  const x = { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { zero: false, nice: false, padding: 10 } };
  const xMin = Math.min(...points.map((p) => p.x), ...episodes.map((e) => e.startS));
  const xMax = Math.max(...points.map((p) => p.x), ...episodes.map((e) => e.endS));
  const faults = faultRows(episodes, (t) => t - xMin, xMax > xMin ? PLOT_WIDTH_PX / (xMax - xMin) : 1).map((f) => ({
    ...f,
    x: f.x + xMin,
    x2: f.x2 + xMin,
  }));
  const layers: unknown[] = [
    ...(faults.length === 0 ? [] : faultLayers(x)),
    {
      data: { name: 'points' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: { x, y, color, detail: { field: 'node', type: 'nominal' }, order: { field: 'i', type: 'quantitative' } },
    },
  ];
  return { x, layers, faults };
}

/** Longest first: `_bytes_per_member_period` before `_per_member_period`. */
const UNIT_SUFFIXES: readonly (readonly [string, string | undefined])[] = [
  ['_bytes_per_member_period', 'bytes per member-period'],
  ['_per_member_period', 'per member-period'],
  ['_per_member_hour', 'per member-hour'],
  ['_periods', 'periods'],
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
 * `Bottleneck loss rate`, `network.links[0].latency_ms` → `Link 0 latency (ms)`.
 */
export function readableName(name: string): string {
  const segments = name.split('.');
  const last = (segments[segments.length - 1] ?? name).replace(/\[\d+\]$/, '');
  const parentRaw = segments.length >= 2 ? (segments[segments.length - 2] ?? '') : '';
  const generic = new Set([
    'protocol',
    'network',
    'workload',
    'tcp',
    'gossip',
    'link',
    'links',
    'defaults',
    'default',
    'scenario',
    'faults',
    'outputs',
  ]);
  // An indexed parent names which one: `flows[3].extra_rtt_ms` → `Flow 3 extra RTT (ms)`.
  const indexed = /^([A-Za-z_]+?)s?\[(\d+)\]$/.exec(parentRaw);
  const parent = indexed !== null ? `${indexed[1] ?? ''}_${indexed[2] ?? ''}` : generic.has(parentRaw) ? '' : parentRaw;
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
  const words = [...(parent === '' ? [] : parent.split(/[_-]/)), ...core.split('_')].filter((w) => w !== '').map((w) => WORDS[w.toLowerCase()] ?? w);
  const text = capitalise(words.join(' '));
  return unit === undefined ? text : `${text} (${unit})`;
}

export function capitalise(s: string): string {
  return s.length === 0 ? s : `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
}

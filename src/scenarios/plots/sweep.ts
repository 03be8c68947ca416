/**
 * The sweep's plot recipe: `aggregate.csv` (+ `sweep.json`) → `<metric>.svg`
 * per metric: mean with 95% confidence interval against the first varied
 * parameter, one series per value of the others; model curves
 * (`model_*_bps`) overlaid on the goodput plot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parameterPaths } from '../../io/csv-format.js';
import { col, num, readCsv } from './data.js';
import {
  capitalise,
  header,
  PALETTE,
  paperConfig,
  PLOT_HEIGHT_PX,
  PLOT_WIDTH_PX,
  readableName,
  topLevel,
  type Figure,
  type FigureOptions,
} from './style.js';

/** The figures of a sweep: one per metric of `aggregate.csv` with a finite mean, in `sweep.json` order; model columns are drawn as curves, not figures. */
export async function sweepFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const aggregatePath = join(dir, 'aggregate.csv');
  if (!existsSync(aggregatePath)) return [];
  const sweep = await readAggregate(aggregatePath, join(dir, 'sweep.json'));
  const figures: Figure[] = [];
  for (const metric of sweep.metrics) {
    if (metric.startsWith('model_')) continue;
    const spec = sweepMetricSpec(sweep, metric, options);
    if (spec !== undefined) figures.push({ name: safeFileStem(metric), spec });
  }
  return figures;
}

function safeFileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

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
  const { header: written, rows } = await readCsv(aggregatePath);
  let head = written;
  let vary: string[] | undefined;
  let metrics: string[] | undefined;
  if (existsSync(sweepJsonPath)) {
    const parsed = JSON.parse(readFileSync(sweepJsonPath, 'utf8')) as { vary?: unknown; metrics?: unknown; columns?: unknown };
    if (Array.isArray(parsed.vary)) vary = parsed.vary.map(String);
    if (Array.isArray(parsed.metrics)) metrics = parsed.metrics.map(String);
    // `--columns safe` renamed the parameter columns; the figures keep the parameters' own names.
    if (parsed.columns === 'safe' && vary !== undefined) head = parameterPaths(written, vary);
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
  model_goodput_ratio_rtt1: 'RTT ratio (Mathis et al.)',
  model_goodput_ratio_rtt2: 'RTT ratio squared (Lakshman, Madhow)',
};

/** Legend label of a `model_*` metric. */
export function modelLabel(metric: string): string {
  const known = MODEL_LABELS[metric];
  if (known !== undefined) return known;
  const core = metric.replace(/^model_/, '').replace(/_(bps|s|ms|bytes|pkts|frac)$/, '');
  return `Model: ${capitalise(core.replace(/_/g, ' '))}`;
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
export function sweepMetricSpec(table: SweepTable, metric: string, options: FigureOptions = {}): Record<string, unknown> | undefined {
  const h = table.header;
  const xName = table.vary[0];
  const meanAt = col(h, `${metric}_mean`);
  if (meanAt < 0) return undefined;
  const loAt = col(h, `${metric}_ci95_lo`);
  const hiAt = col(h, `${metric}_ci95_hi`);
  const runsAt = col(h, 'runs');
  const xAt = xName === undefined ? -1 : col(h, xName);
  // The second varied parameter makes panels (small multiples); the others, coloured series within each panel.
  const facetName = table.vary[1];
  const facetAt = facetName === undefined ? -1 : col(h, facetName);
  const seriesParams = table.vary.slice(2).map((v) => ({ name: v, at: col(h, v) }));
  const seriesOf = (row: readonly string[]): string =>
    seriesParams.length === 1
      ? (row[seriesParams[0]?.at ?? -1] ?? '')
      : seriesParams.map((p) => `${readableName(p.name)} = ${row[p.at] ?? ''}`).join(', ');
  const xCells = table.rows.map((r) => (xAt >= 0 ? (r[xAt] ?? '') : ''));
  const xDistinct = distinctValues(xCells);
  const xNumeric = xAt >= 0 && xDistinct.numeric;
  const series = distinctValues(table.rows.map(seriesOf));
  const hasSeries = seriesParams.length > 0;

  // goodput_bps carries every model rate; another metric its own model_<metric>_* columns.
  const models = (
    metric === 'goodput_bps'
      ? h.filter((c) => /^model_.*_bps_mean$/.test(c))
      : h.filter((c) => c.startsWith(`model_${metric}_`) && c.endsWith('_mean'))
  ).map((c) => c.slice(0, -'_mean'.length));
  const simLabel = 'Simulation';
  const panelOf = (row: readonly string[]): string => (facetAt >= 0 ? (row[facetAt] ?? '') : '');
  const panelValues = distinctValues(table.rows.map(panelOf)).values;
  const points: { x: number | string; panel: string; series: string; y: number; lo?: number; hi?: number }[] = [];
  const modelPoints: { x: number | string; panel: string; series: string; source: string; y: number }[] = [];
  const runs: number[] = [];
  table.rows.forEach((row, i) => {
    const xv = xNumeric ? num(xCells[i]) : (xCells[i] ?? '');
    const s = hasSeries ? seriesOf(row) : simLabel;
    const y = num(row[meanAt]);
    if (Number.isFinite(y)) {
      const lo = loAt >= 0 ? num(row[loAt]) : Number.NaN;
      const hi = hiAt >= 0 ? num(row[hiAt]) : Number.NaN;
      points.push({ x: xv, panel: panelOf(row), series: s, y, ...(Number.isFinite(lo) && Number.isFinite(hi) ? { lo, hi } : {}) });
      if (runsAt >= 0 && Number.isFinite(num(row[runsAt]))) runs.push(num(row[runsAt]));
    }
    for (const m of models) {
      const my = num(row[col(h, `${m}_mean`)]);
      if (Number.isFinite(my)) modelPoints.push({ x: xv, panel: panelOf(row), series: s, source: modelLabel(m), y: my });
    }
  });
  if (points.length === 0) return undefined;
  // A metric that is the same everywhere, with no spread (e.g. Jain's index of one flow), says nothing as a plot.
  const y0 = points[0]?.y;
  if (points.every((p) => p.y === y0 && (p.lo === undefined || p.lo === y0) && (p.hi === undefined || p.hi === y0))) return undefined;
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
        // Ticks at the swept values (when few) label every point; else about six ticks.
        axis: xDistinct.values.length <= (xLog ? 12 : 8) ? { values: xDistinct.values.map(num) } : xLog ? { tickCount: 6 } : { tickCount: 8 },
      }
    : { field: 'x', type: 'ordinal', title: xName === undefined ? null : readableName(xName), sort: xDistinct.values, axis: { labelAngle: 0 } };
  const yEnc: Record<string, unknown> = {
    field: 'y',
    type: 'quantitative',
    title: readableName(metric),
    scale: yLog ? { type: 'log', domain: yDomain, nice: false } : { zero: false, nice: true },
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

  // Without a series parameter, one legend names the sources: simulation (point) and each model (dashed line).
  const sources = [simLabel, ...modelNames];
  const dashes: number[][] = [
    [1, 0],
    [7, 3],
    [2, 2],
    [8, 3, 2, 3],
    [4, 4],
  ];
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
  const hasIntervals = points.some((p) => p.lo !== undefined);
  /** The layers of one panel (`panel` undefined: the only one). */
  const layersFor = (panel: string | undefined): unknown[] => {
    const only = (extra: unknown[] = []): { transform?: unknown[] } => {
      const filters = [...(panel === undefined ? [] : [{ filter: { field: 'panel', equal: panel } }]), ...extra];
      return filters.length === 0 ? {} : { transform: filters };
    };
    const layer: unknown[] = [];
    if (withModels) {
      // Model curves first, so that the simulation's points are drawn on top of them.
      layer.push({
        data: { name: 'models' },
        ...only(),
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
    // Simulation: (without models) a connecting line, the points, then the error bars over them, so that an
    // interval shorter than a dot still shows.
    if (!withModels && xNumeric) {
      layer.push({
        data: { name: 'sim' },
        ...only(),
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x: xEnc, y: yEnc, color: simColor, detail: { field: 'series', type: 'nominal' } },
      });
    }
    layer.push({
      data: { name: 'sim' },
      ...only(),
      mark: { type: 'point', filled: true, size: 40, opacity: 0.85 },
      encoding: {
        x: xEnc,
        y: yEnc,
        color: simColor,
        detail: { field: 'series', type: 'nominal' },
        ...(withModels && !hasSeries ? { shape: sourceShape } : {}),
      },
    });
    if (hasIntervals) {
      layer.push({
        data: { name: 'sim' },
        ...only([{ filter: 'isValid(datum.lo)' }]),
        mark: { type: 'errorbar', ticks: { size: 10 }, thickness: 1.75 },
        encoding: { x: xEnc, y: { ...yEnc, field: 'lo' }, y2: { field: 'hi' }, color: simColor },
      });
    }
    return layer;
  };
  const narrowNote = hasIntervals && intervalsBelowPx(points, yLog, yDomain, 7) ? ' (narrower than the dots)' : '';
  const fewest = Math.min(...runs);
  const most = Math.max(...runs);
  const runsNote =
    runs.length === 0
      ? undefined
      : most === 1
        ? 'One run per point, so no confidence interval (--reps 2 or more draws one)'
        : `Mean of ${fewest === most ? most : `${fewest}–${most}`} runs per point; bars: 95% confidence interval${narrowNote}`;
  const title = `${readableName(metric).replace(/ \(.*\)$/, '')} vs ${
    xName === undefined
      ? 'run'
      : readableName(xName)
          .replace(/ \(.*\)$/, '')
          .toLowerCase()
  }`;
  const datasets = { sim, models: modelPoints };
  if (facetName === undefined || facetAt < 0) return topLevel(header(title, options, runsNote), datasets, layersFor(undefined));
  // Small multiples: one panel per value of the second parameter, on shared axes.
  const columns = panelValues.length <= 3 ? panelValues.length : panelValues.length === 4 ? 2 : 3;
  const gap = 24;
  const width = Math.max(180, Math.floor((PLOT_WIDTH_PX - gap * (columns - 1)) / columns));
  const height = columns === 1 ? PLOT_HEIGHT_PX : Math.max(180, Math.round(PLOT_HEIGHT_PX * 0.7));
  const facetTitle = readableName(facetName);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(
      title,
      options,
      [runsNote, `one panel per ${facetTitle.replace(/ \(.*\)$/, '').toLowerCase()}`].filter((t) => t !== undefined).join('; '),
    ),
    config: paperConfig(),
    datasets,
    columns,
    spacing: gap,
    concat: panelValues.map((value) => ({
      width,
      height,
      title: { text: `${facetTitle} = ${value}`, fontSize: 13, fontWeight: 'bold', anchor: 'start', offset: 6 },
      layer: layersFor(value),
    })),
    resolve: { scale: { x: 'shared', y: 'shared' } },
  };
}

/** True when every confidence interval spans fewer than `px` pixels of the plot's height. */
function intervalsBelowPx(
  points: readonly { lo?: number; hi?: number; y: number }[],
  log: boolean,
  domain: readonly [number, number] | undefined,
  px: number,
): boolean {
  const f = log ? Math.log : (v: number): number => v;
  const values = points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]).filter((v) => !log || v > 0);
  const lo = domain !== undefined ? f(domain[0]) : Math.min(...values.map(f));
  const hi = domain !== undefined ? f(domain[1]) : Math.max(...values.map(f));
  if (!(hi > lo)) return false;
  return points.every(
    (p) =>
      p.lo === undefined || p.hi === undefined || ((f(p.hi) - f(Math.max(p.lo, log ? Number.MIN_VALUE : p.lo))) / (hi - lo)) * PLOT_HEIGHT_PX < px,
  );
}

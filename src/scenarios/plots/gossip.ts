/**
 * Gossip's plot recipe.
 *
 * - `infection.svg`: one curve per write (first ten), the fraction of nodes
 *   that store that write or a newer version of its key, rebuilt from
 *   `updates.csv` and `trace-deliveries.csv`, so a second write to a key starts
 *   its own curve instead of dropping the first one back to 0. A node
 *   restarted without its state loses what it stored. Without the deliveries
 *   trace, the per-key curve of `trace-infection.csv` (fraction of live nodes
 *   holding the key's newest version) is drawn instead.
 * - `deliveries.svg` (runs of at most {@link MAX_TIMELINE_NODES} nodes): a
 *   per-node timeline of writes, deliveries (by rumor or anti-entropy) and
 *   reads, for small runs whose infection curve is a single step.
 *
 * Fault episodes of the run are shaded on both.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, readCsv, streamCsv } from './data.js';
import { faultLayers, faultRows, scenarioFaultEpisodes, type FaultEpisode } from './faults.js';
import { header, PALETTE, PLOT_WIDTH_PX, topLevel, type Figure, type FigureOptions } from './style.js';

/** At most this many keys of the infection trace get a line. */
export const MAX_INFECTION_KEYS = 10;

/** Runs with at most this many nodes also get the per-node delivery timeline. */
export const MAX_TIMELINE_NODES = 30;

/** The figures of a gossip run: `infection` (per write, or per key without the deliveries trace), then `deliveries` for small runs. */
export async function gossipFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const episodes = scenarioFaultEpisodes(options.scenario);
  const figures: Figure[] = [];
  // A run with TCP beside gossip prefixes its tables with the protocol's name (gossip-updates.csv).
  const table = (name: string): string => (existsSync(join(dir, `gossip-${name}.csv`)) ? join(dir, `gossip-${name}.csv`) : join(dir, `${name}.csv`));
  const updatesPath = table('updates');
  const deliveriesPath = join(dir, 'trace-deliveries.csv');
  const infectionPath = join(dir, 'trace-infection.csv');
  const run = runNodes(options.scenario);
  const perUpdate = existsSync(updatesPath) && existsSync(deliveriesPath) && run !== undefined;
  let infection: InfectionPlotData | undefined;
  if (perUpdate) infection = await readUpdateCurves(updatesPath, deliveriesPath, run);
  else if (existsSync(infectionPath)) infection = await readInfectionTrace(infectionPath);
  const spec = infection === undefined ? undefined : infectionSpec(infection, options, episodes);
  if (spec !== undefined) figures.push({ name: 'infection', spec });
  if (perUpdate && run.nodes.length <= MAX_TIMELINE_NODES) {
    const timeline = timelineSpec(await readTimeline(updatesPath, deliveriesPath, table('reads'), run), options, episodes);
    if (timeline !== undefined) figures.push({ name: 'deliveries', spec: timeline });
  }
  return figures;
}

/** What the plots need of the scenario recorded in meta.json: node names in order, restarts without state, the run's length. */
export interface RunNodes {
  readonly nodes: readonly string[];
  /** `restart` entries with `keep_state: false`: the node forgets everything at that time. */
  readonly freshRestarts: readonly { readonly timeS: number; readonly node: string }[];
  readonly durationS: number;
}

/** Node names and restarts without state from a run's resolved scenario; undefined without one that names its nodes. */
export function runNodes(scenario: Readonly<Record<string, unknown>> | undefined): RunNodes | undefined {
  if (scenario === undefined) return undefined;
  const declared = (scenario['network'] as { nodes?: unknown } | undefined)?.nodes;
  const nodes = Array.isArray(declared)
    ? declared.map(String)
    : typeof declared === 'number' && Number.isInteger(declared) && declared > 0
      ? Array.from({ length: declared }, (_, i) => `n${i}`)
      : undefined;
  if (nodes === undefined || nodes.length === 0) return undefined;
  const faults = Array.isArray(scenario['faults']) ? (scenario['faults'] as Record<string, unknown>[]) : [];
  const freshRestarts = faults
    .filter((f) => typeof f['restart'] === 'string' && f['keep_state'] === false)
    .map((f) => ({ timeS: Number(f['at_s']), node: String(f['restart']) }));
  const durationS = typeof scenario['duration_s'] === 'number' ? scenario['duration_s'] : Number.NaN;
  return { nodes, freshRestarts, durationS };
}

/** One write of updates.csv, with the label its curve gets. */
interface UpdateRow {
  readonly timeS: number;
  readonly node: string;
  readonly key: string;
  readonly version: number;
  readonly label: string;
}

async function readUpdates(path: string): Promise<UpdateRow[]> {
  const { header: h, rows } = await readCsv(path);
  const at = { t: col(h, 'written_s'), node: col(h, 'node'), key: col(h, 'key'), op: col(h, 'op'), version: versionColumn(h) };
  if (at.t < 0 || at.node < 0 || at.key < 0 || at.version < 0) throw new Error(`plot: ${path} needs columns written_s, node, key and version_ns`);
  return rows.map((r) => {
    const timeS = num(r[at.t]);
    const node = r[at.node] ?? '';
    const key = r[at.key] ?? '';
    const op = at.op >= 0 ? (r[at.op] ?? 'put') : 'put';
    return {
      timeS,
      node,
      key,
      version: num(r[at.version]),
      label: `${key}${op === 'put' ? '' : ` (${op})`} by ${node} at ${+timeS.toPrecision(6)} s`,
    };
  });
}

/** The version column: `version_ns`, or `version` in folders written before desim named its unit. */
function versionColumn(h: readonly string[]): number {
  const at = col(h, 'version_ns');
  return at >= 0 ? at : col(h, 'version');
}

/** (version, origin) order of last-writer-wins: a node stores a write when its version of the key is this one or newer. */
type Stamp = readonly [number, string];
const NONE: Stamp = [Number.NEGATIVE_INFINITY, ''];
function newer(a: Stamp, b: Stamp): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/**
 * Replays writes, deliveries and restarts without state in time order, and
 * calls `onChange` whenever a node starts or stops storing one of the writes
 * (or a newer version of its key).
 */
async function replayStores(
  updates: readonly UpdateRow[],
  deliveriesPath: string,
  run: RunNodes,
  onChange: (timeS: number, node: string, update: number, stores: boolean, via: string) => void,
): Promise<void> {
  type Ev = { t: number; node: string; key: string; stamp: Stamp | undefined; via: string; seq: number };
  const events: Ev[] = [];
  updates.forEach((u) => events.push({ t: u.timeS, node: u.node, key: u.key, stamp: [u.version, u.node], via: 'write', seq: events.length }));
  let at = { t: -1, node: -1, key: -1, origin: -1, version: -1, via: -1 };
  await streamCsv(
    deliveriesPath,
    (c) => {
      const stamp: Stamp = [num(c[at.version]), c[at.origin] ?? ''];
      events.push({
        t: num(c[at.t]),
        node: c[at.node] ?? '',
        key: c[at.key] ?? '',
        stamp,
        via: at.via >= 0 ? (c[at.via] ?? '') : '',
        seq: events.length,
      });
    },
    (h) => {
      at = {
        t: col(h, 'time_s'),
        node: col(h, 'node'),
        key: col(h, 'key'),
        origin: col(h, 'origin'),
        version: versionColumn(h),
        via: col(h, 'via'),
      };
      if (at.t < 0 || at.node < 0 || at.key < 0 || at.version < 0)
        throw new Error(`plot: ${deliveriesPath} needs columns time_s, node, key and version_ns`);
    },
  );
  for (const r of run.freshRestarts) events.push({ t: r.timeS, node: r.node, key: '', stamp: undefined, via: 'restart', seq: events.length });
  events.sort((a, b) => a.t - b.t || a.seq - b.seq);
  const byKey = new Map<string, number[]>();
  updates.forEach((u, j) => {
    const list = byKey.get(u.key) ?? [];
    list.push(j);
    byKey.set(u.key, list);
  });
  const held = new Map<string, Map<string, Stamp>>();
  const change = (t: number, node: string, key: string, from: Stamp, to: Stamp, via: string): void => {
    for (const j of byKey.get(key) ?? []) {
      const u = updates[j] as UpdateRow;
      const stamp: Stamp = [u.version, u.node];
      const had = !newer(stamp, from);
      const has = !newer(stamp, to);
      if (had !== has) onChange(t, node, j, has, via);
    }
  };
  for (const e of events) {
    if (!Number.isFinite(e.t)) continue;
    let mine = held.get(e.node);
    if (mine === undefined) held.set(e.node, (mine = new Map<string, Stamp>()));
    if (e.stamp === undefined) {
      for (const [key, from] of mine) change(e.t, e.node, key, from, NONE, e.via);
      mine.clear();
      continue;
    }
    const from = mine.get(e.key) ?? NONE;
    if (!newer(e.stamp, from)) continue;
    mine.set(e.key, e.stamp);
    change(e.t, e.node, e.key, from, e.stamp, e.via);
  }
}

/**
 * Per-write infection curves: for each of the first {@link MAX_INFECTION_KEYS}
 * writes, the fraction of the run's nodes that store it or a newer version of
 * its key, from its write on, thinned per curve.
 */
export async function readUpdateCurves(updatesPath: string, deliveriesPath: string, run: RunNodes): Promise<InfectionPlotData> {
  const all = await readUpdates(updatesPath);
  const updates = all.slice(0, MAX_INFECTION_KEYS);
  const series = updates.map(() => ({ t: [] as number[], f: [] as number[], count: 0 }));
  const n = run.nodes.length;
  await replayStores(updates, deliveriesPath, run, (t, _node, j, stores) => {
    const s = series[j];
    if (s === undefined) return;
    s.count += stores ? 1 : -1;
    if (s.t[s.t.length - 1] === t) s.f[s.f.length - 1] = s.count / n;
    else {
      s.t.push(t);
      s.f.push(s.count / n);
    }
  });
  const rows: { timeS: number; key: string; fraction: number }[] = [];
  series.forEach((s, j) => {
    const label = (updates[j] as UpdateRow).label;
    for (const i of bucketKeep(s.t, s.f, MAX_TRACE_POINTS_PER_SERIES))
      rows.push({ timeS: s.t[i] ?? Number.NaN, key: label, fraction: s.f[i] ?? Number.NaN });
  });
  return { keys: updates.map((u) => u.label), totalKeys: all.length, rows, perWrite: true, endS: run.durationS };
}

/** One mark of the delivery timeline. */
export interface TimelinePoint {
  readonly timeS: number;
  readonly node: string;
  /** `Write`, `Rumor`, `Anti-entropy`, `Read` or `Stale read`. */
  readonly kind: string;
  /** The write's label, or `Read` for reads. */
  readonly update: string;
}

/** The delivery timeline, ready to plot. */
export interface TimelineData {
  readonly nodes: readonly string[];
  readonly updates: readonly string[];
  readonly points: readonly TimelinePoint[];
  readonly durationS: number;
}

const VIA_LABELS: Readonly<Record<string, string>> = { write: 'Write', rumor: 'Rumor', anti_entropy: 'Anti-entropy' };

/** Writes, deliveries of each write (first ten) and reads, per node. */
export async function readTimeline(updatesPath: string, deliveriesPath: string, readsPath: string, run: RunNodes): Promise<TimelineData> {
  const updates = (await readUpdates(updatesPath)).slice(0, MAX_INFECTION_KEYS);
  const points: TimelinePoint[] = [];
  await replayStores(updates, deliveriesPath, run, (t, node, j, stores, via) => {
    if (!stores) return;
    // Only the write that arrived is marked, not the older writes of its key it supersedes.
    const u = updates[j] as UpdateRow;
    if (via === 'write' ? u.node !== node || u.timeS !== t : false) return;
    points.push({ timeS: t, node, kind: VIA_LABELS[via] ?? via, update: u.label });
  });
  const exact = points.filter((p, k) => {
    // A delivery of a newer write also "stores" the older ones; keep the newest write per (time, node).
    const next = points[k + 1];
    return !(next !== undefined && next.timeS === p.timeS && next.node === p.node && next.kind === p.kind);
  });
  if (existsSync(readsPath)) {
    const { header: h, rows } = await readCsv(readsPath);
    const at = { t: col(h, 'time_s'), node: col(h, 'node'), stale: col(h, 'stale') };
    if (at.t >= 0 && at.node >= 0) {
      for (const r of rows) {
        const stale = at.stale >= 0 && (r[at.stale] === 'true' || r[at.stale] === '1');
        exact.push({ timeS: num(r[at.t]), node: r[at.node] ?? '', kind: stale ? 'Stale read' : 'Read', update: 'Read' });
      }
    }
  }
  return { nodes: run.nodes, updates: updates.map((u) => u.label), points: exact.filter((p) => Number.isFinite(p.timeS)), durationS: run.durationS };
}

const TIMELINE_SHAPES: Readonly<Record<string, string>> = {
  Write: 'diamond',
  Rumor: 'circle',
  'Anti-entropy': 'square',
  Read: 'triangle-down',
  'Stale read': 'cross',
};

/** The Vega-Lite spec of deliveries.svg, or undefined when nothing happened. */
export function timelineSpec(
  data: TimelineData,
  options: FigureOptions = {},
  episodes: readonly FaultEpisode[] = [],
): Record<string, unknown> | undefined {
  if (data.points.length === 0) return undefined;
  const endS = Number.isFinite(data.durationS) ? data.durationS : Math.max(...data.points.map((p) => p.timeS));
  const kinds = Object.keys(TIMELINE_SHAPES).filter((k) => data.points.some((p) => p.kind === k));
  const colours = data.updates.map((_, i) => PALETTE[i % PALETTE.length] as string);
  const x = { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { domain: [0, endS], nice: false } };
  const faults = faultRows(episodes, (t) => t, endS > 0 ? PLOT_WIDTH_PX / endS : 1);
  const rowPx = Math.max(18, Math.min(40, Math.round(320 / data.nodes.length)));
  const y = { field: 'node', type: 'ordinal', title: 'Node', sort: [...data.nodes], scale: { domain: [...data.nodes] }, axis: { grid: true } };
  const shape = {
    field: 'kind',
    type: 'nominal',
    title: 'Event',
    scale: { domain: kinds, range: kinds.map((k) => TIMELINE_SHAPES[k] ?? 'circle') },
    legend: { orient: 'bottom', symbolFillColor: '#333', symbolStrokeColor: '#333' },
  };
  const tooltip = [{ field: 'x', type: 'quantitative', title: 'time (s)' }, { field: 'node' }, { field: 'kind' }, { field: 'update' }];
  const mark = { type: 'point', filled: true, size: 110, opacity: 0.9, stroke: 'white', strokeWidth: 0.6 };
  const layer: unknown[] = [
    ...(faults.length === 0 ? [] : faultLayers(x).slice(0, 1)),
    {
      data: { name: 'points' },
      transform: [{ filter: "datum.update !== 'Read'" }],
      mark,
      encoding: {
        x,
        y,
        color: {
          field: 'update',
          type: 'nominal',
          title: 'Write',
          scale: { domain: [...data.updates], range: colours },
          legend: { orient: 'bottom', columns: 1, symbolType: 'circle' },
        },
        shape,
        // A diamond looks smaller than a circle of the same area: the writes get a larger one.
        size: { condition: { test: "datum.kind === 'Write'", value: 200 }, value: 110 },
        tooltip,
      },
    },
  ];
  if (data.points.some((p) => p.update === 'Read')) {
    layer.push({
      data: { name: 'points' },
      transform: [{ filter: "datum.update === 'Read'" }],
      mark: { ...mark, color: '#555555' },
      encoding: { x, y, shape, tooltip },
    });
  }
  const points = data.points.map((p) => ({ x: p.timeS, node: p.node, kind: p.kind, update: p.update }));
  const faultNote = episodes.length === 0 ? undefined : `Shaded: ${episodes.map((e) => e.label).join(', ')}`;
  const spec = topLevel(
    header('Delivery timeline', options, faultNote ?? 'One row per node: when each write reached it, and how'),
    faults.length === 0 ? { points } : { points, faults },
    layer,
  );
  return { ...spec, height: rowPx * data.nodes.length };
}

/** The infection trace, ready to plot. */
export interface InfectionPlotData {
  /** Keys plotted (at most {@link MAX_INFECTION_KEYS}, by first appearance). */
  readonly keys: readonly string[];
  /** Keys in the file. */
  readonly totalKeys: number;
  /** Points kept, grouped by key in `keys` order, each group in file order. */
  readonly rows: readonly { readonly timeS: number; readonly key: string; readonly fraction: number }[];
  /** True when each curve is one write (`keys` are the writes' labels), false or absent when one key. */
  readonly perWrite?: boolean;
  /** The run's end in seconds: curves are held to it. Default: a little past the last change. */
  readonly endS?: number;
}

/**
 * Reads trace-infection.csv (time_s, key, live_holding_newest_frac), first ten keys, thinned per key.
 * A trace written before the column was renamed (`fraction_live_holding_newest`) is read too.
 */
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
      const f = col(head, 'live_holding_newest_frac');
      idx = { t: col(head, 'time_s'), key: col(head, 'key'), f: f >= 0 ? f : col(head, 'fraction_live_holding_newest') };
      if (idx.t < 0 || idx.f < 0) throw new Error(`plot: ${path} needs columns time_s and live_holding_newest_frac`);
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
export function infectionSpec(
  data: InfectionPlotData,
  options: FigureOptions = {},
  episodes: readonly FaultEpisode[] = [],
): Record<string, unknown> | undefined {
  const points = data.rows
    .filter((r) => Number.isFinite(r.timeS) && Number.isFinite(r.fraction))
    .map((r, i) => ({ i, x: r.timeS, key: r.key, y: r.fraction }));
  if (points.length === 0) return undefined;
  // The trace has a row per change, so a level holds until the next row: hold each key's last level a little
  // past the last change (5% of the time span), so a curve ending at 1 shows as a flat line, not a jump at the edge.
  const tFirst = Math.min(...points.map((p) => p.x));
  const tLast = Math.max(...points.map((p) => p.x));
  const tEnd = data.endS !== undefined && Number.isFinite(data.endS) && data.endS >= tLast ? data.endS : tLast + 0.05 * (tLast - tFirst);
  for (const key of data.keys) {
    let last: { x: number; key: string; y: number } | undefined;
    for (const p of points) if (p.key === key) last = p;
    if (last !== undefined && last.x < tEnd) points.push({ i: points.length, x: tEnd, key, y: last.y });
  }
  const multi = data.keys.length > 1;
  const what = data.perWrite === true ? 'writes' : 'keys';
  const note =
    data.totalKeys > data.keys.length
      ? `First ${data.keys.length} of ${data.totalKeys} ${what}`
      : multi
        ? undefined
        : data.perWrite === true
          ? `Write: ${data.keys[0] ?? ''}`
          : `Key: ${data.keys[0] ?? ''}`;
  const x = { field: 'x', type: 'quantitative', title: 'Time (s)', scale: { zero: false, nice: false, padding: 10 } };
  const xMin = Math.min(tFirst, ...episodes.map((e) => e.startS));
  const faults = faultRows(episodes, (t) => t - xMin, tEnd > xMin ? PLOT_WIDTH_PX / (tEnd - xMin) : 1).map((f) => ({
    ...f,
    x: f.x + xMin,
    x2: f.x2 + xMin,
  }));
  const layer = [
    ...(faults.length === 0 ? [] : faultLayers(x)),
    {
      data: { name: 'points' },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: {
        x,
        y: {
          field: 'y',
          type: 'quantitative',
          title: data.perWrite === true ? 'Fraction of nodes storing it (or newer)' : 'Fraction of live nodes with newest version',
          scale: { domain: [0, 1] },
          axis: { tickCount: 5 },
        },
        color: multi
          ? {
              field: 'key',
              type: 'nominal',
              title: data.perWrite === true ? 'Write' : 'Key',
              scale: { domain: [...data.keys], range: [...PALETTE] },
              legend: {
                orient: 'bottom',
                columns: data.perWrite === true ? Math.min(2, data.keys.length) : Math.min(5, data.keys.length),
                symbolType: 'stroke',
              },
            }
          : { value: PALETTE[0] },
        detail: { field: 'key', type: 'nominal' },
        order: { field: 'i', type: 'quantitative' },
      },
    },
  ];
  return topLevel(header('Infection curve', options, note), faults.length === 0 ? { points } : { points, faults }, layer);
}

/**
 * Gossip's plot recipe: `trace-infection.csv` → `infection.svg`, the fraction
 * of live nodes holding the newest version, one line per key (first ten keys).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bucketKeep, col, MAX_TRACE_POINTS_PER_SERIES, num, streamCsv } from './data.js';
import { header, PALETTE, topLevel, type Figure, type FigureOptions } from './style.js';

/** At most this many keys of the infection trace get a line. */
export const MAX_INFECTION_KEYS = 10;

/** The figures of a gossip run: `infection` when the folder has an infection trace with a plottable row. */
export async function gossipFigures(dir: string, options: FigureOptions): Promise<Figure[]> {
  const path = join(dir, 'trace-infection.csv');
  if (!existsSync(path)) return [];
  const spec = infectionSpec(await readInfectionTrace(path), options);
  return spec === undefined ? [] : [{ name: 'infection', spec }];
}

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
export function infectionSpec(data: InfectionPlotData, options: FigureOptions = {}): Record<string, unknown> | undefined {
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

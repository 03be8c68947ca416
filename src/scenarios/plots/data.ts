/**
 * Reading the CSVs a run or sweep wrote, and thinning long series for plots.
 *
 * Traces can hold hundreds of thousands of rows; a plot needs a few thousand
 * points per line to look identical at 640 px. {@link bucketKeep} keeps, per
 * time bucket, the first, last, lowest and highest point, so spikes and drops
 * survive and a step line still changes level where it did. Everything is a
 * pure function of the input order: the same file gives the same points.
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

/**
 * Streams a CSV file: `onHeader` gets the header, then `onRow` each data row
 * (cells as strings, in header order). Resolves to the header.
 */
export async function streamCsv(
  path: string,
  onRow: (cells: readonly string[]) => void,
  onHeader?: (header: readonly string[]) => void,
): Promise<readonly string[]> {
  const parser = createReadStream(path).pipe(parse({ relax_column_count: true, skip_empty_lines: true, bom: true }));
  let header: readonly string[] | undefined;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (header === undefined) {
      header = record;
      onHeader?.(record);
    } else onRow(record);
  }
  return header ?? [];
}

/** A whole CSV file read into memory (for small tables such as aggregate.csv). */
export async function readCsv(path: string): Promise<{ header: readonly string[]; rows: (readonly string[])[] }> {
  const rows: (readonly string[])[] = [];
  const header = await streamCsv(path, (cells) => rows.push(cells));
  return { header, rows };
}

/** Parses a numeric cell: empty, non-numeric or infinite cells give `NaN`. */
export function num(cell: string | undefined): number {
  if (cell === undefined || cell.trim() === '') return Number.NaN;
  const x = Number(cell);
  return Number.isFinite(x) ? x : Number.NaN;
}

/** Column index by name, or -1. */
export function col(header: readonly string[], name: string): number {
  return header.indexOf(name);
}

/**
 * Chooses which points of one series to keep so that at most about `maxPoints`
 * remain while the shape survives: the x range is cut into `maxPoints / 4`
 * equal buckets and each bucket keeps its first, last, lowest-y and highest-y
 * point (ties: the earliest). Series of at most `maxPoints` points are kept
 * whole. Points must be in plotting order (x non-decreasing).
 * @param xs x of each point (e.g. time in seconds)
 * @param ys y of each point; `NaN` is never chosen as lowest/highest
 * @param maxPoints upper bound on the number kept (>= 4)
 * @returns the indices kept, increasing
 */
export function bucketKeep(xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints: number): number[] {
  const n = xs.length;
  const all = (): number[] => Array.from({ length: n }, (_, i) => i);
  if (n <= maxPoints) return all();
  const buckets = Math.max(1, Math.floor(maxPoints / 4));
  const x0 = xs[0] ?? 0;
  const span = (xs[n - 1] ?? 0) - x0;
  if (!(span > 0)) return thinEvenly(n, maxPoints);
  const kept: number[] = [];
  let start = 0;
  while (start < n) {
    const b = bucketOf(xs[start] ?? x0, x0, span, buckets);
    let end = start + 1;
    while (end < n && bucketOf(xs[end] ?? x0, x0, span, buckets) === b) end++;
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const y = ys[i] ?? Number.NaN;
      if (Number.isNaN(y)) continue;
      if (lo < 0 || y < (ys[lo] ?? 0)) lo = i;
      if (hi < 0 || y > (ys[hi] ?? 0)) hi = i;
    }
    const picks = [start, end - 1];
    if (lo >= 0) picks.push(lo);
    if (hi >= 0) picks.push(hi);
    picks.sort((a, b2) => a - b2);
    for (const i of picks) if (kept[kept.length - 1] !== i) kept.push(i);
    start = end;
  }
  return kept;
}

function bucketOf(x: number, x0: number, span: number, buckets: number): number {
  const b = Math.floor(((x - x0) / span) * buckets);
  return b < 0 ? 0 : b >= buckets ? buckets - 1 : b;
}

/** Every k-th index (and the last), for series whose x does not advance. */
function thinEvenly(n: number, maxPoints: number): number[] {
  const step = Math.ceil(n / Math.max(1, maxPoints - 1));
  const kept: number[] = [];
  for (let i = 0; i < n; i += step) kept.push(i);
  if (kept[kept.length - 1] !== n - 1) kept.push(n - 1);
  return kept;
}

/** At most this many `ack`-like rows of a trace are plotted per series (cwnd per flow, infection per curve). */
export const MAX_TRACE_POINTS_PER_SERIES = 4000;

/**
 * CSV sink: a fixed header, rows streamed to disk in batches (bounded memory,
 * no whole-run buffering), deterministic number formatting, and an atomic
 * finish (rows go to the temporary file of an {@link AtomicFileWriter},
 * `<path>.tmp-<pid>-<thread>-<n>@<host>`, unique per writer even across sweep
 * worker threads, which share a pid, and are renamed into place by
 * {@link CsvWriter.close}), so a crashed run never leaves a half-written file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { formatSeconds, type Time } from '../kernel/time.js';
import { plainNumber } from './csv-format.js';
import { AtomicFileWriter } from './fs.js';

/**
 * A CSV cell. Strings are written as they are (quoted only where CSV needs
 * it); numbers with {@link formatFloat}; booleans as `1` and `0`; `null`,
 * `undefined`, `NaN` and infinities as an empty cell. These rules hold for
 * every CSV desim writes (docs/outputs.md).
 */
export type Cell = string | number | boolean | null | undefined;

/**
 * Deterministic rendering of a float: rounded to at most `digits` significant
 * digits, then written as the shortest plain decimal of that rounded value,
 * never with an exponent (`plainNumber` in csv-format.ts). Integers below 1e21 are
 * written exactly. `NaN` and infinities are rendered as empty cells by
 * {@link CsvWriter}; here as `NaN`/`Infinity`.
 */
export function formatFloat(x: number, digits = 9): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  return plainNumber(Number(x.toPrecision(digits)));
}

/**
 * How `--columns` names columns whose names are not already safe (a sweep's
 * parameter columns, a protocol module's own metrics): `paths`, the name as
 * given (`protocol.tcp.flows[3].extra_rtt_ms`), or `safe`, letters, digits and
 * `_` only (`protocol_tcp_flows_3_extra_rtt_ms`), for R and pgfplots.
 */
export type ColumnStyle = 'paths' | 'safe';

/** Formatting helpers for cells. */
export const fmt = {
  /** Integer nanoseconds rendered as exact seconds (for `*_s` columns). */
  seconds: (t: Time): string => formatSeconds(t),
  /** A float with up to 9 significant digits. */
  float: (x: number, digits = 9): string => formatFloat(x, digits),
};

/** Streams rows with a fixed header to a CSV file. */
export class CsvWriter {
  private readonly file: AtomicFileWriter;
  private batch: Cell[][] = [];
  private closed = false;
  /** Number of data rows written. */
  rows = 0;

  /**
   * @param path final file path (written atomically on close)
   * @param columns header, in order; every row must have this many cells
   */
  constructor(
    readonly path: string,
    readonly columns: readonly string[],
    private readonly batchRows = 1024,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.file = new AtomicFileWriter(path);
    this.file.write(stringify([columns]));
  }

  /** Appends one row (cells in header order). */
  write(row: readonly Cell[]): void {
    if (this.closed) throw new Error(`CsvWriter: write after close (${this.path})`);
    if (row.length !== this.columns.length) {
      throw new RangeError(`CsvWriter: row has ${row.length} cells, header has ${this.columns.length} (${this.path})`);
    }
    this.batch.push(row.map(normalizeCell));
    this.rows++;
    if (this.batch.length >= this.batchRows) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.file.write(stringify(this.batch));
    this.batch = [];
  }

  /** Flushes, fsyncs and renames the file into place. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.file.commit();
    this.closed = true;
  }

  /** Discards the file (nothing is left at `path` or at the temporary path). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.abort();
  }
}

function normalizeCell(c: Cell): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') return Number.isFinite(c) ? formatFloat(c) : '';
  if (typeof c === 'boolean') return c ? '1' : '0';
  return c;
}

/** Renders a whole table (header + rows) as a CSV string with the same formatting rules. */
export function toCsv(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return stringify([columns, ...rows.map((r) => r.map(normalizeCell))]);
}

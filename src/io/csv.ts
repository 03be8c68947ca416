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
import { AtomicFileWriter } from './fs.js';

/**
 * A CSV cell. Strings are written as they are (quoted only where CSV needs
 * it); numbers with {@link formatFloat}; booleans as `1` and `0`; `null`,
 * `undefined`, `NaN` and infinities as an empty cell. These rules hold for
 * every CSV desim writes (docs/outputs.md).
 */
export type Cell = string | number | boolean | null | undefined;

/**
 * A number as a plain decimal: the shortest text that reads back as the same
 * double (JavaScript's `String(x)`), with any exponent written out in digits
 * (`6.1e-8` becomes `0.000000061`, `1e21` becomes `1000000000000000000000`),
 * so that every CSV cell of desim uses one notation. `NaN` and infinities are
 * returned as `NaN`/`Infinity` (CsvWriter writes them as empty cells).
 */
export function plainNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s.startsWith('-');
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // Position of the decimal point within `digits` once the exponent is applied.
  const point = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return neg ? '-' + out : out;
}

/**
 * A value of any type as a cell, by the CSV rules: a string as it is, a number
 * at full precision as a plain decimal ({@link plainNumber}: a user's value is
 * not rounded), a boolean as 1/0, `null` or `undefined` as an empty cell, and
 * anything else (an object or array) as JSON.
 */
export function valueCell(v: unknown): Cell {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? plainNumber(v) : '';
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? '';
}

/**
 * Deterministic rendering of a float: rounded to at most `digits` significant
 * digits, then written as the shortest plain decimal of that rounded value,
 * never with an exponent ({@link plainNumber}). Integers below 1e21 are
 * written exactly. `NaN` and infinities are rendered as empty cells by
 * {@link CsvWriter}; here as `NaN`/`Infinity`.
 */
export function formatFloat(x: number, digits = 9): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  return plainNumber(Number(x.toPrecision(digits)));
}

/**
 * A column name that R, pandas and pgfplots take as is: every run of
 * characters other than ASCII letters, digits and `_` becomes one `_`, with
 * none at either end (`protocol.tcp.flows[3].extra_rtt_ms` becomes
 * `protocol_tcp_flows_3_extra_rtt_ms`). Used by `--columns safe`.
 */
export function safeColumnName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

/** How parameter columns are named: the parameter's path as given (`paths`) or {@link safeColumnName} (`safe`). */
export type ColumnStyle = 'paths' | 'safe';

/** The column names `--columns` accepts. */
export const COLUMN_STYLES: readonly ColumnStyle[] = ['paths', 'safe'];

/** The column of a parameter under a column style. */
export function parameterColumn(path: string, style: ColumnStyle | undefined): string {
  return style === 'safe' ? safeColumnName(path) : path;
}

/** Formatting helpers for cells. */
export const fmt = {
  /** Integer nanoseconds rendered as exact seconds (for `*_s` columns). */
  seconds: (t: Time): string => formatSeconds(t),
  /** A float with up to 9 significant digits. */
  float: (x: number, digits = 9): string => formatFloat(x, digits),
};

/** The header with each `--columns safe` parameter column renamed back to its parameter's path. */
export function parameterPaths(header: readonly string[], vary: readonly string[]): string[] {
  const byColumn = new Map(vary.map((v) => [safeColumnName(v), v]));
  return header.map((c) => byColumn.get(c) ?? c);
}

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

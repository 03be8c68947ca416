/**
 * The CSV rules that are not the writer itself: plain numbers, how a value of
 * any type becomes a cell, and column names for `--columns safe`. Kept apart
 * from csv.ts, whose exports are part of the public API, so that these stay
 * internal.
 */
import type { Cell, ColumnStyle } from './csv.js';

export type { ColumnStyle } from './csv.js';

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

/** The JSON type of a value, as {@link valueType} names it. */
export type ValueType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

/**
 * The JSON type of a value, for the `value_type` cell beside its {@link valueCell}:
 * `string`, `number`, `boolean`, `null`, `array` or `object` (`undefined`, and
 * whatever JSON cannot hold, is `null`: its cell is empty too). The two cells
 * together give the value back: `"1"`, `1` and `true` all have the cell `1`,
 * and `null` and `""` both an empty one, but their types differ.
 */
export function valueType(v: unknown): ValueType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return 'null';
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

/** The column names `--columns` accepts. */
export const COLUMN_STYLES: readonly ColumnStyle[] = ['paths', 'safe'];

/** The column of a parameter under a column style. */
export function parameterColumn(path: string, style: ColumnStyle | undefined): string {
  return style === 'safe' ? safeColumnName(path) : path;
}

/** The header with each `--columns safe` parameter column renamed back to its parameter's path. */
export function parameterPaths(header: readonly string[], vary: readonly string[]): string[] {
  const byColumn = new Map(vary.map((v) => [safeColumnName(v), v]));
  return header.map((c) => byColumn.get(c) ?? c);
}

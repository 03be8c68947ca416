/**
 * `desim table`: a sweep's aggregate (or a run's summary) as a table to paste
 * into a paper: LaTeX (booktabs), Markdown or CSV.
 *
 * A sweep folder gives one row per parameter combination: the varied
 * parameters, the number of runs, and per metric the mean ± the half-width of
 * its 95% confidence interval (Student t, from aggregate.csv), rounded so the
 * half-width keeps two significant digits and the mean the same decimals. A
 * run folder gives one row per metric (its value). Units come from the
 * column-name suffixes (`_bps` bit/s, `_s` s, `_ms` ms, `_pkts` packets,
 * `_bytes` bytes, `_frac` a fraction, `_periods`, `_per_member_hour`, ...:
 * docs/outputs.md) and go in the header; bit rates and
 * byte counts are scaled per column (kbit/s, Mbit/s, ...) so the numbers stay
 * short. The CSV format keeps full precision and base units, one mean and one
 * half-width column per metric. Pure: the same folder gives the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parameterPaths } from '../io/csv-format.js';
import { formatFloat } from '../io/csv.js';
import { ScenarioError } from './errors.js';
import { requireFolder } from './files.js';
import { didYouMean } from './loader.js';
import { num, readCsv } from './plots/data.js';

/** Output formats of {@link formatTable}. */
export const TABLE_FORMATS = ['latex', 'markdown', 'csv'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** Options of {@link tableOfFolder}. */
export interface TableOptions {
  /** Metrics to show, in this order. Default: every metric of the folder. */
  readonly metrics?: readonly string[];
  readonly format: TableFormat;
}

/** A unit read from a column-name suffix. */
export interface Unit {
  /** The unit as printed (`bit/s`, `s`, `packets`); '' for unitless fractions and counts. */
  readonly label: string;
  /** The name without the suffix (`goodput` for `goodput_bps`). */
  readonly core: string;
  /** Scaling prefixes apply (bit/s, bytes). */
  readonly scalable: boolean;
}

/** Longest first: `_bytes_per_member_period` before `_per_member_period`. docs/outputs.md lists those of desim's CSV files. */
const SUFFIXES: readonly (readonly [string, string, boolean])[] = [
  ['_bytes_per_member_period', 'B/member-period', true],
  ['_per_member_period', '1/member-period', false],
  ['_per_member_hour', '1/member-hour', false],
  ['_periods', 'periods', false],
  ['_bps', 'bit/s', true],
  ['_bytes', 'B', true],
  ['_pkts', 'packets', false],
  ['_ms', 'ms', false],
  ['_us', 'us', false],
  ['_ns', 'ns', false],
  ['_s', 's', false],
  ['_frac', 'fraction', false],
  ['_rtt', 'RTTs', false],
  ['_pct', '%', false],
  ['_ppm', 'ppm', false],
];

/** The unit of a column from its name's suffix (`goodput_bps` → bit/s); label '' when it has none. */
export function unitOf(name: string): Unit {
  const last = name.split('.').pop() ?? name;
  for (const [suffix, label, scalable] of SUFFIXES) {
    if (last.endsWith(suffix) && last.length > suffix.length) return { label, core: name.slice(0, -suffix.length), scalable };
  }
  return { label: '', core: name, scalable: false };
}

/** Decimal SI prefixes for scalable units. */
const PREFIXES: readonly (readonly [number, string])[] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
  [1, ''],
];

/** The scale (1, 1e3, ...) and prefixed unit label for a column whose largest magnitude is `max`. */
function scaleFor(unit: Unit, max: number): { factor: number; label: string } {
  if (!unit.scalable || !Number.isFinite(max)) return { factor: 1, label: unit.label };
  const [factor, prefix] = PREFIXES.find(([f]) => max >= f) ?? [1, ''];
  return { factor, label: `${prefix}${unit.label}` };
}

/** A column header: the name's last path segment (with its list index), spaces for underscores. */
function shortName(name: string): string {
  const segs = name.split('.');
  const last = segs.pop() ?? name;
  const parent = segs.pop();
  const withIndex = parent !== undefined && /\[\d+\]$/.test(parent) ? `${parent}.${last}` : last;
  return withIndex.replace(/_/g, ' ');
}

/** `x` rounded like its confidence half-width `half` (2 significant digits), as decimal text. */
export function formatWithCi(x: number, half: number): { mean: string; half?: string } {
  if (!Number.isFinite(x)) return { mean: '' };
  if (!Number.isFinite(half) || half <= 0) return { mean: plain(x) };
  const decimals = Math.min(12, 1 - Math.floor(Math.log10(half)));
  if (decimals >= 0) return { mean: fixed(x, decimals), half: fixed(half, decimals) };
  // A half-width of 100 or more: round both to its second significant digit (1234.5 ± 260 -> 1230 ± 260).
  const step = 10 ** -decimals;
  return { mean: fixed(Math.round(x / step) * step, 0), half: fixed(Math.round(half / step) * step, 0) };
}

/** 4 significant digits without an exponent (whole numbers from 1e4 on). */
function plain(x: number): string {
  if (Number.isInteger(x)) return String(x);
  if (Math.abs(x) >= 1e4) return x.toFixed(0);
  const decimals = Math.min(12, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x)))));
  return stripZeros(x.toFixed(decimals));
}

function fixed(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  return s === `-${(0).toFixed(decimals)}` ? s.slice(1) : s;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** The table model before formatting. */
interface Model {
  readonly kind: 'sweep' | 'run';
  /** Column names as in the CSV (parameters, then `runs`, then metrics), or [metric, value] for a run. */
  readonly columns: readonly { readonly name: string; readonly header: string; readonly numeric: boolean; readonly metric: boolean }[];
  /** Cells: text, or a mean with an optional half-width. */
  readonly rows: readonly (readonly Cell[])[];
  /** For CSV: the unscaled values. */
  readonly raw: readonly (readonly string[])[];
  readonly rawHeader: readonly string[];
}

type Cell = { readonly text: string } | { readonly mean: string; readonly half?: string };

/**
 * Builds the table of a run or sweep folder in the given format. Throws
 * an OutputError when `dir` is no folder, and {@link ScenarioError} when
 * the folder holds neither aggregate.csv nor summary.csv or a metric is
 * unknown (both exit 2 in the CLI).
 */
export async function tableOfFolder(dir: string, options: TableOptions): Promise<string> {
  requireFolder(dir);
  const aggregate = join(dir, 'aggregate.csv');
  const summary = join(dir, 'summary.csv');
  if (existsSync(aggregate)) return formatTable(await sweepModel(dir, aggregate, options.metrics), options.format, dir);
  if (existsSync(summary)) return formatTable(await runModel(summary, options.metrics), options.format, dir);
  throw new ScenarioError(dir, [{ path: '', message: 'holds neither aggregate.csv (a sweep) nor summary.csv (a run): give a folder desim wrote' }]);
}

function pickMetrics(all: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined || wanted.length === 0) return [...all];
  const issues = wanted
    .filter((m) => !all.includes(m))
    .map((m) => {
      const hint = didYouMean(m, all);
      return {
        path: m,
        message: `unknown metric${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : ''} (metrics: ${all.join(', ')})`,
      };
    });
  if (issues.length > 0) throw new ScenarioError('--metrics', issues);
  return [...wanted];
}

async function sweepModel(dir: string, path: string, wanted: readonly string[] | undefined): Promise<Model> {
  const { header: written, rows } = await readCsv(path);
  let header = written;
  const runsAt = header.indexOf('runs');
  let vary = runsAt >= 0 ? header.slice(0, runsAt) : [];
  const sweepJson = join(dir, 'sweep.json');
  if (existsSync(sweepJson)) {
    try {
      const parsed = JSON.parse(readFileSync(sweepJson, 'utf8')) as { vary?: unknown; columns?: unknown };
      const v = parsed.vary;
      // `--columns safe`: the table's headers name the parameters; its CSV keeps the folder's column names.
      if (Array.isArray(v) && parsed.columns === 'safe') header = parameterPaths(written, v.map(String));
      if (Array.isArray(v)) vary = v.map(String).filter((x) => header.includes(x));
    } catch {
      // a damaged sweep.json only costs the parameter list, which the header also gives
    }
  }
  const all = header.filter((c) => c.endsWith('_mean')).map((c) => c.slice(0, -'_mean'.length));
  const metrics = pickMetrics(all, wanted);
  const at = (name: string): number => header.indexOf(name);
  const columns: Model['columns'][number][] = [
    ...vary.map((v) => ({ name: v, header: header0(v), numeric: rows.every((r) => !Number.isNaN(num(r[at(v)]))), metric: false })),
    { name: 'runs', header: 'runs', numeric: true, metric: false },
  ];
  const scales = metrics.map((m) => scaleFor(unitOf(m), Math.max(...rows.map((r) => Math.abs(num(r[at(`${m}_mean`)]))).filter(Number.isFinite))));
  metrics.forEach((m, k) => {
    const label = (scales[k] as { label: string }).label;
    columns.push({
      name: m,
      header: label === '' ? shortName(unitOf(m).core) : `${shortName(unitOf(m).core)} [${label}]`,
      numeric: true,
      metric: true,
    });
  });
  const out: Cell[][] = rows.map((r) => [
    ...vary.map((v) => ({ text: r[at(v)] ?? '' })),
    { text: r[at('runs')] ?? '' },
    ...metrics.map((m, k) => {
      const f = (scales[k] as { factor: number }).factor;
      const mean = num(r[at(`${m}_mean`)]) / f;
      const half = (num(r[at(`${m}_ci95_hi`)]) - num(r[at(`${m}_ci95_lo`)])) / 2 / f;
      return formatWithCi(mean, half);
    }),
  ]);
  const rawHeader = [...vary.map((v) => written[at(v)] ?? v), 'runs', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_ci95_half`])];
  const raw = rows.map((r) => [
    ...vary.map((v) => r[at(v)] ?? ''),
    r[at('runs')] ?? '',
    ...metrics.flatMap((m) => {
      const half = (num(r[at(`${m}_ci95_hi`)]) - num(r[at(`${m}_ci95_lo`)])) / 2;
      return [r[at(`${m}_mean`)] ?? '', Number.isFinite(half) ? formatFloat(half) : ''];
    }),
  ]);
  return { kind: 'sweep', columns, rows: out, raw, rawHeader };
}

/** A parameter's header: its short name with the unit of its suffix. */
function header0(name: string): string {
  const u = unitOf(name);
  return u.label === '' ? shortName(name) : `${shortName(u.core)} [${u.label}]`;
}

async function runModel(path: string, wanted: readonly string[] | undefined): Promise<Model> {
  const { header, rows } = await readCsv(path);
  const row = rows[0] ?? [];
  const all = header.filter((c) => !['scenario', 'seed', 'replication'].includes(c));
  const metrics = pickMetrics(all, wanted);
  const out: Cell[][] = metrics.map((m) => {
    const u = unitOf(m);
    const x = num(row[header.indexOf(m)]);
    const s = scaleFor(u, Math.abs(x));
    const cell: Cell = Number.isNaN(x) ? { text: row[header.indexOf(m)] ?? '' } : formatWithCi(x / s.factor, NaN);
    return [{ text: shortName(u.core) }, { text: s.label }, cell];
  });
  return {
    kind: 'run',
    columns: [
      { name: 'metric', header: 'metric', numeric: false, metric: false },
      { name: 'unit', header: 'unit', numeric: false, metric: false },
      { name: 'value', header: 'value', numeric: true, metric: true },
    ],
    rows: out,
    raw: metrics.map((m) => [m, row[header.indexOf(m)] ?? '']),
    rawHeader: ['metric', 'value'],
  };
}

function formatTable(model: Model, format: TableFormat, dir: string): string {
  if (format === 'csv') return [model.rawHeader, ...model.raw].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  if (format === 'markdown') {
    const cell = (c: Cell): string => ('text' in c ? c.text : c.half !== undefined ? `${c.mean} ± ${c.half}` : c.mean).replace(/\|/g, '\\|');
    const lines = [
      `| ${model.columns.map((c) => c.header.replace(/\|/g, '\\|')).join(' | ')} |`,
      `|${model.columns.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`,
      ...model.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    ];
    return (
      lines.join('\n') +
      '\n' +
      (model.kind === 'sweep' ? '\nMean ± half-width of the 95% confidence interval (Student t) over the runs of each row.\n' : '')
    );
  }
  // LaTeX with booktabs: numbers in math mode, everything else escaped.
  const cell = (c: Cell): string => ('text' in c ? latexText(c.text) : c.half !== undefined ? `$${c.mean} \\pm ${c.half}$` : `$${c.mean}$`);
  const lines = [
    `% desim table of ${latexComment(dir)}${model.kind === 'sweep' ? ': mean \\pm half-width of the 95% confidence interval (Student t) over the runs of each row' : ''}`,
    '% needs \\usepackage{booktabs}',
    `\\begin{tabular}{${model.columns.map((c) => (c.numeric ? 'r' : 'l')).join('')}}`,
    '\\toprule',
    `${model.columns.map((c) => latexText(c.header)).join(' & ')} \\\\`,
    '\\midrule',
    ...model.rows.map((r) => `${r.map(cell).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
  ];
  return lines.join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Text safe in a LaTeX table cell. */
export function latexText(s: string): string {
  return s.replace(/[\\{}&%$#_~^[\]]/g, (ch) => {
    switch (ch) {
      case '\\':
        return '\\textbackslash{}';
      case '~':
        return '\\textasciitilde{}';
      case '^':
        return '\\textasciicircum{}';
      case '[':
        return '{[}';
      case ']':
        return '{]}';
      default:
        return `\\${ch}`;
    }
  });
}

function latexComment(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/**
 * `desim report DIR`: one self-contained `report.html` for a run or a sweep.
 *
 * Theory of operation. The page holds everything it shows: the scenario (a
 * run's resolved scenario from meta.json, a sweep's sweep.json with its plan),
 * meta.json, the summary and aggregate tables (and a run's other small
 * tables), links to every CSV of the folder, and the figures as Vega-Lite
 * specs with their data inline, drawn in the browser by the vega and
 * vega-lite browser bundles that are copied INTO the page from the installed
 * packages (`build/vega.min.js`, `build/vega-lite.min.js`), so the file works
 * offline and from any folder. Each figure gets tooltips (Vega's own handler:
 * the browser's native tooltip) and zoom and pan (an interval selection bound
 * to the scales; double-click resets). No vega-embed: its extras (action
 * menu, themes) are not needed for this, and the two bundles already give a
 * View with tooltips and selections.
 *
 * The specs come from the plot recipes ({@link reportFigures}), the same the
 * SVGs are drawn from. The report is written like a plot: into desim's own
 * folders only, recorded in the folder's marker (meta.json or sweep.json)
 * before it is moved in, never over a report.html desim did not write.
 */
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OutputError } from './errors.js';
import { dropTemp, inspectOutDir, readJsonFile, tempDirIn, writeFileAtomic } from './files.js';
import { plotFigures, type PlotOptions } from './plot.js';
import { readCsv } from './plots/data.js';

/** The file `desim report` writes. */
export const REPORT_FILE = 'report.html';
/** Rows of a table shown in the page (the CSV link has them all). */
export const MAX_REPORT_ROWS = 500;
/** Non-trace CSVs of a run with at most this many rows are shown as tables too. */
const SMALL_TABLE_ROWS = 200;

/** One figure: its name (the SVG it corresponds to) and Vega-Lite spec, data inline. */
export interface ReportFigure {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

/**
 * The Vega-Lite specs of a folder's figures, from the plot recipes (the same
 * specs the SVGs are rendered from), in the order `desim plot` draws them.
 */
export async function reportFigures(dir: string, options: PlotOptions = {}): Promise<ReportFigure[]> {
  return (await plotFigures(dir, options)).map((f) => ({ name: f.name, spec: f.spec }));
}

/** Adds tooltips to every mark and zoom/pan (an interval selection bound to the scales) to the first unit of each view. */
export function interactive(spec: Record<string, unknown>): Record<string, unknown> {
  let zooms = 0;
  const walk = (s: Record<string, unknown>, zoom: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...s };
    if (out['mark'] !== undefined) {
      const mark = out['mark'];
      out['mark'] = typeof mark === 'string' ? { type: mark, tooltip: true } : { tooltip: true, ...(mark as Record<string, unknown>) };
      if (zoom)
        out['params'] = [
          ...((out['params'] as unknown[] | undefined) ?? []),
          { name: `desim_zoom_${zooms++}`, select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' },
        ];
      return out;
    }
    if (Array.isArray(out['layer'])) out['layer'] = (out['layer'] as Record<string, unknown>[]).map((l, i) => walk(l, zoom && i === 0));
    for (const key of ['concat', 'hconcat', 'vconcat']) {
      if (Array.isArray(out[key])) out[key] = (out[key] as Record<string, unknown>[]).map((l) => walk(l, zoom));
    }
    if (out['spec'] !== undefined && typeof out['spec'] === 'object') out['spec'] = walk(out['spec'] as Record<string, unknown>, zoom);
    return out;
  };
  return walk(spec, true);
}

/** The browser bundles of vega and vega-lite, read from the installed packages. */
export function browserBundles(): { vega: string; vegaLite: string } {
  const require = createRequire(import.meta.url);
  const read = (pkg: string, file: string): string => {
    const path = join(dirname(require.resolve(pkg)), file);
    if (!existsSync(path)) throw new Error(`report: ${pkg}'s browser bundle ${path} is missing; reinstall ${pkg}`);
    return readFileSync(path, 'utf8');
  };
  return { vega: read('vega', 'vega.min.js'), vegaLite: read('vega-lite', 'vega-lite.min.js') };
}

/** A JSON value as plain text ('' for none). */
const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text safe inside a `<script>` element: no `</script` and no `<!--` (equivalent JavaScript). */
const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const hrefOf = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], file: string): string {
  const shown = rows.slice(0, MAX_REPORT_ROWS);
  const more =
    rows.length > shown.length
      ? `<p class="note">First ${shown.length} of ${rows.length} rows; all are in <a href="${hrefOf(file)}">${esc(file)}</a>.</p>`
      : '';
  const numeric = (c: string): boolean => c !== '' && Number.isFinite(Number(c));
  return (
    `<div class="table"><table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    shown.map((r) => `<tr>${header.map((_, i) => `<td${numeric(r[i] ?? '') ? ' class="n"' : ''}>${esc(r[i] ?? '')}</td>`).join('')}</tr>`).join('') +
    `</tbody></table></div>${more}`
  );
}

/** Builds the page of `dir` (no writing). */
export async function reportHtml(dir: string): Promise<string> {
  const meta = existsSync(join(dir, 'meta.json')) ? readFileSync(join(dir, 'meta.json'), 'utf8') : undefined;
  const sweepJson = existsSync(join(dir, 'sweep.json')) ? readFileSync(join(dir, 'sweep.json'), 'utf8') : undefined;
  const parsedMeta = meta !== undefined ? (JSON.parse(meta) as Record<string, unknown>) : undefined;
  const parsedSweep = sweepJson !== undefined ? (JSON.parse(sweepJson) as Record<string, unknown>) : undefined;
  const kind = parsedSweep !== undefined ? 'sweep' : 'run';
  const scenario = parsedMeta?.['scenario'] as Record<string, unknown> | undefined;
  const name = text(kind === 'sweep' ? parsedSweep?.['scenario'] : scenario?.['name']) || dir;
  const figures = (await reportFigures(dir, { title: name })).map((f) => ({ name: f.name, spec: interactive(f.spec) }));
  const csvs = readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort();

  const sections: string[] = [];
  const facts: [string, string][] = [];
  if (kind === 'sweep' && parsedSweep !== undefined) {
    const values = (parsedSweep['values'] ?? {}) as Record<string, unknown[]>;
    facts.push(['scenario', text(parsedSweep['scenario'])]);
    // What every run shares besides the scenario file: its overrides and the seed the runs' seeds derive from.
    const sets = parsedSweep['set'];
    if (Array.isArray(sets)) facts.push(['overrides', sets.length === 0 ? 'none' : sets.map((o) => `--set ${text(o)}`).join(' ')]);
    if (parsedSweep['base_seed'] !== undefined) facts.push(['base seed', text(parsedSweep['base_seed'])]);
    for (const v of (parsedSweep['vary'] as string[] | undefined) ?? [])
      facts.push([`varied: ${v}`, (values[v] ?? []).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')]);
    facts.push(['mode', text(parsedSweep['mode'] ?? 'product')], ['replications', text(parsedSweep['reps'])], ['runs', text(parsedSweep['runs'])]);
    const plan = parsedSweep['plan'] as { file?: unknown } | undefined;
    if (plan?.file !== undefined) facts.push(['plan file', text(plan.file)]);
    facts.push(['desim', text(parsedSweep['desim_version'])]);
  } else if (parsedMeta !== undefined) {
    if (typeof scenario?.['description'] === 'string' && scenario['description'] !== '') facts.push(['description', scenario['description']]);
    facts.push(
      ['seed', text(parsedMeta['seed'])],
      ['replication', text(parsedMeta['replication'])],
      ['duration', `${text(scenario?.['duration_s'])} s`],
    );
    facts.push(
      ['protocol', Object.keys(scenario?.['protocol'] ?? {}).join(', ')],
      ['scenario hash', text(parsedMeta['scenario_hash'])],
      ['desim', text(parsedMeta['desim_version'])],
    );
  }
  sections.push(`<section><table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table></section>`);
  if (figures.length > 0) {
    sections.push(
      `<section><h2>Figures</h2><p class="note">Hover for values; drag to pan, scroll to zoom, double-click to reset.</p><div class="figures">${figures
        .map(
          (f, i) =>
            `<figure><div class="desim-chart" id="chart-${i}" data-name="${esc(f.name)}"></div><figcaption>${esc(f.name)}</figcaption></figure>`,
        )
        .join('')}</div></section>`,
    );
  }
  const tableFiles = [
    'aggregate.csv',
    'summary.csv',
    ...csvs.filter((f) => !f.startsWith('trace-') && f !== 'summary.csv' && f !== 'aggregate.csv'),
  ].filter((f) => csvs.includes(f));
  for (const f of tableFiles) {
    const { header, rows } = await readCsv(join(dir, f));
    if (f !== 'summary.csv' && f !== 'aggregate.csv' && rows.length > SMALL_TABLE_ROWS) continue;
    sections.push(`<section><h2><a href="${hrefOf(f)}">${esc(f)}</a></h2>${htmlTable(header, rows, f)}</section>`);
  }
  if (kind === 'sweep')
    sections.push(
      `<section><h2>sweep.json</h2><details><summary>what was swept, and the plan</summary><pre>${esc(sweepJson ?? '')}</pre></details></section>`,
    );
  else
    sections.push(
      `<section><h2>Scenario</h2><details><summary>the resolved scenario, every default filled in</summary><pre>${esc(JSON.stringify(scenario ?? {}, null, 2))}</pre></details></section>`,
    );
  if (meta !== undefined)
    sections.push(
      `<section><h2>meta.json</h2><details><summary>seed, versions, hash and the resolved scenario</summary><pre>${esc(meta)}</pre></details></section>`,
    );
  const others = ['meta.json', 'sweep.json'].filter((f) => existsSync(join(dir, f)));
  sections.push(
    `<section><h2>Files</h2><ul class="files">${csvs.map((f) => `<li><a class="csv" href="${hrefOf(f)}">${esc(f)}</a></li>`).join('')}${others
      .map((f) => `<li><a href="${hrefOf(f)}">${esc(f)}</a></li>`)
      .join('')}</ul></section>`,
  );

  const bundles = browserBundles();
  const specs = JSON.stringify(figures.map((f) => f.spec));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="desim report">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(name)}: desim ${kind} report</title>
<style>
body { font: 14px/1.45 Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
pre { background: #f6f6f6; padding: 0.8em; overflow: auto; max-height: 24em; font-size: 12px; }
.figures { display: flex; flex-wrap: wrap; gap: 1em 2em; } .facts th { background: none; position: static; border: none; color: #666; font-weight: normal; } .facts td { border: none; } figure { margin: 0; } figcaption { color: #666; font-size: 12px; }
.table { overflow: auto; max-height: 30em; } table { border-collapse: collapse; font-size: 12px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; } th { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #999; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .note { color: #666; font-size: 12px; } .error { color: #b00; }
</style>
</head>
<body>
<h1>${esc(name)}</h1>
<p class="note">desim ${kind} report of the folder ${esc(dir)}. Self-contained: open it anywhere, offline.</p>
${sections.join('\n')}
<script>${scriptSafe(bundles.vega)}</script>
<script>${scriptSafe(bundles.vegaLite)}</script>
<script type="application/json" id="desim-specs">${scriptSafe(specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('desim-specs').textContent);
  var pending = specs.map(function (spec, i) {
    var el = document.getElementById('chart-' + i);
    try {
      var compiled = vegaLite.compile(spec).spec;
      var view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: true });
      return view.runAsync().then(function () { el.setAttribute('data-rendered', 'ok'); }, function (e) { el.setAttribute('data-rendered', 'error'); el.textContent = String(e); throw e; });
    } catch (e) {
      el.setAttribute('data-rendered', 'error');
      el.className += ' error';
      el.textContent = 'This figure could not be drawn: ' + e;
      return Promise.reject(e);
    }
  });
  Promise.allSettled(pending).then(function () { document.body.setAttribute('data-charts', 'done'); });
})();
</script>
</body>
</html>
`;
}

/**
 * Writes `report.html` into the run or sweep folder `dir` (a folder desim
 * wrote); returns its path. Throws {@link OutputError} for other folders and
 * for a report.html desim did not write.
 */
export async function writeReport(dir: string): Promise<string> {
  const s = inspectOutDir(dir);
  if (s.state === 'missing') throw new OutputError(dir, 'no such folder');
  if (s.state !== 'desim' || (s.kind !== 'run' && s.kind !== 'sweep')) {
    throw new OutputError(
      dir,
      'is not a run or sweep folder that desim wrote (no meta.json or sweep.json of desim); desim writes reports only into its own results folders',
    );
  }
  if (s.kind === 'sweep' && !existsSync(join(dir, 'aggregate.csv')))
    throw new OutputError(dir, 'holds a sweep that is not complete (no aggregate.csv yet): finish it with --resume, or merge its shards, first');
  const path = join(dir, REPORT_FILE);
  if (existsSync(path) && !s.owned.has(REPORT_FILE))
    throw new OutputError(path, 'exists and desim did not write it; move it away to let desim write the report');
  const html = await reportHtml(dir);
  const tmp = tempDirIn(dir, dir);
  try {
    writeFileAtomic(join(tmp, REPORT_FILE), html);
    const marker = join(dir, s.kind === 'sweep' ? 'sweep.json' : 'meta.json');
    const json = readJsonFile<Record<string, unknown>>(marker, "it is desim's record of the folder");
    const listed = Array.isArray(json['files']) ? (json['files'] as unknown[]).filter((f): f is string => typeof f === 'string') : [];
    if (!listed.includes(REPORT_FILE)) writeFileAtomic(marker, JSON.stringify({ ...json, files: [...listed, REPORT_FILE].sort() }, null, 2) + '\n');
    renameSync(join(tmp, REPORT_FILE), path);
  } finally {
    dropTemp(tmp);
  }
  return path;
}

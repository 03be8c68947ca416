/**
 * docs/outputs.md is complete and true to the files: every bundled scenario
 * (made short), a protocol module, a sweep, a merge of its shards and
 * `desim table --format csv` are run, and each CSV header they write is
 * checked against the file's table in the doc. A column the doc does not list
 * fails naming the file and the column; so does a column the doc lists that no
 * file has, and a cell of a label column (`variant`, `state`, `event`, ...)
 * whose value its row does not list. The CSV rules the doc states (no exponent, no NaN, booleans 1/0)
 * are checked on every cell. Uses dist/ for the example module (npm test builds first).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { bundledScenarios, resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { driversFor, loadScenarioFile } from '../../src/scenarios/drivers/index.js';
import { readScenarioFile, validateScenario } from '../../src/scenarios/loader.js';
import { parseSets, parseVaries } from '../../src/scenarios/overrides.js';
import { runScenario } from '../../src/scenarios/runner.js';
import { mergeSweeps, runSweep } from '../../src/scenarios/sweep.js';
import { readableName } from '../../src/scenarios/plots/style.js';
import { tableOfFolder, unitOf } from '../../src/scenarios/table.js';

const root = mkdtempSync(join(tmpdir(), 'desim-outputs-doc-'));

/** One row of a table of the doc: the column, its unit and its meaning. */
interface DocRow {
  readonly column: string;
  readonly unit: string;
  readonly meaning: string;
  readonly emptyWhen: string;
}

/** The doc's tables: heading (`` `summary.csv` (run) ``) → its rows. */
function docRows(): Map<string, DocRow[]> {
  const tables = new Map<string, DocRow[]>();
  let current: DocRow[] | undefined;
  for (const line of readFileSync('docs/outputs.md', 'utf8').split('\n')) {
    const h = /^### (.+)$/.exec(line);
    if (h !== null) {
      current = [];
      tables.set((h[1] as string).trim(), current);
      continue;
    }
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|/.exec(line);
    if (row !== null && current !== undefined)
      current.push({
        column: row[1] as string,
        unit: (row[2] as string).trim(),
        meaning: (row[3] as string).trim(),
        emptyWhen: (row[4] as string).trim(),
      });
  }
  return tables;
}

/** The doc's unit suffixes (the table under "Header"): unit as the tables write it → suffix. */
function docSuffixes(): Map<string, string> {
  const suffixes = new Map<string, string>();
  for (const line of readFileSync('docs/outputs.md', 'utf8').split('\n')) {
    const row = /^\s+\|\s*`(_\w+)`\s*\|([^|]*)\|/.exec(line);
    if (row !== null) suffixes.set((row[2] as string).trim(), row[1] as string);
  }
  return suffixes;
}

/** The units of columns that have no unit suffix, as the doc's tables write them. */
const UNITLESS = new Set(['count', 'name', 'label', 'ratio', '0/1', 'JSON', 'text']);

/** The doc's tables: heading → the columns listed in its first cells. */
function docTables(): Map<string, string[]> {
  return new Map([...docRows()].map(([doc, rows]) => [doc, rows.map((r) => r.column)]));
}

/** One CSV a reader gets: which table of the doc describes it, its header, its rows, and the names that fill `<parameter>`. */
interface Written {
  readonly where: string;
  readonly doc: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly parameters?: readonly string[];
}

function csvText(where: string, doc: string, text: string, parameters?: readonly string[]): Written {
  const [header = [], ...rows]: string[][] = parse(text);
  return { where, doc, header, rows, ...(parameters !== undefined ? { parameters } : {}) };
}

/** The doc table of a file a run folder holds. */
const RUN_FILES: Readonly<Record<string, string>> = {
  'summary.csv': '`summary.csv` (run)',
  'flows.csv': '`flows.csv` (TCP)',
  'reads.csv': '`reads.csv` (gossip)',
  'updates.csv': '`updates.csv` (gossip)',
  'trace-cwnd.csv': '`trace-cwnd.csv` (TCP)',
  'trace-deliveries.csv': '`trace-deliveries.csv` (gossip)',
  'trace-infection.csv': '`trace-infection.csv` (gossip)',
  'trace-calls.csv': '`trace-calls.csv` (protocol module)',
  'trace-node.csv': '`trace-node.csv` (protocol module)',
  'trace-segments.csv': '`trace-segments.csv` (TCP)',
  'changes.csv': '`changes.csv` (swim)',
  'trace-members.csv': '`trace-members.csv` (swim)',
  // A run of gossip and TCP together prefixes its tables with the protocol.
  'gossip-reads.csv': '`reads.csv` (gossip)',
  'gossip-updates.csv': '`updates.csv` (gossip)',
  'tcp-flows.csv': '`flows.csv` (TCP)',
  // And a run of gossip with SWIM (the store on SWIM's membership).
  'swim-changes.csv': '`changes.csv` (swim)',
};

function runFolder(dir: string, label: string): Written[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => {
      const doc = RUN_FILES[f];
      if (doc === undefined) throw new Error(`${label}/${f}: desim wrote a CSV that docs/outputs.md has no table for; add one`);
      return csvText(`${label}/${f}`, doc, readFileSync(join(dir, f), 'utf8'));
    });
}

function sets(args: string[]) {
  const r = parseSets(args);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.overrides;
}

/** Every CSV of every kind desim writes, from short runs. */
async function everything(): Promise<Written[]> {
  const out: Written[] = [];
  for (const name of bundledScenarios()) {
    const file = resolveScenarioPath(name);
    // Short: at most 20 simulated seconds (3 for the 10,000 nodes of gossip-10k, which keeps two writes),
    // with the workload and faults that fall in them; the million-node scenario on 10,000 nodes (same files).
    const cap = name === 'gossip-10k' || name === 'gossip-1m-regions' ? 3 : 20;
    const raw = readScenarioFile(file) as { duration_s: number; network?: object; workload?: { at_s: number }[]; faults?: { at_s: number }[] };
    const short = {
      ...raw,
      ...(name === 'gossip-1m-regions' ? { network: { ...raw.network, nodes: 10_000 } } : {}),
      duration_s: Math.min(raw.duration_s, cap),
      ...(raw.workload !== undefined ? { workload: raw.workload.filter((w) => w.at_s <= cap) } : {}),
      ...(raw.faults !== undefined ? { faults: raw.faults.filter((f) => f.at_s <= cap) } : {}),
      outputs: { traces: 'all', plots: false },
    };
    const s = validateScenario(short, await driversFor(short, file, []), file);
    const dir = join(root, name);
    await runScenario(s, { outDir: dir });
    out.push(...runFolder(dir, name));
  }
  // A TCP run that asks for the segment trace (`all` leaves it out).
  const segFile = resolveScenarioPath('tcp-original');
  const segRaw = readScenarioFile(segFile) as Record<string, unknown>;
  const segShort = { ...segRaw, duration_s: 5, outputs: { traces: ['segments'], plots: false } };
  await runScenario(validateScenario(segShort, await driversFor(segShort, segFile, []), segFile), { outDir: join(root, 'segments') });
  out.push(...runFolder(join(root, 'segments'), 'segments'));
  // A protocol module with an invariant (the example G-Counter), for trace-calls.csv and the module metrics.
  const moduleFile = join(root, 'counter.yaml');
  writeFileSync(
    moduleFile,
    `name: counter
seed: 5
duration_s: 2
network: { nodes: [A, B, C], link: { latency_ms: 2, loss: 0.1 } }
protocol: { module: { path: ${JSON.stringify(resolve('dist/examples/g-counter/g-counter.js'))} } }
workload:
  - { at_s: 0.1, node: A, call: { op: incr } }
  - { at_s: 0.2, node: B, call: { op: incr } }
outputs: { traces: all, plots: false }
`,
  );
  await runScenario(await loadScenarioFile(moduleFile), { outDir: join(root, 'module') });
  out.push(...runFolder(join(root, 'module'), 'module'));
  // A module whose nodes trace (trace-node.csv).
  const tracerFile = join(root, 'tracer.yaml');
  writeFileSync(
    tracerFile,
    `name: tracer\nduration_s: 1.2\nnetwork: { nodes: [A, B] }\nprotocol: { module: { path: ${JSON.stringify(resolve('test/fixtures/modules/tracer.mjs'))} } }\noutputs: { traces: all, plots: false }\n`,
  );
  await runScenario(await loadScenarioFile(tracerFile), { outDir: join(root, 'tracer') });
  out.push(...runFolder(join(root, 'tracer'), 'tracer'));

  // A sweep of two parameters with replications, its shards merged, and its table as CSV.
  const file = resolveScenarioPath('tcp-original');
  const raw = readScenarioFile(file);
  const vary = parseVaries(['protocol.tcp.bottleneck.loss=0.01,0.02', 'protocol.tcp.flows[0].variant=reno,newreno']);
  if (!vary.ok) throw new Error('bad --vary');
  const common = {
    raw,
    file,
    drivers: await driversFor(raw, file, []),
    sets: sets(['outputs.plots=false']),
    variations: vary.variations,
    reps: 2,
    jobs: 1,
  };
  const parameters = vary.variations.map((v) => v.text);
  const sweep = join(root, 'sweep');
  await runSweep({ ...common, outDir: sweep });
  for (const i of [0, 1]) await runSweep({ ...common, outDir: join(root, `shard${i}`), shard: { index: i, count: 2 } });
  const merged = join(root, 'merged');
  await mergeSweeps([join(root, 'shard0'), join(root, 'shard1')], merged);
  for (const [dir, label] of [
    [sweep, 'sweep'],
    [merged, 'merge'],
  ] as const) {
    out.push(csvText(`${label}/summary.csv`, '`summary.csv` (sweep)', readFileSync(join(dir, 'summary.csv'), 'utf8'), parameters));
    out.push(csvText(`${label}/aggregate.csv`, '`aggregate.csv` (sweep)', readFileSync(join(dir, 'aggregate.csv'), 'utf8'), parameters));
  }
  out.push(
    csvText('desim table --format csv (sweep)', '`desim table --format csv` (sweep)', await tableOfFolder(sweep, { format: 'csv' }), parameters),
  );
  out.push(
    csvText('desim table --format csv (run)', '`desim table --format csv` (run)', await tableOfFolder(join(root, 'tcp-original'), { format: 'csv' })),
  );
  return out;
}

/** Matches a header column to the doc's entries, expanding `<parameter>`, `<metric>` and `<metric>_suffix`. */
function documentedAs(column: string, entries: readonly string[], written: Written, metrics: ReadonlySet<string>): string | undefined {
  if (entries.includes(column)) return column;
  if (entries.includes('<parameter>') && written.parameters?.includes(column) === true) return '<parameter>';
  if (entries.includes('<metric>') && metrics.has(column)) return '<metric>';
  for (const e of entries) {
    // `gossip_<metric>`: a metric of one protocol in a run of two, under its protocol's prefix.
    const p = /^(\w+_)<metric>$/.exec(e);
    if (p !== null && column.startsWith(p[1] as string) && metrics.has(column.slice((p[1] as string).length))) return e;
    const m = /^<metric>(_\w+)$/.exec(e);
    if (m !== null && column.endsWith(m[1] as string) && metrics.has(column.slice(0, -(m[1] as string).length))) return e;
  }
  return undefined;
}

/** Every CSV of the runs above, made once for the tests below. */
let written: Promise<Written[]> | undefined;
const allFiles = (): Promise<Written[]> => (written ??= everything());

describe('docs/outputs.md', () => {
  it('lists every column of every CSV desim writes, and no column that no file has', async () => {
    const tables = docTables();
    const files = await allFiles();
    // The metrics a run's summary.csv may hold: what `<metric>` stands for in the sweep tables.
    const runSummary = tables.get('`summary.csv` (run)') ?? [];
    const metrics = new Set(runSummary.filter((c) => !c.startsWith('<') && !['scenario', 'seed', 'replication'].includes(c)));
    const missing: string[] = [];
    const seen = new Map<string, Set<string>>();
    for (const w of files) {
      const entries = tables.get(w.doc);
      if (entries === undefined) {
        missing.push(`${w.where}: docs/outputs.md has no table "### ${w.doc}"`);
        continue;
      }
      const used = seen.get(w.doc) ?? new Set<string>();
      seen.set(w.doc, used);
      for (const c of w.header) {
        const entry = documentedAs(c, entries, w, metrics);
        if (entry === undefined) missing.push(`${w.where}: column ${c} is not in docs/outputs.md under "### ${w.doc}"`);
        else used.add(entry);
      }
    }
    expect(missing, missing.join('\n')).toEqual([]);
    // Every table of the doc describes a file, and each of its columns occurs in some file (a module's own metrics excepted: the example has none).
    const unused: string[] = [];
    for (const [doc, entries] of tables) {
      const used = seen.get(doc);
      if (used === undefined) {
        unused.push(`"### ${doc}": no file desim wrote in this test is described by it`);
        continue;
      }
      for (const e of entries) if (!used.has(e) && e !== '<module metric>') unused.push(`"### ${doc}": ${e} occurs in no file`);
    }
    expect(unused, unused.join('\n')).toEqual([]);

    // The rules of the doc's first section, on every cell that is not JSON or free text.
    const broken: string[] = [];
    for (const w of files) {
      w.header.forEach((c, i) => {
        if (c === 'call' || c === 'reply' || c === 'error' || (c === 'value' && !w.where.endsWith('trace-node.csv'))) return;
        for (const r of w.rows) {
          const cell = r[i] ?? '';
          if (/^-?\d+(\.\d+)?e[-+]?\d+$/i.test(cell) || /^(NaN|-?Infinity|true|false)$/.test(cell)) broken.push(`${w.where}: ${c} = ${cell}`);
        }
      });
    }
    expect(broken.slice(0, 10), broken.slice(0, 10).join('\n')).toEqual([]);
  });

  it('names every column with its unit: a unit suffix exactly when its row gives a unit, the one its unit has', () => {
    const suffixes = docSuffixes();
    expect(suffixes.get('s')).toBe('_s');
    const all = [...suffixes.values()];
    const wrong: string[] = [];
    for (const [doc, rows] of docRows()) {
      for (const { column, unit } of rows) {
        // `<metric>_mean`, `gossip_<metric>`, `<parameter>`: the unit is the metric's or the parameter's.
        if (column.includes('<')) continue;
        // The longest suffix the name ends in (`_bytes_per_member_period`, not `_per_member_period`).
        const has = all.filter((x) => column.endsWith(x) && column.length > x.length).sort((x, y) => y.length - x.length)[0];
        const want = suffixes.get(unit);
        const where = `"### ${doc}": ${column} (unit ${unit})`;
        if (want !== undefined) {
          if (has !== want) wrong.push(`${where} should end in ${want}`);
          else if (unitOf(column).label === '') wrong.push(`${where}: desim table shows no unit for it`);
          else if (!readableName(column).endsWith(')')) wrong.push(`${where}: figures show no unit for it (${readableName(column)})`);
        } else if (UNITLESS.has(unit) || /^as |^the /.test(unit)) {
          if (has !== undefined) wrong.push(`${where} is unitless but ends in the unit suffix ${has}`);
          else if (unitOf(column).label !== '') wrong.push(`${where} is unitless but desim table shows the unit ${unitOf(column).label}`);
        } else wrong.push(`${where}: the unit has no suffix in the doc's suffix table, and is none of ${[...UNITLESS].join(', ')}`);
      }
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('lists every value a label column takes: each cell is one of the values in backticks on its row', async () => {
    const rows = docRows();
    const unlisted = new Set<string>();
    for (const w of await allFiles()) {
      for (const row of rows.get(w.doc) ?? []) {
        if (row.unit !== 'label') continue;
        const values = new Set([...row.meaning.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));
        expect(values.size, `"### ${w.doc}": ${row.column} is a label but lists no value`).toBeGreaterThan(0);
        const i = w.header.indexOf(row.column);
        if (i < 0) continue;
        for (const r of w.rows) {
          const cell = r[i] ?? '';
          if (cell === '' && row.emptyWhen !== 'never') continue;
          if (!values.has(cell)) unlisted.add(`${w.where}: ${row.column} = ${cell} is not listed under "### ${w.doc}"`);
        }
      }
    }
    expect([...unlisted], [...unlisted].join('\n')).toEqual([]);
  });
});

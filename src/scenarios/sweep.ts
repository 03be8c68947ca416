/**
 * Parameter sweeps: the cartesian product of varied values × replications.
 *
 * Theory of operation. Runs are enumerated in a fixed order (the first `--vary`
 * changes slowest, replications fastest) and numbered `r0000`, `r0001`, ...
 * A run's seed is derived from (scenario seed, its parameter values,
 * replication) by hashing, never from its number, its worker or the order runs
 * finish, so `--jobs 1`, `--jobs 8` and any sharding give the same numbers.
 *
 * Each finished run is written at once, atomically, as `runs/<run_id>.json`
 * (its seed, parameters, metrics and the hash of its resolved scenario). The
 * tables are assembled from those files only when every run is present:
 *
 *   sweep.json     what was swept (identity of the sweep; equal for every shard)
 *   summary.csv    one row per run: run_id, rep, seed, each varied parameter, each metric
 *   aggregate.csv  one row per parameter combination: runs, and per metric mean, sd, ci95_lo, ci95_hi
 *   <metric>.svg   each metric against the first varied parameter, with 95% CI error bars
 *
 * So an interrupted sweep keeps every finished run; `--resume` skips them
 * (after checking they belong to the same sweep), and `merge` combines shard
 * folders into exactly the files an unsharded sweep writes.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toCsv, type Cell } from '../kernel/csv.js';
import type { Issue, ProtocolDriver } from './driver.js';
import { ScenarioError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { canonicalJson, checkScenario, scenarioHash } from './loader.js';
import type { Override, Variation } from './overrides.js';
import { DESIM_VERSION } from './package-info.js';
import { plotDirectory } from './plot.js';
import { executeScenario, withSeed } from './runner.js';
import { summarize } from './stats.js';

/** One run of a sweep. */
export interface SweepRun {
  readonly runId: string;
  readonly index: number;
  readonly rep: number;
  /** The value of each varied parameter, in `--vary` order. */
  readonly values: readonly unknown[];
  readonly seed: number;
}

/** What a finished run leaves in `runs/<run_id>.json`. */
export interface RunRecord {
  readonly run_id: string;
  readonly rep: number;
  readonly seed: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly scenario_hash: string;
}

/** The identity of a sweep (`sweep.json`). */
export interface SweepIdentity {
  /** The scenario's name (not its path: shards may run from different folders). */
  readonly scenario: string;
  readonly base_hash: string;
  readonly vary: readonly string[];
  readonly values: Readonly<Record<string, readonly unknown[]>>;
  readonly reps: number;
  readonly runs: number;
  readonly metrics: readonly string[];
  readonly desim_version: string;
}

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** The scenario as parsed from its file (before overrides). */
  readonly raw: unknown;
  readonly file: string;
  readonly drivers: readonly ProtocolDriver[];
  /** `--set` overrides applied to every run. */
  readonly sets: readonly Override[];
  readonly variations: readonly Variation[];
  readonly reps: number;
  readonly outDir: string;
  /** Worker threads; 1 runs in this thread. Default: all cores. */
  readonly jobs?: number;
  /** Run only runs with index % count === index. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Keep finished runs of the same sweep found in outDir. */
  readonly resume?: boolean;
  /** Called after each run with (done, total) over this invocation's share; `cached` counts resumed runs. */
  readonly onProgress?: (p: { done: number; total: number; cached: number }) => void;
  /** Stops scheduling new runs when it returns true (SIGINT). */
  readonly shouldStop?: () => boolean;
}

/** What {@link runSweep} did. */
export interface SweepReport {
  readonly outDir: string;
  readonly total: number;
  readonly ran: number;
  readonly resumed: number;
  /** True when every run of the sweep is present and the tables were written. */
  readonly complete: boolean;
  readonly files: readonly string[];
}

/** The seed of one run: the first 32 bits of sha256(base seed, parameter values, replication). */
export function deriveSeed(baseSeed: number, params: Readonly<Record<string, unknown>>, rep: number): number {
  const h = createHash('sha256').update(`desim-run\u0000${baseSeed}\u0000${canonicalJson(params)}\u0000${rep}`).digest();
  return h.readUInt32BE(0);
}

/** Enumerates the runs of a sweep in their fixed order. */
export function planRuns(baseSeed: number, variations: readonly Variation[], reps: number): SweepRun[] {
  const runs: SweepRun[] = [];
  const total = variations.reduce((n, v) => n * v.values.length, 1) * reps;
  const width = Math.max(4, String(total - 1).length);
  const combo = (i: number): unknown[] => {
    const vals: unknown[] = [];
    let rest = i;
    for (let k = variations.length - 1; k >= 0; k--) {
      const v = variations[k] as Variation;
      vals[k] = v.values[rest % v.values.length];
      rest = Math.floor(rest / v.values.length);
    }
    return vals;
  };
  for (let index = 0; index < total; index++) {
    const rep = index % reps;
    const values = combo(Math.floor(index / reps));
    const params = Object.fromEntries(variations.map((v, k) => [v.text, values[k]]));
    runs.push({ runId: `r${String(index).padStart(width, '0')}`, index, rep, values, seed: deriveSeed(baseSeed, params, rep) });
  }
  return runs;
}

function runOverrides(sets: readonly Override[], variations: readonly Variation[], run: SweepRun): Override[] {
  return [...sets, ...variations.map((v, k) => ({ path: v.path, text: v.text, value: run.values[k] }))];
}

/** The job a worker runs: validate the run's scenario and execute it without traces or plots. */
export interface RunJob {
  readonly raw: unknown;
  readonly file: string;
  readonly overrides: readonly Override[];
  readonly run: SweepRun;
  readonly params: Readonly<Record<string, unknown>>;
}

/** Executes one sweep run (in this thread or a worker). */
export function executeRun(job: RunJob, drivers: readonly ProtocolDriver[]): RunRecord {
  const checked = checkScenario(job.raw, drivers, job.overrides);
  if (!checked.ok) throw new ScenarioError(job.file, checked.issues);
  const scenario = withSeed({ ...checked.scenario, outputs: { traces: [], plots: false } }, job.run.seed);
  const result = executeScenario(scenario, undefined);
  return {
    run_id: job.run.runId,
    rep: job.run.rep,
    seed: job.run.seed,
    params: job.params,
    metrics: result.metrics,
    scenario_hash: scenarioHash(scenario),
  };
}

function identity(opts: SweepOptions, name: string, baseHash: string, total: number, metrics: readonly string[]): SweepIdentity {
  return {
    scenario: name,
    base_hash: baseHash,
    vary: opts.variations.map((v) => v.text),
    values: Object.fromEntries(opts.variations.map((v) => [v.text, v.values])),
    reps: opts.reps,
    runs: total,
    metrics,
    desim_version: DESIM_VERSION,
  };
}

/** Runs (this shard of) a sweep. Throws {@link ScenarioError} before running anything if any run's scenario is invalid. */
export async function runSweep(opts: SweepOptions): Promise<SweepReport> {
  if (!Number.isInteger(opts.reps) || opts.reps < 1) throw new ScenarioError('--reps', [{ path: '--reps', message: `expected an integer >= 1, got ${opts.reps}` }]);
  const base = checkScenario(opts.raw, opts.drivers, opts.sets);
  if (!base.ok) throw new ScenarioError(opts.file, base.issues);
  const runs = planRuns(base.scenario.seed, opts.variations, opts.reps);
  // Validate every parameter combination first: bad values fail before any work.
  const issues: Issue[] = [];
  for (let i = 0; i < runs.length; i += opts.reps) {
    const r = checkScenario(opts.raw, opts.drivers, runOverrides(opts.sets, opts.variations, runs[i] as SweepRun));
    if (!r.ok) {
      const label = opts.variations.map((v, k) => `${v.text}=${JSON.stringify((runs[i] as SweepRun).values[k])}`).join(' ');
      issues.push(...r.issues.map((x) => ({ path: x.path, message: `${x.message} (with --vary ${label})` })));
    }
  }
  if (issues.length > 0) throw new ScenarioError(opts.file, issues);

  const baseHash = scenarioHash(base.scenario);
  const runsDir = join(opts.outDir, 'runs');
  const idPath = join(opts.outDir, 'sweep.json');
  const ident0 = identity(opts, base.scenario.name, baseHash, runs.length, []);
  if (existsSync(idPath)) {
    const old = JSON.parse(readFileSync(idPath, 'utf8')) as SweepIdentity;
    const same = canonicalJson({ ...old, metrics: [] }) === canonicalJson(ident0);
    if (opts.resume === true && !same) {
      throw new ScenarioError(opts.outDir, [{ path: '--resume', message: 'the folder holds a different sweep (scenario, overrides, --vary or --reps changed); refusing to mix results: use another --out' }]);
    }
    if (opts.resume !== true) rmSync(opts.outDir, { recursive: true, force: true });
  } else if (opts.resume !== true && existsSync(runsDir)) {
    rmSync(runsDir, { recursive: true, force: true });
  }
  mkdirSync(runsDir, { recursive: true });
  if (!existsSync(idPath)) writeFileAtomic(idPath, JSON.stringify(ident0, null, 2) + '\n');

  const mine = opts.shard === undefined ? runs : runs.filter((r) => r.index % (opts.shard as { count: number }).count === (opts.shard as { index: number }).index);
  const done = new Set<string>();
  if (opts.resume === true) {
    for (const r of mine) {
      const f = join(runsDir, `${r.runId}.json`);
      if (!existsSync(f)) continue;
      const rec = JSON.parse(readFileSync(f, 'utf8')) as RunRecord;
      if (rec.seed !== r.seed) throw new ScenarioError(opts.outDir, [{ path: `runs/${r.runId}.json`, message: 'belongs to a different sweep; refusing to mix results' }]);
      done.add(r.runId);
    }
  }
  const todo = mine.filter((r) => !done.has(r.runId));
  let finished = 0;
  const report = (): void => opts.onProgress?.({ done: finished + done.size, total: mine.length, cached: done.size });
  report();
  const jobOf = (run: SweepRun): RunJob => ({
    raw: opts.raw,
    file: opts.file,
    overrides: runOverrides(opts.sets, opts.variations, run),
    run,
    params: Object.fromEntries(opts.variations.map((v, k) => [v.text, run.values[k]])),
  });
  const save = (rec: RunRecord): void => {
    writeFileAtomic(join(runsDir, `${rec.run_id}.json`), JSON.stringify(rec) + '\n');
    finished++;
    report();
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? cpus().length, todo.length));
  if (jobs <= 1) {
    for (const run of todo) {
      // Let signal handlers run between runs (a SIGINT sets shouldStop).
      await new Promise((resolve) => setImmediate(resolve));
      if (opts.shouldStop?.() === true) break;
      save(executeRun(jobOf(run), opts.drivers));
    }
  } else {
    const { default: Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: workerUrl(), minThreads: jobs, maxThreads: jobs, isolateWorkers: false });
    try {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < todo.length && opts.shouldStop?.() !== true) {
          const run = todo[next++] as SweepRun;
          save((await pool.run(jobOf(run))) as RunRecord);
        }
      };
      await Promise.all(Array.from({ length: jobs }, lane));
    } finally {
      await pool.destroy();
    }
  }
  const complete = await finalizeSweep(opts.outDir);
  return {
    outDir: opts.outDir,
    total: runs.length,
    ran: finished,
    resumed: done.size,
    complete,
    files: readdirSync(opts.outDir).filter((f) => f !== 'runs').sort(),
  };
}

function workerUrl(): string {
  const here = fileURLToPath(import.meta.url);
  // Under a TypeScript loader (tests) this module is src/scenarios/sweep.ts; workers run the built JS.
  return here.endsWith('.ts') ? here.replace(/src[\\/]scenarios[\\/]sweep\.ts$/, 'dist/src/scenarios/sweep-worker.js') : here.replace(/sweep\.js$/, 'sweep-worker.js');
}

/**
 * Writes summary.csv, aggregate.csv and the plots when every run of the sweep
 * in `dir` is present. Returns false (writing nothing) while runs are missing.
 */
export async function finalizeSweep(dir: string): Promise<boolean> {
  const ident = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepIdentity;
  const runsDir = join(dir, 'runs');
  const files = existsSync(runsDir) ? readdirSync(runsDir).filter((f) => /^r\d+\.json$/.test(f)).sort() : [];
  if (files.length < ident.runs) return false;
  const records = files.map((f) => JSON.parse(readFileSync(join(runsDir, f), 'utf8')) as RunRecord);
  const metrics = Object.keys(records[0]?.metrics ?? {});
  const vary = ident.vary;
  const cell = (v: unknown): Cell => (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v));
  writeFileAtomic(
    join(dir, 'summary.csv'),
    toCsv(
      ['run_id', 'rep', 'seed', ...vary, ...metrics],
      records.map((r) => [r.run_id, r.rep, r.seed, ...vary.map((v) => cell(r.params[v])), ...metrics.map((m) => r.metrics[m] as Cell)]),
    ),
  );
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = canonicalJson(vary.map((v) => r.params[v]));
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [r]);
    else g.push(r);
  }
  const aggRows: Cell[][] = [];
  for (const g of groups.values()) {
    const first = g[0] as RunRecord;
    const row: Cell[] = [...vary.map((v) => cell(first.params[v])), g.length];
    for (const m of metrics) {
      const s = summarize(g.map((r) => r.metrics[m] as number).filter((x) => Number.isFinite(x)));
      row.push(s.mean, s.sd, s.lo, s.hi);
    }
    aggRows.push(row);
  }
  writeFileAtomic(
    join(dir, 'aggregate.csv'),
    toCsv([...vary, 'runs', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_ci95_lo`, `${m}_ci95_hi`])], aggRows),
  );
  if (canonicalJson(ident.metrics) !== canonicalJson(metrics)) {
    writeFileAtomic(join(dir, 'sweep.json'), JSON.stringify({ ...ident, metrics }, null, 2) + '\n');
  }
  await plotDirectory(dir, { title: ident.scenario });
  return true;
}

/** Combines shard folders into `outDir`: exactly the files one unsharded sweep writes. */
export async function mergeSweeps(dirs: readonly string[], outDir: string): Promise<{ complete: boolean; missing: string[] }> {
  if (dirs.length === 0) throw new ScenarioError('merge', [{ path: '', message: 'expected at least one sweep folder' }]);
  let ident: SweepIdentity | undefined;
  const recs = new Map<string, string>();
  for (const d of dirs) {
    const idPath = join(d, 'sweep.json');
    if (!existsSync(idPath)) throw new ScenarioError(d, [{ path: 'sweep.json', message: 'not a sweep folder (no sweep.json)' }]);
    const id = JSON.parse(readFileSync(idPath, 'utf8')) as SweepIdentity;
    if (ident !== undefined && canonicalJson({ ...id, metrics: [] }) !== canonicalJson({ ...ident, metrics: [] })) {
      throw new ScenarioError(d, [{ path: 'sweep.json', message: `a different sweep than ${dirs[0]}; refusing to merge` }]);
    }
    ident ??= id;
    const runsDir = join(d, 'runs');
    if (!existsSync(runsDir)) continue;
    for (const f of readdirSync(runsDir).filter((x) => /^r\d+\.json$/.test(x)).sort()) {
      const text = readFileSync(join(runsDir, f), 'utf8');
      const prev = recs.get(f);
      if (prev !== undefined && prev !== text) throw new ScenarioError(d, [{ path: `runs/${f}`, message: 'differs from the same run in another folder' }]);
      recs.set(f, text);
    }
  }
  const id = ident as SweepIdentity;
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  writeFileAtomic(join(outDir, 'sweep.json'), JSON.stringify({ ...id, metrics: [] }, null, 2) + '\n');
  for (const [f, text] of recs) writeFileAtomic(join(outDir, 'runs', f), text);
  const width = Math.max(4, String(id.runs - 1).length);
  const missing = Array.from({ length: id.runs }, (_, i) => `r${String(i).padStart(width, '0')}`).filter((r) => !recs.has(`${r}.json`));
  const complete = missing.length === 0 && (await finalizeSweep(outDir));
  return { complete, missing };
}

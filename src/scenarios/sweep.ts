/**
 * Parameter sweeps: the cartesian product of varied values × replications
 * (mode `product`), or the varied lists taken side by side (mode `zip`: the
 * i-th combination takes the i-th value of every list) × replications.
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
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { count } from '../io/count.js';
import { parameterColumn, safeColumnName, type ColumnStyle } from '../io/csv-format.js';
import { toCsv, type Cell } from '../io/csv.js';
import type { Issue, ProtocolDriver } from './driver.js';
import { OutputError, ScenarioError } from './errors.js';
import { describeFsError, tmpSuffix } from '../io/fs.js';
import {
  checkOutDir,
  dropTemp,
  inspectOutDir,
  makeDirs,
  OUTPUT_MARKER,
  readJsonFile,
  removeOwnedFiles,
  requireFolder,
  RUN_RECORD,
  tempDirIn,
  writeFileAtomic,
  writeOutputFolder,
} from './files.js';
import { canonicalJson, checkScenario, scenarioHash, type Scenario } from './loader.js';
import type { Override, Variation } from './overrides.js';
import { builtWorkerFile, DESIM_VERSION } from './package-info.js';
import { threadCpuSeconds } from './cpu-time.js';
import { RunQueue } from './run-queue.js';
import { plotDirectory, type FigureRenderer } from './plot.js';
import type { PlotFormat } from './plots/formats.js';
import { MAX_PLAN_REPS } from './plan.js';
import { inputFiles, parseInputs, shortSha256, type InputFile } from './replay.js';
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
  /**
   * The files the run read besides its scenario (its protocol module), with their sha256 then; absent
   * when it read none. `--resume` and the tables refuse a sweep whose runs read one file with different
   * bytes.
   */
  readonly inputs?: readonly InputFile[];
}

/** The identity of a sweep (`sweep.json`). */
export interface SweepIdentity {
  /** desim's signature: `"sweep"`. */
  readonly desim_output?: 'sweep';
  /** The scenario's name (not its path: shards may run from different folders). */
  readonly scenario: string;
  readonly base_hash: string;
  /**
   * The `--set` overrides every run got, as given (`path=value`), in the order they
   * apply: a plan's `set` first, then the command line's (absent in folders of earlier versions).
   */
  readonly set?: readonly string[];
  /** The scenario's seed after the overrides: the base the runs' seeds derive from (absent in folders of earlier versions). */
  readonly base_seed?: number;
  readonly vary: readonly string[];
  readonly values: Readonly<Record<string, readonly unknown[]>>;
  readonly reps: number;
  readonly runs: number;
  readonly metrics: readonly string[];
  readonly desim_version: string;
  /** The table and plot files desim wrote (once the sweep is complete). */
  readonly files?: readonly string[];
  /** Whether the sweep draws its plots (the scenario's `outputs.plots`; absent in desim 0.1: true). */
  readonly plots?: boolean;
  /** How the varied lists combine; absent means `product`. */
  readonly mode?: SweepMode;
  /** The plan file the sweep was started from, as parsed (absent for a `--vary` command line). */
  readonly plan?: unknown;
  /** How parameter columns are named in summary.csv and aggregate.csv (`--columns`); absent means `paths`. */
  readonly columns?: ColumnStyle;
}

/** How varied lists combine: every combination (`product`) or side by side (`zip`, lists of equal length). */
export type SweepMode = 'product' | 'zip';

/** The number of parameter combinations of a sweep. */
export function combinations(lengths: readonly number[], mode: SweepMode = 'product'): number {
  if (mode === 'zip') return lengths.length === 0 ? 1 : Math.min(...lengths);
  return lengths.reduce((n, l) => n * l, 1);
}

/** True when two sweep.json files describe the same sweep (metrics and files aside). */
function sameSweep(a: SweepIdentity, b: SweepIdentity): boolean {
  const key = (x: SweepIdentity) => canonicalJson([x.scenario, x.base_hash, x.vary, x.values, x.reps, x.runs, x.desim_version, x.mode ?? 'product']);
  return key(a) === key(b);
}

const SWEEP_JSON_HELP = "it is desim's record of what the folder holds: restore it, or start the sweep again in another --out";
const RUN_JSON_HELP = 'delete this file and rerun the sweep with --resume to redo that run';

function readIdentity(dir: string): SweepIdentity {
  const path = join(dir, 'sweep.json');
  const id = readJsonFile<SweepIdentity>(path, SWEEP_JSON_HELP);
  const bad = (what: string): never => {
    throw new OutputError(path, `is not a desim sweep record (${what}); ${SWEEP_JSON_HELP}`);
  };
  if (typeof id !== 'object' || id === null || Array.isArray(id)) bad('not an object');
  if (!Array.isArray(id.vary) || !id.vary.every((v) => typeof v === 'string')) bad('"vary" is not a list of names');
  if (
    typeof id.values !== 'object' ||
    id.values === null ||
    !id.vary.every((v) => Array.isArray(id.values[v]) && (id.values[v] as unknown[]).length > 0)
  )
    bad('"values" does not match "vary"');
  if (!Number.isSafeInteger(id.reps) || id.reps < 1) bad('"reps" is not a whole number >= 1');
  if (id.mode !== undefined && id.mode !== 'product' && id.mode !== 'zip') bad('"mode" is not product or zip');
  if (id.set !== undefined && (!Array.isArray(id.set) || !id.set.every((o) => typeof o === 'string'))) bad('"set" is not a list of path=value');
  if (id.base_seed !== undefined && !Number.isSafeInteger(id.base_seed)) bad('"base_seed" is not a whole number');
  const expected =
    combinations(
      id.vary.map((v) => (id.values[v] as unknown[]).length),
      id.mode,
    ) * id.reps;
  if (id.runs !== expected || expected > MAX_RUNS) bad(`"runs" is not reps times the number of combinations (${expected})`);
  return id;
}

/**
 * Creates `path` with `text` only if it does not exist, all at once (a linked
 * temporary file): two sweeps started into the same new folder cannot both
 * claim it.
 */
function createExclusive(path: string, text: string, dir: string): void {
  const tmp = `${path}.${tmpSuffix('tmp')}`;
  writeFileAtomic(tmp, text);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new OutputError(dir, 'another sweep started writing this folder at the same time; use another --out');
    throw new OutputError(path, `cannot write: ${describeFsError(err)}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The most runs one sweep may have: each leaves a file, and the tables are assembled in memory. */
const MAX_RUNS = 1_000_000;

function readRunRecord(path: string): RunRecord {
  const rec = readJsonFile<RunRecord>(path, RUN_JSON_HELP);
  if (typeof rec !== 'object' || rec === null || typeof rec.seed !== 'number' || typeof rec.metrics !== 'object' || rec.metrics === null) {
    throw new OutputError(path, `is not a desim run record; ${RUN_JSON_HELP}`);
  }
  if (rec.inputs !== undefined) {
    const issues: Issue[] = [];
    parseInputs(rec.inputs, issues);
    if (issues.length > 0)
      throw new OutputError(path, `is not a desim run record ("inputs" is not a list of key, path and sha256); ${RUN_JSON_HELP}`);
  }
  return rec;
}

const MIXED_ADVICE = 'refusing to mix results: restore the file, or start the sweep again with --overwrite or another --out';

/**
 * Why run record `name` (`runs/<id>.json`) may not join a sweep whose run now reads `now`: a file it
 * read has other bytes, or it recorded none of a file the run reads (written by an earlier desim).
 */
function inputMismatch(rec: RunRecord, now: readonly InputFile[]): string | undefined {
  const then = rec.inputs ?? [];
  for (const n of now) {
    const t = then.find((i) => i.key === n.key);
    if (t === undefined)
      return `has no sha256 of ${n.path} (written before desim recorded them), so desim cannot tell whether that file changed since; refusing to mix results: start the sweep again with --overwrite or another --out`;
    if (t.path !== n.path || t.sha256 !== n.sha256)
      return `ran ${t.path} with sha256 ${shortSha256(t.sha256)}; the run now reads ${n.path} with sha256 ${shortSha256(n.sha256)}; ${MIXED_ADVICE}`;
  }
  const gone = then.find((t) => !now.some((n) => n.key === t.key));
  return gone === undefined
    ? undefined
    : `ran ${gone.path} (sha256 ${shortSha256(gone.sha256)}); the run now reads no file for ${gone.key}; ${MIXED_ADVICE}`;
}

/** Whether every run of a sweep that varies `vary` reads the same module (no varied path names one). */
function oneModuleForAll(vary: readonly string[]): boolean {
  return !vary.some((v) => v === 'protocol' || v.startsWith('protocol.module'));
}

/**
 * The first two records that read one file (same key and path) with different bytes, as a message;
 * undefined if none. With `sameInputs` (no varied parameter names the module) every run read the same
 * files, so a record that names none of a file that another names is refused too (written before
 * desim recorded them: it cannot be checked).
 */
function mixedInputs(records: readonly { readonly name: string; readonly rec: RunRecord }[], sameInputs: boolean): string | undefined {
  const first = new Map<string, { name: string; input: InputFile }>();
  for (const { name, rec } of records) {
    for (const i of rec.inputs ?? []) {
      const k = `${i.key}\0${i.path}`;
      const f = first.get(k);
      if (f === undefined) first.set(k, { name, input: i });
      else if (f.input.sha256 !== i.sha256)
        return `${f.name} and ${name} read ${i.path} with different bytes (sha256 ${shortSha256(f.input.sha256)} and ${shortSha256(i.sha256)}): the file changed between runs; refusing to mix results`;
    }
  }
  if (sameInputs) {
    for (const { name, input } of first.values()) {
      const bare = records.find(({ rec }) => !(rec.inputs ?? []).some((i) => i.key === input.key));
      if (bare !== undefined)
        return `${bare.name} records no sha256 of ${input.path}, which ${name} read (it was written before desim recorded them), so desim cannot tell whether they ran the same file; refusing to mix results`;
    }
  }
  return undefined;
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
  /** Replications per combination: an integer in 1..100000 (`MAX_PLAN_REPS`, as in a plan file). */
  readonly reps: number;
  /** How the variations combine. Default `product`. */
  readonly mode?: SweepMode;
  /** The plan file's content, recorded in sweep.json (see plan.ts). */
  readonly plan?: unknown;
  readonly outDir: string;
  /** Worker processes; 1 runs in this thread. Default: all cores. */
  readonly jobs?: number;
  /** Run only runs with index % count === index. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Keep finished runs of the same sweep found in outDir. */
  readonly resume?: boolean;
  /**
   * Start again in a folder that holds a sweep (its desim files are deleted,
   * nothing else), or write into a folder desim did not write (never deleting
   * or replacing the files already there). Default false: such folders are
   * refused with an OutputError that names the flags.
   */
  readonly overwrite?: boolean;
  /** Called after each run with (done, total) over this invocation's share; `cached` counts resumed runs. */
  readonly onProgress?: (p: { done: number; total: number; cached: number }) => void;
  /** Stops scheduling new runs when it returns true (SIGINT). */
  readonly shouldStop?: () => boolean;
  /** Formats of the plots (when the scenario draws plots). Default: `['svg']`. */
  readonly plotFormats?: readonly PlotFormat[];
  /**
   * How parameter columns are named (`--columns`): `paths` (as given, e.g.
   * `protocol.tcp.bottleneck.loss`) or `safe` (`protocol_tcp_bottleneck_loss`).
   * Default: what the folder's sweep.json records when resuming, else `paths`.
   */
  readonly columns?: ColumnStyle;
  /** Told where the CPU time goes, phase by phase and task by task (the CLI prints it under `DESIM_PROFILE=1`). Default: nothing is measured. */
  readonly onProfile?: (event: SweepProfileEvent) => void;
}

/**
 * One step of a sweep's profile, in CPU seconds of one thread (see
 * `cpu-time.ts`; the whole process's where threads cannot be told apart).
 * A `phase` is the calling thread's: `start-up` is all it used before
 * {@link runSweep} was called (loading desim, reading the scenario), the
 * others what it used in that phase of the sweep (`runs` includes waiting on
 * the workers, `figures` drawing them when there are no workers). A `task` is
 * a worker's (`thread`: the worker process's id; 0, the calling thread, with
 * `--jobs 1`): `start-up` is all the worker used until it was ready (loading
 * desim and the drivers), `renderer` loading the plotting engines while idle,
 * `run` and `figure` one run or one figure; `processCpuS` is all the worker's
 * process had used when it answered (its JavaScript thread and Node's own).
 */
export type SweepProfileEvent =
  | { readonly kind: 'phase'; readonly phase: 'start-up' | 'validate' | 'runs' | 'tables' | 'figures'; readonly cpuS: number }
  | {
      readonly kind: 'task';
      readonly task: 'start-up' | 'renderer' | 'run' | 'figure';
      readonly id: string;
      readonly thread: number;
      readonly cpuS: number;
      readonly processCpuS?: number;
    };

/**
 * What a worker answers: the task's value, the CPU seconds its JavaScript thread spent on it, the
 * worker (its process id) and the CPU seconds its whole process has used so far.
 */
export interface WorkerAnswer<T> {
  readonly value: T;
  readonly cpuS: number;
  readonly thread: number;
  readonly processCpuS: number;
}

/** A figure for a worker to draw (see {@link FigureRenderer}). */
export interface FigureTask {
  readonly spec: object;
  readonly formats: readonly PlotFormat[];
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
  /** Things the user should know about the results (e.g. replications that are all identical). */
  readonly warnings: readonly string[];
}

/** A run of a sweep failed: names the run and the `desim run` command that reproduces it alone. */
export class SweepRunError extends Error {
  override readonly name = 'SweepRunError';

  constructor(
    readonly runId: string,
    readonly rerun: string,
    message: string,
  ) {
    super(`run ${runId} failed: ${message}`);
  }
}

/** The seed of one run: the first 32 bits of sha256(base seed, parameter values, replication). */
export function deriveSeed(baseSeed: number, params: Readonly<Record<string, unknown>>, rep: number): number {
  const h = createHash('sha256')
    .update(`desim-run\u0000${baseSeed}\u0000${canonicalJson(params)}\u0000${rep}`)
    .digest();
  return h.readUInt32BE(0);
}

/** Enumerates the runs of a sweep in their fixed order. */
export function planRuns(baseSeed: number, variations: readonly Variation[], reps: number, mode: SweepMode = 'product'): SweepRun[] {
  const runs: SweepRun[] = [];
  const total =
    combinations(
      variations.map((v) => v.values.length),
      mode,
    ) * reps;
  const width = Math.max(4, String(total - 1).length);
  const combo = (i: number): unknown[] => {
    if (mode === 'zip') return variations.map((v) => v.values[i]);
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

/** The same parameter varied twice, the same value listed twice for one parameter (product), or lists of different lengths (zip). */
function duplicateVariations(variations: readonly Variation[], mode: SweepMode): Issue[] {
  const issues: Issue[] = [];
  if (mode === 'zip') {
    const lengths = new Set(variations.map((v) => v.values.length));
    if (lengths.size > 1) {
      issues.push({
        path: '--vary',
        message: `mode zip takes the i-th value of every list, so the lists must be equally long; got ${variations.map((v) => `${v.text}: ${v.values.length}`).join(', ')}`,
      });
    }
  }
  const paths = new Map<string, string>();
  for (const v of variations) {
    if (v.path.length === 1 && v.path[0] === 'seed') {
      issues.push({
        path: '--vary',
        message:
          "seed cannot be varied: every replication gets its own seed derived from the scenario's; use --reps for more, and --set seed=N for another base seed",
      });
      continue;
    }
    const key = canonicalJson(v.path);
    const prev = paths.get(key);
    if (prev !== undefined)
      issues.push({ path: '--vary', message: `${v.text} is varied twice (also as ${prev}); give all its values in one --vary` });
    paths.set(key, v.text);
    const values = new Map<string, unknown>();
    // In zip mode a value may repeat in one list (the combinations differ); identical combinations are caught below.
    for (const x of mode === 'zip' ? [] : v.values) {
      const k = canonicalJson(x);
      if (values.has(k))
        issues.push({ path: '--vary', message: `${v.text}: the value ${JSON.stringify(x)} is listed twice; replications come from --reps` });
      values.set(k, x);
    }
  }
  return issues;
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
  const inputs = inputFiles(checked.scenario, job.file);
  return {
    run_id: job.run.runId,
    rep: job.run.rep,
    seed: job.run.seed,
    params: job.params,
    metrics: result.metrics,
    scenario_hash: scenarioHash(scenario),
    ...(inputs.length > 0 ? { inputs } : {}),
  };
}

/** A run that threw: what the worker sends back instead of a record (errors lose their class between processes). */
export interface RunFailure {
  readonly failed: { readonly run_id: string; readonly seed: number; readonly message: string };
}

/** {@link executeRun}, with a thrown error turned into a {@link RunFailure}. */
export function executeRunCaught(job: RunJob, drivers: readonly ProtocolDriver[]): RunRecord | RunFailure {
  try {
    return executeRun(job, drivers);
  } catch (err) {
    return { failed: { run_id: job.run.runId, seed: job.run.seed, message: err instanceof Error ? err.message : String(err) } };
  }
}

const shellWord = (w: string): string => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
const overrideText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The `desim run` command that reruns one run of a sweep alone (same scenario, overrides and seed). */
export function rerunCommand(file: string, sets: readonly Override[], variations: readonly Variation[], run: SweepRun): string {
  const args = ['desim', 'run', file];
  for (const o of sets) args.push('--set', `${o.text}=${overrideText(o.value)}`);
  variations.forEach((v, k) => args.push('--set', `${v.text}=${overrideText(run.values[k])}`));
  args.push('--seed', String(run.seed));
  return args.map(shellWord).join(' ');
}

/** An override as the user gave it: the `--set` argument, or `path=value` (a plan's `set`, a library caller's override). */
const overrideArg = (o: Override): string => o.arg ?? `${o.text}=${overrideText(o.value)}`;

function identity(opts: SweepOptions, base: Scenario, baseHash: string, total: number, metrics: readonly string[]): SweepIdentity {
  return {
    plots: base.outputs.plots,
    ...(opts.mode === 'zip' ? { mode: 'zip' as const } : {}),
    ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
    ...(opts.columns === 'safe' ? { columns: 'safe' as const } : {}),
    [OUTPUT_MARKER]: 'sweep',
    scenario: base.name,
    base_hash: baseHash,
    set: opts.sets.map(overrideArg),
    base_seed: base.seed,
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
  opts.onProfile?.({ kind: 'phase', phase: 'start-up', cpuS: threadCpuSeconds() });
  if (!Number.isInteger(opts.reps) || opts.reps < 1 || opts.reps > MAX_PLAN_REPS)
    throw new ScenarioError('--reps', [{ path: '', message: `expected an integer in 1..${MAX_PLAN_REPS}, got ${opts.reps}` }]);
  const base = checkScenario(opts.raw, opts.drivers, opts.sets);
  if (!base.ok) throw new ScenarioError(opts.file, base.issues);
  const mode = opts.mode ?? 'product';
  const issues: Issue[] = [...duplicateVariations(opts.variations, mode)];
  if (opts.columns === 'safe') issues.push(...safeColumnClashes(opts.variations.map((v) => v.text)));
  if (issues.length > 0) throw new ScenarioError(opts.file, issues);
  const runs = planRuns(base.scenario.seed, opts.variations, opts.reps, mode);
  // The workers start now and load the drivers (a warm-up job each) while this thread
  // validates every combination below, instead of after it: their start-up no longer delays the
  // first runs. The pool is stopped however the sweep ends.
  const wanted = Math.max(1, Math.min(opts.jobs ?? cpus().length, runs.length));
  const pool = wanted > 1 ? await startPool(wanted, opts.onProfile) : undefined;
  try {
    return await sweepRuns(opts, base.scenario, runs, issues, pool);
  } finally {
    if (pool !== undefined) {
      await pool.pool.destroy();
      livePools.delete(pool.pool);
    }
  }
}

/** A started worker pool of `threads` threads and its warm-up jobs (each loads the worker module and the drivers). */
interface StartedPool {
  readonly pool: Tinypool;
  readonly threads: number;
  readonly warm: Promise<unknown>;
}
type Tinypool = InstanceType<(typeof import('tinypool'))['default']>;

/**
 * The semi-space of each sweep worker process, in MiB: 32, so a young generation of 96 MiB, twice
 * Node 20's default (48). A run allocates short-lived objects at a high rate; with the default each
 * worker scavenges twice as often and promotes more objects that then die in the old generation,
 * and on 2 cores the garbage collector's helper threads compete with the other worker for CPU.
 * Measured on the 30,000-node gossip sweep (docs/performance-history.md). Only memory and garbage-collection
 * work change, never a result. Costs about 50 MiB per worker (beside the tens of MiB a Node process
 * of its own costs).
 */
export const SWEEP_WORKER_SEMI_SPACE_MB = 32;

/**
 * Node flags a worker process takes from the sweep's own (`process.execArgv`): memory limits, source
 * maps, module resolution and loaders; true for a flag whose value may come as the next argument.
 * Anything else (an inspector port, `-e` code, `--test`, `--watch`, `--cpu-prof`) would make the
 * worker something other than a worker.
 */
const WORKER_FLAGS: Readonly<Record<string, boolean>> = {
  '--max-old-space-size': false,
  '--max-semi-space-size': false,
  '--stack-size': false,
  '--enable-source-maps': false,
  '--no-warnings': false,
  '--no-deprecation': false,
  '--conditions': true,
  '-C': true,
  '--import': true,
  '--loader': true,
  '--experimental-loader': true,
  '--require': true,
  '-r': true,
  '--disable-warning': true,
};

/** The flags of `execArgv` a sweep worker keeps (see WORKER_FLAGS), each with its value. */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i] as string;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!Object.hasOwn(WORKER_FLAGS, name)) continue;
    out.push(a);
    if (WORKER_FLAGS[name] === true && eq < 0 && i + 1 < execArgv.length) out.push(execArgv[++i] as string);
  }
  return out;
}

/** NODE_OPTIONS without an inspector or debugger flag, which a second process cannot share. */
function workerNodeOptions(v: string): string {
  return v
    .split(/\s+/)
    .filter((o) => o !== '' && !/^--(inspect|debug)/.test(o))
    .join(' ');
}

/**
 * The options of a sweep's worker pool of `workers` processes (exported for its test).
 *
 * Processes, not threads: in tinypool's worker threads V8 kept abandoning its optimized compilation
 * of the network's queue code ("maps became deprecated during optimization", 267-696 times in a
 * 6- or 12-run TCP sweep, against 0-2 in the main thread and 1 in a worker process), so the runs ran
 * on slower code while the compiler threads burnt CPU beside them. The 12-run TCP sweep of the
 * README with `--jobs 2`, eight interleaved rounds: 12.3-16.2 s wall with processes, 14.0-21.7 s
 * with threads. A worker process takes the sweep's memory and module flags (WORKER_FLAGS; the
 * young generation first, so that a flag of the user's wins) and its environment (NODE_OPTIONS
 * without an inspector); results come back by structured clone ('advanced' serialization), so
 * figures as bytes arrive intact.
 */
export function sweepPoolOptions(workers: number, execArgv: readonly string[] = process.execArgv, environment: NodeJS.ProcessEnv = process.env) {
  const env = Object.fromEntries(Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined));
  if (env['NODE_OPTIONS'] !== undefined) env['NODE_OPTIONS'] = workerNodeOptions(env['NODE_OPTIONS']);
  return {
    filename: builtWorkerFile(import.meta.url, 'sweep-worker.js'),
    runtime: 'child_process' as const,
    serialization: 'advanced' as const,
    env,
    execArgv: [`--max-semi-space-size=${SWEEP_WORKER_SEMI_SPACE_MB}`, ...workerExecArgv(execArgv)],
    minThreads: workers,
    maxThreads: workers,
    isolateWorkers: false,
  };
}

/** Pools not yet destroyed: their worker processes are killed if this process exits first. */
const livePools = new Set<Tinypool>();
let exitHook = false;

/**
 * Kills the worker processes of every live pool. Runs when this process exits by any path (a second
 * Ctrl-C, an error, process.exit): a worker ignores SIGINT and is busy for a whole run, so it would
 * otherwise go on computing after the sweep is gone. (A sweep killed by SIGKILL runs no hook: each
 * worker then exits when its current run ends, on losing its channel.)
 */
function killWorkers(): void {
  for (const pool of livePools) {
    for (const w of pool.threads) {
      try {
        process.kill(w.threadId, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** An error a worker process threw comes back as a plain {name, message, stack} object: an Error again (exported for its test). */
export function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    const err = new Error((e as { message: string }).message);
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string') err.name = name;
    return err;
  }
  return new Error(String(e));
}

/** The profile event of a worker's answer to a task. */
function taskEvent(task: 'start-up' | 'renderer' | 'run' | 'figure', id: string, a: WorkerAnswer<unknown>): SweepProfileEvent {
  return { kind: 'task', task, id, thread: a.thread, cpuS: a.cpuS, processCpuS: a.processCpuS };
}

/** pool.run, with a worker's error as an Error. */
async function onPool<T>(pool: Tinypool, task: unknown, name?: string): Promise<WorkerAnswer<T>> {
  try {
    return (await pool.run(task, name === undefined ? {} : { name })) as WorkerAnswer<T>;
  } catch (e) {
    throw asError(e);
  }
}

async function startPool(threads: number, onProfile: SweepOptions['onProfile']): Promise<StartedPool> {
  const { default: Tinypool } = await import('tinypool');
  const pool = new Tinypool(sweepPoolOptions(threads));
  livePools.add(pool);
  if (!exitHook) {
    process.on('exit', killWorkers);
    exitHook = true;
  }
  const warm = Promise.all(
    Array.from({ length: threads }, async () => {
      const a = await onPool<null>(pool, null);
      onProfile?.(taskEvent('start-up', '', a));
    }),
  );
  // A failed warm-up shows again on the first real job; here it must not go unhandled.
  warm.catch(() => {});
  return { pool, threads, warm };
}

/** Draws figures on the pool's threads (the same bytes as drawing them here: see drawFigure). */
function poolRenderer(pool: Tinypool, onProfile: SweepOptions['onProfile']): FigureRenderer {
  let n = 0;
  return async (spec, formats) => {
    const id = `figure ${n++}`;
    const a = await onPool<Uint8Array[]>(pool, { spec, formats } satisfies FigureTask, 'figure');
    onProfile?.(taskEvent('figure', id, a));
    return a.value;
  };
}

async function sweepRuns(
  opts: SweepOptions,
  baseScenario: Scenario,
  runs: readonly SweepRun[],
  issues: Issue[],
  started: StartedPool | undefined,
): Promise<SweepReport> {
  // Validate every parameter combination first: bad values fail before any work. Two combinations
  // that resolve to the same scenario would be counted as replications of each other: refused.
  const profile = opts.onProfile;
  let phaseStart = profile === undefined ? 0 : threadCpuSeconds();
  const phaseEnd = (phase: 'validate' | 'runs' | 'tables' | 'figures'): void => {
    if (profile === undefined) return;
    const now = threadCpuSeconds();
    profile({ kind: 'phase', phase, cpuS: now - phaseStart });
    phaseStart = now;
  };
  const seen = new Map<string, string>();
  /** Per parameter combination, the files its runs read besides the scenario, as they are now. */
  const comboInputs: InputFile[][] = [];
  for (let i = 0; i < runs.length && issues.length === 0; i += opts.reps) {
    // Let the pool's threads be handed their warm-up jobs meanwhile.
    if (started !== undefined) await new Promise((resolve) => setImmediate(resolve));
    const r = checkScenario(opts.raw, opts.drivers, runOverrides(opts.sets, opts.variations, runs[i] as SweepRun));
    const label = opts.variations.map((v, k) => `${v.text}=${JSON.stringify((runs[i] as SweepRun).values[k])}`).join(' ');
    if (!r.ok) {
      issues.push(
        ...r.issues.map((x) => ({ path: x.path, message: `${x.message} (with ${opts.plan !== undefined ? "the plan's vary" : '--vary'} ${label})` })),
      );
      continue;
    }
    comboInputs[i / opts.reps] = inputFiles(r.scenario, opts.file);
    const h = scenarioHash(r.scenario);
    const twin = seen.get(h);
    if (twin !== undefined) issues.push({ path: '--vary', message: `${label} gives the same scenario as ${twin}; each value may appear once` });
    else seen.set(h, label);
  }
  if (issues.length > 0) throw new ScenarioError(opts.file, issues);

  const base = { scenario: baseScenario };
  const baseHash = scenarioHash(base.scenario);
  const runsDir = join(opts.outDir, 'runs');
  const idPath = join(opts.outDir, 'sweep.json');
  const ident0 = identity(opts, base.scenario, baseHash, runs.length, []);
  prepareSweepDir(opts, ident0);
  makeDirs(runsDir);
  if (!existsSync(idPath)) createExclusive(idPath, JSON.stringify(ident0, null, 2) + '\n', opts.outDir);

  const mine =
    opts.shard === undefined
      ? runs
      : runs.filter((r) => r.index % (opts.shard as { count: number }).count === (opts.shard as { index: number }).index);
  const done = new Set<string>();
  if (opts.resume === true) {
    for (const r of mine) {
      const f = join(runsDir, `${r.runId}.json`);
      if (!existsSync(f)) continue;
      const rec = readRunRecord(f);
      if (rec.seed !== r.seed)
        throw new ScenarioError(opts.outDir, [{ path: `runs/${r.runId}.json`, message: 'belongs to a different sweep; refusing to mix results' }]);
      const mismatch = inputMismatch(rec, comboInputs[Math.floor(r.index / opts.reps)] ?? []);
      if (mismatch !== undefined) throw new ScenarioError(opts.outDir, [{ path: `runs/${r.runId}.json`, message: mismatch }]);
      done.add(r.runId);
    }
  }
  const todo = mine.filter((r) => !done.has(r.runId));
  // Validation, and preparing the folder (reading resumed runs included).
  phaseEnd('validate');
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
  const save = (out: RunRecord | RunFailure): void => {
    if ('failed' in out) {
      const run = runs.find((r) => r.runId === out.failed.run_id) as SweepRun;
      throw new SweepRunError(out.failed.run_id, rerunCommand(opts.file, opts.sets, opts.variations, run), out.failed.message);
    }
    writeFileAtomic(join(runsDir, `${out.run_id}.json`), JSON.stringify(out) + '\n');
    finished++;
    report();
  };
  const jobs = Math.max(1, Math.min(started?.threads ?? 1, todo.length));
  if (jobs <= 1 || started === undefined) {
    for (const run of todo) {
      // Let signal handlers run between runs (a SIGINT sets shouldStop).
      await new Promise((resolve) => setImmediate(resolve));
      if (opts.shouldStop?.() === true) break;
      const t0 = profile === undefined ? 0 : threadCpuSeconds();
      const out = executeRunCaught(jobOf(run), opts.drivers);
      profile?.({ kind: 'task', task: 'run', id: run.runId, thread: 0, cpuS: profile === undefined ? 0 : threadCpuSeconds() - t0 });
      save(out);
    }
  } else {
    const pool = started.pool;
    await started.warm;
    let failure: unknown;
    // A sweep that will be complete draws its figures on the pool: a worker left without runs at the
    // tail loads the plotting engines meanwhile, so the figures start at once when the last run ends.
    const willDraw = baseScenario.outputs.plots && todo.length + done.size === runs.length;
    const preloads: Promise<unknown>[] = [];
    {
      // Longest runs first, as measured (run-queue.ts): the order decides when a run starts, never its results.
      const queue = new RunQueue(todo, (r) => Math.floor(r.index / opts.reps));
      const lane = async (): Promise<void> => {
        while (queue.size > 0 && opts.shouldStop?.() !== true && failure === undefined) {
          const run = queue.next() as SweepRun;
          const answer = await onPool<RunRecord | RunFailure>(pool, jobOf(run));
          queue.finished(run, answer.cpuS);
          profile?.(taskEvent('run', run.runId, answer));
          try {
            save(answer.value);
          } catch (err) {
            failure ??= err;
          }
        }
        if (willDraw && failure === undefined && opts.shouldStop?.() !== true && queue.size === 0) {
          preloads.push(
            onPool<null>(pool, null, 'renderer').then(
              (a) => profile?.(taskEvent('renderer', '', a)),
              () => {}, // a failed preload shows again when the figures are drawn
            ),
          );
        }
      };
      await Promise.all(Array.from({ length: jobs }, lane));
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first worker failure, rethrown as caught
    if (failure !== undefined) throw failure;
    await Promise.all(preloads);
  }
  phaseEnd('runs');
  const renderer = started === undefined ? undefined : poolRenderer(started.pool, profile);
  const complete = await finalizeSweep(opts.outDir, opts.plotFormats, opts.columns, renderer, profile === undefined ? undefined : phaseEnd);
  return {
    outDir: opts.outDir,
    total: runs.length,
    ran: finished,
    resumed: done.size,
    complete,
    files: complete ? ['sweep.json', ...(readIdentity(opts.outDir).files ?? [])].sort() : ['sweep.json'],
    warnings: complete ? identicalReplicationWarnings(opts.outDir) : [],
  };
}

/**
 * Checks that `opts.outDir` may hold this sweep, and clears desim's files
 * from it under `--overwrite`. A folder that holds a sweep is continued only
 * with `--resume` (and only if it is the same sweep) or started again only
 * with `--overwrite`; a folder desim did not write is used only with
 * `--overwrite`, and then only if none of the files the sweep writes exists.
 */
function prepareSweepDir(opts: SweepOptions, ident: SweepIdentity): void {
  const dir = opts.outDir;
  const s = inspectOutDir(dir);
  if (s.state === 'desim' && s.kind === 'sweep') {
    const old = readIdentity(dir);
    const saved = existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).filter((f) => RUN_RECORD.test(f)).length : 0;
    if (opts.resume === true) {
      if (!sameSweep(old, ident)) {
        throw new OutputError(
          dir,
          'holds a different sweep (scenario, overrides, --vary, --reps or desim version changed); refusing to mix results: use another --out',
        );
      }
      return;
    }
    if (opts.overwrite === true) {
      removeOwnedFiles(dir, s);
      return;
    }
    throw new OutputError(
      dir,
      `holds a sweep with ${saved} of ${count(old.runs, 'run')} saved; use --resume to keep them and run the rest, --overwrite to delete desim's files there and start again, or another --out`,
    );
  }
  if (opts.resume === true && (s.state === 'missing' || s.state === 'empty')) return;
  const checked = checkOutDir(dir, 'sweep', { flag: '--out', overwrite: opts.overwrite === true });
  if (checked.state === 'foreign') {
    const clash = ['sweep.json', 'summary.csv', 'aggregate.csv', 'runs'].filter((f) => existsSync(join(dir, f)));
    if (clash.length > 0)
      throw new OutputError(dir, `holds ${clash.join(', ')}, which desim did not write and a sweep would replace; use another --out`);
  }
}

/** The identity with another column style (`paths` is recorded as no `columns` key); unchanged when `columns` is undefined. */
function withColumns(ident: SweepIdentity, columns: ColumnStyle | undefined): SweepIdentity {
  if (columns === undefined) return ident;
  const rest: { -readonly [K in keyof SweepIdentity]: SweepIdentity[K] } = { ...ident };
  delete rest.columns;
  return columns === 'safe' ? { ...rest, columns } : rest;
}

/** Parameters whose safe column names coincide (`a.b` and `a_b`): refused, since a table cannot hold both. */
function safeColumnClashes(paths: readonly string[]): Issue[] {
  const seen = new Map<string, string>();
  const issues: Issue[] = [];
  for (const p of paths) {
    const c = safeColumnName(p);
    const other = seen.get(c);
    if (other !== undefined) issues.push({ path: '--columns', message: `${other} and ${p} both become column ${c}; use --columns paths` });
    else seen.set(c, p);
  }
  return issues;
}

/** Warnings for a complete sweep whose replications gave identical metrics (nothing random in the scenario). */
function identicalReplicationWarnings(dir: string): string[] {
  const ident = readIdentity(dir);
  if (ident.reps < 2) return [];
  const records = readRecords(dir);
  const groups = groupRecords(records, ident.vary);
  let identical = 0;
  for (const g of groups.values()) if (new Set(g.map((r) => canonicalJson(r.metrics))).size === 1) identical++;
  if (identical === 0) return [];
  return [
    `${identical} of ${count(groups.size, 'parameter combination')} gave identical metrics in all ${ident.reps} replications: the scenario has nothing random for the seed to change (add loss, jitter or random phases), so their confidence intervals are empty`,
  ];
}

function readRecords(dir: string): RunRecord[] {
  const runsDir = join(dir, 'runs');
  const files = existsSync(runsDir)
    ? readdirSync(runsDir)
        .filter((f) => RUN_RECORD.test(f))
        .sort()
    : [];
  return files.map((f) => readRunRecord(join(runsDir, f)));
}

/**
 * The metric names of a sweep's runs, in the order they first appear (runs are read in run order).
 * Runs may name different metrics: a CUBIC share only where CUBIC shares the path, model columns by
 * flow count, a protocol module's own metrics. A run without a metric leaves its cell empty; no
 * metric of any run is dropped (the first run's names alone used to decide the columns).
 */
function metricNames(records: readonly RunRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records) for (const m of Object.keys(r.metrics)) names.add(m);
  return [...names];
}

function groupRecords(records: readonly RunRecord[], vary: readonly string[]): Map<string, RunRecord[]> {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = canonicalJson(vary.map((v) => r.params[v]));
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [r]);
    else g.push(r);
  }
  return groups;
}

/**
 * Writes summary.csv, aggregate.csv and the plots when every run of the sweep
 * in `dir` is present. Returns false (writing nothing) while runs are missing.
 */
export async function finalizeSweep(
  dir: string,
  plotFormats?: readonly PlotFormat[],
  columns?: ColumnStyle,
  renderer?: FigureRenderer,
  phaseEnd?: (phase: 'tables' | 'figures') => void,
): Promise<boolean> {
  const ident = withColumns(readIdentity(dir), columns);
  const records = readRecords(dir);
  if (records.length < ident.runs) return false;
  const mixed = mixedInputs(
    records.map((rec) => ({ name: `runs/${rec.run_id}.json`, rec })),
    oneModuleForAll(ident.vary),
  );
  if (mixed !== undefined)
    throw new OutputError(
      dir,
      `${mixed}: delete the run records whose sha256 is not the file's now (sha256sum shows it), then rerun the sweep with --resume`,
    );
  await writeSweepTables(dir, ident, records, (name) => (ident.files ?? []).includes(name), plotFormats, renderer, phaseEnd);
  return true;
}

/**
 * summary.csv, aggregate.csv and the plots, and sweep.json listing them. They
 * are rendered into a temporary folder first; the list is recorded in
 * sweep.json before any of them is moved into `dir`, so that an interrupted
 * sweep never leaves a file of desim's that its marker does not name.
 */
async function writeSweepTables(
  dir: string,
  ident: SweepIdentity,
  records: readonly RunRecord[],
  replaceable: (name: string) => boolean,
  plotFormats?: readonly PlotFormat[],
  renderer?: FigureRenderer,
  phaseEnd?: (phase: 'tables' | 'figures') => void,
): Promise<void> {
  const metrics = metricNames(records);
  const vary = ident.vary;
  const head = vary.map((v) => parameterColumn(v, ident.columns));
  const cell = (v: unknown): Cell => (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v));
  const tmp = tempDirIn(dir, dir);
  try {
    writeFileAtomic(
      join(tmp, 'summary.csv'),
      toCsv(
        ['run_id', 'rep', 'seed', ...head, ...metrics],
        records.map((r) => [r.run_id, r.rep, r.seed, ...vary.map((v) => cell(r.params[v])), ...metrics.map((m) => r.metrics[m] as Cell)]),
      ),
    );
    const aggRows: Cell[][] = [];
    for (const g of groupRecords(records, vary).values()) {
      const first = g[0] as RunRecord;
      const row: Cell[] = [...vary.map((v) => cell(first.params[v])), g.length];
      for (const m of metrics) {
        const s = summarize(g.map((r) => r.metrics[m] as number).filter((x) => Number.isFinite(x)));
        row.push(s.mean, s.sd, s.lo, s.hi);
      }
      aggRows.push(row);
    }
    writeFileAtomic(
      join(tmp, 'aggregate.csv'),
      toCsv([...head, 'runs', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_ci95_lo`, `${m}_ci95_hi`])], aggRows),
    );
    // The plots read the metrics from sweep.json beside aggregate.csv.
    writeFileAtomic(join(tmp, 'sweep.json'), JSON.stringify({ ...ident, metrics }, null, 2) + '\n');
    phaseEnd?.('tables');
    const plots =
      ident.plots === false
        ? []
        : await plotDirectory(tmp, {
            title: ident.scenario,
            ...(plotFormats === undefined ? {} : { formats: plotFormats }),
            ...(renderer === undefined ? {} : { renderer }),
          });
    phaseEnd?.('figures');
    const files = ['aggregate.csv', 'summary.csv', ...plots].sort();
    const inTheWay = files.filter((f) => existsSync(join(dir, f)) && !replaceable(f));
    if (inTheWay.length > 0) {
      throw new OutputError(
        dir,
        `holds ${inTheWay.join(', ')}, which desim did not write and the sweep would replace; move ${inTheWay.length === 1 ? 'it' : 'them'} away, then rerun with --resume`,
      );
    }
    const listed = [...new Set([...(ident.files ?? []), ...files])].sort();
    writeFileAtomic(join(dir, 'sweep.json'), JSON.stringify({ ...ident, metrics, files: listed }, null, 2) + '\n');
    for (const f of files) renameSync(join(tmp, f), join(dir, f));
  } finally {
    dropTemp(tmp);
  }
}

/**
 * Combines shard folders into `outDir`: exactly the files one unsharded sweep
 * writes, and nothing else. Refused (OutputError or ScenarioError, nothing
 * written) when the folders hold different sweeps, overlap, miss runs, or when
 * `outDir` is not empty (unless it is desim's merged sweep and `overwrite` is set).
 */
export async function mergeSweeps(
  dirs: readonly string[],
  outDir: string,
  options: { readonly overwrite?: boolean; readonly columns?: ColumnStyle } = {},
): Promise<{ files: string[] }> {
  if (dirs.length === 0) throw new ScenarioError('merge', [{ path: '', message: 'expected at least one sweep folder' }]);
  const target = inspectOutDir(outDir);
  if (target.state !== 'missing' && target.state !== 'empty') {
    const ours = target.state === 'desim' && target.kind === 'sweep' && target.foreign.length === 0;
    if (!ours || options.overwrite !== true) {
      throw new OutputError(
        outDir,
        `is not empty; merge writes only a new folder: use another --out${ours ? ', or --overwrite to replace this merged sweep' : ''}`,
      );
    }
  }
  let ident: SweepIdentity | undefined;
  const recs = new Map<string, { text: string; from: string }>();
  const seenDirs = new Map<string, string>();
  for (const d of dirs) {
    const real = resolve(d);
    if (seenDirs.has(real)) throw new ScenarioError('merge', [{ path: d, message: `given twice (also as ${seenDirs.get(real)})` }]);
    seenDirs.set(real, d);
    const out = resolve(outDir);
    if (real === out || out.startsWith(real + sep) || real.startsWith(out + sep))
      throw new ScenarioError('merge', [{ path: d, message: 'is, holds or lies inside the --out folder' }]);
    requireFolder(d);
    if (!existsSync(join(d, 'sweep.json'))) throw new ScenarioError(d, [{ path: 'sweep.json', message: 'not a sweep folder (no sweep.json)' }]);
    const id = readIdentity(d);
    if (ident !== undefined && !sameSweep(id, ident)) {
      throw new ScenarioError(d, [{ path: 'sweep.json', message: `a different sweep than ${dirs[0]}; refusing to merge` }]);
    }
    ident ??= id;
    const runsDir = join(d, 'runs');
    if (!existsSync(runsDir)) continue;
    for (const f of readdirSync(runsDir)
      .filter((x) => RUN_RECORD.test(x))
      .sort()) {
      readRunRecord(join(runsDir, f));
      const text = readFileSync(join(runsDir, f), 'utf8');
      const prev = recs.get(f);
      if (prev !== undefined) {
        throw new ScenarioError(d, [
          { path: `runs/${f}`, message: `is also in ${prev.from}: shards must not overlap (merge each shard folder once)` },
        ]);
      }
      recs.set(f, { text, from: d });
    }
  }
  const id = withColumns(ident as SweepIdentity, options.columns);
  if (id.columns === 'safe') {
    const clashes = safeColumnClashes(id.vary);
    if (clashes.length > 0) throw new ScenarioError('merge', clashes);
  }
  const width = Math.max(4, String(id.runs - 1).length);
  const expected = Array.from({ length: id.runs }, (_, i) => `r${String(i).padStart(width, '0')}.json`);
  const missing = expected.filter((r) => !recs.has(r)).map((f) => f.replace(/\.json$/, ''));
  const extra = [...recs.keys()].filter((f) => !expected.includes(f));
  if (extra.length > 0) throw new ScenarioError('merge', [{ path: extra[0] as string, message: `is not a run of this ${id.runs}-run sweep` }]);
  if (missing.length > 0) {
    throw new ScenarioError('merge', [
      {
        path: '',
        message: `${missing.length} of ${count(id.runs, 'run')} ${missing.length === 1 ? 'is' : 'are'} missing (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); run their shards, then merge again. Nothing was written.`,
      },
    ]);
  }
  const parsed = expected.map((f) => JSON.parse((recs.get(f) as { text: string }).text) as RunRecord);
  const mixed = mixedInputs(
    expected.map((f, k) => ({ name: `${(recs.get(f) as { from: string }).from}/runs/${f}`, rec: parsed[k] as RunRecord })),
    oneModuleForAll(id.vary),
  );
  if (mixed !== undefined)
    throw new ScenarioError('merge', [{ path: '', message: `${mixed}: rerun the shards that read the old file. Nothing was written.` }]);
  const files = await writeOutputFolder(outDir, 'sweep', { flag: '--out', overwrite: options.overwrite === true }, async (tmp) => {
    makeDirs(join(tmp, 'runs'));
    const clean: SweepIdentity = { ...id, metrics: [] };
    delete (clean as { files?: unknown }).files;
    writeFileAtomic(join(tmp, 'sweep.json'), JSON.stringify(clean, null, 2) + '\n');
    for (const [f, r] of recs) writeFileAtomic(join(tmp, 'runs', f), r.text);
    await writeSweepTables(tmp, clean, parsed, () => false);
  });
  return { files: files.filter((f) => f !== 'runs') };
}

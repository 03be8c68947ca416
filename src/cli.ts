#!/usr/bin/env node
/**
 * The desim command line: a thin yargs shell over the library. Only this file
 * (and the transport's command handlers) reads argv and env, writes to
 * stdout/stderr and sets exit codes:
 *   0 success, 1 a simulation or internal failure, 2 bad input (scenario file,
 *   arguments), 130 interrupted; `desim kv` also 3 (no reply) and 4 (the node
 *   answered with an error), see cli/net-commands.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  MAX_GOSSIP_NODES,
  MIN_GOSSIP_NODES,
  benchGossip,
  formatGossipBench,
  MAX_SCALING_REPS,
  gossipBenchFields,
  gossipScaling,
  type GossipBenchFields,
} from './bench/gossip.js';
import { MAX_PENDING, MIN_PENDING, benchKernel, benchKernelPopulations, benchKernelVsBare, defaultHoldEvents } from './bench/kernel.js';
import { benchTcp } from './bench/tcp.js';
import { benchUdp } from './bench/udp.js';
import { SimulationError } from './kernel/errors.js';
import { count } from './io/count.js';
import { COLUMN_STYLES } from './io/csv-format.js';
import { reproduce } from './reproduce.js';
import { bundledScenarioFile, bundledScenarios, recordedScenarioFile, resolveScenarioPath } from './scenarios/bundled.js';
import type { RunResult } from './scenarios/driver.js';
import { BUILTIN_DRIVERS, driversFor, loadScenarioFile } from './scenarios/drivers/index.js';
import { OutputError, ScenarioError } from './scenarios/errors.js';
import { checkOutDir, removeActiveTempDirs, writeFileAtomic } from './scenarios/files.js';
import { readScenarioFile, scenarioSummary, validateScenario, type Scenario } from './scenarios/loader.js';
import { parseSets, parseVaries } from './scenarios/overrides.js';
import { MAX_RANGE_COUNT } from './scenarios/ranges.js';
import { type PlotFormat, parseFormats } from './scenarios/plots/formats.js';
import { replotFolder } from './scenarios/replot.js';
import { inputChanges, inputFiles, readRunRecord, scenarioHashChange } from './scenarios/replay.js';
import { runScenario, withSeed } from './scenarios/runner.js';
import type { RunWorkerData, RunWorkerError } from './scenarios/run-worker.js';
import { scenarioJsonSchema } from './scenarios/schema.js';
import { mergeSweeps, runSweep, SweepRunError, type SweepMode } from './scenarios/sweep.js';
import { isPlan, loadPlan, MAX_PLAN_REPS } from './scenarios/plan.js';
import { TABLE_FORMATS, tableOfFolder, type TableFormat } from './scenarios/table.js';
import { writeReport } from './scenarios/report.js';
import { clusterCommand, kvCommand, nodeCommand } from './cli/net-commands.js';
import { SweepProfile } from './cli/sweep-profile.js';
import { exitOnSignals } from './cli/signals.js';
import { checkFlagValues, type FlagTable, numberFlag, UsageError, usageMessage } from './cli/flags.js';

const EXIT_BAD_INPUT = 2;

/** What bare `desim` says, after the top-level help. */
const NO_COMMAND = 'Say which command to run (see the list above).';

// `desim kv stats | head -3` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** A simulation that failed in the worker thread of `desim run` (errors lose their class between threads). */
class WorkerSimulationError extends Error {
  constructor(
    message: string,
    readonly seed: string,
    readonly causeStack: string | undefined,
  ) {
    super(message);
  }
}

function fail(err: unknown): never {
  removeActiveTempDirs();
  if (err instanceof WorkerSimulationError) simulationFailed(err.message, err.seed, err.causeStack);
  if (err instanceof ScenarioError || err instanceof UsageError || err instanceof OutputError) {
    process.stderr.write(`desim: ${err.message}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  if (err instanceof SimulationError) simulationFailed(err.message, err.seed, err.cause instanceof Error ? err.cause.stack : undefined);
  if (err instanceof SweepRunError) {
    process.stderr.write(`desim: ${err.message}\nrerun it alone: ${err.rerun}\n`);
    process.exit(1);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`desim: ${e.message}\n`);
  if (process.env['DESIM_DEBUG'] !== undefined) process.stderr.write(`${e.stack ?? ''}\n`);
  else process.stderr.write('(set DESIM_DEBUG=1 for the stack trace)\n');
  process.exit(1);
}

/** Exit 1 with the simulated time, seed and event (in `message`) and the command that reruns it. */
function simulationFailed(message: string, seed: string, causeStack: string | undefined): never {
  process.stderr.write(`desim: simulation failed: ${message}\n`);
  if (causeStack !== undefined && process.env['DESIM_DEBUG'] !== undefined) process.stderr.write(`${causeStack}\n`);
  const cmd = process.argv.slice(2).filter((a, i, all) => a !== '--seed' && !a.startsWith('--seed=') && all[i - 1] !== '--seed');
  process.stderr.write(`rerun: desim ${cmd.join(' ')} --seed ${seed}\n`);
  process.exit(1);
}

/** `dir/` for messages, without doubling a slash the user typed. */
const slash = (dir: string): string => (dir.endsWith('/') ? dir : `${dir}/`);

/** Runs the simulation of `desim run` in a worker thread, so a signal can stop it (see run-worker.ts). */
function workerExecutor(
  file: string,
  overrides: RunWorkerData['overrides'],
  onProgress: (f: number) => void,
  track: (w: Worker | undefined) => void,
) {
  return (scenario: Scenario, dir: string): Promise<RunResult> =>
    new Promise((resolve, reject) => {
      const data: RunWorkerData = { file, overrides, seed: scenario.seed, dir };
      const worker = new Worker(new URL('./scenarios/run-worker.js', import.meta.url), { workerData: data });
      track(worker);
      let settled = false;
      worker.on('message', (m: { progress?: number; result?: RunResult; error?: RunWorkerError }) => {
        if (m.progress !== undefined) onProgress(m.progress);
        else if (m.result !== undefined) {
          settled = true;
          resolve(m.result);
        } else if (m.error !== undefined) {
          settled = true;
          if (m.error.kind === 'simulation') {
            reject(new WorkerSimulationError(m.error.message, m.error.seed ?? String(scenario.seed), m.error.stack));
            return;
          }
          const e = new Error(m.error.message);
          if (m.error.stack !== undefined) e.stack = m.error.stack;
          reject(e);
        }
      });
      worker.on('error', (err) => {
        settled = true;
        reject(err);
      });
      worker.on('exit', (code) => {
        track(undefined);
        if (!settled) reject(new Error(`the simulation worker stopped (exit code ${code})`));
      });
    });
}

function overridesFrom(sets: readonly string[] | undefined) {
  const parsed = parseSets(sets ?? []);
  if (!parsed.ok) throw new ScenarioError('--set', parsed.issues);
  return parsed.overrides;
}

/**
 * Reads, overrides and validates a scenario file. Imports the protocol module
 * it names (after the overrides) unless `loadModules` is false: then the
 * `module` section is only checked against the schema, and no user code runs.
 */
async function load(file: string, sets: readonly string[] | undefined, loadModules = true): Promise<Scenario> {
  const overrides = overridesFrom(sets);
  if (loadModules) return loadScenarioFile(file, overrides);
  return validateScenario(readScenarioFile(file), [...BUILTIN_DRIVERS], file, overrides);
}

/** Runs a sweep; with a plan, a problem of the scenario it names is reported as the plan's (the plan file, then the scenario file). */
async function runSweepFromPlan<T>(planFile: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (planFile !== undefined && err instanceof ScenarioError && err.file !== planFile)
      throw new ScenarioError(`${planFile} (scenario ${err.file})`, err.issues);
    throw err;
  }
}

/** The benchmark each `desim bench` flag belongs to. */
const BENCH_FLAG_OWNER = {
  pending: 'kernel',
  events: 'kernel',
  baseline: 'kernel',
  nodes: 'gossip',
  scaling: 'gossip',
  reps: 'gossip',
  sack: 'tcp',
  duration: 'udp',
  concurrency: 'udp',
  memory: 'udp',
  plain: 'udp',
} as const satisfies Readonly<Record<string, 'kernel' | 'gossip' | 'tcp' | 'udp'>>;

function printBench(name: string, fields: Record<string, number>, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ bench: name, ...fields }) + '\n');
    return;
  }
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`);
  process.stdout.write(`${name} ${parts.join(' ')}\n`);
}

/** Progress on stderr: a redrawn bar on a TTY, a plain line every 10% (or 30 s) otherwise. */
function progressPrinter(label: string, quiet: boolean): (done: number, total: number) => void {
  if (quiet) return () => {};
  const tty = process.stderr.isTTY === true;
  const t0 = process.hrtime.bigint();
  let lastPct = -1;
  let lastLine = 0;
  return (done, total) => {
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const frac = total === 0 ? 1 : done / total;
    const eta = done > 0 && frac < 1 ? (elapsed / done) * (total - done) : 0;
    const etaText = frac >= 1 ? `done in ${elapsed.toFixed(1)} s` : done > 0 ? `ETA ${formatDuration(eta)}` : 'ETA --';
    if (tty) {
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${etaText}\x1b[K`);
      if (frac >= 1) process.stderr.write('\n');
    } else {
      const pct = Math.floor(frac * 10) * 10;
      if (pct !== lastPct || elapsed - lastLine >= 30 || frac >= 1) {
        process.stderr.write(`${label}: ${done}/${total} (${Math.round(frac * 100)}%) ${etaText}\n`);
        lastPct = pct;
        lastLine = elapsed;
      }
    }
  };
}

function formatDuration(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** `--jobs`: an integer >= 1, lowered to the number of cores (more workers only add memory and switching). */
function jobsOption(jobs: number | undefined): number | undefined {
  if (jobs === undefined) return undefined;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected an integer >= 1, got ${jobs}`);
  const cores = availableParallelism();
  if (jobs > cores) {
    process.stderr.write(`desim: note: --jobs ${jobs} lowered to ${cores}, the number of cores here\n`);
    return cores;
  }
  return jobs;
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(text);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (m === null || count < 1 || index >= count)
      throw new UsageError(`--shard: expected I/N with 0 <= I < N (e.g. 0/4), got ${JSON.stringify(text)}`);
    return { index, count };
  }
  const id = process.env['SLURM_ARRAY_TASK_ID'];
  const n = process.env['SLURM_ARRAY_TASK_COUNT'];
  if (id !== undefined && n !== undefined) {
    const min = Number(process.env['SLURM_ARRAY_TASK_MIN'] ?? 0);
    const index = Number(id) - min;
    const count = Number(n);
    if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) {
      throw new UsageError(
        `Slurm array variables do not make a shard: SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_COUNT=${n}, SLURM_ARRAY_TASK_MIN=${min}`,
      );
    }
    return { index, count };
  }
  return undefined;
}

/** `--format`: the figure formats, e.g. `svg,png,pdf`. */
function formatsOption(text: string): PlotFormat[] {
  const r = parseFormats(text);
  if (!r.ok) throw new UsageError(`--format: ${r.message}`);
  return r.formats;
}

const FORMAT_OPTION = {
  type: 'string',
  default: 'svg',
  requiresArg: true,
  describe: 'figure formats, comma-separated: svg (vector, for the web), png (2x raster, for slides), pdf (vector, for LaTeX)',
} as const;

const COLUMNS_OPTION = {
  type: 'string',
  choices: COLUMN_STYLES,
  requiresArg: true,
  describe:
    'column names: paths (as given, e.g. protocol.tcp.flows[3].extra_rtt_ms) or safe (protocol_tcp_flows_3_extra_rtt_ms: letters, digits and _ only, for R and pgfplots)',
} as const;

const withScenarioArgs = <T>(y: Argv<T>) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: 'scenario file (YAML or JSON), or the name of a bundled scenario' })
    .option('set', {
      type: 'string',
      array: true,
      // One value per --set, so that a file name after it stays the positional argument.
      nargs: 1,
      describe:
        'override a field: path=value, the value read as YAML: 0.05, true, reno, a list outputs.traces=[cwnd,segments], a string kept as text by quoting it \'name="007"\'; repeat --set for more fields',
    });

const cli = yargs(hideBin(process.argv))
  .scriptName('desim')
  .usage(
    `$0 <command> [options]

Deterministic discrete-event simulation of networked systems: a gossip
key-value store and TCP congestion control on one seeded event kernel.
Same scenario + same seed = byte-identical results.

First steps: "desim list" shows the bundled scenarios, "desim run gossip-original"
runs one, "desim <command> --help" explains a command with examples.`,
  )
  .command(
    'run <file>',
    'Run a scenario; write summary.csv, trace-*.csv, *.svg and meta.json',
    (y) =>
      withScenarioArgs(y)
        .option('seed', numberFlag({ describe: "root seed, an integer in [0, 2^32) (default: the scenario's seed)" }))
        .option('out', { type: 'string', describe: 'results folder (default: results/<scenario name>). desim replaces only a folder it wrote' })
        .option('overwrite', {
          type: 'boolean',
          default: false,
          describe: 'write into an existing folder that desim did not write; files desim did not write are never deleted or replaced',
        })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
        .option('format', {
          type: 'string',
          requiresArg: true,
          describe: `${FORMAT_OPTION.describe} (default: svg, or what a replayed meta.json records)`,
        })
        .option('columns', {
          ...COLUMNS_OPTION,
          describe:
            "summary.csv's metric names: paths (as the driver or module names them) or safe (letters, digits and _ only); default: paths, or what a replayed meta.json records",
        })
        .example('$0 run gossip-original', 'the 3-node demo of the original program')
        .example('$0 run my.yaml --seed 7 --set protocol.tcp.bottleneck.loss=0.01 --out /tmp/r', 'override the seed and one field')
        .epilogue(
          'The results folder is written to a temporary folder and put in place when the run ends. An existing folder is replaced only if desim wrote it (its meta.json says so) and holds nothing else; any other folder is refused with exit 2 unless --overwrite is given. Ctrl-C stops the run, removes the temporary folder and exits 130.',
        ),
    async (argv) => {
      const givenFormats = argv.format !== undefined ? formatsOption(argv.format) : undefined;
      const file = resolveScenarioPath(argv.file);
      const overrides = overridesFrom(argv.set);
      // A run's meta.json: a replay. Its record's options apply unless a flag is given, and what
      // would keep it from reproducing the run (a changed module, another scenario hash) is said.
      const record = readRunRecord(file);
      const warn = (m: string): boolean => process.stderr.write(`desim: warning: ${m}\n`);
      if (record !== undefined) inputChanges(file, record, overrides).forEach(warn);
      const plotFormats = givenFormats ?? (record?.formats !== undefined ? [...record.formats] : ['svg' as const]);
      let scenario = await loadScenarioFile(file, overrides);
      if (record !== undefined) {
        // Without --set the scenario just loaded is the record's (--seed is applied below).
        const change = scenarioHashChange(file, record, BUILTIN_DRIVERS, overrides.length === 0 ? scenario : undefined);
        if (change !== undefined) warn(change);
      }
      if (argv.seed !== undefined) {
        if (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed >= 2 ** 32)
          throw new UsageError(`--seed: expected an integer in [0, 2^32), got ${argv.seed}`);
        scenario = withSeed(scenario, argv.seed);
      }
      const outDir = argv.out ?? join('results', scenario.name);
      // A bar on a terminal only: one run's progress lines would clutter logs.
      const show = progressPrinter(`run ${scenario.name}`, argv.quiet || process.stderr.isTTY !== true);
      let worker: Worker | undefined;
      const signals = exitOnSignals(async () => worker?.terminate());
      const onProgress = (f: number): void => show(Math.round(f * 100), 100);
      const execute = workerExecutor(file, overrides, onProgress, (w) => (worker = w));
      const columns = argv.columns ?? record?.columns;
      const report = await runScenario(scenario, {
        outDir,
        scenarioFile: recordedScenarioFile(file),
        overwrite: argv.overwrite,
        execute,
        plotFormats,
        ...(columns !== undefined ? { columns } : {}),
        ...(record !== undefined ? { replication: record.replication } : {}),
        inputs: inputFiles(scenario, file),
      });
      // The folder is in place: a signal from now on says so (the worker thread may still be ending).
      signals.done(slash(outDir));
      process.stdout.write(`${scenario.name}: ${report.result.headline}\n`);
      process.stdout.write(`wrote ${slash(outDir)} ${report.files.join(' ')}
`);
      if (report.result.violation !== undefined) {
        process.stderr.write(`desim: invariant violated: ${report.result.violation}
`);
        process.exitCode = 1;
      }
    },
  )
  .command(
    'validate <file>',
    'Check a scenario file (all problems at once); exit 0 if valid, 2 if not. Runs no user code unless --load-modules',
    (y) =>
      withScenarioArgs(y)
        .option('load-modules', {
          type: 'boolean',
          default: false,
          describe:
            'also import the protocol module (protocol.module.path) and check its exports; this executes its code, so only for files you trust',
        })
        .example('$0 validate my.yaml', 'prints "my.yaml: ok" or every problem with its path')
        .example('$0 validate untrusted.yaml', 'safe on files you did not write: imports nothing'),
    async (argv) => {
      const file = resolveScenarioPath(argv.file);
      readRunRecord(file); // a run's meta.json: its record's fields are checked as `run` checks them
      const s = await load(file, argv.set, argv.loadModules);
      const unloaded = s.driver.name === 'module' && !argv.loadModules ? '; protocol module not imported (--load-modules imports it)' : '';
      // Named as given: a bundled scenario by its name, not by the path inside desim's package.
      process.stdout.write(`${argv.file}: ok (${scenarioSummary(s)}${unloaded})\n`);
    },
  )
  .command(
    'sweep <file>',
    'Run the cartesian product of --vary values x --reps replications (or a plan file), in parallel',
    (y) =>
      withScenarioArgs(y)
        .positional('file', {
          type: 'string',
          demandOption: true,
          describe: 'scenario file or bundled name (with --vary), or a sweep plan file (scenario, vary, reps, mode)',
        })
        .option('vary', {
          type: 'string',
          array: true,
          // One value per --vary, as for --set.
          nargs: 1,
          describe: `path=v1,v2,... or path=FROM..TO [lin|log] [COUNT]: COUNT values (2..${MAX_RANGE_COUNT}) spaced evenly (lin, the default) or geometrically (log); without COUNT, whole-number ends give every whole number between. Repeat --vary for more parameters; the first varies slowest`,
        })
        .option('mode', {
          type: 'string',
          choices: ['product', 'zip'],
          describe: 'product: every combination (default); zip: the i-th value of every --vary together',
        })
        .option(
          'reps',
          numberFlag({ describe: `replications per combination, an integer in 1..${MAX_PLAN_REPS} (each gets its own derived seed; default 1)` }),
        )
        .option('jobs', numberFlag({ describe: 'worker processes, an integer >= 1 (default: all cores; more than the cores is lowered to them)' }))
        .option('shard', { type: 'string', describe: 'run only share I of N (I/N, 0-based); default from SLURM_ARRAY_TASK_ID/COUNT' })
        .option('out', { type: 'string', describe: 'sweep folder (default: results/<scenario name>-sweep)' })
        .option('resume', { type: 'boolean', default: false, describe: 'keep finished runs of the same sweep in --out and run the rest' })
        .option('overwrite', {
          type: 'boolean',
          default: false,
          describe: "start again in a folder that holds a sweep (deleting desim's files there only), or write into a folder desim did not write",
        })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
        .option('format', FORMAT_OPTION)
        .option('columns', {
          ...COLUMNS_OPTION,
          describe: `parameter columns of summary.csv and aggregate.csv: ${COLUMNS_OPTION.describe.replace(/^column names: /, '')}; default: paths, or what a resumed sweep recorded`,
        })
        .example('$0 sweep tcp-mathis-padhye --vary protocol.tcp.bottleneck.loss=0.001,0.01 --reps 5', '2 values x 5 replications on all cores')
        .example('$0 sweep my.yaml --vary a.b=1,2 --shard 0/4 --out part0', 'one of four shards; combine with desim merge')
        .example('$0 sweep tcp-mathis-padhye --vary "protocol.tcp.bottleneck.loss=0.001..0.05 log 8"', '8 loss rates spaced geometrically')
        .example('$0 sweep plan.yaml', 'the sweep a plan file describes (see README, "Sweep plans")')
        .epilogue(
          'Each finished run is saved at once in --out/runs/. A folder that already holds a sweep is refused unless you say --resume (keep its runs; the sweep must be the same) or --overwrite (start again). Ctrl-C finishes the runs in flight and keeps them; a second Ctrl-C stops at once. --jobs above the number of cores is lowered to it.',
        ),
    async (argv) => {
      const plotFormats = formatsOption(argv.format);
      const given = resolveScenarioPath(argv.file);
      readRunRecord(given); // a run's meta.json: its record's fields are checked as `run` checks them
      const doc = readScenarioFile(given);
      let file = given;
      let raw = doc;
      let sets = overridesFrom(argv.set);
      let variations;
      let reps = argv.reps ?? 1;
      let mode: SweepMode = (argv.mode as SweepMode | undefined) ?? 'product';
      let plan: unknown;
      if (isPlan(doc)) {
        const clash = [
          argv.vary !== undefined ? '--vary' : '',
          argv.reps !== undefined ? '--reps' : '',
          argv.mode !== undefined ? '--mode' : '',
        ].filter((f) => f !== '');
        if (clash.length > 0)
          throw new UsageError(`${given} is a sweep plan: it gives vary, reps and mode itself; drop ${clash.join(', ')} (or edit the plan)`);
        const p = loadPlan(given, doc);
        ({ raw, variations, reps, mode } = p);
        file = p.scenarioFile;
        sets = [...p.sets, ...sets];
        plan = p.record;
      } else {
        if (argv.vary === undefined) throw new UsageError(`${given}: a scenario needs --vary path=values (or give a sweep plan file)`);
        const v = parseVaries(argv.vary);
        if (!v.ok) throw new ScenarioError('--vary', v.issues);
        variations = v.variations;
      }
      const jobs = jobsOption(argv.jobs);
      const name = (raw as { name?: unknown }).name;
      const outDir = argv.out ?? join('results', `${typeof name === 'string' ? name : 'sweep'}-sweep`);
      const shard = parseShard(argv.shard);
      let stop = false;
      const onSignal = (): void => {
        if (stop) {
          removeActiveTempDirs();
          process.exit(130);
        }
        stop = true;
        process.stderr.write(
          '\ndesim: interrupted; finishing the runs in flight (Ctrl-C again to abort now). Finished runs are kept: rerun with --resume.\n',
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const show = progressPrinter(`sweep ${outDir}`, argv.quiet);
      const profile = process.env['DESIM_PROFILE'] === '1' ? new SweepProfile() : undefined;
      const drivers = await driversFor(raw, file, sets, variations);
      const report = await runSweepFromPlan(plan !== undefined ? given : undefined, () =>
        runSweep({
          raw,
          file,
          drivers,
          sets,
          variations,
          reps,
          mode,
          ...(plan !== undefined ? { plan } : {}),
          outDir,
          ...(jobs !== undefined ? { jobs } : {}),
          ...(shard !== undefined ? { shard } : {}),
          resume: argv.resume,
          overwrite: argv.overwrite,
          onProgress: (p) => show(p.done, p.total),
          shouldStop: () => stop,
          plotFormats,
          ...(argv.columns !== undefined ? { columns: argv.columns } : {}),
          ...(profile !== undefined ? { onProfile: profile.onEvent } : {}),
        }),
      );
      if (profile !== undefined) process.stderr.write(profile.report(jobs !== undefined && jobs > 1 ? jobs : availableParallelism()));
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (stop) {
        process.stderr.write(`desim: stopped; ${count(report.ran + report.resumed, 'run')} saved in ${outDir}/runs\n`);
        process.exit(130);
      }
      // The sweep is done and saved: a signal while the process ends says so.
      exitOnSignals().done(slash(outDir));
      const share = shard !== undefined ? ` (shard ${shard.index}/${shard.count})` : '';
      process.stdout.write(`sweep: ${count(report.ran, 'run')} done, ${report.resumed} resumed, of ${report.total}${share}\n`);
      process.stdout.write(
        report.complete ? `wrote ${slash(outDir)} ${report.files.join(' ')}\n` : `partial: merge the shards with: desim merge DIR... --out DIR\n`,
      );
      for (const w of report.warnings) process.stderr.write(`desim: warning: ${w}\n`);
    },
  )
  .command(
    'merge <dirs..>',
    'Combine sweep shard folders into the files one unsharded sweep writes',
    (y) =>
      y
        .positional('dirs', {
          type: 'string',
          array: true,
          demandOption: true,
          // No default shown: yargs would print "[default: []]" beside "[required]".
          default: undefined,
          describe: 'the shard folders (each written by desim sweep --shard I/N), in any order',
        })
        .option('out', { type: 'string', demandOption: true, describe: 'merged sweep folder: must not exist yet, or be empty' })
        .option('overwrite', {
          type: 'boolean',
          default: false,
          describe: 'replace --out if it is a merged sweep that desim wrote and holds nothing else',
        })
        .option('columns', {
          ...COLUMNS_OPTION,
          describe: `parameter columns: ${COLUMNS_OPTION.describe.replace(/^column names: /, '')}; default: as the shards recorded`,
        })
        .example('$0 merge part0 part1 part2 --out all', 'summary.csv and aggregate.csv as if run unsharded')
        .epilogue('Nothing is written unless every run of the sweep is in exactly one of the folders; missing or overlapping runs exit 2.'),
    async (argv) => {
      const signals = exitOnSignals();
      const r = await mergeSweeps(argv.dirs, argv.out, {
        overwrite: argv.overwrite,
        ...(argv.columns !== undefined ? { columns: argv.columns } : {}),
      });
      signals.done(slash(argv.out));
      process.stdout.write(`wrote ${slash(argv.out)} ${r.files.join(' ')}\n`);
    },
  )
  .command(
    'plot <dir>',
    'Render the plots of a run or sweep folder from its CSV files',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: "a results folder desim wrote (a run's or a sweep's)" })
        .option('format', {
          ...FORMAT_OPTION,
          describe: `${FORMAT_OPTION.describe}. Figures desim drew here before in a format not given now are removed (see below)`,
        })
        .option('spec', {
          type: 'boolean',
          default: false,
          describe: "also write each figure's Vega-Lite spec, data inline, as <name>.vl.json (restyle it, render it with any Vega-Lite tool)",
        })
        .example('$0 plot results/tcp-original', 'cwnd.svg from trace-cwnd.csv')
        .example('$0 plot results/tcp-original --format pdf,png --spec', 'cwnd.pdf, cwnd.png and cwnd.vl.json')
        .epilogue(
          'Figures an earlier plot or run wrote into the folder (as its meta.json or sweep.json records) that this plot does not draw, such as cwnd.png after --format svg, are removed; no other file is touched.',
        ),
    async (argv) => {
      const removed: string[] = [];
      const written = await replotFolder(argv.dir, { formats: formatsOption(argv.format), spec: argv.spec, onRemoved: (f) => removed.push(f) });
      process.stdout.write(`wrote ${written.map((f) => join(argv.dir, f)).join(' ')}\n`);
      if (removed.length > 0)
        process.stdout.write(`removed ${removed.map((f) => join(argv.dir, f)).join(' ')} (figures of an earlier plot that this one does not draw)\n`);
    },
  )
  .command(
    'table <dir>',
    "Print a sweep's aggregate (or a run's summary) as a LaTeX (booktabs), Markdown or CSV table: mean ± 95% CI, units in the header",
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'a sweep folder (aggregate.csv) or a run folder (summary.csv)' })
        .option('metrics', { type: 'string', describe: 'comma-separated metrics, in the order to show (default: all)' })
        .option('format', {
          type: 'string',
          choices: TABLE_FORMATS,
          default: 'latex',
          describe: 'latex (needs \\usepackage{booktabs}), markdown or csv',
        })
        .example('$0 table results/tcp-mathis-padhye-sweep --metrics goodput_bps,timeouts', 'a booktabs tabular on stdout')
        .example('$0 table results/tcp-original --format markdown', "a run's metrics, one per row"),
    async (argv) => {
      const metrics = argv.metrics
        ?.split(',')
        .map((m) => m.trim())
        .filter((m) => m !== '');
      const text = await tableOfFolder(argv.dir, { format: argv.format as TableFormat, ...(metrics !== undefined ? { metrics } : {}) });
      process.stdout.write(text);
    },
  )
  .command(
    'report <dir>',
    'Write DIR/report.html: one self-contained page with the scenario, meta.json, tables, interactive figures and links to every CSV',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'a run or sweep folder desim wrote' })
        .example('$0 report results/tcp-original', 'results/tcp-original/report.html, works offline')
        .epilogue(
          "The figures are the plots' Vega-Lite specs with their data, drawn in the browser by the vega and vega-lite bundles copied into the page: tooltips on hover, drag to pan, scroll to zoom.",
        ),
    async (argv) => {
      const signals = exitOnSignals();
      const written = await writeReport(argv.dir);
      signals.done(written);
      process.stdout.write(`wrote ${written}\n`);
    },
  )
  .command(
    'schema',
    'Print the JSON Schema of scenario files (for editor completion, checks and hover help: every key with its description, unit and range)',
    (y) =>
      y
        .option('out', {
          type: 'string',
          describe: 'write to a file instead of stdout (an existing file is replaced only if it is a schema desim wrote)',
        })
        .example('$0 schema --out desim.schema.json', 'completion and hover help (unit, range) in editors that read JSON Schema'),
    (argv) => {
      const text = JSON.stringify(scenarioJsonSchema(BUILTIN_DRIVERS), null, 2) + '\n';
      if (argv.out === undefined) {
        process.stdout.write(text);
        return;
      }
      // Replace only a schema desim wrote before, never another file of the same name.
      if (existsSync(argv.out)) {
        let title: unknown;
        try {
          title = (JSON.parse(readFileSync(argv.out, 'utf8')) as { title?: unknown }).title;
        } catch {
          title = undefined;
        }
        if (title !== 'desim scenario')
          throw new OutputError(argv.out, 'exists and is not a schema desim wrote; desim will not replace it: choose another --out');
      }
      writeFileAtomic(argv.out, text);
      process.stdout.write(`wrote ${argv.out}\n`);
    },
  )
  .command(
    'list',
    'List the bundled scenarios',
    (y) => y.example('$0 list', 'names and one-line descriptions; run one with: desim run <name>'),
    async () => {
      for (const name of bundledScenarios()) {
        const s = await load(bundledScenarioFile(name), []);
        process.stdout.write(`${name.padEnd(24)} ${s.description.split('\n')[0] ?? ''}\n`);
      }
    },
  )
  .command(
    'demo',
    'Run the two original programs (gossip-original, tcp-original) into results/',
    (y) =>
      y
        .option('out', {
          type: 'string',
          default: 'results',
          requiresArg: true,
          describe: 'parent folder: the runs go to OUT/gossip-original and OUT/tcp-original',
        })
        .option('overwrite', {
          type: 'boolean',
          default: false,
          describe:
            'as desim run --overwrite, for each of the two folders: write into one desim did not write; files desim did not write are never deleted or replaced',
        })
        .example('$0 demo', 'what npm start runs: results/gossip-original/ and results/tcp-original/'),
    async (argv) => {
      const demos = [];
      for (const name of ['gossip-original', 'tcp-original']) {
        const file = bundledScenarioFile(name);
        const scenario = await load(file, []);
        const outDir = join(argv.out, scenario.name);
        // Both folders are checked before either run, so a refusal leaves nothing half done.
        checkOutDir(outDir, 'run', { flag: '--out', overwrite: argv.overwrite });
        demos.push({ file, scenario, outDir });
      }
      let worker: Worker | undefined;
      const signals = exitOnSignals(async () => worker?.terminate());
      for (const { file, scenario, outDir } of demos) {
        const execute = workerExecutor(
          file,
          [],
          () => {},
          (w) => (worker = w),
        );
        const report = await runScenario(scenario, { outDir, scenarioFile: recordedScenarioFile(file), overwrite: argv.overwrite, execute });
        signals.kept(slash(outDir));
        process.stdout.write(`${scenario.name}: ${report.result.headline}\n  wrote ${slash(outDir)} ${report.files.join(' ')}\n`);
      }
      signals.done();
    },
  )
  .command(
    'reproduce',
    'Regenerate every table and figure the README shows, under results/ (fixed seeds)',
    (y) =>
      y
        .option('out', { type: 'string', default: 'results', describe: 'parent folder' })
        .option('jobs', numberFlag({ describe: 'worker processes for the sweep, an integer >= 1 (default: all cores; more is lowered to them)' }))
        .option('publish', { type: 'string', describe: 'also copy the files the README shows into this folder (npm run reproduce: docs/results)' })
        .example('$0 reproduce', 'bundled scenarios, the Mathis/Padhye sweep and the validation tables, in several minutes')
        .example('$0 reproduce --publish docs/results', 'what npm run reproduce does in the repository'),
    async (argv) => {
      const signals = exitOnSignals();
      await reproduce(argv.out, (line) => process.stdout.write(line + '\n'), jobsOption(argv.jobs), argv.publish);
      signals.done(slash(argv.out), ...(argv.publish !== undefined ? [slash(argv.publish)] : []));
    },
  )
  .command(
    'bench [what]',
    'Measure simulator speed (prints wall-clock figures; the only command that reads the clock)',
    (y) =>
      y
        .positional('what', {
          choices: ['kernel', 'gossip', 'tcp', 'all', 'udp'] as const,
          default: 'all' as const,
          describe: 'which benchmark (all = the three simulator ones; udp starts real nodes)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print a JSON object instead of key=value' })
        .option('duration', numberFlag({ describe: 'udp: seconds per phase (0.5..600; default 3)' }))
        .option('concurrency', numberFlag({ describe: 'udp: requests in flight (1..1024; default 64)' }))
        .option('memory', { type: 'boolean', default: false, describe: 'udp: nodes without --data (nothing durable), for comparison' })
        .option('plain', { type: 'boolean', default: false, describe: 'udp: no --key-file (by default a fresh random key seals every datagram)' })
        .option(
          'pending',
          numberFlag({
            array: true,
            describe: `kernel: pending events of the hold model (integers ${MIN_PENDING}..${MAX_PENDING}; default 10000); several run side by side in alternating slices, each slice after an unmeasured tenth of its events, and rate_vs_first compares each with the first`,
          }),
        )
        .option(
          'events',
          numberFlag({
            describe: 'kernel: events fired per run (integer 1..1e9; default max(2,000,000, 2 x pending))',
          }),
        )
        .option('baseline', {
          type: 'boolean',
          default: false,
          describe:
            'kernel: also run a bare typed-array heap on the same model, interleaved with a kernel run of its own at each population, and print the ratio (kernel_vs_bare)',
        })
        .option(
          'nodes',
          numberFlag({
            describe: `gossip: cluster size (integer ${MIN_GOSSIP_NODES}..${MAX_GOSSIP_NODES}; default 100000)`,
          }),
        )
        .option('sack', {
          type: 'boolean',
          default: false,
          describe: 'tcp: also run it with SACK recovery (RFC 6675, limited transmit, PRR) and print that line too (tcp_1g_sack)',
        })
        .option('scaling', {
          type: 'boolean',
          default: false,
          describe:
            'gossip: 10^4, 10^5 and 10^6 nodes, each in a fresh process, with the cost per node and per event, then (gossip_cost_ratio) the cost per node of each size against the size before it',
        })
        .option(
          'reps',
          numberFlag({
            describe: `gossip --scaling: run the three sizes this many times in turn (integer 1..${MAX_SCALING_REPS}; default 1), so that each ratio compares runs made one after the other`,
          }),
        )
        .example('$0 bench kernel', 'hold model: 10,000 pending events, 2,000,000 fired')
        .example('$0 bench kernel --pending 10000 1000000 10000000 --baseline', 'how the queue grows, beside a bare heap')
        .example('$0 bench gossip', 'one update spread to 100,000 nodes, then one anti-entropy round')
        .example('$0 bench gossip --scaling', 'the same at 10^4, 10^5 and 10^6 nodes')
        .example('$0 bench gossip --scaling --reps 3', 'three times in turn: the spread of three runs, each ratio within one turn')
        .example('$0 bench tcp', 'one Reno flow, 1 Gbps, 10 ms RTT, loss 1e-5, 60 s simulated')
        .example('$0 bench tcp --sack', 'the same, then with SACK recovery on')
        .example('$0 bench udp', 'puts (ack local, ack replicated:2) and gets per second against a 3-node loopback cluster'),
    async (argv) => {
      // Every flag acts or is refused: one given to a benchmark that does not read it is an error.
      const given: Record<keyof typeof BENCH_FLAG_OWNER, boolean> = {
        pending: argv.pending !== undefined,
        events: argv.events !== undefined,
        baseline: argv.baseline,
        nodes: argv.nodes !== undefined,
        scaling: argv.scaling,
        reps: argv.reps !== undefined,
        sack: argv.sack,
        duration: argv.duration !== undefined,
        concurrency: argv.concurrency !== undefined,
        memory: argv.memory,
        plain: argv.plain,
      };
      for (const flag of Object.keys(given) as (keyof typeof BENCH_FLAG_OWNER)[]) {
        const on = given[flag];
        const owner: string = BENCH_FLAG_OWNER[flag];
        if (on && argv.what !== owner && !(argv.what === 'all' && owner !== 'udp')) {
          throw new UsageError(`--${flag} applies to bench ${owner}${owner === 'udp' ? '' : ' (and all)'}, not ${argv.what}`);
        }
      }
      // Every value is checked before any benchmark runs (bench all never prints a figure, then fails).
      if (argv.reps !== undefined && !argv.scaling) throw new UsageError('--reps applies to bench gossip --scaling');
      if (argv.reps !== undefined && !(Number.isInteger(argv.reps) && argv.reps >= 1 && argv.reps <= MAX_SCALING_REPS))
        throw new UsageError(`--reps must be an integer in 1..${MAX_SCALING_REPS}, got ${argv.reps}`);
      if (argv.nodes !== undefined && !(Number.isInteger(argv.nodes) && argv.nodes >= MIN_GOSSIP_NODES && argv.nodes <= MAX_GOSSIP_NODES)) {
        throw new UsageError(`--nodes must be an integer in ${MIN_GOSSIP_NODES}..${MAX_GOSSIP_NODES}, got ${argv.nodes}`);
      }
      if (argv.scaling && argv.nodes !== undefined)
        throw new UsageError('--nodes and --scaling do not go together: --scaling runs 10^4, 10^5 and 10^6 nodes');
      const pendings = argv.pending ?? [10_000];
      if (pendings.length === 0) throw new UsageError('--pending needs at least one population');
      for (const p of pendings) {
        if (!(Number.isInteger(p) && p >= MIN_PENDING && p <= MAX_PENDING))
          throw new UsageError(`--pending must be integers in ${MIN_PENDING}..${MAX_PENDING}, got ${p}`);
      }
      if (argv.events !== undefined && !(Number.isInteger(argv.events) && argv.events >= 1 && argv.events <= 1e9))
        throw new UsageError(`--events must be an integer in 1..1e9, got ${argv.events}`);
      const duration = argv.duration ?? 3;
      const concurrency = argv.concurrency ?? 64;
      if (!(duration >= 0.5 && duration <= 600)) throw new UsageError(`--duration must be in 0.5..600 s, got ${duration}`);
      if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 1024))
        throw new UsageError(`--concurrency must be an integer in 1..1024, got ${concurrency}`);
      if (argv.what === 'udp') {
        const cliPath = process.argv[1];
        if (cliPath === undefined) throw new UsageError('cannot find the desim script to start nodes with');
        const r = await benchUdp({ cliPath, durationS: duration, concurrency, memory: argv.memory, plain: argv.plain });
        for (const p of r.phases) {
          printBench(`udp_${p.name}`, { ops_per_s: Math.round(p.opsPerS), p50_ms: p.p50Ms, p99_ms: p.p99Ms, errors: p.errors }, argv.json);
        }
        printBench('udp_wal', { records_per_sync: r.recordsPerSync }, argv.json);
        return;
      }
      const all = argv.what === 'all';
      if (all || argv.what === 'kernel') {
        const eventsOf = (p: number): number => argv.events ?? defaultHoldEvents(p);
        // Several populations run side by side in alternating slices, so that rate_vs_first compares
        // rates measured in the same minutes (see benchKernelPopulations).
        const side = pendings.length > 1 ? benchKernelPopulations(pendings, eventsOf) : undefined;
        let first: number | undefined;
        for (const [i, p] of pendings.entries()) {
          const events = eventsOf(p);
          const r = argv.baseline ? benchKernelVsBare(events, p) : undefined;
          const k = side?.[i] ?? r?.kernel ?? benchKernel(events, p);
          first ??= k.eventsPerCpuS;
          const growth = pendings.length > 1 ? { rate_vs_first: k.eventsPerCpuS / first } : {};
          printBench(
            'kernel_hold',
            {
              pending: p,
              events: k.events,
              events_per_s: Math.round(k.eventsPerS),
              events_per_cpu_s: Math.round(k.eventsPerCpuS),
              ...growth,
              peak_rss_mb: Math.round(k.peakRssMb),
            },
            argv.json,
          );
          if (r !== undefined) {
            printBench(
              'kernel_bare',
              { pending: p, events: r.bare.events, events_per_s: Math.round(r.bare.eventsPerS), events_per_cpu_s: Math.round(r.bare.eventsPerCpuS) },
              argv.json,
            );
            printBench('kernel_vs_bare', { pending: p, ratio: r.ratio }, argv.json);
          }
        }
      }
      if (all || argv.what === 'gossip') {
        if (argv.scaling) {
          const cliPath = process.argv[1];
          if (cliPath === undefined) throw new UsageError('cannot find the desim script to run each size in');
          // A fresh process per size, so each peak RSS is its own.
          const runSize = (n: number): GossipBenchFields =>
            JSON.parse(
              execFileSync(process.execPath, [...process.execArgv, cliPath, 'bench', 'gossip', '--nodes', String(n), '--json'], {
                encoding: 'utf8',
                stdio: ['ignore', 'pipe', 'inherit'],
                maxBuffer: 1 << 20,
              }).trim(),
            ) as GossipBenchFields;
          gossipScaling(argv.reps ?? 1, runSize, argv.json, (line) => process.stdout.write(line + '\n'));
        } else {
          const r = benchGossip(argv.nodes ?? 100_000);
          if (argv.json) process.stdout.write(JSON.stringify(gossipBenchFields(r)) + '\n');
          else process.stdout.write(formatGossipBench(r) + '\n');
        }
      }
      if (all || argv.what === 'tcp') {
        const r = benchTcp();
        printBench(
          'tcp_1g',
          { wall_s: r.wallS, packets_per_s: Math.round(r.packetsPerS), packets_per_cpu_s: Math.round(r.packetsPerCpuS) },
          argv.json,
        );
        if (argv.sack) {
          const s = benchTcp({ sack: true });
          printBench(
            'tcp_1g_sack',
            { wall_s: s.wallS, packets_per_s: Math.round(s.packetsPerS), packets_per_cpu_s: Math.round(s.packetsPerCpuS) },
            argv.json,
          );
        }
      }
    },
  )
  .command(nodeCommand)
  .command(kvCommand)
  .command(clusterCommand)
  // Every flag's value, for every command: numbers read strictly, one value per flag (see cli/flags.ts).
  // yargs passes its instance as the second argument, which its type declarations leave out.
  .middleware(
    ((argv: Record<string, unknown>, y: { getOptions(): FlagTable }) => checkFlagValues(argv, y, hideBin(process.argv))) as unknown as (
      argv: Record<string, unknown>,
    ) => void,
    true,
  )
  .demandCommand(1, NO_COMMAND)
  .recommendCommands()
  .strict()
  .help()
  .alias('h', 'help')
  .version()
  .wrap(Math.min(110, process.stdout.columns ?? 100))
  .fail((msg, err, y) => {
    // yargs's own parse errors (a flag without its value: requiresArg) are bad input, like its messages.
    if (err !== undefined && err !== null && err.name !== 'YError') fail(err);
    // Bare `desim`: the list the message points to.
    if (msg === NO_COMMAND) y.showHelp((text) => process.stderr.write(`${text}\n\n`));
    msg = usageMessage(msg ?? err?.message ?? 'bad arguments', hideBin(process.argv));
    process.stderr.write(`desim: ${msg}\nrun "desim --help" for the commands, "desim <command> --help" for one\n`);
    process.exit(EXIT_BAD_INPUT);
  });

try {
  await cli.parseAsync();
} catch (err) {
  fail(err);
}
// The command is done. End the process here, once stdout and stderr are flushed, rather than through
// Node's own teardown: that closes the signal handlers first, so a Ctrl-C in its last tens of
// milliseconds killed the process silently (exit 130) after it had written its output and said so.
// Until the exit, a signal gets the handler's message (cli/signals.ts); after it, nothing.
process.stdout.write('', () => process.stderr.write('', () => process.exit()));

/**
 * Runs one scenario and writes its results folder:
 *
 *   summary.csv       one row: scenario, seed, replication, then the driver's metrics
 *   <table>.csv       the driver's tables (e.g. flows.csv, reads.csv)
 *   trace-<name>.csv  the traces the scenario's `outputs.traces` asks for
 *   *.svg             plots rendered from those CSVs (see plot.ts and plots/)
 *   meta.json         seed, replication, scenario hash, desim and Node versions, the sha256 of the
 *                     files the run read besides its scenario, the run options, the resolved scenario
 *
 * Everything is written into a temporary folder and put in place at the end,
 * so a failed or interrupted run leaves no half-written results (an older
 * complete folder stays as it was). desim replaces only a folder it wrote; any
 * other target is refused unless `overwrite` is set, and even then no file
 * desim did not write is deleted or replaced (see files.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parameterColumn, type ColumnStyle } from '../io/csv-format.js';
import { CsvWriter, toCsv, type Cell } from '../io/csv.js';
import { ScenarioError } from './errors.js';
import type { RunContext, RunResult } from './driver.js';
import { OUTPUT_MARKER, writeFileAtomic, writeOutputFolder } from './files.js';
import { resolvedScenario, scenarioHash, type Scenario } from './loader.js';
import { DESIM_VERSION } from './package-info.js';
import { runPipeline } from './pipeline.js';
import type { InputFile } from './replay.js';
import { plotDirectory } from './plot.js';
import type { PlotFormat } from './plots/formats.js';

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** The results folder (replaced atomically when desim wrote it; see {@link RunScenarioOptions.overwrite}). */
  readonly outDir: string;
  /**
   * Write into an existing folder that desim did not write (or that holds
   * other files besides desim's): desim's files are put beside the others,
   * and a file desim would write that already exists and is not desim's stops
   * the run. Default false: such a folder is refused with an OutputError.
   */
  readonly overwrite?: boolean;
  /** The scenario file it came from (recorded in meta.json). */
  readonly scenarioFile?: string;
  /** Replication number recorded with the run. Default 0. */
  readonly replication?: number;
  /** Progress callback in [0, 1]. */
  readonly onProgress?: (fraction: number) => void;
  /**
   * Runs the simulation itself, writing its traces into `dir` (the CLI runs it
   * in a worker thread so that it can stop it on a signal). Default: in this
   * thread, with {@link executeScenario}.
   */
  readonly execute?: (scenario: Scenario, dir: string) => Promise<RunResult>;
  /** Formats of the plots (when the scenario draws plots). Default: `['svg']`. */
  readonly plotFormats?: readonly PlotFormat[];
  /**
   * summary.csv's metric names (`--columns`): as the driver or module names
   * them (`paths`, the default) or made safe for R and pgfplots (`safe`, see
   * `safeColumnName`; only a protocol module's own metrics can differ).
   */
  readonly columns?: ColumnStyle;
  /**
   * The files the run reads besides its scenario file (a protocol module's),
   * with their sha256: recorded in meta.json's `inputs`, so that a replay can
   * tell whether they changed. See `inputFiles`. Default: none recorded.
   */
  readonly inputs?: readonly InputFile[];
}

/** What a run wrote. */
export interface RunReport {
  readonly outDir: string;
  /** File names written, sorted. */
  readonly files: readonly string[];
  readonly result: RunResult;
  readonly seed: number;
  readonly scenarioHash: string;
}

/**
 * Runs a scenario with trace writers on `dir`: through the one pipeline with
 * the driver's recipe (or the driver's own `run` when it has none); returns
 * its result (writers closed, or aborted on failure).
 */
export function executeScenario(scenario: Scenario, dir: string | undefined, onProgress?: (f: number) => void): RunResult {
  const writers: CsvWriter[] = [];
  const wanted = scenario.outputs.traces;
  const ctx: RunContext = {
    seed: String(scenario.seed),
    openTrace(name, columns) {
      if (dir === undefined || (wanted !== 'all' && !wanted.includes(name))) return undefined;
      const w = new CsvWriter(join(dir, `trace-${name}.csv`), columns);
      writers.push(w);
      return w;
    },
    progress: onProgress ?? (() => {}),
  };
  let result: RunResult;
  try {
    const recipe = scenario.driver.recipe;
    const companions = (scenario.companions ?? []).map((c) => {
      if (c.recipe === undefined) throw new Error(`internal: protocol ${c.name} runs beside ${scenario.driver.name} but has no recipe`);
      return c.recipe;
    });
    if (companions.length > 0 && recipe === undefined) throw new Error(`internal: protocol ${scenario.driver.name} has companions but no recipe`);
    result = recipe !== undefined ? runPipeline(scenario, ctx, [recipe, ...companions]) : scenario.driver.run(scenario, ctx);
  } catch (err) {
    for (const w of writers) w.abort();
    throw err;
  }
  for (const w of writers) w.close();
  return result;
}

/** Runs a validated scenario and writes its results folder atomically. */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions): Promise<RunReport> {
  let result: RunResult | undefined;
  const hash = scenarioHash(scenario);
  const replication = options.replication ?? 0;
  const files = await writeOutputFolder(options.outDir, 'run', { flag: '--out', overwrite: options.overwrite === true }, async (tmp) => {
    const r = options.execute !== undefined ? await options.execute(scenario, tmp) : executeScenario(scenario, tmp, options.onProgress);
    result = r;
    const metricNames = Object.keys(r.metrics);
    const heads = metricNames.map((m) => parameterColumn(m, options.columns));
    const clash = heads.find((h, i) => heads.indexOf(h) !== i || ['scenario', 'seed', 'replication'].includes(h));
    if (clash !== undefined)
      throw new ScenarioError('--columns', [{ path: '--columns', message: `two summary.csv columns would both be named ${clash}` }]);
    writeFileAtomic(
      join(tmp, 'summary.csv'),
      toCsv(
        ['scenario', 'seed', 'replication', ...heads],
        [[scenario.name, scenario.seed, replication, ...metricNames.map((m) => r.metrics[m] as Cell)]],
      ),
    );
    for (const [name, table] of Object.entries(r.tables ?? {})) {
      writeFileAtomic(join(tmp, `${name}.csv`), toCsv(table.columns, table.rows));
    }
    // meta.json is written after the plots (it lists them): the plots get the resolved scenario directly.
    if (scenario.outputs.plots)
      await plotDirectory(tmp, {
        title: scenario.name,
        scenario: resolvedScenario(scenario),
        ...(options.plotFormats === undefined ? {} : { formats: options.plotFormats }),
      });
    const meta = {
      [OUTPUT_MARKER]: 'run',
      desim_version: DESIM_VERSION,
      node_version: process.versions.node,
      scenario_file: options.scenarioFile ?? null,
      scenario_hash: hash,
      seed: scenario.seed,
      replication,
      ...(options.inputs !== undefined && options.inputs.length > 0 ? { inputs: options.inputs } : {}),
      ...(options.columns === 'safe' ? { columns: 'safe' } : {}),
      // The figure formats when not the default, so that a replay draws the same files.
      ...(scenario.outputs.plots && options.plotFormats !== undefined && options.plotFormats.join() !== 'svg'
        ? { formats: options.plotFormats }
        : {}),
      headline: r.headline,
      files: [...readdirSync(tmp), 'meta.json'].sort(),
      scenario: resolvedScenario(scenario),
    };
    writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  });
  return { outDir: options.outDir, files, result: result as RunResult, seed: scenario.seed, scenarioHash: hash };
}

/** The scenario with another seed (for `--seed` and sweep replications). */
export function withSeed(scenario: Scenario, seed: number): Scenario {
  return { ...scenario, seed };
}

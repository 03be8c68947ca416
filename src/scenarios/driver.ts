/**
 * The contract between the scenario runner and a protocol's scenario driver.
 *
 * A scenario file has one `protocol:` section whose single key names the
 * driver (`gossip`, `tcp`, ...). The runner validates the common parts
 * (name, seed, duration, network, faults, outputs), hands the protocol section
 * and the workload to the driver's zod schemas, then calls `run` with a
 * context that opens trace CSVs inside the run's (temporary) output folder.
 * Plots are not the driver's business: the runner renders them from the CSVs
 * it finds (see `plot.ts` and the recipes in `plots/`), which is also what `desim plot DIR` does.
 * A driver with a `recipe` runs through the one scenario pipeline
 * (`pipeline.ts`), which builds the simulator, network, faults, workload and
 * progress for every protocol alike.
 */
import type { z } from 'zod';
import type { CsvWriter, Cell } from '../io/csv.js';
import type { Recipe } from './pipeline.js';
import type { RegionsSection } from './regions.js';
import type { AqmSection } from './schema.js';

/** One validation problem: a path into the scenario (e.g. `workload[2].node`) and what was expected. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** One term of a run's work estimate: about `events` kernel events, caused mostly by the key at `path`. */
export interface WorkEstimate {
  readonly events: number;
  readonly path: string;
  /** How the number comes about, e.g. `20 nodes x 60 s / interval_s 0.001`. */
  readonly why: string;
}

/** What a driver's `run` may use. */
export interface RunContext {
  /** The run's root seed: build the kernel with `new Simulator({ seed: ctx.seed })`. */
  readonly seed: string;
  /**
   * Opens `trace-<name>.csv` in the run's output folder, or returns undefined
   * when the scenario's `outputs.traces` does not ask for that trace (then skip
   * the work of producing it). The runner closes every writer after `run`.
   */
  openTrace(name: string, columns: readonly string[]): CsvWriter | undefined;
  /** Reports progress in [0, 1] (the CLI renders it; may be a no-op). */
  progress(fraction: number): void;
}

/** A small table the driver returns (written as `<name>.csv`). */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** What a run produces besides its traces. */
export interface RunResult {
  /**
   * The run's scalar results, in a fixed order, names with units
   * (`goodput_bps`, `t_last_s`, `residue_frac`, `messages_per_node`).
   * They form the run's row of summary.csv and the columns sweeps aggregate.
   */
  readonly metrics: Readonly<Record<string, number>>;
  /** Extra tables, e.g. `flows` (one row per TCP flow) or `reads` (one row per get). */
  readonly tables?: Readonly<Record<string, Table>>;
  /** One line for humans, e.g. `3 nodes, 1 put, converged at t=2.004 s; get@B=25.5 get@C=25.5`. */
  readonly headline: string;
  /** The protocol's invariant does not hold at the end (the description): `desim run` exits 1 after writing the folder. */
  readonly violation?: string;
}

/**
 * A protocol's scenario driver.
 * @typeParam S the parsed protocol section
 * @typeParam W the parsed workload entry
 */
export interface ProtocolDriver<S = unknown, W = unknown> {
  /** The key under `protocol:` in scenario files. */
  readonly name: string;
  /** Schema of the protocol section: strict objects (unknown keys are errors), defaults filled in. */
  readonly schema: z.ZodType<S>;
  /** Schema of one `workload:` entry (strict, defaults filled in). */
  readonly workloadSchema: z.ZodType<W>;
  /** The trace names `outputs.traces` may list (each written as `trace-<name>.csv`); when given, other names are refused. */
  readonly traces?: readonly string[];
  /**
   * A rough estimate, by cause, of the kernel events a run takes (an upper
   * estimate within a small factor, not an exact count): validation refuses a
   * scenario whose total is enormous, naming the term's key.
   */
  estimate?(scenario: ScenarioFor<S, W>): WorkEstimate[];
  /** Checks that need the whole scenario (e.g. a workload entry names an unknown node). */
  check?(scenario: ScenarioFor<S, W>): Issue[];
  /**
   * The protocol's part of a valid scenario in a few words, which `desim validate`
   * prints after the network's node count (`2 flows`; `1 flow on a dumbbell` when
   * the scenario has no network). Default: nothing more.
   */
  summary?(scenario: ScenarioFor<S, W>): string;
  /**
   * The protocol's recipe for the one scenario pipeline (see pipeline.ts):
   * when given, the runner builds the simulator and network, applies faults
   * and workload and reports progress, and the recipe adds only its nodes,
   * metrics, tables and traces. `run` is then `runPipeline(scenario, ctx, [recipe])`.
   */
  readonly recipe?: Recipe<S, W>;
  /**
   * Runs the scenario to its duration, synchronously; writes traces through
   * `ctx`. The runner calls it only for a driver without a {@link recipe}
   * (one that builds its own simulator; every built-in driver has a recipe).
   */
  run(scenario: ScenarioFor<S, W>, ctx: RunContext): RunResult;
}

/** A link section as written in scenario files (all optional; units in the names). */
export interface LinkSection {
  readonly latency_ms?: number | DelayDist;
  readonly jitter_ms?: number;
  readonly loss?: number | GilbertElliott;
  readonly duplicate?: number;
  readonly bandwidth_bps?: number;
  readonly queue_packets?: number;
  readonly queue_bytes?: number;
  /** Queue discipline (needs a bandwidth). */
  readonly aqm?: AqmSection;
}

/** A latency distribution in a scenario file (milliseconds). */
export type DelayDist =
  | { readonly dist: 'constant'; readonly ms: number }
  | { readonly dist: 'uniform'; readonly min_ms: number; readonly max_ms: number }
  | { readonly dist: 'exponential'; readonly mean_ms: number }
  | { readonly dist: 'normal'; readonly mean_ms: number; readonly sd_ms: number }
  | { readonly dist: 'lognormal'; readonly mu: number; readonly sigma: number }
  | { readonly dist: 'pareto'; readonly scale_ms: number; readonly shape: number };

/** Gilbert-Elliott burst loss in a scenario file. */
export interface GilbertElliott {
  readonly model: 'gilbert-elliott';
  readonly p_good_to_bad: number;
  readonly p_bad_to_good: number;
  readonly loss_good?: number;
  readonly loss_bad?: number;
}

/** A fault entry as written in scenario files (node names, times in seconds). */
export type FaultEntry =
  | { readonly at_s: number; readonly partition: readonly (readonly string[])[]; readonly one_way?: boolean; readonly name?: string }
  | { readonly at_s: number; readonly repair: string }
  | { readonly at_s: number; readonly hold: readonly (readonly string[])[]; readonly one_way?: boolean; readonly name?: string }
  | { readonly at_s: number; readonly release: string }
  | { readonly at_s: number; readonly crash: string }
  | { readonly at_s: number; readonly restart: string; readonly keep_state?: boolean }
  | { readonly at_s: number; readonly set_latency_ms: number | DelayDist; readonly between: readonly [string, string]; readonly one_way?: boolean }
  | { readonly at_s: number; readonly set_loss: number | GilbertElliott; readonly between: readonly [string, string]; readonly one_way?: boolean };

/** The network section: node names (or a count, named n0..n{N-1}), the default link and per-link overrides. */
export interface NetworkSection {
  /** Node names in id order (a count in the file becomes `n0`, `n1`, ...). */
  readonly nodes: readonly string[];
  readonly link: LinkSection;
  readonly links: readonly (LinkSection & { readonly from: string; readonly to: string; readonly both_ways: boolean })[];
  /** Regions and their latency matrix, if the file has them. */
  readonly regions?: RegionsSection;
  /**
   * True when the file gave a count: `nodes` are then `n0` ... `n{N-1}`, looked
   * up by parsing instead of a hash table per node, and `meta.json` records the count.
   */
  readonly counted?: true;
}

/** A validated scenario, as a driver sees it (defaults filled in). */
export interface ScenarioFor<S, W> {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly duration_s: number;
  readonly network: NetworkSection;
  readonly protocol: Readonly<Record<string, S>>;
  /** The protocol section of this driver (same object as `protocol[driver.name]`). */
  readonly settings: S;
  readonly workload: readonly W[];
  readonly faults: readonly FaultEntry[];
  readonly outputs: { readonly traces: readonly string[] | 'all'; readonly plots: boolean };
}

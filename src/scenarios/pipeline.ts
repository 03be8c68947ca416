/**
 * The one scenario pipeline: every protocol's run takes this path.
 *
 * {@link runPipeline} does, in this order:
 *
 * 1. builds the simulator (root seed = the run's seed) and the scenario's
 *    network ({@link buildWorld}): one {@link World} per run;
 * 2. attaches each protocol {@link Recipe} to that world: a recipe puts its
 *    nodes on network nodes (a `SimHost`, a cluster, ...) and opens its traces;
 * 3. schedules the scenario's faults (network verbs go to the network;
 *    `crash` and `restart` go first to the recipes, which stop and restart
 *    their nodes, and then to the network for a node no recipe runs);
 * 4. schedules the workload: each entry is handed, at its `at_s`, to the
 *    recipe that owns the workload (the first recipe: today one per scenario);
 * 5. starts every recipe's nodes, at time 0, before any event runs;
 * 6. runs to `duration_s` in 20 steps, reporting progress after each;
 * 7. asks each recipe for its result (metrics, tables, headline, violation).
 *
 * Recipes add only their nodes, metrics, tables and traces (plots are drawn
 * from the CSVs, see plot.ts). The same builders serve `desim run`,
 * `desim/testing` (through the module recipe), the validation tables and the
 * benchmarks ({@link buildWorld}), so a scenario gives the same bytes by every
 * route.
 *
 * Two recipes may share one world (say, gossip nodes and a bulk TCP flow on
 * the same links): each attaches its nodes to the same network, both see the
 * same faults, and their results are merged (metrics and tables get the
 * recipe's name as a prefix when there is more than one). A recipe that runs
 * its nodes on a subset (`new SimHost(sim, net, factory, nodeIds)`) ignores
 * crashes and restarts of nodes it does not run. Recipes may also run on the
 * same nodes: each is attached inside a {@link NodeDemux}, which then routes
 * every packet to the recipe whose `owns` recognises it (gossip nodes and TCP
 * ends on one node). `test/scenarios/pipeline.spec.ts` has two recipes on one
 * world; `gossip-tcp-shared-link` is a bundled scenario with both.
 *
 * @example A recipe that runs a ping node on every network node:
 * ```ts
 * const pingRecipe: Recipe<{ interval_s: number }, { node: string }> = {
 *   name: 'ping',
 *   attach(world, scenario, ctx) {
 *     const host = new SimHost(world.sim, world.net, (id) => new PingNode(id, scenario.settings.interval_s));
 *     const trace = ctx.openTrace('pings', ['time_s', 'node']);
 *     host.traces.connect((e) => trace?.write([formatSeconds(e.timeNs), world.names[e.node] ?? '']));
 *     return {
 *       crash: (id) => host.crash(id),
 *       restart: (id, keepState) => host.restart(id, keepState),
 *       call: (w) => host.call(world.ids.get(w.node) as NodeId, 'ping'),
 *       start: () => host.startAll(),
 *       finish: () => ({ metrics: { messages_sent: world.net.total.sent }, headline: `${world.net.total.sent} pings` }),
 *     };
 *   },
 * };
 * // As a driver: { name: 'ping', schema, workloadSchema, recipe: pingRecipe, run: (s, ctx) => runPipeline(s, ctx, [pingRecipe]) }
 * ```
 */
import { Simulator } from '../kernel/simulator.js';
import { seconds } from '../kernel/time.js';
import { scheduleFaults } from '../net/faults.js';
import type { Fault } from '../net/faults.js';
import { Network, type NodeId } from '../net/network.js';
import { NodeDemux } from '../sim/node-demux.js';
import type { LinkSection, NetworkSection, RunContext, RunResult, ScenarioFor, Table } from './driver.js';
import { buildNetwork, defaultNodeNames, toLinkPatch, toTimedFaults } from './network-section.js';

/** The simulator and network of one run, shared by every recipe of the scenario. */
export interface World<M = unknown> {
  readonly sim: Simulator;
  readonly net: Network<M>;
  /** Node names in id order (the scenario's `network.nodes`). */
  readonly names: readonly string[];
  /** Node ids by name. */
  readonly ids: ReadonlyMap<string, NodeId>;
}

/** Options of {@link buildWorld}. */
export interface WorldOptions {
  /** The kernel's initial queue capacity (a hint; it grows as needed). */
  readonly initialCapacity?: number;
  /** Keep per-link counters (default true; costs memory for large networks). */
  readonly perLinkCounters?: boolean;
  /** Packets in flight the network makes room for before the nodes exist (a hint; see `NetworkOptions.initialPackets`). */
  readonly initialPackets?: number;
}

/** `n` nodes named `n0`, `n1`, ..., every link the same (for the validation tables and benchmarks). */
export interface UniformNetwork {
  readonly count: number;
  readonly link: LinkSection;
}

/**
 * Builds the simulator (root seed `seed`) and the network of a scenario's
 * `network` section, or of a {@link UniformNetwork} (whose node names and
 * ids are made only when asked for: 100,000 of them cost a benchmark time).
 */
export function buildWorld<M>(seed: string | number, network: NetworkSection | UniformNetwork, options: WorldOptions = {}): World<M> {
  const { initialCapacity, ...netOptions } = options;
  const sim = new Simulator({ seed, ...(initialCapacity !== undefined ? { initialCapacity } : {}) });
  if ('nodes' in network) {
    const { net, ids } = buildNetwork<M>(sim, network, netOptions);
    return { sim, net, names: network.nodes, ids };
  }
  const net = new Network<M>(sim, { ...netOptions, nodes: network.count, defaultLink: toLinkPatch(network.link) });
  let names: readonly string[] | undefined;
  let ids: ReadonlyMap<string, NodeId> | undefined;
  return {
    sim,
    net,
    get names() {
      return (names ??= defaultNodeNames(network.count));
    },
    get ids() {
      return (ids ??= new Map(this.names.map((n, i) => [n, i])));
    },
  };
}

/** A network of `n` nodes named `n0`, `n1`, ..., every link the same (for the validation tables and benchmarks). */
export function uniformNetwork(n: number, link: LinkSection): UniformNetwork {
  return { count: n, link };
}

/** What a recipe attached to a world hands back to the pipeline. */
export interface Attached<W = unknown> {
  /**
   * Crashes the recipe's node on network node `id` (stops its timers, ...),
   * or does nothing when the recipe runs no node there. The pipeline then
   * takes the node down on the network if it is still up.
   */
  crash?(id: NodeId): void;
  /** Restarts the recipe's node on `id` (with its state or fresh); the pipeline then brings the network node back up if it is still down. */
  restart?(id: NodeId, keepState: boolean): void;
  /** Called just before each fault is applied (instrumentation: a log of faults). */
  onFault?(fault: Fault, nowNs: number): void;
  /** Carries out workload entry `index` now (at its `at_s`). */
  call?(entry: W, index: number): void;
  /** Starts the recipe's nodes: called once at time 0, after faults and workload are scheduled, before any event runs. */
  start(): void;
  /** Called once the run reached the scenario's duration: the recipe's metrics, tables, headline (and violation). */
  finish(): RunResult;
}

/**
 * A protocol recipe: what one protocol adds to a run (its nodes, metrics,
 * tables and traces), on a world the pipeline built. See the module comment
 * for an example.
 * @typeParam S the parsed protocol section
 * @typeParam W the parsed workload entry
 */
export interface Recipe<S = unknown, W = unknown> {
  /** The protocol's name (its key under `protocol:`; the prefix of its metrics when recipes share a run). */
  readonly name: string;
  /** Options of the world when this recipe is the scenario's first (queue capacity, per-link counters). */
  world?(scenario: ScenarioFor<S, W>): WorldOptions;
  /** Labels workload events in error messages (default `<name>.workload`). */
  readonly workloadLabel?: string;
  /**
   * Recognises the recipe's own messages, for a node it shares with another
   * recipe (see `NodeDemux` in the simulation layer). A recipe without it shares no node.
   */
  readonly owns?: (msg: unknown) => boolean;
  /** Puts the recipe's nodes on the world's network; opens traces through `ctx`. */
  attach(world: World, scenario: ScenarioFor<S, W>, ctx: RunContext): Attached<W>;
}

/** Progress steps of a run: the simulation stops this many times to report progress. */
export const PROGRESS_STEPS = 20;

/** A scenario attached and ready to run (see {@link preparePipeline}). */
export interface PreparedRun {
  readonly world: World;
  /** Runs to the scenario's duration (reporting progress) and returns the merged results. */
  run(): RunResult;
}

/** Steps 1 to 5 of the pipeline (see the module comment): the world built, recipes attached, faults and workload scheduled, nodes started. */
export function preparePipeline<S, W>(scenario: ScenarioFor<S, W>, ctx: RunContext, recipes: readonly Recipe<S, W>[]): PreparedRun {
  const first = recipes[0];
  if (first === undefined) throw new RangeError('runPipeline: no recipe');
  const world = buildWorld<unknown>(ctx.seed, scenario.network, first.world?.(scenario) ?? {});
  const { sim, net, ids } = world;
  // Each recipe sees its own protocol section as `settings` (the first: the scenario's driver).
  const attach = (r: Recipe<S, W>, i: number): Attached<W> =>
    r.attach(world, i === 0 ? scenario : { ...scenario, settings: scenario.protocol[r.name] ?? scenario.settings }, ctx);
  let parts: Attached<W>[];
  if (recipes.length === 1) parts = [attach(first, 0)];
  else {
    // Several recipes: each one's receivers are recorded, then one per node routes packets by protocol.
    const demux = new NodeDemux(net);
    parts = recipes.map((r, i) => demux.bind(r.owns ?? (() => false), () => attach(r, i)));
    demux.install();
  }

  scheduleFaults(sim, net, toTimedFaults(scenario.faults, ids), {
    ...(parts.some((p) => p.onFault !== undefined) ? { before: (fault: Fault) => parts.forEach((p) => p.onFault?.(fault, sim.now)) } : {}),
    crash: (id) => {
      for (const p of parts) p.crash?.(id);
      if (net.isUp(id)) net.crash(id);
    },
    restart: (id, keepState) => {
      for (const p of parts) p.restart?.(id, keepState);
      if (!net.isUp(id)) net.restart(id);
    },
  });

  const owner = parts[0] as Attached<W>;
  const label = first.workloadLabel ?? `${first.name}.workload`;
  scenario.workload.forEach((w, i) => {
    sim.schedule(seconds((w as { at_s: number }).at_s), (idx: number) => owner.call?.(w, idx), i, label);
  });

  for (const p of parts) p.start();
  const endNs = seconds(scenario.duration_s);
  return {
    world,
    run(): RunResult {
      for (let i = 1; i <= PROGRESS_STEPS; i++) {
        sim.run({ until: Math.round((endNs * i) / PROGRESS_STEPS) });
        ctx.progress(i / PROGRESS_STEPS);
      }
      return mergeResults(
        recipes.map((r) => r.name),
        parts.map((p) => p.finish()),
      );
    },
  };
}

/** Runs a scenario through the pipeline with its recipes (the first owns the workload). */
export function runPipeline<S, W>(scenario: ScenarioFor<S, W>, ctx: RunContext, recipes: readonly Recipe<S, W>[]): RunResult {
  return preparePipeline(scenario, ctx, recipes).run();
}

/** One recipe's result as is; several merged, metrics and tables prefixed with the recipe's name (`gossip_t_last_s`, `tcp-flows`). */
export function mergeResults(names: readonly string[], results: readonly RunResult[]): RunResult {
  if (results.length === 1) return results[0] as RunResult;
  const metrics: Record<string, number> = {};
  const tables: Record<string, Table> = {};
  const violations: string[] = [];
  results.forEach((r, i) => {
    const name = names[i] as string;
    for (const [k, v] of Object.entries(r.metrics)) metrics[`${name}_${k}`] = v;
    for (const [k, t] of Object.entries(r.tables ?? {})) tables[`${name}-${k}`] = t;
    if (r.violation !== undefined) violations.push(`${name}: ${r.violation}`);
  });
  return {
    metrics,
    tables,
    headline: results.map((r, i) => `${names[i] as string}: ${r.headline}`).join(' | '),
    ...(violations.length > 0 ? { violation: violations.join('; ') } : {}),
  };
}

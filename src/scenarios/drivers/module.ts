/**
 * Your own protocol in a scenario file: `protocol: { module: { path, options } }`.
 *
 * The module (an ES module, path relative to the scenario file) exports
 * `createNode(id, ctx)` returning a sans-I/O {@link ProtocolNode}; desim runs
 * one per network node on the simulated network, with the scenario's links and
 * faults, and delivers each workload entry `{ at_s, node, call }` as a client
 * call. Messages are sized by the node itself
 * (the `sizeBytes` of its send actions). Optional exports: `metrics(view)` (extra summary columns) and
 * `invariant(view)` (a string describing a violation, or undefined): desim run
 * reports it, and `desim/testing` property tests check it.
 *
 * The same function ({@link runModuleScenario}) backs `desim run` and the
 * property-testing toolkit, so a counterexample written as a scenario file
 * replays exactly.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { valueCell, valueType } from '../../io/csv-format.js';
import { count } from '../../io/count.js';
import { fmt, type CsvWriter } from '../../io/csv.js';
import type { Random } from '../../kernel/random.js';
import type { Fault } from '../../net/faults.js';
import type { Network, NodeId } from '../../net/network.js';
import type { ProtocolNode } from '../../protocols/sans-io.js';
import { SimHost, type NodeTraceEvent } from '../../sim/host.js';
import type { ProtocolDriver, RunContext, RunResult, ScenarioFor } from '../driver.js';
import { ScenarioError } from '../errors.js';
import { unknownNode } from '../loader.js';
import { nodeNameSet } from '../network-section.js';
import { runPipeline, type Recipe } from '../pipeline.js';
import { timeS } from '../schema.js';

/** What `createNode` gets besides its id. */
export interface NodeContext {
  /** Every other node's id. */
  readonly peers: readonly NodeId[];
  /** Node names by id, as in the scenario file. */
  readonly names: readonly string[];
  /** This node's own random stream (`node:<name>`). */
  readonly rng: Random;
  /**
   * The run's random stream called `name` (derived from the run's seed and
   * the name; the same object for the same name). For a module that must
   * draw exactly as a built-in protocol does (the `desim/testing` gossip
   * module draws from the gossip recipe's `gossip.node:<id>` and
   * `gossip.clock`); other modules use {@link rng}. Names desim itself uses
   * (`net`, `net:*`, `gossip.*`, `tcp.*`) shift the built-in draws.
   */
  readonly stream: (name: string) => Random;
  /** The scenario's `protocol.module.options`. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * One map per run, shared by every node of the run and visible to
   * `metrics` and `invariant` as `view.shared`: for instrumentation only (an
   * observer's log, say). Protocol logic must not use it: nodes talk through
   * messages.
   */
  readonly shared: Map<string, unknown>;
}

/** A fault as it was applied, with its time (crash and restart include the restart's `keepState`). */
export interface AppliedFault {
  readonly timeNs: number;
  readonly fault: Fault;
}

/** The state of a finished (or paused) run, as `metrics` and `invariant` see it. */
export interface ClusterView<M, C, R> {
  /** The protocol node on each network node (restarted nodes are the new instances). */
  readonly nodes: readonly ProtocolNode<M, C, R>[];
  /** Whether each node is up. */
  readonly up: readonly boolean[];
  readonly names: readonly string[];
  /** Every client call made, with its reply, in time order. */
  readonly calls: readonly {
    readonly timeNs: number;
    readonly node: NodeId;
    readonly call: C;
    readonly reply: R | undefined;
    readonly error?: string;
  }[];
  readonly net: Network<M>;
  readonly nowNs: number;
  /** The faults applied during the run, in order. */
  readonly faults: readonly AppliedFault[];
  /** The run's shared instrumentation map (see {@link NodeContext.shared}). */
  readonly shared: Map<string, unknown>;
}

/** The exports desim looks for in a user protocol module. */
export interface UserProtocolModule<M = unknown, C = unknown, R = unknown> {
  createNode(id: NodeId, ctx: NodeContext): ProtocolNode<M, C, R>;
  metrics?(view: ClusterView<M, C, R>): Record<string, number>;
  invariant?(view: ClusterView<M, C, R>): string | undefined;
}

/** The `protocol.module` section. */
export const moduleSettingsSchema = z.strictObject({
  /** The module's path (relative to the scenario file) or package name. */
  path: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});

/** One `workload` entry: a client call at a node. */
export const moduleWorkloadSchema = z.strictObject({
  at_s: timeS(),
  node: z.string(),
  call: z.unknown(),
});

export type ModuleSettings = z.infer<typeof moduleSettingsSchema>;
export type ModuleWorkload = z.infer<typeof moduleWorkloadSchema>;

/** Called after each workload call, with its reply or the error it threw. */
export type CallListener<C, R> = (timeNs: number, node: NodeId, call: C, reply: R | undefined, error?: string) => void;

/**
 * The module recipe: one node of the user's module on every network node (a
 * {@link SimHost}), each workload entry's `call` made at its node. `onView`
 * receives the cluster view when the run ends; the recipe's result is the
 * module driver's summary (see {@link moduleResult}).
 */
export function moduleRecipe<M, C, R>(
  mod: UserProtocolModule<M, C, R>,
  onView?: (view: ClusterView<M, C, R>) => void,
  onCall?: CallListener<C, R>,
  onTrace?: (event: NodeTraceEvent) => void,
): Recipe<ModuleSettings, ModuleWorkload> {
  return {
    name: 'module',
    workloadLabel: 'workload.call',
    attach(world, scenario) {
      const { sim } = world;
      const net = world.net as Network<M>;
      const names = world.names;
      const all = names.map((_, i) => i);
      const options = scenario.settings.options;
      const shared = new Map<string, unknown>();
      const stream = (name: string): Random => sim.rng.stream(name);
      const factory = (id: NodeId): ProtocolNode<M, C, R> =>
        mod.createNode(id, { peers: all.filter((p) => p !== id), names, rng: stream(`node:${names[id] ?? id}`), stream, options, shared });
      const host = new SimHost<M, C, R>(sim, net, factory);
      if (onTrace !== undefined) host.traces.connect(onTrace);
      const applied: AppliedFault[] = [];
      const calls: { timeNs: number; node: NodeId; call: C; reply: R | undefined; error?: string }[] = [];
      return {
        onFault: (fault, nowNs) => applied.push({ timeNs: nowNs, fault }),
        crash: (n) => host.crash(n),
        restart: (n, keep) => host.restart(n, keep),
        call: (w) => {
          const node = world.ids.get(w.node) as NodeId;
          let reply: R | undefined;
          let error: string | undefined;
          try {
            reply = host.call(node, w.call as C);
          } catch (err) {
            error = err instanceof Error ? err.message : String(err);
          }
          calls.push(
            error === undefined ? { timeNs: sim.now, node, call: w.call as C, reply } : { timeNs: sim.now, node, call: w.call as C, reply, error },
          );
          onCall?.(sim.now, node, w.call as C, reply, error);
        },
        start: () => host.startAll(),
        finish: () => {
          const view: ClusterView<M, C, R> = {
            nodes: host.nodes,
            up: all.map((i) => net.isUp(i)),
            names,
            calls,
            net,
            nowNs: sim.now,
            faults: applied,
            shared,
          };
          onView?.(view);
          return moduleResult(mod, view);
        },
      };
    },
  };
}

/** Runs a module scenario to its duration (through the one scenario pipeline, as `desim run` does) and returns the cluster view. */
export function runModuleScenario<M, C, R>(
  mod: UserProtocolModule<M, C, R>,
  scenario: ScenarioFor<ModuleSettings, ModuleWorkload>,
  seed: string = String(scenario.seed),
  onCall?: CallListener<C, R>,
): ClusterView<M, C, R> {
  let view: ClusterView<M, C, R> | undefined;
  const ctx: RunContext = { seed, openTrace: () => undefined, progress: () => {} };
  runPipeline(scenario, ctx, [moduleRecipe(mod, (v) => (view = v), onCall)]);
  return view as ClusterView<M, C, R>;
}

/** The module driver's result for a finished run: summary metrics (with the module's own), headline, and the invariant's verdict. */
export function moduleResult<M, C, R>(mod: UserProtocolModule<M, C, R>, view: ClusterView<M, C, R>): RunResult {
  const violation = mod.invariant?.(view);
  const metrics: Record<string, number> = {
    nodes: view.nodes.length,
    live_nodes: view.up.filter(Boolean).length,
    calls: view.calls.length,
    messages_sent: view.net.total.sent,
    messages_delivered: view.net.total.delivered,
    sent_bytes: view.net.total.bytesSent,
    ...(mod.invariant !== undefined ? { invariant_ok: violation === undefined ? 1 : 0 } : {}),
    ...(mod.metrics?.(view) ?? {}),
  };
  const inv = mod.invariant === undefined ? '' : violation === undefined ? '; invariant holds' : `; INVARIANT VIOLATED: ${violation}`;
  return {
    metrics,
    headline: `${count(view.nodes.length, 'node')}, ${count(view.calls.length, 'call')}, ${count(view.net.total.sent, 'message')}${inv}`,
    ...(violation !== undefined ? { violation } : {}),
  };
}

/**
 * A driver for loaded modules: one module, or a map from `protocol.module.path`
 * (as written in the scenario) to its module, so a sweep that varies the path
 * runs each run's own module. `undefined`: the placeholder that validates
 * scenarios without importing anything (`desim validate` without `--load-modules`).
 */
export function moduleDriver(
  mod: UserProtocolModule | ReadonlyMap<string, UserProtocolModule> | undefined,
): ProtocolDriver<ModuleSettings, ModuleWorkload> {
  const moduleFor = (path: string): UserProtocolModule | undefined =>
    mod === undefined ? undefined : mod instanceof Map ? (mod as ReadonlyMap<string, UserProtocolModule>).get(path) : (mod as UserProtocolModule);
  return {
    name: 'module',
    schema: moduleSettingsSchema,
    workloadSchema: moduleWorkloadSchema,
    traces: ['calls', 'node'],
    check(s) {
      const names = nodeNameSet(s.network);
      const issues = s.workload.flatMap((w, i) => (names.has(w.node) ? [] : [{ path: `workload[${i}].node`, message: unknownNode(w.node, names) }]));
      if (s.network.nodes.length === 0) issues.push({ path: 'network.nodes', message: 'a module protocol needs a network section with nodes' });
      return issues;
    },
    run(s, ctx): RunResult {
      return runPipeline(s, ctx, [recipeFor(s.settings.path, s.network.nodes, ctx)]);
    },
  };
  /** The recipe of the module a scenario names, with its `calls` trace on `ctx`. */
  function recipeFor(path: string, names: readonly string[], ctx: RunContext): Recipe<ModuleSettings, ModuleWorkload> {
    const mod = moduleFor(path);
    if (mod === undefined) throw new Error(`protocol module ${path} was not loaded (use loadModuleDriver)`);
    const trace = ctx.openTrace('calls', ['time_s', 'node', 'call', 'reply', 'error']);
    // The nodes' own `trace` actions, one row per field (long form: a node may trace any fields).
    // The file is opened at the first such action, so a module that traces nothing writes none.
    let nodeTrace: CsvWriter | undefined | null = null;
    return moduleRecipe(
      mod,
      undefined,
      (t, node, call, reply, error) =>
        trace?.write([fmt.seconds(t), names[node] ?? '', JSON.stringify(call), reply === undefined ? '' : JSON.stringify(reply), error ?? '']),
      (e) => {
        if (nodeTrace === null) nodeTrace = ctx.openTrace('node', ['time_s', 'node', 'name', 'field', 'value', 'value_type']);
        if (nodeTrace === undefined) return;
        const time = fmt.seconds(e.timeNs);
        const node = names[e.node] ?? '';
        for (const field of Object.keys(e.data)) nodeTrace.write([time, node, e.name, field, valueCell(e.data[field]), valueType(e.data[field])]);
      },
    );
  }
}

/** Where a module path points: a file URL for `./x`, `../x` and absolute paths (relative to `baseDir`), else the package name. */
export function moduleSpecifier(path: string, baseDir: string): { spec: string; file?: string } {
  if (!(path.startsWith('.') || isAbsolute(path))) return { spec: path };
  const file = resolve(baseDir, path);
  return { spec: pathToFileURL(file).href, file };
}

/**
 * sha256 of each module file this process imported, of its bytes just before the first import. Node
 * keeps a module's first import for the life of the process, so a file edited later still runs as it
 * was: a record of what ran names these bytes, not the file's bytes now.
 */
const importedBytes = new Map<string, string>();

/** sha256 (hex) of the bytes of `file` that this process imported as a protocol module, if it did. */
export function importedSha256(file: string): string | undefined {
  return importedBytes.get(resolve(file));
}

/**
 * Imports a user protocol module (path relative to `baseDir`) and checks its
 * shape. Problems are {@link ScenarioError}s on `protocol.module.path` (of
 * `scenarioFile`) naming the resolved path: a missing file, a module that
 * fails to import, a module without `createNode`.
 */
export async function importProtocolModule(path: string, baseDir: string, scenarioFile = '<scenario>'): Promise<UserProtocolModule> {
  const { spec, file } = moduleSpecifier(path, baseDir);
  const where = file ?? path;
  const refuse = (message: string): never => {
    throw new ScenarioError(scenarioFile, [{ path: 'protocol.module.path', message }]);
  };
  if (file !== undefined && !existsSync(file))
    refuse(`no such file: ${file} (${JSON.stringify(path)} is resolved against the scenario file's folder)`);
  let mod: Partial<UserProtocolModule> & { default?: Partial<UserProtocolModule> };
  try {
    if (file !== undefined && !importedBytes.has(file)) importedBytes.set(file, createHash('sha256').update(readFileSync(file)).digest('hex'));
    mod = (await import(spec)) as typeof mod;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && file === undefined) {
      return refuse(
        `cannot find package ${JSON.stringify(path)} (a file path starts with ./, ../ or /, and is resolved against the scenario file's folder)`,
      );
    }
    return refuse(`cannot import ${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const m = typeof mod.createNode === 'function' ? mod : mod.default;
  if (m === undefined || typeof m.createNode !== 'function') refuse(`${where}: a protocol module must export createNode(id, ctx)`);
  return m as UserProtocolModule;
}

/** The `protocol.module.path` of a (raw or overridden) scenario object, if it names one. */
function modulePathOf(raw: unknown): string | undefined {
  const section = (raw as { protocol?: { module?: { path?: unknown } } } | null)?.protocol?.module;
  return section !== null && typeof section === 'object' && typeof section.path === 'string' && section.path !== '' ? section.path : undefined;
}

/**
 * The driver for the `protocol.module` sections of a scenario: every path in
 * `scenarios` (the file's object with its overrides applied, and each sweep
 * variant) imported, relative to `scenarioFile`; the unloaded placeholder when
 * none names a module (validation still works; running needs the module).
 */
export async function loadModuleDriver(scenarios: unknown, scenarioFile: string, variants = false): Promise<ProtocolDriver> {
  const list = variants ? (scenarios as readonly unknown[]) : [scenarios];
  const paths = [...new Set(list.map(modulePathOf).filter((p): p is string => p !== undefined))];
  if (paths.length === 0) return moduleDriver(undefined);
  const mods = new Map<string, UserProtocolModule>();
  for (const p of paths) mods.set(p, await importProtocolModule(p, dirname(resolve(scenarioFile)), scenarioFile));
  return moduleDriver(mods);
}

/**
 * `desim/testing`: property testing of your own protocols on the simulated
 * network, with fast-check.
 *
 * - Arbitraries for cluster sizes, client workloads and fault schedules
 *   (partitions, one-way partitions, holds, crashes and restarts with or
 *   without state, loss and latency changes) that all heal by a given time.
 * - {@link runCase} runs one generated case through the very code `desim run`
 *   uses for `protocol: { module: ... }` scenarios.
 * - {@link checkProtocol} runs a property over many cases; on failure it
 *   writes the shrunk counterexample as a scenario file that `desim run`
 *   replays exactly, and throws an error naming the file and the seed.
 *
 * The guide's third tutorial, "Your own protocol with a property test",
 * walks through a module and its property test.
 *
 * @module desim/testing
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { failWithCounterexample, PropertyFailure } from './counterexample.js';
import type { FaultEntry, LinkSection } from '../scenarios/driver.js';
import { moduleDriver, runModuleScenario, type ClusterView, type ModuleWorkload, type UserProtocolModule } from '../scenarios/drivers/module.js';
import { ScenarioError } from '../scenarios/errors.js';
import { canonicalJson, checkScenario } from '../scenarios/loader.js';
import { defaultNodeNames } from '../scenarios/network-section.js';

export { PropertyFailure };
export type { ClusterView, NodeContext, UserProtocolModule } from '../scenarios/drivers/module.js';
export type { FaultEntry, LinkSection } from '../scenarios/driver.js';

/** Node names `n0`, `n1`, ... */
export function nodeNames(n: number): string[] {
  return defaultNodeNames(n);
}

/** Cluster node names for a size in [min, max]. */
export function clusterArb(min = 3, max = 10): fc.Arbitrary<string[]> {
  return fc.integer({ min, max }).map(nodeNames);
}

/** Seconds on a 1 ms grid in [lo, hi] (exact through YAML and JSON). */
export function timeArb(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.integer({ min: Math.ceil(lo * 1000), max: Math.floor(hi * 1000) }).map((ms) => ms / 1000);
}

/** The fault kinds {@link faultScheduleArb} draws from. */
export type FaultKind = 'partition' | 'one_way' | 'hold' | 'crash' | 'crash_lose_state' | 'loss' | 'latency';

/** Options of {@link faultScheduleArb}. */
export interface FaultScheduleOptions {
  /** Every fault starts at or after this time (s). Default 0. */
  readonly from_s?: number;
  /** Every fault is healed (repaired, released, restarted, restored) by this time (s). */
  readonly healBy_s: number;
  /** At most this many fault episodes. Default 4. */
  readonly maxFaults?: number;
  /** Which kinds to draw. Default: all. */
  readonly kinds?: readonly FaultKind[];
  /** Loss during a loss episode is drawn in [0, maxLoss]. Default 0.5. */
  readonly maxLoss?: number;
  /** The base link's loss and latency, restored when an episode ends. Default 0 and 1 ms. */
  readonly baseLoss?: number;
  readonly baseLatency_ms?: number;
}

const ALL_KINDS: readonly FaultKind[] = ['partition', 'one_way', 'hold', 'crash', 'crash_lose_state', 'loss', 'latency'];

/**
 * Fault schedules as scenario `faults:` entries: episodes that each start and
 * end (heal) within [from_s, healBy_s], sorted by time.
 */
export function faultScheduleArb(nodes: readonly string[], opts: FaultScheduleOptions): fc.Arbitrary<FaultEntry[]> {
  const from = opts.from_s ?? 0;
  const kinds = opts.kinds ?? ALL_KINDS;
  const node = fc.constantFrom(...nodes);
  const span = fc.tuple(timeArb(from, opts.healBy_s), timeArb(from, opts.healBy_s)).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  const split = fc.shuffledSubarray([...nodes], { minLength: 1, maxLength: Math.max(1, nodes.length - 1) });
  const episode = fc.record({
    kind: fc.constantFrom(...kinds),
    span,
    node,
    other: node,
    group: split,
    loss: fc.double({ min: 0, max: opts.maxLoss ?? 0.5, noNaN: true }).map((x) => Math.round(x * 1000) / 1000),
    latency: fc.integer({ min: 1, max: 500 }),
  });
  return fc.array(episode, { maxLength: opts.maxFaults ?? 4 }).map((eps) => {
    const out: FaultEntry[] = [];
    eps.forEach((e, i) => {
      const [start, end] = e.span;
      const rest = nodes.filter((n) => !e.group.includes(n));
      switch (e.kind) {
        case 'partition':
        case 'one_way':
          if (rest.length === 0) return;
          out.push({ at_s: start, partition: [e.group, rest], name: `p${i}`, ...(e.kind === 'one_way' ? { one_way: true } : {}) });
          out.push({ at_s: end, repair: `p${i}` });
          return;
        case 'hold':
          if (rest.length === 0) return;
          out.push({ at_s: start, hold: [e.group, rest], name: `h${i}` });
          out.push({ at_s: end, release: `h${i}` });
          return;
        case 'crash':
        case 'crash_lose_state':
          out.push({ at_s: start, crash: e.node });
          out.push({ at_s: end, restart: e.node, keep_state: e.kind === 'crash' });
          return;
        case 'loss':
          if (e.node === e.other) return;
          out.push({ at_s: start, set_loss: e.loss, between: [e.node, e.other] });
          out.push({ at_s: end, set_loss: opts.baseLoss ?? 0, between: [e.node, e.other] });
          return;
        case 'latency':
          if (e.node === e.other) return;
          out.push({ at_s: start, set_latency_ms: e.latency, between: [e.node, e.other] });
          out.push({ at_s: end, set_latency_ms: opts.baseLatency_ms ?? 1, between: [e.node, e.other] });
          return;
      }
    });
    // Stable sort by time: an episode's heal never precedes its start.
    return out
      .map((f, k) => [f, k] as const)
      .sort((a, b) => a[0].at_s - b[0].at_s || a[1] - b[1])
      .map(([f]) => f);
  });
}

/** Client calls at random nodes and times in [from_s, until_s], sorted by time. */
export function workloadArb<C>(
  nodes: readonly string[],
  call: fc.Arbitrary<C>,
  opts: { until_s: number; from_s?: number; maxCalls?: number; minCalls?: number },
): fc.Arbitrary<ModuleWorkload[]> {
  return fc
    .array(fc.record({ at_s: timeArb(opts.from_s ?? 0, opts.until_s), node: fc.constantFrom(...nodes), call }), {
      minLength: opts.minCalls ?? 0,
      maxLength: opts.maxCalls ?? 10,
    })
    .map((ws) =>
      ws
        .map((w, k) => [w, k] as const)
        .sort((a, b) => a[0].at_s - b[0].at_s || a[1] - b[1])
        .map(([w]) => w as ModuleWorkload),
    );
}

/** One generated test case: a cluster, its link, a fault schedule, a workload and a seed. */
export interface ClusterCase {
  readonly nodes: readonly string[];
  readonly seed: number;
  readonly link: LinkSection;
  readonly faults: readonly FaultEntry[];
  readonly workload: readonly ModuleWorkload[];
  /** Protocol options drawn for this case (merged over the fixed options). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Options of {@link clusterCaseArb}. */
export interface ClusterCaseOptions<C> {
  readonly minNodes?: number;
  readonly maxNodes?: number;
  /** The client calls to make. */
  readonly call: fc.Arbitrary<C>;
  /** Calls happen in [0, healBy_s]; faults heal by healBy_s. */
  readonly healBy_s: number;
  readonly maxCalls?: number;
  /** At least this many calls per case. Default 0. */
  readonly minCalls?: number;
  readonly maxFaults?: number;
  readonly kinds?: readonly FaultKind[];
  /** Base loss of every link drawn in [0, maxBaseLoss]. Default 0. */
  readonly maxBaseLoss?: number;
  readonly latency_ms?: number;
  /** Jitter of every link drawn in [0, maxJitter_ms] ms (reorders messages). Default 0. */
  readonly maxJitter_ms?: number;
  /** Protocol options to draw per case (e.g. clock skew settings). */
  readonly options?: fc.Arbitrary<Record<string, unknown>>;
}

/** Whole cases: cluster size, workload, faults that heal by `healBy_s`, base loss and a seed. */
export function clusterCaseArb<C>(opts: ClusterCaseOptions<C>): fc.Arbitrary<ClusterCase> {
  const latency = opts.latency_ms ?? 1;
  return clusterArb(opts.minNodes ?? 3, opts.maxNodes ?? 8)
    .chain((nodes) =>
      fc.record({
        nodes: fc.constant(nodes),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        link: fc
          .tuple(
            fc.integer({ min: 0, max: Math.round((opts.maxBaseLoss ?? 0) * 100) }),
            fc.integer({ min: 0, max: Math.round(opts.maxJitter_ms ?? 0) }),
          )
          .map(([l, j]): LinkSection => ({ latency_ms: latency, loss: l / 100, ...(j > 0 ? { jitter_ms: j } : {}) })),
        faults: faultScheduleArb(nodes, {
          healBy_s: opts.healBy_s,
          maxFaults: opts.maxFaults ?? 4,
          baseLatency_ms: latency,
          ...(opts.kinds !== undefined ? { kinds: opts.kinds } : {}),
        }),
        workload: workloadArb(nodes, opts.call, { until_s: opts.healBy_s, maxCalls: opts.maxCalls ?? 10, minCalls: opts.minCalls ?? 0 }),
        options: opts.options ?? fc.constant(undefined),
      }),
    )
    .map(({ options, ...c }) => ({
      ...c,
      ...(options !== undefined ? { options } : {}),
      // Loss episodes restore the case's own base loss.
      faults: c.faults.map((f) => ('set_loss' in f && f.set_loss === 0 ? { ...f, set_loss: (c.link.loss as number) ?? 0 } : f)),
    }));
}

/** A case as a scenario file object (what `desim run` takes). */
export function caseToScenario(
  c: ClusterCase,
  opts: { name: string; modulePath: string; duration_s: number; options?: Record<string, unknown>; description?: string },
): Record<string, unknown> {
  return {
    name: opts.name,
    description: opts.description ?? 'generated by desim/testing',
    seed: c.seed,
    duration_s: opts.duration_s,
    network: { nodes: [...c.nodes], link: c.link },
    protocol: { module: { path: opts.modulePath, options: { ...opts.options, ...c.options } } },
    workload: c.workload,
    faults: c.faults,
    outputs: { traces: 'all', plots: false },
  };
}

/** Runs a scenario object (e.g. from {@link caseToScenario}) with a loaded module. Throws ScenarioError if invalid. */
export function runScenarioObject<M, C, R>(mod: UserProtocolModule<M, C, R>, scenario: Record<string, unknown>): ClusterView<M, C, R> {
  const checked = checkScenario(scenario, [moduleDriver(mod as UserProtocolModule)]);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the name as written, whatever its type (the issues say what is wrong)
  if (!checked.ok) throw new ScenarioError(String(scenario['name'] ?? '<case>'), checked.issues);
  const s = checked.scenario as unknown as Parameters<typeof runModuleScenario<M, C, R>>[1];
  return runModuleScenario<M, C, R>(mod, s);
}

/** Runs one case for `duration_s` (s) through the same code as `desim run`. */
export function runCase<M, C, R>(
  mod: UserProtocolModule<M, C, R>,
  c: ClusterCase,
  opts: { duration_s: number; options?: Record<string, unknown> },
): ClusterView<M, C, R> {
  return runScenarioObject(mod, caseToScenario(c, { name: 'case', modulePath: '<in-process>', ...opts }));
}

/** True when every live node shows the same value of `pick` (compared as canonical JSON). */
export function converged<M, C, R>(
  view: ClusterView<M, C, R>,
  pick: (node: ClusterView<M, C, R>['nodes'][number], index: number) => unknown,
): boolean {
  let first: string | undefined;
  for (let i = 0; i < view.nodes.length; i++) {
    if (view.up[i] !== true) continue;
    const v = canonicalJson(pick(view.nodes[i] as ClusterView<M, C, R>['nodes'][number], i));
    if (first === undefined) first = v;
    else if (v !== first) return false;
  }
  return true;
}

/** Options of {@link checkProtocol}. */
export interface CheckProtocolOptions<M, C, R> {
  /** The protocol module, loaded. */
  readonly module: UserProtocolModule<M, C, R>;
  /**
   * The module's file (absolute, or relative to the working directory) or
   * package name. The counterexample file names a relative one relative to
   * itself, as scenario files do, so `desim run <counterexample>` finds it
   * from any working directory.
   * (A relative path that exists only relative to `counterexampleDir` is
   * taken as such, as before.)
   */
  readonly modulePath: string;
  readonly cases: fc.Arbitrary<ClusterCase>;
  /** Simulated run length (s): heal time plus enough time to settle. */
  readonly duration_s: number;
  readonly options?: Record<string, unknown>;
  /** The property: a violation description, or undefined. Default: the module's `invariant`. */
  readonly property?: (view: ClusterView<M, C, R>) => string | undefined;
  /** Where to write `<name>.counterexample.yaml` on failure. */
  readonly counterexampleDir: string;
  readonly name: string;
  /** fast-check parameters (seed, numRuns, ...). */
  readonly params?: fc.Parameters<[ClusterCase]>;
}

/**
 * How a scenario file in `dir` names the module `modulePath` (see
 * {@link CheckProtocolOptions.modulePath}): an absolute path as it is, a
 * relative file path `./` or `../` relative to `dir`, a package by its name.
 */
function modulePathFrom(modulePath: string, dir: string): string {
  if (isAbsolute(modulePath)) return modulePath;
  const candidates = [resolve(modulePath), resolve(dir, modulePath)];
  const file = candidates.find((f) => existsSync(f) && statSync(f).isFile());
  if (file === undefined) return modulePath;
  const rel = relative(resolve(dir), file).split(sep).join('/');
  return rel.startsWith('../') ? rel : `./${rel}`;
}

/**
 * Checks a property over generated cases. On failure, writes the shrunk
 * counterexample as a scenario file and throws {@link PropertyFailure}:
 * `desim run <file>` replays it exactly.
 *
 * @example In a vitest test (the guide's third tutorial has the whole module and test)
 * ```ts
 * import fc from 'fast-check';
 * import { checkProtocol, clusterCaseArb } from 'desim/testing';
 * import * as maxRegister from './max-register.js';
 *
 * checkProtocol({
 *   name: 'max-register',
 *   module: maxRegister, // exports createNode and invariant
 *   modulePath: './max-register.js', // what the counterexample file names
 *   cases: clusterCaseArb({ call: fc.record({ op: fc.constant('write'), value: fc.nat() }), healBy_s: 2 }),
 *   duration_s: 5, // faults heal by 2 s, then 3 s to converge
 *   counterexampleDir: 'counterexamples',
 *   params: { seed: 42, numRuns: 50 },
 * });
 * ```
 */
export function checkProtocol<M, C, R>(opts: CheckProtocolOptions<M, C, R>): void {
  const property = opts.property ?? opts.module.invariant?.bind(opts.module);
  if (property === undefined) throw new Error('checkProtocol: give a property, or export invariant() from the module');
  const details = fc.check(
    fc.property(opts.cases, (c) => {
      const view = runCase(opts.module, c, { duration_s: opts.duration_s, ...(opts.options !== undefined ? { options: opts.options } : {}) });
      const v = property(view);
      if (v !== undefined) throw new Error(v);
    }),
    opts.params ?? {},
  );
  if (!details.failed || details.counterexample === null) return;
  const [c] = details.counterexample;
  const scenario = caseToScenario(c, {
    name: `${opts.name}-counterexample`,
    modulePath: modulePathFrom(opts.modulePath, opts.counterexampleDir),
    duration_s: opts.duration_s,
    description: `Shrunk counterexample of ${opts.name} (fast-check seed ${details.seed}, path ${details.counterexamplePath ?? ''})`,
    ...(opts.options !== undefined ? { options: opts.options } : {}),
  });
  failWithCounterexample(opts.name, opts.counterexampleDir, scenario, details, c);
}

export {
  checkTcpDelivery,
  runTcpCase,
  tcpCaseArb,
  tcpCaseToScenario,
  type CheckTcpDeliveryOptions,
  type TcpCase,
  type TcpCaseOptions,
  type TcpCaseResult,
} from './tcp.js';

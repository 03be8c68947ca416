/**
 * desim's public API: the one export list. Everything a user may import from
 * `desim` is named here (a test pins the list); anything else is internal.
 * Property-testing helpers live in the `desim/testing` subpath.
 *
 * The API pages group these exports by the layer that defines them (see
 * docs/architecture.md): dependencies point one way, kernel ← network ←
 * simulation ← scenarios, and protocols import none of them.
 *
 * @example Run a scenario file from code, as desim run does
 * ```ts
 * import { BUILTIN_DRIVERS, executeScenario, loadScenario } from 'desim';
 *
 * const scenario = loadScenario('my-scenario.yaml', BUILTIN_DRIVERS);
 * const report = executeScenario({ ...scenario, outputs: { traces: [], plots: false } }, undefined);
 * console.log(report.metrics);
 * ```
 *
 * @groupDescription Kernel
 * The event kernel: integer virtual time in nanoseconds, a heap of events in
 * (time, sequence) order, named seeded random streams, typed trace sources and
 * the errors a run can raise.
 *
 * @groupDescription Network
 * The simulated network as data: directed links with a latency distribution,
 * jitter, loss, duplication, a rate and a drop-tail queue, and turmoil's fault
 * verbs (partition / repair, hold / release, crash / restart, latency and loss
 * changes).
 *
 * @groupDescription Protocols: the sans-I/O contract
 * What a protocol node is: handlers for start, calls, messages and timers that
 * return actions (send, set a timer, trace) instead of doing I/O.
 *
 * @groupDescription Protocols: gossip
 * The gossip-replicated key-value store: last-writer-wins store, rumor
 * mongering with Demers et al.'s stop rules, digest anti-entropy, clocks.
 *
 * @groupDescription Protocols: TCP
 * Packet-level TCP: sender state machine, RFC 6298 timer, and the congestion
 * control algorithms (Tahoe, Reno, NewReno) on a plain control block; the
 * Mathis and Padhye throughput models.
 *
 * @groupDescription Simulation
 * Drivers that bind sans-I/O protocols to the kernel and the network: a host
 * per node, the gossip cluster and its metrics, the TCP dumbbell and flows.
 *
 * @groupDescription Scenarios
 * Scenario files: loading, validating, running, sweeping, plotting; the
 * protocol drivers behind `protocol: gossip | tcp | module`.
 *
 * @groupDescription Output files
 * The CSV writer and number formats every output goes through.
 *
 * @module desim
 */

// Kernel: clock and event queue, time units, random streams, traces, errors.
export * from './kernel/index.js';

// The CSV sink every output goes through.
export * from './io/csv.js';

// The simulated network and its fault verbs.
export * from './net/index.js';

// The sans-I/O contract and the simulator's driver for it.
export type { Action, ActionSink, ProtocolNode, Rng } from './protocols/sans-io.js';
export { Outbox } from './protocols/sans-io.js';
export * from './sim/index.js';

// Models.
export * from './protocols/gossip/index.js';
export type { KvAck } from './protocols/gossip/wire.js';
export * from './protocols/tcp/index.js';

// Scenarios: loading, validating, running, sweeping, plotting.
export type {
  Issue,
  ProtocolDriver,
  RunContext,
  RunResult,
  ScenarioFor,
  Table,
  LinkSection,
  NetworkSection,
  FaultEntry,
  DelayDist,
  GilbertElliott,
  WorkEstimate,
} from './scenarios/driver.js';
export type { RegionsSection } from './scenarios/regions.js';
export { OutputError, ScenarioError, formatIssue } from './scenarios/errors.js';
export {
  checkScenario,
  loadScenario,
  parseScenarioText,
  readScenarioFile,
  resolvedScenario,
  scenarioHash,
  validateScenario,
  type CheckOptions,
  type Scenario,
} from './scenarios/loader.js';
export { parseSets, parseVaries, type Override, type PathSegment, type Variation } from './scenarios/overrides.js';
export { buildWorld, runPipeline, type Attached, type Recipe, type UniformNetwork, type World, type WorldOptions } from './scenarios/pipeline.js';
export { executeScenario, runScenario, withSeed, type RunReport, type RunScenarioOptions } from './scenarios/runner.js';
export { inputFiles, type InputFile } from './scenarios/replay.js';
export {
  deriveSeed,
  finalizeSweep,
  mergeSweeps,
  planRuns,
  runSweep,
  SweepRunError,
  type SweepOptions,
  type SweepProfileEvent,
  type SweepReport,
  type SweepRun,
  type RunRecord,
  type SweepMode,
} from './scenarios/sweep.js';
export { scenarioJsonSchema } from './scenarios/schema.js';
export { buildNetwork, toTimedFaults } from './scenarios/network-section.js';
export { BUILTIN_DRIVERS, driversFor } from './scenarios/drivers/index.js';
export { gossipDriver, type GossipSettings, type GossipWorkload } from './scenarios/drivers/gossip.js';
export { tcpDriver, type TcpSettings } from './scenarios/drivers/tcp.js';
export {
  moduleDriver,
  runModuleScenario,
  type AppliedFault,
  type CallListener,
  type ClusterView,
  type NodeContext,
  type UserProtocolModule,
} from './scenarios/drivers/module.js';
export { drawFigure, plotDirectory, type FigureRenderer, type PlotOptions } from './scenarios/plot.js';
export type { PlotFormat } from './scenarios/plots/formats.js';
export { renderVegaLite, type RenderOptions } from './scenarios/plots/render.js';
export { summarize, tQuantile975 } from './scenarios/stats.js';

/**
 * desim's public API: the one export list. Everything a user may import from
 * `desim` is named here (a test pins the list); anything else is internal.
 * Property-testing helpers live in the `desim/testing` subpath.
 */

// Kernel: clock and event queue, time units, random streams, traces, errors.
export * from './kernel/index.js';

// The CSV sink every output goes through.
export * from './io/csv.js';

// The simulated network and its fault verbs.
export * from './net/index.js';

// The sans-I/O contract and the simulator's driver for it.
export type { Action, ProtocolNode } from './protocols/sans-io.js';
export { Outbox } from './protocols/sans-io.js';
export * from './sim/index.js';

// Models.
export * from './protocols/gossip/index.js';
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
} from './scenarios/driver.js';
export { OutputError, ScenarioError, formatIssue } from './scenarios/errors.js';
export {
  checkScenario,
  loadScenario,
  parseScenarioText,
  readScenarioFile,
  resolvedScenario,
  scenarioHash,
  validateScenario,
  type Scenario,
} from './scenarios/loader.js';
export { parseSets, parseVaries, type Override, type Variation } from './scenarios/overrides.js';
export { buildWorld, runPipeline, type Attached, type Recipe, type World, type WorldOptions } from './scenarios/pipeline.js';
export { executeScenario, runScenario, withSeed, type RunReport, type RunScenarioOptions } from './scenarios/runner.js';
export {
  deriveSeed,
  finalizeSweep,
  mergeSweeps,
  planRuns,
  runSweep,
  SweepRunError,
  type SweepOptions,
  type SweepReport,
  type SweepRun,
  type RunRecord,
} from './scenarios/sweep.js';
export { scenarioJsonSchema } from './scenarios/schema.js';
export { buildNetwork, toTimedFaults } from './scenarios/network-section.js';
export { BUILTIN_DRIVERS, driversFor } from './scenarios/drivers/index.js';
export { gossipDriver } from './scenarios/drivers/gossip.js';
export { tcpDriver } from './scenarios/drivers/tcp.js';
export { moduleDriver, runModuleScenario, type ClusterView, type NodeContext, type UserProtocolModule } from './scenarios/drivers/module.js';
export { plotDirectory, type PlotOptions } from './scenarios/plot.js';
export type { PlotFormat } from './scenarios/plots/formats.js';
export { renderVegaLite } from './scenarios/plots/render.js';
export { summarize, tQuantile975 } from './scenarios/stats.js';

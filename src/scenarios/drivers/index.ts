/** The protocol drivers desim ships, by the key they take under `protocol:` in scenario files. */
import type { ProtocolDriver } from '../driver.js';
import { readScenarioFile, validateScenario, type Scenario } from '../loader.js';
import type { Override } from '../overrides.js';
import { gossipDriver } from './gossip.js';
import { loadModuleDriver, moduleDriver } from './module.js';
import { tcpDriver } from './tcp.js';

/** Built-in drivers; `module` is a placeholder that validates but needs {@link driversFor} to run. */
export const BUILTIN_DRIVERS: readonly ProtocolDriver[] = [
  gossipDriver as ProtocolDriver,
  tcpDriver as ProtocolDriver,
  moduleDriver(undefined) as ProtocolDriver,
];

/** The drivers for one scenario file: the built-ins, with its `protocol.module` (if any) imported. */
export async function driversFor(raw: unknown, scenarioFile: string): Promise<ProtocolDriver[]> {
  const mod = await loadModuleDriver(raw, scenarioFile);
  return BUILTIN_DRIVERS.map((d) => (d.name === 'module' ? mod : d));
}

/** Reads a scenario file, imports its protocol module if it names one, applies the overrides and validates it. Throws {@link ScenarioError}. */
export async function loadScenarioFile(file: string, overrides: readonly Override[] = []): Promise<Scenario> {
  const raw = readScenarioFile(file);
  return validateScenario(raw, await driversFor(raw, file), file, overrides);
}

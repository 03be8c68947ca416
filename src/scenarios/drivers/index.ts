/** The protocol drivers desim ships, by the key they take under `protocol:` in scenario files. */
import type { ProtocolDriver } from '../driver.js';
import { readScenarioFile, validateScenario, type Scenario } from '../loader.js';
import { applyOverrides, type Override, type Variation } from '../overrides.js';
import { gossipDriver } from './gossip.js';
import { loadModuleDriver, moduleDriver } from './module.js';
import { swimDriver } from './swim.js';
import { tcpDriver } from './tcp.js';

/** Built-in drivers; `module` is a placeholder that validates but needs {@link driversFor} to run. */
export const BUILTIN_DRIVERS: readonly ProtocolDriver[] = [gossipDriver, tcpDriver, swimDriver, moduleDriver(undefined)];

/**
 * The drivers for one scenario file: the built-ins, with the protocol module
 * its `protocol.module.path` names imported (relative to the file). The path
 * is read after `overrides` are applied, and every value of `variations` that
 * changes it is imported too, so `--set protocol.module.path=...` and
 * `--vary protocol.module.path=a,b` run the modules they name.
 */
export async function driversFor(
  raw: unknown,
  scenarioFile: string,
  overrides: readonly Override[] = [],
  variations: readonly Variation[] = [],
): Promise<ProtocolDriver[]> {
  const base = applyOverrides(raw, overrides);
  const scenario = base.ok ? base.value : raw;
  const variants = [scenario];
  for (const v of variations) {
    for (const value of v.values) {
      const o = applyOverrides(scenario, [{ path: v.path, text: v.text, value }]);
      if (o.ok) variants.push(o.value);
    }
  }
  const mod = await loadModuleDriver(variants, scenarioFile, true);
  return BUILTIN_DRIVERS.map((d) => (d.name === 'module' ? mod : d));
}

/** Reads a scenario file, applies the overrides, imports the protocol module it then names (if any) and validates it. Throws {@link ScenarioError}. */
export async function loadScenarioFile(file: string, overrides: readonly Override[] = []): Promise<Scenario> {
  const raw = readScenarioFile(file);
  return validateScenario(raw, await driversFor(raw, file, overrides), file, overrides);
}

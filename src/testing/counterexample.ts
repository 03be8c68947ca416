/**
 * The failure report every `check*` helper of desim/testing gives: the shrunk
 * counterexample written as a scenario file that `desim run` replays, and a
 * {@link PropertyFailure} naming the seed, path, violation and file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';

/** Thrown by `checkProtocol` and `checkTcpDelivery` when the property fails. */
export class PropertyFailure extends Error {
  override readonly name = 'PropertyFailure';
  constructor(
    message: string,
    readonly scenarioFile: string,
    readonly seed: number,
    readonly violation: string,
  ) {
    super(message);
  }
}

/**
 * Writes a shrunk counterexample as a scenario file that `desim run` replays,
 * and throws {@link PropertyFailure} naming the seed, path, violation and file.
 * Shared by every `check*` helper of desim/testing.
 */
export function failWithCounterexample(
  name: string,
  dir: string,
  scenario: Record<string, unknown>,
  details: {
    readonly numRuns: number;
    readonly seed: number;
    readonly counterexamplePath: string | null;
    readonly numShrinks: number;
    readonly errorInstance: unknown;
  },
  counterexample: unknown,
): never {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.counterexample.yaml`);
  writeFileSync(file, `# ${String(scenario['description'])}\n# replay: desim run ${file}\n` + toYaml(scenario, { aliasDuplicateObjects: false }));
  const violation = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new PropertyFailure(
    `${name}: property failed after ${details.numRuns} cases (fast-check seed ${details.seed}, path ${details.counterexamplePath ?? ''}, shrunk ${details.numShrinks} times)\n` +
      `  violation: ${violation}\n  counterexample: ${JSON.stringify(counterexample)}\n  written to ${file}; replay with: desim run ${file}`,
    file,
    details.seed,
    violation,
  );
}

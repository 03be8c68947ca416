/** Names of bundled scenarios and how a command-line argument finds its scenario file. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ScenarioError } from './errors.js';
import { OUTPUT_MARKER } from './files.js';
import { BUNDLED_DIR } from './package-info.js';

/** The prefix that names a bundled scenario in meta.json (`bundled:tcp-original`); the CLI takes it too. */
export const BUNDLED_PREFIX = 'bundled:';

/** Bundled scenario names (file names without extension), sorted. */
export function bundledScenarios(): string[] {
  if (!existsSync(BUNDLED_DIR)) return [];
  return readdirSync(BUNDLED_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
    .sort();
}

/**
 * The file of the bundled scenario `name` (`tcp-original` or `bundled:tcp-original`), or
 * undefined if no bundled scenario has that name. Looks at nothing outside the bundled folder.
 */
export function bundledScenarioPath(name: string): string | undefined {
  const bare = name.startsWith(BUNDLED_PREFIX) ? name.slice(BUNDLED_PREFIX.length) : name;
  // A bundled name is a file name of the bundled folder, never a path out of it (`bundled:../x`).
  if (!/^[\w.-]+$/.test(bare) || bare.startsWith('.')) return undefined;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(BUNDLED_DIR, bare + ext);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The file of a bundled scenario that desim itself names (`desim demo`, `desim list`), where a
 * folder or file of that name in the working folder does not matter. Throws if there is none.
 */
export function bundledScenarioFile(name: string): string {
  const file = bundledScenarioPath(name);
  if (file === undefined) throw new Error(`internal: no bundled scenario ${name}`);
  return file;
}

/** What a scenario argument names: a file to read, or a problem to report (a folder). */
export type ScenarioLookup = { readonly ok: true; readonly file: string } | { readonly ok: false; readonly message: string };

/** Whether `dir` holds the `meta.json` of a desim run, which `desim run DIR/meta.json` replays. */
function holdsRunMeta(dir: string): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as unknown;
    return typeof meta === 'object' && meta !== null && (meta as Record<string, unknown>)[OUTPUT_MARKER] === 'run';
  } catch {
    return false;
  }
}

/**
 * Finds the scenario file that `arg` (a command-line argument, or a plan's `scenario`) names,
 * relative to `dir` if given:
 * - `bundled:<name>` is the bundled scenario of that name, whatever is on disk;
 * - a folder at that path is a problem: a folder is no scenario. If `arg` is also a bundled
 *   scenario's name, the message says both and how to choose (`bundled:<name>`, or
 *   `<arg>/meta.json` when the folder holds a run to replay, else a scenario file's path); if
 *   not, it says that a scenario file was expected, and how to replay a run the folder holds;
 * - anything else at that path is the file (the loader reports what is wrong with it);
 * - else the bundled scenario of that name. Undefined when nothing has that name.
 */
export function findScenarioFile(arg: string, dir?: string): ScenarioLookup | undefined {
  if (arg.startsWith(BUNDLED_PREFIX)) {
    const bundled = bundledScenarioPath(arg);
    return bundled === undefined ? undefined : { ok: true, file: bundled };
  }
  const path = dir === undefined || isAbsolute(arg) ? arg : resolve(dir, arg);
  const bundled = bundledScenarioPath(arg);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Nothing there: the bundled scenario of that name, if any.
    return bundled === undefined ? undefined : { ok: true, file: bundled };
  }
  if (!isDir) return { ok: true, file: path };
  const meta = join(arg, 'meta.json');
  const replay = holdsRunMeta(path);
  if (bundled === undefined)
    return { ok: false, message: `is a directory, expected a scenario file${replay ? `; to replay the run it holds, give ${meta}` : ''}` };
  return {
    ok: false,
    message:
      `is a directory, and also the name of a bundled scenario: give ${BUNDLED_PREFIX}${arg} for the bundled scenario, ` +
      (replay ? `or ${meta} to replay the run the directory holds` : 'or the path of a scenario file'),
  };
}

/**
 * The scenario file a command-line argument names (see {@link findScenarioFile}): a folder is
 * refused with a {@link ScenarioError} that says how to choose; a name nothing has is returned
 * as given, for the loader to report.
 */
export function resolveScenarioPath(arg: string): string {
  const found = findScenarioFile(arg);
  if (found === undefined) return arg;
  if (!found.ok) throw new ScenarioError(arg, [{ path: '', message: found.message }]);
  return found.file;
}

/**
 * How a run records the scenario file it came from (meta.json's `scenario_file`):
 * `bundled:<name>` for a bundled scenario, the same in every installation and
 * clone, else the path as given.
 */
export function recordedScenarioFile(path: string): string {
  if (resolve(dirname(path)) !== BUNDLED_DIR) return path;
  return BUNDLED_PREFIX + basename(path).replace(/\.(ya?ml|json)$/, '');
}

/** Names of bundled scenarios and how a command-line argument finds its scenario file. */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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
 * A path as given if it exists, else the bundled scenario of that name (`tcp-original` or
 * `bundled:tcp-original`), else the path as given (the loader reports it).
 */
export function resolveScenarioPath(arg: string): string {
  if (existsSync(arg)) return arg;
  const name = arg.startsWith(BUNDLED_PREFIX) ? arg.slice(BUNDLED_PREFIX.length) : arg;
  // A bundled name is a file name of the bundled folder, never a path out of it (`bundled:../x`).
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return arg;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(BUNDLED_DIR, name + ext);
    if (existsSync(p)) return p;
  }
  return arg;
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

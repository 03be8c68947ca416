/** Names of bundled scenarios and how a command-line argument finds its scenario file. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_DIR } from './package-info.js';

/** Bundled scenario names (file names without extension), sorted. */
export function bundledScenarios(): string[] {
  if (!existsSync(BUNDLED_DIR)) return [];
  return readdirSync(BUNDLED_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
    .sort();
}

/** A path as given if it exists, else the bundled scenario of that name, else the path as given (the loader reports it). */
export function resolveScenarioPath(arg: string): string {
  if (existsSync(arg)) return arg;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(BUNDLED_DIR, arg + ext);
    if (existsSync(p)) return p;
  }
  return arg;
}

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The desim package's root folder (found by walking up from this module, in src/ or dist/src/). */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('desim: cannot find package.json above ' + fileURLToPath(import.meta.url));
})();

/** The desim version from package.json. */
export const DESIM_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The folder of bundled scenario files. */
export const BUNDLED_DIR: string = join(PACKAGE_ROOT, 'src', 'scenarios', 'bundled');

/**
 * The path of the built worker module `name` (e.g. `sweep-worker.js`) in the folder of the module at
 * `moduleUrl` (its `import.meta.url`). Workers (threads and processes) run built JS: under a TypeScript loader (the
 * tests) the module is `src/<layer>/<file>.ts` and the worker is taken from `dist/src/<layer>/`.
 */
export function builtWorkerFile(moduleUrl: string, name: string): string {
  const here = fileURLToPath(moduleUrl);
  const dir = dirname(here);
  return join(here.endsWith('.ts') ? join(dirname(dirname(dir)), 'dist', 'src', basename(dir)) : dir, name);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

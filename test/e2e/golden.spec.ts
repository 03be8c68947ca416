/**
 * Determinism regression across versions: fresh runs of the two original
 * demos must reproduce, byte for byte, the CSVs committed under
 * test/fixtures/golden/. A change that alters them is a change of results:
 * regenerate with `desim demo --out test/fixtures/golden` (then delete the
 * files that are not CSVs), review the diff, and say why in the commit.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../src/scenarios/loader.js';
import { runScenario } from '../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-golden-'));

describe('golden results of the original demos', () => {
  for (const name of ['gossip-original', 'tcp-original']) {
    it(`${name}: every committed CSV is reproduced byte for byte`, async () => {
      const golden = join('test', 'fixtures', 'golden', name);
      const csvs = readdirSync(golden)
        .filter((f) => f.endsWith('.csv'))
        .sort();
      expect(csvs).toEqual(expect.arrayContaining(['summary.csv']));
      expect(csvs.some((f) => f.startsWith('trace-'))).toBe(true);
      const out = join(tmp, name);
      await runScenario(loadScenario(resolveScenarioPath(name), BUILTIN_DRIVERS), { outDir: out });
      for (const f of csvs) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(golden, f), 'utf8'));
    });
  }
});

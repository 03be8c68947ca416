/** The bundled TCP scenarios through the scenario loader and runner (files, plots), as `desim run` does. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../../src/scenarios/loader.js';
import { runScenario } from '../../../src/scenarios/runner.js';

const BUNDLED = join(import.meta.dirname, '../../../src/scenarios/bundled');
const tmp = process.env['TCP_E2E_KEEP'] ?? mkdtempSync(join(tmpdir(), 'desim-tcp-e2e-'));
afterAll(() => {
  if (process.env['TCP_E2E_KEEP'] === undefined) rmSync(tmp, { recursive: true, force: true });
});

describe('bundled tcp scenarios, end to end', () => {
  it('tcp-original writes the cwnd trace, the flows table and cwnd.svg', async () => {
    const file = join(BUNDLED, 'tcp-original.yaml');
    const scenario = loadScenario(file, BUILTIN_DRIVERS);
    const report = await runScenario(scenario, { outDir: join(tmp, 'original'), scenarioFile: file });
    expect(report.files).toEqual(expect.arrayContaining(['trace-cwnd.csv', 'flows.csv', 'cwnd.svg']));
    const svg = readFileSync(join(tmp, 'original', 'cwnd.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(report.result.metrics['fast_retransmits']).toBeGreaterThan(0);
  });

  it('tcp-variants and tcp-four-flows validate and run', async () => {
    for (const name of ['tcp-variants', 'tcp-four-flows']) {
      const file = join(BUNDLED, `${name}.yaml`);
      const scenario = loadScenario(file, BUILTIN_DRIVERS);
      const report = await runScenario(scenario, { outDir: join(tmp, name), scenarioFile: file });
      expect(report.result.tables?.['flows']?.rows.length).toBeGreaterThanOrEqual(3);
    }
  });
});

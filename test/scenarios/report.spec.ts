import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenarios/loader.js';
import { parseSets, parseVaries } from '../../src/scenarios/overrides.js';
import { reportHtml } from '../../src/scenarios/report.js';
import { runSweep } from '../../src/scenarios/sweep.js';
import { toyDriver, toyYaml } from './toy-driver.js';

const root = mkdtempSync(join(tmpdir(), 'desim-report-unit-'));

describe('reportHtml', () => {
  it("shows a sweep's --set overrides and base seed among its facts", async () => {
    const vary = parseVaries(['protocol.toy.pings_per_s=20,40']);
    const sets = parseSets(['duration_s=1.5', 'seed=11']);
    if (!vary.ok || !sets.ok) throw new Error('bad flags');
    const sweep = (outDir: string, overrides: typeof sets.overrides) =>
      runSweep({
        raw: parseScenarioText(toyYaml),
        file: 'toy.yaml',
        drivers: [toyDriver],
        sets: overrides,
        variations: vary.variations,
        reps: 1,
        outDir,
        jobs: 1,
      });
    const facts = (html: string) => /<table class="facts">(.*?)<\/table>/.exec(html)?.[1] ?? '';
    await sweep(join(root, 'set'), sets.overrides);
    const withSets = facts(await reportHtml(join(root, 'set')));
    expect(withSets).toContain('<tr><th>overrides</th><td>--set duration_s=1.5 --set seed=11</td></tr>');
    expect(withSets).toContain('<tr><th>base seed</th><td>11</td></tr>');
    await sweep(join(root, 'plain'), []);
    const plain = facts(await reportHtml(join(root, 'plain')));
    expect(plain).toContain('<tr><th>overrides</th><td>none</td></tr>');
    expect(plain).toContain('<tr><th>base seed</th><td>3</td></tr>');
  });
});

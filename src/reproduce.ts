/**
 * `npm run reproduce`: regenerates under results/ every table and figure the
 * README shows, from bundled scenarios and fixed seeds:
 *
 *   results/<scenario>/                 every bundled scenario, run once
 *   results/tcp-mathis-padhye-sweep/    goodput against loss, 5 replications, with both model curves
 *   results/validation/tcp-mathis-padhye.md   the Reno vs Mathis/Padhye table (>= 1000 loss events per p)
 *   results/validation/gossip-*.md      the Pittel and Demers et al. tables
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveScenarioPath, bundledScenarios } from './scenarios/bundled.js';
import { BUILTIN_DRIVERS } from './scenarios/drivers/index.js';
import { loadScenario, readScenarioFile } from './scenarios/loader.js';
import { parseVaries } from './scenarios/overrides.js';
import { runScenario } from './scenarios/runner.js';
import { runSweep } from './scenarios/sweep.js';
import { formatValidationTable, validationTable, VALIDATION_LOSS_RATES } from './validation/tcp.js';
import { demersTable, formatDemersTable, formatSpreadTable, spreadTable } from './validation/gossip.js';

/** Regenerates every README table and figure under `root`; `log` gets one line per step. */
export async function reproduce(root: string, log: (line: string) => void, jobs?: number): Promise<void> {
  for (const name of bundledScenarios()) {
    const file = resolveScenarioPath(name);
    const s = loadScenario(file, BUILTIN_DRIVERS);
    const r = await runScenario(s, { outDir: join(root, s.name), scenarioFile: `src/scenarios/bundled/${name}.yaml` });
    log(`${s.name}: ${r.result.headline}`);
  }
  const file = resolveScenarioPath('tcp-mathis-padhye');
  const vary = parseVaries([`protocol.tcp.bottleneck.loss=${VALIDATION_LOSS_RATES.join(',')}`]);
  if (!vary.ok) throw new Error('internal: bad --vary');
  const sweep = await runSweep({
    raw: readScenarioFile(file),
    file,
    drivers: BUILTIN_DRIVERS,
    sets: [],
    variations: vary.variations,
    reps: 5,
    outDir: join(root, 'tcp-mathis-padhye-sweep'),
    ...(jobs !== undefined ? { jobs } : {}),
  });
  log(`tcp-mathis-padhye-sweep: ${sweep.ran} runs; ${sweep.files.join(' ')}`);
  const dir = join(root, 'validation');
  mkdirSync(dir, { recursive: true });
  const tcp = formatValidationTable(validationTable());
  writeFileSync(join(dir, 'tcp-mathis-padhye.md'), tcp + '\n');
  log(`validation/tcp-mathis-padhye.md:\n${tcp}`);
  const gossip: Record<string, string> = {
    'gossip-pittel': formatSpreadTable(spreadTable()),
    'gossip-demers-feedback-counter': formatDemersTable('Feedback + counter', demersTable('feedback-counter')),
    'gossip-demers-blind-coin': formatDemersTable('Blind + coin', demersTable('blind-coin')),
  };
  for (const [name, text] of Object.entries(gossip)) {
    writeFileSync(join(dir, `${name}.md`), text + '\n');
    log(`validation/${name}.md:\n${text}`);
  }
}

/**
 * `npm run reproduce`: regenerates under results/ every table and figure the
 * README shows, from bundled scenarios and fixed seeds:
 *
 *   results/<scenario>/                 every bundled scenario, run once
 *   results/tcp-mathis-padhye-sweep/    goodput against loss, 5 replications, with both model curves
 *   results/tcp-cubic-reno-sweep/       CUBIC's share of the goodput against Reno, by bandwidth, 5 replications
 *   results/gossip-tcp-shared-link-sweep/  gossip delays with and without the bulk TCP flow, 10 replications
 *   results/tcp-fairness-sweep/         Jain's index of two equal-RTT Reno flows against the bottleneck rate, 5 replications
 *   results/tcp-rtt-fairness-sweep/     two Reno flows' goodput ratio against their RTT ratio, with the 1/RTT and 1/RTT^2 curves, 5 replications
 *   results/tcp-aqm-sweep/              queueing delay and goodput under drop-tail, RED and CoDel, 5 replications
 *   results/swim-false-positives-sweep/ SWIM's false positives with and without suspicion and Lifeguard, 250 replications
 *   results/validation/tcp-mathis-padhye.md   the Reno vs Mathis/Padhye table (>= 1000 loss events per p)
 *   results/validation/tcp-mathis-padhye-sack.md  the SACK Reno rows, p <= 0.01 (>= 10,000 loss events per p)
 *   results/validation/tcp-cubic-response.md  CUBIC vs the RFC 8312 / RFC 9438 response function (>= 1000 loss events per point)
 *   results/validation/swim.md         SWIM's first detection, dissemination and message load at n = 100 ... 10,000
 *   results/validation/gossip-*.md      the Demers et al. tables 1-3, Pittel, and rounds to reach
 *                                       everyone by push, pull and push-pull (rumors and anti-entropy)
 *                                       at n = 100 ... 100,000 against the recurrences (several minutes)
 *
 * With `publish` (the npm script passes docs/results), the files the README
 * shows are then copied into that one flat folder, which the repository keeps.
 */
import { join } from 'node:path';
import { count } from './io/count.js';
import { bundledScenarioFile, bundledScenarios, recordedScenarioFile } from './scenarios/bundled.js';
import { BUILTIN_DRIVERS } from './scenarios/drivers/index.js';
import { copyFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { inspectOutDir, OUTPUT_MARKER, writeFileAtomic, writeOutputFolder } from './scenarios/files.js';
import { loadScenario, readScenarioFile } from './scenarios/loader.js';
import { DESIM_VERSION } from './scenarios/package-info.js';
import { parseVaries } from './scenarios/overrides.js';
import { runScenario } from './scenarios/runner.js';
import { runSweep } from './scenarios/sweep.js';
import {
  formatValidationTable,
  validationTable,
  validationTableInWorkers,
  VALIDATION_LOSS_RATES,
  VALIDATION_SACK_LOSS_RATES,
  VALIDATION_SACK_MIN_LOSS_EVENTS,
} from './validation/tcp.js';
import { cubicValidationTable, formatCubicValidationTable } from './validation/tcp.js';
import { GOSSIP_REPORTS, gossipValidationReport } from './validation/gossip.js';
import { swimValidationReport } from './validation/swim.js';

/**
 * SWIM's false positives under 5% loss and one slow member, with suspicion and Lifeguard each off and on.
 * With suspicion on, a 300 s run has about one false death, so it takes some 250 replications per
 * setting for the 95% confidence intervals of suspicion alone and of suspicion with Lifeguard to
 * part (about 1,000 runs; a few seconds of CPU per hundred).
 */
export const SWIM_FALSE_POSITIVES_SWEEP = {
  scenario: 'swim-false-positives',
  vary: ['protocol.swim.suspicion=false,true', 'protocol.swim.lifeguard=false,true'],
  reps: 250,
} as const;

/** Regenerates every README table and figure under `root`; `log` gets one line per step. */
/** What the README shows: published file name → where reproduce wrote it, relative to its root. */
export const PUBLISHED_FILES: Readonly<Record<string, string>> = {
  'tcp-original-cwnd.svg': 'tcp-original/cwnd.svg',
  'gossip-original-deliveries.svg': 'gossip-original/deliveries.svg',
  'gossip-partition-heal-infection.svg': 'gossip-partition-heal/infection.svg',
  'tcp-four-flows-cwnd.svg': 'tcp-four-flows/cwnd.svg',
  'gossip-10k-infection.svg': 'gossip-10k/infection.svg',
  'gossip-1m-regions-infection.svg': 'gossip-1m-regions/infection.svg',
  'tcp-mathis-padhye-sweep-goodput_bps.svg': 'tcp-mathis-padhye-sweep/goodput_bps.svg',
  'tcp-mathis-padhye-sweep-aggregate.csv': 'tcp-mathis-padhye-sweep/aggregate.csv',
  'gossip-tcp-shared-link-sweep-gossip_t_last_s.svg': 'gossip-tcp-shared-link-sweep/gossip_t_last_s.svg',
  'gossip-tcp-shared-link-sweep-aggregate.csv': 'gossip-tcp-shared-link-sweep/aggregate.csv',
  'tcp-fairness-sweep-jain_index.svg': 'tcp-fairness-sweep/jain_index.svg',
  'tcp-fairness-sweep-aggregate.csv': 'tcp-fairness-sweep/aggregate.csv',
  'tcp-rtt-fairness-sweep-goodput_ratio.svg': 'tcp-rtt-fairness-sweep/goodput_ratio.svg',
  'tcp-rtt-fairness-sweep-aggregate.csv': 'tcp-rtt-fairness-sweep/aggregate.csv',
  'tcp-mathis-padhye.md': 'validation/tcp-mathis-padhye.md',
  'tcp-mathis-padhye-sack.md': 'validation/tcp-mathis-padhye-sack.md',
  'tcp-cubic-response.md': 'validation/tcp-cubic-response.md',
  'tcp-cubic-reno-cwnd.svg': 'tcp-cubic-reno/cwnd.svg',
  'tcp-cubic-reno-sweep-cubic_goodput_frac.svg': 'tcp-cubic-reno-sweep/cubic_goodput_frac.svg',
  'tcp-cubic-reno-sweep-aggregate.csv': 'tcp-cubic-reno-sweep/aggregate.csv',
  'tcp-aqm-sweep-queue_delay_s.svg': 'tcp-aqm-sweep/queue_delay_s.svg',
  'tcp-aqm-sweep-goodput_bps.svg': 'tcp-aqm-sweep/goodput_bps.svg',
  'tcp-aqm-sweep-aggregate.csv': 'tcp-aqm-sweep/aggregate.csv',
  'swim-false-positives-sweep-false-positives.svg': 'swim-false-positives-sweep/false-positives.svg',
  'swim-false-positives-sweep-aggregate.csv': 'swim-false-positives-sweep/aggregate.csv',
  ...Object.fromEntries(GOSSIP_REPORTS.map((name) => [`${name}.md`, `validation/${name}.md`])),
  'swim.md': 'validation/swim.md',
};

export async function reproduce(root: string, log: (line: string) => void, jobs?: number, publish?: string): Promise<void> {
  for (const name of bundledScenarios()) {
    const file = bundledScenarioFile(name);
    const s = loadScenario(file, BUILTIN_DRIVERS);
    const r = await runScenario(s, { outDir: join(root, s.name), scenarioFile: recordedScenarioFile(file) });
    log(`${s.name}: ${r.result.headline}`);
  }
  const sweeps = [
    { scenario: 'tcp-mathis-padhye', vary: `protocol.tcp.bottleneck.loss=${VALIDATION_LOSS_RATES.join(',')}`, reps: 5 },
    // CUBIC against Reno on one bottleneck, as the bandwidth-delay product grows.
    { scenario: 'tcp-cubic-reno', vary: 'protocol.tcp.bottleneck.bandwidth_bps=5000000,10000000,20000000,40000000', reps: 5 },
    // The bulk flow off (nothing to send) and on, on the link the gossip replicas share.
    { scenario: 'gossip-tcp-shared-link', vary: 'protocol.tcp.flows[0].bytes=0,unlimited', reps: 10 },
    // Two equal-RTT Reno flows at four bottleneck rates; and the second flow's RTT stretched from 40 to 240 ms.
    { scenario: 'tcp-fairness', vary: 'protocol.tcp.bottleneck.bandwidth_bps=2000000,5000000,10000000,20000000', reps: 5 },
    { scenario: 'tcp-rtt-fairness', vary: 'protocol.tcp.flows[1].extra_rtt_ms=0,20,40,60,100,140,200', reps: 5 },
    // The same four flows under each queue discipline of the bottleneck.
    { scenario: 'tcp-aqm', vary: 'protocol.tcp.bottleneck.aqm.kind=droptail,red,codel', reps: 5 },
    SWIM_FALSE_POSITIVES_SWEEP,
  ];
  for (const sw of sweeps) {
    const file = bundledScenarioFile(sw.scenario);
    const vary = parseVaries([sw.vary].flat());
    if (!vary.ok) throw new Error('internal: bad --vary');
    const out = join(root, `${sw.scenario}-sweep`);
    const sweep = await runSweep({
      raw: readScenarioFile(file),
      file,
      drivers: BUILTIN_DRIVERS,
      sets: [],
      variations: vary.variations,
      reps: sw.reps,
      outDir: out,
      // Regenerating is the point: a previous sweep of desim's there is started again (a folder of anyone else's is refused).
      overwrite: inspectOutDir(out).state === 'desim',
      ...(jobs !== undefined ? { jobs } : {}),
    });
    log(`${sw.scenario}-sweep: ${count(sweep.ran, 'run')}; ${sweep.files.join(' ')}`);
  }
  const tcp = formatValidationTable(validationTable());
  log(`validation/tcp-mathis-padhye.md:\n${tcp}`);
  // The SACK rows sit within a few percent of the 1.0 x Mathis floor: 10,000 loss events each, one row per worker.
  const sackRows = await validationTableInWorkers(
    { sack: true, minLossEvents: VALIDATION_SACK_MIN_LOSS_EVENTS },
    VALIDATION_SACK_LOSS_RATES,
    jobs ?? availableParallelism(),
  );
  const tcpSack = formatValidationTable(sackRows);
  log(`validation/tcp-mathis-padhye-sack.md:\n${tcpSack}`);
  const tables: Record<string, string> = { 'tcp-mathis-padhye': tcp, 'tcp-mathis-padhye-sack': tcpSack };
  const tcpCubic = formatCubicValidationTable(cubicValidationTable());
  log(`validation/tcp-cubic-response.md:\n${tcpCubic}`);
  tables['tcp-cubic-response'] = tcpCubic;
  for (const name of GOSSIP_REPORTS) {
    const text = gossipValidationReport(name);
    tables[name] = text;
    log(`validation/${name}.md:\n${text}`);
  }
  const swim = swimValidationReport();
  tables['swim'] = swim;
  log(`validation/swim.md:\n${swim}`);
  await writeOutputFolder(join(root, 'validation'), 'validation', { flag: '--out' }, async (tmp) => {
    for (const [name, text] of Object.entries(tables)) writeFileAtomic(join(tmp, `${name}.md`), text + '\n');
    const files = [...Object.keys(tables).map((n) => `${n}.md`), 'meta.json'].sort();
    writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify({ [OUTPUT_MARKER]: 'validation', desim_version: DESIM_VERSION, files }, null, 2) + '\n');
  });
  if (publish !== undefined) {
    await writeOutputFolder(publish, 'published', { flag: '--publish' }, async (tmp) => {
      for (const [name, from] of Object.entries(PUBLISHED_FILES)) copyFileSync(join(root, from), join(tmp, name));
      const files = [...Object.keys(PUBLISHED_FILES), 'meta.json'].sort();
      writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify({ [OUTPUT_MARKER]: 'published', desim_version: DESIM_VERSION, files }, null, 2) + '\n');
    });
    log(`published ${count(Object.keys(PUBLISHED_FILES).length, 'file')} into ${publish}/`);
  }
}

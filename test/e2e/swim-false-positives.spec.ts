/**
 * SWIM's false-positive study (issue: false positives under 5% loss and one slow member, with and
 * without suspicion and Lifeguard): the sweep `npm run reproduce` publishes shows the papers'
 * ordering, each step apart from the next by its 95% confidence intervals (suspicion: SWIM, Das et
 * al. 2002, section 4.2; Lifeguard: Dadgar et al. 2018); and the sweep as reproduce runs it, at a
 * few replications, writes the aggregate and draws `false-positives.svg`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SWIM_FALSE_POSITIVES_SWEEP, PUBLISHED_FILES } from '../../src/reproduce.js';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { readScenarioFile } from '../../src/scenarios/loader.js';
import { parseVaries } from '../../src/scenarios/overrides.js';
import { runSweep } from '../../src/scenarios/sweep.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-swim-fp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, string>;

/** aggregate.csv as rows by column name (its cells are numbers and 0/1: no quoting). */
function readAggregate(path: string): Row[] {
  const [head, ...rows] = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','));
  return rows.map((r) => Object.fromEntries((head ?? []).map((h, i) => [h, r[i] ?? ''])));
}

/** The row of one setting: suspicion and Lifeguard on (1) or off (0). */
function setting(rows: readonly Row[], suspicion: 0 | 1, lifeguard: 0 | 1): Row {
  const row = rows.find((r) => r['protocol.swim.suspicion'] === String(suspicion) && r['protocol.swim.lifeguard'] === String(lifeguard));
  if (row === undefined) throw new Error(`no row for suspicion=${suspicion} lifeguard=${lifeguard}`);
  return row;
}

const v = (row: Row, column: string): number => Number(row[column]);

describe('the published SWIM false-positive sweep', () => {
  const file = join('docs/results', 'swim-false-positives-sweep-aggregate.csv');
  const rows = readAggregate(file);

  it('is the sweep reproduce runs, every setting with all its replications', () => {
    expect(PUBLISHED_FILES['swim-false-positives-sweep-aggregate.csv']).toBe('swim-false-positives-sweep/aggregate.csv');
    expect(rows.map((r) => [r['protocol.swim.suspicion'], r['protocol.swim.lifeguard'], r['runs']])).toEqual([
      ['0', '0', String(SWIM_FALSE_POSITIVES_SWEEP.reps)],
      ['0', '1', String(SWIM_FALSE_POSITIVES_SWEEP.reps)],
      ['1', '0', String(SWIM_FALSE_POSITIVES_SWEEP.reps)],
      ['1', '1', String(SWIM_FALSE_POSITIVES_SWEEP.reps)],
    ]);
  });

  it('orders the settings as the papers do, each apart from the next by its 95% confidence interval: neither > Lifeguard > suspicion > both', () => {
    const m = 'false_deaths_per_member_hour';
    const order = [setting(rows, 0, 0), setting(rows, 0, 1), setting(rows, 1, 0), setting(rows, 1, 1)];
    for (let i = 0; i + 1 < order.length; i++) {
      const worse = order[i] as Row;
      const better = order[i + 1] as Row;
      expect(v(better, `${m}_ci95_hi`), `setting ${i + 1} vs ${i}`).toBeLessThan(v(worse, `${m}_ci95_lo`));
    }
    // Suspicion removes almost all false deaths (SWIM section 4.2): by more than 10x, with or without Lifeguard.
    expect(v(setting(rows, 1, 0), `${m}_mean`) * 10).toBeLessThan(v(setting(rows, 0, 0), `${m}_mean`));
    expect(v(setting(rows, 1, 1), `${m}_mean`) * 10).toBeLessThan(v(setting(rows, 0, 1), `${m}_mean`));
    // With suspicion, Lifeguard also raises fewer false suspicions: its slow member accuses less.
    expect(v(setting(rows, 1, 1), 'false_suspicions_ci95_hi')).toBeLessThan(v(setting(rows, 1, 0), 'false_suspicions_ci95_lo'));
  });
});

describe('the SWIM false-positive sweep as reproduce runs it', () => {
  it('writes the new metrics into the aggregate and draws false-positives.svg', async () => {
    const file = resolveScenarioPath(SWIM_FALSE_POSITIVES_SWEEP.scenario);
    const vary = parseVaries([...SWIM_FALSE_POSITIVES_SWEEP.vary]);
    if (!vary.ok) throw new Error(JSON.stringify(vary));
    const out = join(tmp, 'sweep');
    const sweep = await runSweep({
      raw: readScenarioFile(file),
      file,
      drivers: BUILTIN_DRIVERS,
      sets: [],
      variations: vary.variations,
      reps: 2,
      outDir: out,
      jobs: 1,
    });
    expect(sweep.ran).toBe(8);
    expect(sweep.files).toContain('false-positives.svg');
    const rows = readAggregate(join(out, 'aggregate.csv'));
    for (const column of ['false_deaths_mean', 'false_deaths_per_member_hour_ci95_lo', 'false_suspicions_per_member_hour_mean'])
      expect(rows[0]).toHaveProperty(column);
    const svg = readFileSync(join(out, 'false-positives.svg'), 'utf8');
    expect(svg).toContain('False deaths (per member-hour)');
    expect(svg).toContain('Suspicion on');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(existsSync(join(out, 'false_deaths_per_member_hour.svg'))).toBe(true);
  });
});

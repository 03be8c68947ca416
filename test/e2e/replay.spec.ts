/**
 * A run's meta.json makes it replayable: the scenario it records validates,
 * and running it again (`desim run DIR/meta.json`) writes byte-identical CSVs
 * with the same scenario hash, for every bundled scenario that runs quickly.
 *
 * Skipped, and why (each is still checked to validate from its record with
 * the same hash, which costs no run):
 * - gossip-1m-regions: a million nodes, about 20 s and 1 GB per run;
 * - gossip-10k and tcp-cubic-reno: 5 to 7 s for the two runs with their plots.
 *   What they record is covered by others: a counted network by
 *   gossip-regossip, a dumbbell by every other tcp-* scenario.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledScenarios, resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS, loadScenarioFile } from '../../src/scenarios/drivers/index.js';
import { checkScenario, loadScenario, readScenarioFile, resolvedScenario, scenarioHash } from '../../src/scenarios/loader.js';
import { runScenario } from '../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-replay-'));
const SLOW: Readonly<Record<string, string>> = {
  'gossip-1m-regions': 'a million nodes: about 20 s and 1 GB per run',
  'gossip-10k': '10,000 nodes: about 5 s for the two runs',
  'tcp-cubic-reno': 'about 7 s for the two runs',
};

const csvs = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort();
const meta = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;

describe("a run's meta.json replays it", () => {
  it('knows every bundled scenario it skips', () => {
    expect(bundledScenarios()).toEqual(expect.arrayContaining(Object.keys(SLOW)));
  });

  for (const name of bundledScenarios().filter((n) => SLOW[n] === undefined)) {
    it(`${name}: the recorded scenario validates and reruns to the same CSVs and hash`, async () => {
      const first = join(tmp, name, 'first');
      const again = join(tmp, name, 'again');
      const original = await loadScenarioFile(resolveScenarioPath(name));
      const a = await runScenario(original, { outDir: first });
      // The record alone, as a scenario: valid as it stands.
      const recorded = meta(first)['scenario'];
      const checked = checkScenario(recorded, BUILTIN_DRIVERS);
      expect(checked.ok ? [] : checked.issues).toEqual([]);
      // meta.json read as a scenario file (desim's marker): the same scenario.
      const replay = await loadScenarioFile(join(first, 'meta.json'));
      const b = await runScenario(replay, { outDir: again });
      expect(b.scenarioHash).toBe(a.scenarioHash);
      expect(meta(again)['scenario']).toEqual(recorded);
      expect(csvs(again)).toEqual(csvs(first));
      for (const f of csvs(first)) expect(readFileSync(join(again, f), 'utf8'), f).toBe(readFileSync(join(first, f), 'utf8'));
    });
  }

  for (const name of Object.keys(SLOW)) {
    it(`${name} (not run: ${SLOW[name]}): its record validates with the same hash`, () => {
      const s = loadScenario(resolveScenarioPath(name), BUILTIN_DRIVERS);
      const checked = checkScenario(JSON.parse(JSON.stringify(resolvedScenario(s))), BUILTIN_DRIVERS);
      expect(checked.ok ? [] : checked.issues).toEqual([]);
      if (checked.ok) expect(scenarioHash(checked.scenario)).toBe(scenarioHash(s));
    });
  }

  it('desim run DIR/meta.json replays the run; a bundled scenario is recorded by name', () => {
    const cwd = join(tmp, 'cli');
    mkdirSync(cwd);
    const desim = (args: string[]) => spawnSync(process.execPath, [resolve('dist/src/cli.js'), ...args], { cwd, encoding: 'utf8' });
    const r = desim(['run', 'tcp-original', '--seed', '7', '--set', 'protocol.tcp.bottleneck.loss=0.01', '--out', 'cli-first', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = meta(join(cwd, 'cli-first'));
    // The same in every clone and installation, and usable as an argument.
    expect(m['scenario_file']).toBe('bundled:tcp-original');
    expect(desim(['validate', 'bundled:tcp-original']).status).toBe(0);
    const v = desim(['validate', 'cli-first/meta.json']);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    const again = desim(['run', 'cli-first/meta.json', '--out', 'cli-again', '--quiet']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const m2 = meta(join(cwd, 'cli-again'));
    // Seed and override come from the record, not from the command line.
    expect(m2['seed']).toBe(7);
    expect(m2['scenario_hash']).toBe(m['scenario_hash']);
    for (const f of csvs(join(cwd, 'cli-first')))
      expect(readFileSync(join(cwd, 'cli-again', f), 'utf8'), f).toBe(readFileSync(join(cwd, 'cli-first', f), 'utf8'));
  });

  it('reads a file that only looks like meta.json as a scenario, and refuses a run record without its scenario', () => {
    // Without desim's marker a `scenario` key is just an unknown key.
    const plain = readScenarioFile(resolveScenarioPath('tcp-original'));
    expect(plain).toMatchObject({ name: 'tcp-original' });
    const bad = join(tmp, 'bad-meta.json');
    writeFileSync(bad, '{"desim_output": "run", "scenario": 3}');
    expect(() => readScenarioFile(bad)).toThrow(/scenario: expected the resolved scenario desim records in a run's meta\.json \(a mapping\), got 3/);
  });
});

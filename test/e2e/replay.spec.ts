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
 *
 * Through the built CLI, a replay says what keeps it from reproducing the run
 * (a protocol module edited since, a scenario hash this desim does not give
 * the record) and applies the run options the record holds (`--columns`,
 * `--format`, the replication). Runs dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledScenarios, resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS, loadScenarioFile } from '../../src/scenarios/drivers/index.js';
import { checkScenario, loadScenario, readScenarioFile, resolvedScenario, scenarioHash } from '../../src/scenarios/loader.js';
import { inputFiles } from '../../src/scenarios/replay.js';
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

/** A protocol module whose one metric (`module.version`, a dotted name that `--columns safe` changes) says which edit it is. */
const moduleSource = (version: number): string => `
export function createNode() {
  return { start() {}, handleMessage() {}, handleTimer() {}, handleCall() { return ${version}; }, pollActions() { return []; } };
}
export function metrics() { return { 'module.version': ${version} }; }
`;

const moduleScenario = (plots: boolean): string => `
name: mod
duration_s: 1
network: { nodes: [A, B] }
protocol: { module: { path: ./mod.mjs } }
workload: [{ at_s: 0.5, node: A, call: x }]
outputs: { traces: ${plots ? '[calls]' : 'none'}, plots: ${plots} }
`;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

// Each test spawns the CLI a few times; on a busy shared machine that can take minutes, so no tight limit.
describe('a replay says what keeps it from reproducing the run, and applies the recorded run options', { timeout: 600_000 }, () => {
  const root = join(tmp, 'provenance');
  const desim = (cwd: string, args: string[]) => spawnSync(process.execPath, [resolve('dist/src/cli.js'), ...args], { cwd, encoding: 'utf8' });
  const folder = (name: string): string => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };

  it('records the sha256 of the protocol module it ran, and warns when a replay finds it edited or missing', () => {
    const cwd = folder('module');
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    writeFileSync(join(cwd, 'mod.yaml'), moduleScenario(false));
    const run = desim(cwd, ['run', 'mod.yaml', '--out', 'first', '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const first = sha256(join(cwd, 'mod.mjs'));
    expect(meta(join(cwd, 'first'))['inputs']).toEqual([{ key: 'protocol.module.path', path: './mod.mjs', sha256: first }]);
    // The record beside the scenario file, where its relative module path points.
    writeFileSync(join(cwd, 'meta.json'), readFileSync(join(cwd, 'first', 'meta.json')));

    const same = desim(cwd, ['run', 'meta.json', '--out', 'same', '--quiet']);
    expect(same.stderr).toBe('');
    expect(same.status).toBe(0);
    expect(readFileSync(join(cwd, 'same', 'summary.csv'), 'utf8')).toBe(readFileSync(join(cwd, 'first', 'summary.csv'), 'utf8'));

    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(2));
    const now = sha256(join(cwd, 'mod.mjs'));
    const edited = desim(cwd, ['run', 'meta.json', '--out', 'edited', '--quiet']);
    expect(edited.stderr).toContain('desim: warning: meta.json: protocol.module.path: the run read ./mod.mjs with sha256 ');
    expect(edited.stderr).toContain(first.slice(0, 16));
    expect(edited.stderr).toContain(`${join(cwd, 'mod.mjs')} has sha256 ${now.slice(0, 16)} now`);
    expect(edited.stderr).not.toContain('    at ');
    // A warning, not a refusal (see README, "What a run writes"): the run is made, and its record is true to it.
    expect(edited.status).toBe(0);
    expect(readFileSync(join(cwd, 'edited', 'summary.csv'), 'utf8')).toMatch(/,2\n$/);
    expect(meta(join(cwd, 'edited'))['inputs']).toEqual([{ key: 'protocol.module.path', path: './mod.mjs', sha256: now }]);

    rmSync(join(cwd, 'mod.mjs'));
    const missing = desim(cwd, ['run', 'meta.json', '--out', 'missing', '--quiet']);
    // Refused by the loader, as in any run, without a warning about the same file first.
    expect(missing.stderr).not.toContain('warning');
    expect(missing.stderr).toContain('protocol.module.path: no such file');
    expect(missing.status).toBe(2);

    // A record of a module run without sha256s (as desim wrote before it kept them) says it cannot tell.
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    const old = meta(join(cwd, 'first'));
    delete old['inputs'];
    writeFileSync(join(cwd, 'old-meta.json'), JSON.stringify(old));
    const unknown = desim(cwd, ['run', 'old-meta.json', '--out', 'old', '--quiet']);
    expect(unknown.stderr).toContain(`old-meta.json: has no sha256 of protocol.module.path in its inputs`);
    expect(unknown.status).toBe(0);
  });

  it("warns when this desim gives the recorded scenario another hash than the record's scenario_hash", () => {
    const cwd = folder('hash');
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    writeFileSync(join(cwd, 'mod.yaml'), moduleScenario(false));
    expect(desim(cwd, ['run', 'mod.yaml', '--out', 'first', '--quiet']).status).toBe(0);
    const m = meta(join(cwd, 'first'));
    const hash = m['scenario_hash'] as string;
    writeFileSync(join(cwd, 'meta.json'), JSON.stringify({ ...m, scenario_hash: '0123456789abcdef' }));
    const r = desim(cwd, ['run', 'meta.json', '--out', 'again', '--quiet']);
    expect(r.stderr).toContain(`desim: warning: meta.json: scenario_hash 0123456789abcdef recorded by desim ${m['desim_version'] as string}`);
    expect(r.stderr).toContain(`resolves the scenario it records to ${hash}`);
    expect(r.status).toBe(0);
    // The replay's own record is the hash of what it ran.
    expect(meta(join(cwd, 'again'))['scenario_hash']).toBe(hash);
    // The record is judged as it stands: the replay's own --set and --seed are no difference.
    writeFileSync(join(cwd, 'meta.json'), JSON.stringify(m));
    const changed = desim(cwd, ['run', 'meta.json', '--out', 'seeded', '--quiet', '--seed', '9', '--set', 'duration_s=2']);
    expect(changed.stderr).toBe('');
    expect(changed.status).toBe(0);
    // A record field that is not as desim writes it is refused, naming the file and the field.
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ ...m, scenario_hash: 7, inputs: 'x', columns: 'wide' }));
    const bad = desim(cwd, ['run', 'bad.json', '--out', 'bad', '--quiet']);
    expect(bad.stderr).toContain('desim: bad.json: 3 problems');
    expect(bad.stderr).toContain('scenario_hash: expected the scenario hash desim records (16 hex digits), got 7');
    expect(bad.stderr).toContain('inputs: expected a list of { key, path, sha256 }, got "x"');
    expect(bad.stderr).toContain('columns: expected paths or safe, got "wide"');
    expect(bad.stderr).not.toContain('    at ');
    expect(bad.status).toBe(2);
  });

  it('a --columns safe run replays byte-identically; an explicit --columns wins', () => {
    const cwd = folder('columns');
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    writeFileSync(join(cwd, 'mod.yaml'), moduleScenario(false));
    expect(desim(cwd, ['run', 'mod.yaml', '--out', 'first', '--quiet', '--columns', 'safe']).status).toBe(0);
    expect(meta(join(cwd, 'first'))['columns']).toBe('safe');
    writeFileSync(join(cwd, 'meta.json'), readFileSync(join(cwd, 'first', 'meta.json')));
    const again = desim(cwd, ['run', 'meta.json', '--out', 'again', '--quiet']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const summary = readFileSync(join(cwd, 'first', 'summary.csv'), 'utf8');
    expect(summary).toContain(',module_version\n');
    expect(readFileSync(join(cwd, 'again', 'summary.csv'), 'utf8')).toBe(summary);
    expect(meta(join(cwd, 'again'))['columns']).toBe('safe');
    expect(desim(cwd, ['run', 'meta.json', '--out', 'paths', '--quiet', '--columns', 'paths']).status).toBe(0);
    expect(readFileSync(join(cwd, 'paths', 'summary.csv'), 'utf8')).toContain(',module.version\n');
  });

  it('validate and sweep refuse a record run refuses: a misspelled key, a bad field', () => {
    const cwd = folder('strict');
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    writeFileSync(join(cwd, 'mod.yaml'), moduleScenario(false));
    expect(desim(cwd, ['run', 'mod.yaml', '--out', 'first', '--quiet']).status).toBe(0);
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ ...meta(join(cwd, 'first')), colums: 'safe', formats: 'wide' }));
    for (const args of [
      ['run', 'bad.json', '--out', 'r', '--quiet'],
      ['validate', 'bad.json'],
      ['sweep', 'bad.json', '--vary', 'duration_s=1,2', '--out', 's', '--quiet'],
    ]) {
      const r = desim(cwd, args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('bad.json: 2 problems');
      expect(r.stderr).toContain('colums: unknown key');
      expect(r.stderr).toContain('formats: expected a list of svg, png, pdf');
      expect(r.stderr).not.toContain('    at ');
    }
    expect(existsSync(join(cwd, 'r'))).toBe(false);
    expect(existsSync(join(cwd, 's'))).toBe(false);
  });

  it('a replay draws the figure formats and keeps the replication the run recorded', async () => {
    const cwd = folder('options');
    writeFileSync(join(cwd, 'mod.mjs'), moduleSource(1));
    writeFileSync(join(cwd, 'mod.yaml'), moduleScenario(true));
    expect(desim(cwd, ['run', 'mod.yaml', '--out', 'pdf', '--quiet', '--format', 'pdf']).status).toBe(0);
    expect(meta(join(cwd, 'pdf'))['formats']).toEqual(['pdf']);
    writeFileSync(join(cwd, 'meta.json'), readFileSync(join(cwd, 'pdf', 'meta.json')));
    const again = desim(cwd, ['run', 'meta.json', '--out', 'again', '--quiet']);
    expect(again.stderr).toBe('');
    expect(readdirSync(join(cwd, 'again')).sort()).toEqual(readdirSync(join(cwd, 'pdf')).sort());
    expect(readdirSync(join(cwd, 'again'))).toContain('calls.pdf');
    // Only the library writes a replication other than 0 (a sweep's runs): the replay keeps it.
    const file = join(cwd, 'mod.yaml');
    const scenario = await loadScenarioFile(file);
    await runScenario(scenario, { outDir: join(cwd, 'rep'), replication: 2, inputs: inputFiles(scenario, file), plotFormats: ['svg'] });
    writeFileSync(join(cwd, 'meta.json'), readFileSync(join(cwd, 'rep', 'meta.json')));
    const rep = desim(cwd, ['run', 'meta.json', '--out', 'rep-again', '--quiet']);
    expect(rep.stderr).toBe('');
    expect(meta(join(cwd, 'rep-again'))['replication']).toBe(2);
    for (const f of csvs(join(cwd, 'rep')))
      expect(readFileSync(join(cwd, 'rep-again', f), 'utf8'), f).toBe(readFileSync(join(cwd, 'rep', f), 'utf8'));
  });
});

/**
 * What a run's meta.json records for its replay, read back strictly, and the
 * differences a replay reports: a module file changed, missing or another,
 * a scenario hash this desim does not give the record. No CLI (the e2e replay
 * spec covers that); modules are hashed, and imported only to check that the
 * hash is of the bytes imported.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { importProtocolModule } from '../../src/scenarios/drivers/module.js';
import { resolvedScenario, scenarioHash, validateScenario } from '../../src/scenarios/loader.js';
import { parseSets } from '../../src/scenarios/overrides.js';
import { inputChanges, inputFiles, readRunRecord, scenarioHashChange, type RunRecord } from '../../src/scenarios/replay.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-replay-record-'));
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const raw = {
  name: 'mod',
  duration_s: 1,
  network: { nodes: ['A', 'B'] },
  protocol: { module: { path: './mod.mjs' } },
  workload: [],
  outputs: { traces: 'none', plots: false },
};
const scenario = validateScenario(raw, BUILTIN_DRIVERS);
const hash = scenarioHash(scenario);

/** Writes a run's meta.json for the scenario above (the fields given replace the ones a run writes) and returns its path. */
function writeMeta(name: string, fields: Record<string, unknown> = {}): string {
  const file = join(dir, name);
  const meta = { desim_output: 'run', desim_version: '0.1.0', scenario_hash: hash, seed: 1, replication: 0, scenario: resolvedScenario(scenario) };
  writeFileSync(file, JSON.stringify({ ...meta, ...fields }));
  return file;
}

const sets = (...s: string[]) => {
  const p = parseSets(s);
  if (!p.ok) throw new Error('bad --set in the test');
  return p.overrides;
};

describe('inputFiles', () => {
  it('hashes a module named by path, relative to the scenario file; a package name or a missing file gives nothing', () => {
    writeFileSync(join(dir, 'mod.mjs'), 'export const x = 1;\n');
    expect(inputFiles(raw, join(dir, 'any.yaml'))).toEqual([
      { key: 'protocol.module.path', path: './mod.mjs', sha256: sha('export const x = 1;\n') },
    ]);
    expect(inputFiles(scenario, join(dir, 'any.yaml'))).toEqual(inputFiles(raw, join(dir, 'any.yaml')));
    expect(inputFiles({ ...raw, protocol: { module: { path: 'some-package' } } }, join(dir, 'any.yaml'))).toEqual([]);
    expect(inputFiles({ ...raw, protocol: { module: { path: './nope.mjs' } } }, join(dir, 'any.yaml'))).toEqual([]);
    expect(inputFiles({ ...raw, protocol: { tcp: {} } }, join(dir, 'any.yaml'))).toEqual([]);
  });

  it('hashes the bytes this process imported, not the file as edited since (Node keeps the first import)', async () => {
    const first = 'export function createNode() { return {}; }\n';
    writeFileSync(join(dir, 'imported.mjs'), first);
    const withModule = { ...raw, protocol: { module: { path: './imported.mjs' } } };
    await importProtocolModule('./imported.mjs', dir, join(dir, 'any.yaml'));
    writeFileSync(join(dir, 'imported.mjs'), first + '// edited after the import\n');
    expect(inputFiles(withModule, join(dir, 'any.yaml'))).toEqual([{ key: 'protocol.module.path', path: './imported.mjs', sha256: sha(first) }]);
  });
});

describe('readRunRecord', () => {
  it("reads a run's record, with defaults for what older records leave out; any other file is no record", () => {
    expect(readRunRecord(writeMeta('plain.json'))).toEqual({ scenarioHash: hash, desimVersion: '0.1.0', inputs: [], replication: 0 });
    const inputs = [{ key: 'protocol.module.path', path: './mod.mjs', sha256: sha('x') }];
    expect(readRunRecord(writeMeta('full.json', { inputs, columns: 'safe', formats: ['pdf', 'svg'], replication: 4 }))).toEqual({
      scenarioHash: hash,
      desimVersion: '0.1.0',
      inputs,
      columns: 'safe',
      formats: ['pdf', 'svg'],
      replication: 4,
    });
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(raw));
    expect(readRunRecord(join(dir, 'scenario.json'))).toBeUndefined();
    expect(readRunRecord(join(dir, 'no-such-file.json'))).toBeUndefined();
  });

  it('refuses every field that is not as desim writes it, each with its path', () => {
    const file = writeMeta('bad.json', {
      scenario_hash: 'abc',
      inputs: [{ key: 'protocol.module.path', path: './mod.mjs', sha256: 'short', size: 3 }, 'x'],
      formats: ['svg', 'svg'],
      replication: -1,
    });
    expect(() => readRunRecord(file)).toThrow(
      [
        `${file}: 6 problems`,
        '  scenario_hash: expected the scenario hash desim records (16 hex digits), got "abc"',
        '  inputs[0].size: unknown key (expected key, path and sha256)',
        '  inputs[0].sha256: expected 64 hex digits, got "short"',
        '  inputs[1]: expected { key, path, sha256 }, got "x"',
        '  formats: expected a list of svg, png, pdf, each at most once, got ["svg","svg"]',
        '  replication: expected an integer >= 0, got -1',
      ].join('\n'),
    );
  });

  it("refuses a key desim does not write, a seed other than the scenario's, and a file recorded twice", () => {
    const input = { key: 'protocol.module.path', path: './mod.mjs', sha256: sha('x') };
    const file = writeMeta('keys.json', { colums: 'safe', seed: 99, inputs: [input, input] });
    expect(() => readRunRecord(file)).toThrow(
      [
        `${file}: 3 problems`,
        "  colums: unknown key: a run's meta.json has desim_output, desim_version, node_version, scenario_file, scenario_hash, seed, replication, inputs, columns, formats, headline, files, scenario",
        '  seed: is 99 but scenario.seed is 1: the replay would run scenario.seed; make them agree, or give --seed',
        '  inputs[1].key: protocol.module.path is recorded twice',
      ].join('\n'),
    );
  });
});

describe('inputChanges', () => {
  const record = (content: string): RunRecord => ({
    scenarioHash: hash,
    inputs: [{ key: 'protocol.module.path', path: './mod.mjs', sha256: sha(content) }],
    replication: 0,
  });
  const file = writeMeta('meta.json');

  it('says nothing when the file holds what the run read, also under another name given by --set', () => {
    writeFileSync(join(dir, 'mod.mjs'), 'export const v = 1;\n');
    writeFileSync(join(dir, 'copy.mjs'), 'export const v = 1;\n');
    expect(inputChanges(file, record('export const v = 1;\n'))).toEqual([]);
    expect(inputChanges(file, record('export const v = 1;\n'), sets('protocol.module.path=./copy.mjs'))).toEqual([]);
  });

  it('names the file and both sha256 prefixes when it changed; says when it is not read or not recorded', () => {
    writeFileSync(join(dir, 'mod.mjs'), 'export const v = 2;\n');
    const then = sha('export const v = 1;\n').slice(0, 16);
    const now = sha('export const v = 2;\n').slice(0, 16);
    expect(inputChanges(file, record('export const v = 1;\n'))).toEqual([
      `${file}: protocol.module.path: the run read ./mod.mjs with sha256 ${then}; ${join(dir, 'mod.mjs')} has sha256 ${now} now: the replay runs the file as it is now`,
    ]);
    expect(inputChanges(file, record('export const v = 1;\n'), sets('protocol.module.path=some-package'))).toEqual([
      `${file}: protocol.module.path: the run read ./mod.mjs with sha256 ${then}; the replay reads package some-package, which has no sha256`,
    ]);
    // A missing file is left to the loader, which refuses the run naming it (exit 2): no warning first.
    rmSync(join(dir, 'mod.mjs'));
    expect(inputChanges(file, record('export const v = 1;\n'))).toEqual([]);
    writeFileSync(join(dir, 'mod.mjs'), 'export const v = 2;\n');
    expect(inputChanges(file, { scenarioHash: hash, inputs: [], replication: 0 })).toEqual([
      `${file}: has no sha256 of protocol.module.path in its inputs (written before desim recorded them, or without them): the replay cannot tell whether ${join(dir, 'mod.mjs')} holds what the run read`,
    ]);
  });
});

describe('scenarioHashChange', () => {
  it("is silent for the record's own hash, and names both hashes otherwise", () => {
    const file = writeMeta('hash.json');
    const record = readRunRecord(file) as RunRecord;
    expect(scenarioHashChange(file, record, BUILTIN_DRIVERS)).toBeUndefined();
    expect(scenarioHashChange(file, record, BUILTIN_DRIVERS, scenario)).toBeUndefined();
    const other = { ...record, scenarioHash: 'ffffffffffffffff', desimVersion: '0.0.9' };
    expect(scenarioHashChange(file, other, BUILTIN_DRIVERS)).toBe(
      `${file}: scenario_hash ffffffffffffffff recorded by desim 0.0.9, but this desim resolves the scenario it records to ${hash} (desim's defaults or schema changed since, or the record was edited): the replay may not reproduce the run`,
    );
  });

  it('says so when the recorded scenario no longer validates as it stands', () => {
    const file = writeMeta('invalid.json', { scenario: { ...resolvedScenario(scenario), duration_s: -1 } });
    const record = readRunRecord(file) as RunRecord;
    expect(scenarioHashChange(file, record, BUILTIN_DRIVERS)).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the scenario it records \\(scenario_hash ${hash}\\) no longer validates as it stands: duration_s: `,
      ),
    );
  });
});

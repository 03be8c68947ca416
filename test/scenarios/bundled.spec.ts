import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledScenarioPath, findScenarioFile, resolveScenarioPath } from '../../src/scenarios/bundled.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-bundled-'));
/** A run's meta.json, as far as the lookup reads it. */
const RUN_META = JSON.stringify({ desim_output: 'run', scenario: {} });

describe('bundled scenario names', () => {
  it('resolves a bundled name, with or without bundled:, and never a path out of the bundled folder', () => {
    const p = resolveScenarioPath('bundled:tcp-original');
    expect(p).toMatch(/bundled[/\\]tcp-original\.yaml$/);
    expect(resolveScenarioPath('tcp-original')).toBe(p);
    // `..` would reach the scenarios folder (and beyond): such a name is returned as given, for the loader to refuse.
    for (const bad of ['bundled:../bundled/tcp-original', 'bundled:./tcp-original', 'bundled:.hidden', 'bundled:a/b'])
      expect(resolveScenarioPath(bad)).toBe(bad);
  });
});

describe('findScenarioFile', () => {
  const bundled = bundledScenarioPath('tcp-original') as string;
  mkdirSync(join(dir, 'empty', 'tcp-original'), { recursive: true });
  mkdirSync(join(dir, 'run', 'tcp-original'), { recursive: true });
  writeFileSync(join(dir, 'run', 'tcp-original', 'meta.json'), RUN_META);
  mkdirSync(join(dir, 'run', 'mine'));
  writeFileSync(join(dir, 'run', 'mine', 'meta.json'), RUN_META);
  mkdirSync(join(dir, 'run', 'other'));
  writeFileSync(join(dir, 'run', 'other', 'meta.json'), JSON.stringify({ desim_output: 'sweep' }));
  writeFileSync(join(dir, 'run', 'tcp-aqm'), 'a file\n');

  it('takes a file at the path, else the bundled scenario, else nothing', () => {
    expect(findScenarioFile('tcp-aqm', join(dir, 'run'))).toEqual({ ok: true, file: join(dir, 'run', 'tcp-aqm') });
    expect(findScenarioFile('tcp-original', join(dir, 'nosuch'))).toEqual({ ok: true, file: bundled });
    expect(findScenarioFile('nosuch', dir)).toBeUndefined();
    expect(findScenarioFile('bundled:nosuch', dir)).toBeUndefined();
  });

  it('refuses a folder that is also a bundled name, saying both and how to choose', () => {
    expect(findScenarioFile('tcp-original', join(dir, 'empty'))).toEqual({
      ok: false,
      message:
        'is a directory, and also the name of a bundled scenario: give bundled:tcp-original for the bundled scenario, or the path of a scenario file',
    });
    expect(findScenarioFile('tcp-original', join(dir, 'run'))).toEqual({
      ok: false,
      message: `is a directory, and also the name of a bundled scenario: give bundled:tcp-original for the bundled scenario, or ${join('tcp-original', 'meta.json')} to replay the run the directory holds`,
    });
    // bundled: names the bundled scenario whatever is on disk.
    expect(findScenarioFile('bundled:tcp-original', join(dir, 'run'))).toEqual({ ok: true, file: bundled });
  });

  it("refuses any other folder, with the replay hint only when it holds a run's meta.json", () => {
    expect(findScenarioFile('mine', join(dir, 'run'))).toEqual({
      ok: false,
      message: `is a directory, expected a scenario file; to replay the run it holds, give ${join('mine', 'meta.json')}`,
    });
    expect(findScenarioFile('other', join(dir, 'run'))).toEqual({ ok: false, message: 'is a directory, expected a scenario file' });
    expect(findScenarioFile('empty', dir)).toEqual({ ok: false, message: 'is a directory, expected a scenario file' });
  });
});

/**
 * Protocol modules through the built CLI: overrides apply before anything is
 * loaded, validate runs no user code unless asked, a missing module is bad
 * input (exit 2, the field and the resolved path), relative paths resolve
 * against the scenario file (also in desim/testing counterexamples), and a
 * replay whose invariant is still violated exits 1. Runs dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProtocol, clusterCaseArb, PropertyFailure } from '../../src/testing/index.js';
import * as gCounter from '../../examples/g-counter/g-counter.js';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-modules-'));

function desim(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A module whose metrics say which file it is (`which`), optionally with an import side effect or a failing invariant. */
const moduleSource = (which: number, extra = '') => `
${extra}
export function createNode() {
  return { start() {}, handleMessage() {}, handleTimer() {}, handleCall() { return ${which}; }, pollActions() { return []; } };
}
export function metrics() { return { which: ${which} }; }
`;

const scenario = (path: string, name = 'mod') => `
name: ${name}
duration_s: 1
network: { nodes: [A, B] }
protocol: { module: { path: ${path} } }
workload: [{ at_s: 0.5, node: A, call: x }]
outputs: { traces: none, plots: false }
`;

const metricOf = (folder: string, column: string): string => {
  const [head, row] = readFileSync(join(folder, 'summary.csv'), 'utf8').trim().split('\n') as [string, string];
  return row.split(',')[head.split(',').indexOf(column)] as string;
};

mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'sub', 'a.mjs'), moduleSource(1));
writeFileSync(join(dir, 'sub', 'b.mjs'), moduleSource(2));
writeFileSync(
  join(dir, 'sub', 'evil.mjs'),
  moduleSource(3, `import { writeFileSync } from 'node:fs';\nwriteFileSync(new URL('./pwned', import.meta.url), 'ran');`),
);
writeFileSync(join(dir, 'sub', 'broken.mjs'), moduleSource(4) + `export function invariant() { return 'always broken'; }\n`);
writeFileSync(join(dir, 'sub', 'a.yaml'), scenario('./a.mjs'));
writeFileSync(join(dir, 'sub', 'evil.yaml'), scenario('./evil.mjs', 'evil'));
writeFileSync(join(dir, 'sub', 'missing.yaml'), scenario('./nope.mjs', 'missing'));
writeFileSync(join(dir, 'sub', 'broken.yaml'), scenario('./broken.mjs', 'broken'));

// Each test spawns the CLI a few times; on a busy shared machine that can take minutes, so no tight limit.
describe('protocol modules on the command line', { timeout: 600_000 }, () => {
  it('validate imports no module unless --load-modules is given, and says so', () => {
    const r = desim(['validate', 'sub/evil.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('protocol module not imported (--load-modules imports it)');
    expect(existsSync(join(dir, 'sub', 'pwned'))).toBe(false);
    const loaded = desim(['validate', 'sub/evil.yaml', '--load-modules']);
    expect(loaded.code).toBe(0);
    expect(existsSync(join(dir, 'sub', 'pwned'))).toBe(true);
    expect(desim(['validate', '--help']).out).toContain('--load-modules');
  });

  it('--set protocol.module.path runs the module it names (relative to the scenario file), and meta.json records it', () => {
    const r = desim(['run', 'sub/a.yaml', '--set', 'protocol.module.path=./b.mjs', '--out', 'set-b']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(metricOf(join(dir, 'set-b'), 'which')).toBe('2');
    const meta = JSON.parse(readFileSync(join(dir, 'set-b', 'meta.json'), 'utf8')) as { scenario: { protocol: { module: { path: string } } } };
    expect(meta.scenario.protocol.module.path).toBe('./b.mjs');
    // From another working directory the same file finds the same module.
    const elsewhere = desim(['run', join(dir, 'sub', 'a.yaml'), '--out', join(dir, 'from-root')], tmpdir());
    expect(elsewhere.code).toBe(0);
    expect(metricOf(join(dir, 'from-root'), 'which')).toBe('1');
  });

  it('sweep --vary protocol.module.path runs each module, in this thread and in workers', () => {
    for (const jobs of ['1', '2']) {
      const out = `sweep-${jobs}`;
      const r = desim(['sweep', 'sub/a.yaml', '--vary', 'protocol.module.path=./a.mjs,./b.mjs', '--jobs', jobs, '--out', out, '--quiet']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const rows = readFileSync(join(dir, out, 'summary.csv'), 'utf8')
        .trim()
        .split('\n');
      const head = (rows[0] as string).split(',');
      expect(rows.slice(1).map((row) => [row.split(',')[head.indexOf('protocol.module.path')], row.split(',')[head.indexOf('which')]])).toEqual([
        ['./a.mjs', '1'],
        ['./b.mjs', '2'],
      ]);
    }
  });

  it('a missing module exits 2 with protocol.module.path and the resolved path', () => {
    const r = desim(['run', 'sub/missing.yaml', '--out', 'missing']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`sub/missing.yaml: protocol.module.path: no such file: ${join(dir, 'sub', 'nope.mjs')}`);
    expect(r.err).not.toMatch(/\n\s+at /);
    const viaSet = desim(['run', 'sub/a.yaml', '--set', 'protocol.module.path=./gone.mjs', '--out', 'gone']);
    expect(viaSet.code).toBe(2);
    expect(viaSet.err).toContain(`protocol.module.path: no such file: ${join(dir, 'sub', 'gone.mjs')}`);
    expect(desim(['validate', 'sub/missing.yaml', '--load-modules']).code).toBe(2);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('a run whose invariant is violated writes its folder and exits 1', () => {
    const r = desim(['run', 'sub/broken.yaml', '--out', 'broken']);
    expect(r.out).toContain('INVARIANT VIOLATED: always broken');
    expect(r.err).toContain('desim: invariant violated: always broken');
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, 'broken', 'summary.csv'))).toBe(true);
  });

  it('a desim/testing counterexample names a working-directory-relative module relative to itself, so it replays from anywhere', () => {
    const cexDir = join(dir, 'counterexamples');
    let failure: PropertyFailure | undefined;
    try {
      checkProtocol({
        module: gCounter,
        modulePath: 'dist/examples/g-counter/g-counter.js',
        cases: clusterCaseArb({
          minNodes: 3,
          maxNodes: 4,
          call: fc.constant({ op: 'incr' as const }),
          healBy_s: 1,
          minCalls: 2,
          maxCalls: 4,
          kinds: ['partition'],
        }),
        duration_s: 3,
        options: { merge: 'larger-total' },
        counterexampleDir: cexDir,
        name: 'g-counter-rel',
        params: { seed: 20261127, numRuns: 50 },
      });
    } catch (err) {
      if (!(err instanceof PropertyFailure)) throw err;
      failure = err;
    }
    expect(failure).toBeDefined();
    const text = readFileSync(failure?.scenarioFile ?? '', 'utf8');
    expect(text).toMatch(/path: \.\.\/.*dist\/examples\/g-counter\/g-counter\.js/);
    const replay = desim(['run', failure?.scenarioFile ?? '', '--out', join(dir, 'cex-replay')], tmpdir());
    expect(replay.err).toContain(`invariant violated: ${failure?.violation}`);
    expect(replay.code).toBe(1);
  });
});

/**
 * Bad input through the built CLI: exit 2 with the file (or the --set
 * argument) and the field named, no stack trace, the same answer from
 * validate and run. Runs dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-validation-'));

function desim(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStack = (err: string): void => expect(err).not.toMatch(/\n\s+at |Maximum call stack|RangeError|ReferenceError/);

writeFileSync(
  join(dir, 'g.yaml'),
  `name: g
duration_s: 4
network: { nodes: [A, B, C], link: { latency_ms: 1 } }
protocol: { gossip: { fanout: 2 } }
workload:
  - { at_s: 1, node: A, op: put, key: k, value: 1 }
  - { at_s: 3, node: B, op: get, key: k }
outputs: { traces: none, plots: false }
`,
);

// Each test spawns the CLI a few times; on a busy shared machine that can take minutes, so no tight limit.
describe('bad input through the CLI', { timeout: 600_000 }, () => {
  it('a YAML alias bomb and deep nesting exit 2 naming the file', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill('*' + String.fromCharCode(97 + i))
            .join(', ')}]`,
      ),
    ].join('\n');
    writeFileSync(join(dir, 'bomb.yaml'), bomb);
    const b = desim(['validate', 'bomb.yaml']);
    expect(b.code).toBe(2);
    expect(b.err).toContain('bomb.yaml: YAML: too many alias expansions');
    noStack(b.err);
    writeFileSync(join(dir, 'deep.yaml'), `name: d\nx: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
    const d = desim(['run', 'deep.yaml']);
    expect(d.code).toBe(2);
    expect(d.err).toContain('deep.yaml: nested too deeply');
    noStack(d.err);
  });

  it('--set problems name the --set argument; hostile paths are refused at once', () => {
    const name = desim(['validate', 'gossip-original', '--set', 'name=a/b']);
    expect(name.code).toBe(2);
    expect(name.err).toMatch(/^desim: --set name=a\/b: name: expected 1 to 100 letters, digits, _ \. or -/);
    expect(name.err).not.toContain('bundled');
    const proto = desim(['run', 'g.yaml', '--set', '__proto__.x=1']);
    expect(proto.code).toBe(2);
    expect(proto.err).toContain('"__proto__" is not a scenario key');
    noStack(proto.err);
    expect(desim(['run', 'g.yaml', '--set', 'constructor.prototype.x=1']).code).toBe(2);
    const far = desim(['validate', 'g.yaml', '--set', 'workload[99999999].at_s=1']);
    expect(far.code).toBe(2);
    expect(far.err).toContain('desim: --set: "workload[99999999].at_s=1": list index 99999999 is out of range (at most 1000000)');
    const past = desim(['validate', 'g.yaml', '--set', 'workload[9].at_s=1']);
    expect(past.code).toBe(2);
    expect(past.err).toContain(
      '--set workload[9].at_s=1: workload[9]: cannot set workload[9].at_s: workload has 2 entries, so the index can be at most 2',
    );
  });

  it('validate and run refuse the same out-of-range values with the field named', () => {
    for (const set of [
      'duration_s=1e9',
      'network.link.latency_ms=1e308',
      'protocol.gossip.interval_s=1e-300',
      'protocol.gossip.anti_entropy.interval_s=1e-9',
    ]) {
      const field = set.slice(0, set.indexOf('='));
      const v = desim(['validate', 'g.yaml', '--set', set]);
      const r = desim(['run', 'g.yaml', '--set', set, '--out', 'never']);
      expect([v.code, r.code], set).toEqual([2, 2]);
      expect(v.err, set).toContain(`${field}: `);
      expect(r.err).toBe(v.err);
      noStack(r.err);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('faults on a TCP dumbbell (no network section), a typo of a partition name and a misspelt trace are refused', () => {
    const tcp = desim(['validate', 'tcp-original', '--set', 'faults=[{at_s: 1, crash: n0}]']);
    expect(tcp.code).toBe(2);
    expect(tcp.err).toContain('faults: faults need a network section with nodes');
    const repair = desim(['validate', 'gossip-partition-heal', '--set', 'faults[1].repair=halvs']);
    expect(repair.code).toBe(2);
    expect(repair.err).toContain('faults[1].repair: unknown partition "halvs"; did you mean "halves"?');
    const trace = desim(['validate', 'g.yaml', '--set', 'outputs.traces=[infecton]']);
    expect(trace.code).toBe(2);
    expect(trace.err).toContain('outputs.traces[0]: unknown trace "infecton"; did you mean "infection"?');
  });

  it('sweep --vary a.0.b works like a[0].b', () => {
    const r = desim(['sweep', 'g.yaml', '--vary', 'workload.0.at_s=0.5,1', '--jobs', '1', '--out', 'vary-dot', '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = readFileSync(join(dir, 'vary-dot', 'summary.csv'), 'utf8');
    expect(summary.split('\n')[0]).toContain('workload[0].at_s');
    expect(summary.trim().split('\n')).toHaveLength(3);
  });
});

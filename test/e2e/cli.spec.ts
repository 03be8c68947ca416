/**
 * The built CLI as users run it: exit codes, error messages without stack
 * traces, no partial output, help that teaches. Runs dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-cli-'));

function desim(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const counterScenario = (extra = '') => `
name: counter-demo
seed: 5
duration_s: 2
network:
  nodes: [A, B, C]
  link: { latency_ms: 2, loss: 0.1 }
protocol:
  module:
    path: ${resolve('dist/examples/g-counter/g-counter.js')}
workload:
  - { at_s: 0.1, node: A, call: { op: incr } }
  - { at_s: 0.2, node: B, call: { op: incr } }
faults:
  - { at_s: 0.3, partition: [[A], [B, C]] }
  - { at_s: 1.0, repair: all }
${extra}`;

describe('desim CLI', () => {
  it('runs a scenario with a user protocol module and writes its folder', () => {
    writeFileSync(join(dir, 'counter.yaml'), counterScenario());
    const r = desim(['run', 'counter.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('counter-demo: 3 nodes, 2 calls');
    expect(r.out).toContain('invariant holds');
    expect(readdirSync(join(dir, 'results', 'counter-demo')).sort()).toEqual(['calls.svg', 'meta.json', 'summary.csv', 'trace-calls.csv']);
    const meta = JSON.parse(readFileSync(join(dir, 'results', 'counter-demo', 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta['seed']).toBe(5);
    expect(meta['node_version']).toBe(process.versions.node);
  });

  it("writes a module's own trace actions to trace-node.csv, one row per field, and only when asked", () => {
    copyFileSync(resolve('test/fixtures/modules/tracer.mjs'), join(dir, 'tracer.mjs'));
    const yaml = (traces: string) =>
      `name: tracer\nduration_s: 1.2\nnetwork: { nodes: [A, B] }\nprotocol: { module: { path: ./tracer.mjs } }\noutputs: { traces: ${traces} }\n`;
    writeFileSync(join(dir, 'tracer.yaml'), yaml('[node]'));
    const r = desim(['run', 'tracer.yaml', '--out', 'tracer-out']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(
      readFileSync(join(dir, 'tracer-out', 'trace-node.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toEqual([
      'time_s,node,name,field,value,value_type',
      '0.5,A,tick,count,1,number',
      '0.5,A,tick,even,0,boolean',
      '0.5,B,tick,count,1,number',
      '0.5,B,tick,even,0,boolean',
      '1,A,tick,count,2,number',
      '1,A,tick,even,1,boolean',
      '1,B,tick,count,2,number',
      '1,B,tick,even,1,boolean',
    ]);
    writeFileSync(join(dir, 'tracer.yaml'), yaml('[calls]'));
    expect(desim(['run', 'tracer.yaml', '--out', 'tracer-calls']).code).toBe(0);
    expect(existsSync(join(dir, 'tracer-calls', 'trace-node.csv'))).toBe(false);
  });

  it('exits 2 with every problem, file and path named, no stack trace and no output folder', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      counterScenario()
        .replace('duration_s: 2', 'duration_s: -2')
        .replace('latency_ms: 2', 'latency_ms: -5')
        .replace('node: B,', 'node: Q,')
        .replace('seed: 5', 'sed: 5'),
    );
    const r = desim(['run', 'bad.yaml', '--out', 'never']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.yaml: 4 problems');
    expect(r.err).toContain('sed: unknown key; did you mean "seed"?');
    expect(r.err).toContain('duration_s: expected a number >= 1e-9, got -2');
    expect(r.err).toContain('network.link.latency_ms: expected a number >= 0, got -5');
    expect(r.err).toContain('workload[1].node: unknown node "Q" (nodes: A, B, C)');
    expect(r.err).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('exits 2 on YAML syntax errors (with line and column), missing files and bad --set / --vary / --shard', () => {
    writeFileSync(join(dir, 'syntax.yaml'), 'name: x\nduration_s: [1\n');
    const cases = [
      [['validate', 'syntax.yaml'], /syntax\.yaml: YAML syntax error: line \d+, column \d+/],
      [['run', 'missing.yaml'], /missing\.yaml: no such file/],
      [['run', 'counter.yaml', '--set', 'oops'], /--set: expected path=value/],
      [['sweep', 'counter.yaml', '--vary', 'seed'], /--vary: expected path=v1,v2/],
      [['sweep', 'counter.yaml', '--vary', 'seed=1,2', '--shard', '3/2'], /--shard: expected I\/N/],
      [['frobnicate'], /Unknown argument|Unknown command|Did you mean/i],
      [['bench', 'kernel', '--sack'], /--sack applies to bench tcp \(and all\), not kernel/],
      [['bench', 'kernel', '--scaling'], /--scaling applies to bench gossip \(and all\), not kernel/],
      [['bench', 'tcp', '--pending', '10'], /--pending applies to bench kernel \(and all\), not tcp/],
      [['bench', 'all', '--concurrency', '8'], /--concurrency applies to bench udp, not all/],
      [['bench', 'gossip', '--reps', '3'], /--reps applies to bench gossip --scaling/],
      [['bench', 'gossip', '--scaling', '--reps', '0'], /--reps must be an integer in 1\.\.20, got 0/],
      [['bench', 'gossip', '--scaling', '--nodes', '1000'], /--nodes and --scaling do not go together/],
      [['bench', 'gossip', '--scaling', '--reps'], /--reps: expected a value after it/],
      [['run', 'counter.yaml', '--set'], /--set: expected a value after it/],
      [['bench', 'udp', '--duration'], /--duration: expected a value after it/],
      [['bench', 'kernel', '--pending'], /--pending: expected a value after it/],
      // Checked before any benchmark runs: bench all prints no kernel figure first.
      [['bench', 'all', '--scaling', '--reps', '50'], /--reps must be an integer in 1\.\.20, got 50/],
    ] as const;
    for (const [args, pattern] of cases) {
      const r = desim([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(pattern);
      expect(r.err).not.toMatch(/\n\s+at .*\.js:\d+/);
      if (args[0] === 'bench') expect(r.out, args.join(' ')).toBe('');
    }
  });

  it('a protocol that throws aborts the run with exit 1, the simulated time, seed and event, and the rerun command', () => {
    copyFileSync(resolve('test/fixtures/modules/boom.mjs'), join(dir, 'boom.mjs'));
    writeFileSync(join(dir, 'boom.yaml'), 'name: boom\nduration_s: 5\nnetwork: { nodes: [A, B] }\nprotocol: { module: { path: ./boom.mjs } }\n');
    const r = desim(['run', 'boom.yaml', '--seed', '9', '--out', 'boom-out']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('simulation failed: event handler threw: invariant broken in node 1 (at t=1.5 s, seed 9, event host.timer)');
    expect(r.err).toContain('rerun: desim run boom.yaml --out boom-out --seed 9');
    expect(r.err).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(existsSync(join(dir, 'boom-out'))).toBe(false);
  });

  it("a sweep records its module's sha256 in each run; --resume, the tables and merge refuse runs that read other bytes", () => {
    copyFileSync(resolve('test/fixtures/modules/tracer.mjs'), join(dir, 'tick.mjs'));
    writeFileSync(join(dir, 'tick.yaml'), 'name: tick\nduration_s: 1.2\nnetwork: { nodes: [A, B] }\nprotocol: { module: { path: ./tick.mjs } }\n');
    const sha = (): string =>
      createHash('sha256')
        .update(readFileSync(join(dir, 'tick.mjs')))
        .digest('hex');
    const sweep = (shard: string, out: string, ...more: string[]) =>
      desim(['sweep', 'tick.yaml', '--vary', 'duration_s=1.2,1.4,1.6', '--shard', shard, '--out', out, '--quiet', ...more]);
    expect(sweep('0/3', 'tick-sw').code).toBe(0);
    const old = sha();
    const record = JSON.parse(readFileSync(join(dir, 'tick-sw', 'runs', 'r0000.json'), 'utf8')) as Record<string, unknown>;
    expect(record['inputs']).toEqual([{ key: 'protocol.module.path', path: './tick.mjs', sha256: old }]);
    expect(sweep('0/3', 'tick-m0').code).toBe(0);
    expect(sweep('2/3', 'tick-m2').code).toBe(0);

    writeFileSync(join(dir, 'tick.mjs'), readFileSync(join(dir, 'tick.mjs'), 'utf8') + '// edited\n');
    const edited = sha();
    const resumed = sweep('0/3', 'tick-sw', '--resume');
    expect(resumed.code).toBe(2);
    expect(resumed.err).toContain(
      `runs/r0000.json: ran ./tick.mjs with sha256 ${old.slice(0, 16)}; the run now reads ./tick.mjs with sha256 ${edited.slice(0, 16)}; refusing to mix results`,
    );
    // The other shards' runs, made now into the same folder, would complete it: the tables are refused.
    expect(sweep('1/3', 'tick-sw', '--resume').code).toBe(0);
    const tables = sweep('2/3', 'tick-sw', '--resume');
    expect(tables.code).toBe(2);
    expect(tables.err).toContain(
      `runs/r0000.json and runs/r0001.json read ./tick.mjs with different bytes (sha256 ${old.slice(0, 16)} and ${edited.slice(0, 16)})`,
    );
    expect(existsSync(join(dir, 'tick-sw', 'summary.csv'))).toBe(false);
    // Shards made before the edit merge with each other, not with one made after it.
    expect(sweep('1/3', 'tick-e1').code).toBe(0);
    const merged = desim(['merge', 'tick-m0', 'tick-e1', 'tick-m2', '--out', 'tick-merged']);
    expect(merged.code).toBe(2);
    expect(merged.err).toContain('read ./tick.mjs with different bytes');
    expect(existsSync(join(dir, 'tick-merged'))).toBe(false);
    // A kept run recorded without inputs (by a desim before them) cannot be checked: refused too.
    const old0 = join(dir, 'tick-m0', 'runs', 'r0000.json');
    const bare = JSON.parse(readFileSync(old0, 'utf8')) as Record<string, unknown>;
    delete bare['inputs'];
    writeFileSync(old0, JSON.stringify(bare));
    const unrecorded = sweep('0/3', 'tick-m0', '--resume');
    expect(unrecorded.code).toBe(2);
    expect(unrecorded.err).toContain(
      'runs/r0000.json: has no sha256 of ./tick.mjs (written before desim recorded them), so desim cannot tell whether that file changed since; refusing to mix results: start the sweep again with --overwrite or another --out',
    );
    // Shards made after the edit, one of whose records names no module hash, do not merge either.
    expect(sweep('0/3', 'tick-e0').code).toBe(0);
    expect(sweep('2/3', 'tick-e2').code).toBe(0);
    const e0 = join(dir, 'tick-e0', 'runs', 'r0000.json');
    const stripped = JSON.parse(readFileSync(e0, 'utf8')) as Record<string, unknown>;
    delete stripped['inputs'];
    writeFileSync(e0, JSON.stringify(stripped));
    const unchecked = desim(['merge', 'tick-e0', 'tick-e1', 'tick-e2', '--out', 'tick-merged']);
    expect(unchecked.code).toBe(2);
    expect(unchecked.err).toContain('tick-e0/runs/r0000.json records no sha256 of ./tick.mjs, which tick-e1/runs/r0001.json read');
    // A record whose inputs are not as desim writes them is no record.
    const bad = join(dir, 'tick-m2', 'runs', 'r0002.json');
    writeFileSync(bad, JSON.stringify({ ...(JSON.parse(readFileSync(bad, 'utf8')) as object), inputs: 'x' }));
    const refused = sweep('2/3', 'tick-m2', '--resume');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('r0002.json: is not a desim run record ("inputs" is not a list of key, path and sha256)');
  });

  it('validate says ok for a valid file', () => {
    const r = desim(['validate', 'counter.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('counter.yaml: ok (module, 3 nodes, 2 s; protocol module not imported (--load-modules imports it))\n');
    expect(desim(['validate', 'counter.yaml', '--load-modules']).out).toBe('counter.yaml: ok (module, 3 nodes, 2 s)\n');
    // A TCP dumbbell has no nodes to count: its flows are what it runs.
    expect(desim(['validate', 'tcp-original']).out).toBe('tcp-original: ok (tcp, 1 flow on a dumbbell, 3 s)\n');
  });

  it('--help teaches with examples', () => {
    const top = desim(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['run <file>', 'sweep <file>', 'validate <file>', 'merge <dirs..>', 'plot <dir>', 'schema', 'bench [what]'])
      expect(top.out).toContain(cmd);
    const sweep = desim(['sweep', '--help']);
    expect(sweep.out).toContain('Examples:');
    expect(sweep.out).toContain('--shard');
  });

  it('prints a JSON Schema of scenario files', () => {
    const r = desim(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'seed', 'duration_s', 'network', 'protocol', 'workload', 'faults', 'outputs']),
    );
    expect(schema.additionalProperties).toBe(false);
  });
});

/**
 * Sweep plan files through the built CLI: a plan with a log range and zip
 * mode gives the same summary.csv as the equivalent --vary command line, the
 * plan is recorded in sweep.json, and a bad plan exits 2 with field paths and
 * no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-plan-e2e-'));

function desim(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
}

describe('desim sweep PLAN', () => {
  it('a plan with a log range and zip mode gives the same summary.csv as the equivalent --vary command line', () => {
    writeFileSync(
      join(dir, 'plan.yaml'),
      [
        'scenario: tcp-mathis-padhye',
        'set: { duration_s: 30, outputs.plots: false }',
        'vary:',
        '  protocol.tcp.bottleneck.loss: { from: 0.001, to: 0.05, scale: log, count: 4 }',
        '  protocol.tcp.flows[0].variant: [reno, newreno, reno, tahoe]',
        'reps: 2',
        'mode: zip',
        '',
      ].join('\n'),
    );
    const a = desim(['sweep', 'plan.yaml', '--jobs', '1', '--quiet', '--out', 'from-plan']);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const b = desim([
      'sweep',
      'tcp-mathis-padhye',
      '--set',
      'duration_s=30',
      '--set',
      'outputs.plots=false',
      '--vary',
      'protocol.tcp.bottleneck.loss=0.001..0.05 log 4',
      '--vary',
      'protocol.tcp.flows[0].variant=reno,newreno,reno,tahoe',
      '--mode',
      'zip',
      '--reps',
      '2',
      '--jobs',
      '1',
      '--quiet',
      '--out',
      'from-args',
    ]);
    expect(b.status).toBe(0);
    const summary = readFileSync(join(dir, 'from-plan', 'summary.csv'), 'utf8');
    expect(summary).toBe(readFileSync(join(dir, 'from-args', 'summary.csv'), 'utf8'));
    expect(readFileSync(join(dir, 'from-plan', 'aggregate.csv'), 'utf8')).toBe(readFileSync(join(dir, 'from-args', 'aggregate.csv'), 'utf8'));
    // 4 zipped combinations x 2 replications, the log-spaced values in the parameter column.
    const rows = summary
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows).toHaveLength(8);
    expect([...new Set(rows.map((r) => `${r[3]} ${r[4]}`))]).toEqual(['0.001 reno', '0.00368403 newreno', '0.0135721 reno', '0.05 tahoe']);
    const sweep = JSON.parse(readFileSync(join(dir, 'from-plan', 'sweep.json'), 'utf8')) as Record<string, unknown>;
    expect(sweep['mode']).toBe('zip');
    expect(sweep['plan']).toMatchObject({ file: 'plan.yaml', content: { scenario: 'tcp-mathis-padhye', mode: 'zip', reps: 2 } });
    // The plan's set and the command line's --set are recorded alike, with the base seed.
    const args = JSON.parse(readFileSync(join(dir, 'from-args', 'sweep.json'), 'utf8')) as Record<string, unknown>;
    expect([sweep['set'], sweep['base_seed']]).toEqual([['duration_s=30', 'outputs.plots=false'], 1]);
    expect([args['set'], args['base_seed']]).toEqual([sweep['set'], sweep['base_seed']]);
  });

  it('refuses a bad plan up front: exit 2, the file, every field path, no stack trace', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'scenario: tcp-mathis-padhye\nvary:\n  protocol.tcp.bottleneck.loss: [0.01, 0.02]\n  protocol.tcp.flows[0].variant: [reno]\nmode: zip\n',
    );
    const r = desim(['sweep', 'bad.yaml', '--out', 'never']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'desim: bad.yaml: mode: zip takes the i-th value of every vary list, so the lists must be equally long; got protocol.tcp.bottleneck.loss: 2, protocol.tcp.flows[0].variant: 1\n',
    );
    // A plan whose varied path is wrong for its scenario: the plan, the scenario, the path and a did-you-mean.
    writeFileSync(join(dir, 'typo.yaml'), 'scenario: tcp-mathis-padhye\nvary:\n  protocol.tcp.bottleneck.los: [0.01, 0.02]\n');
    const t = desim(['sweep', 'typo.yaml', '--out', 'never']);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/^desim: typo\.yaml \(scenario .*tcp-mathis-padhye\.yaml\): /);
    expect(t.stderr).toContain(
      'protocol.tcp.bottleneck.los: unknown key; did you mean "loss"? (with the plan\'s vary protocol.tcp.bottleneck.los=0.01)',
    );
    expect(t.stderr).not.toMatch(/\n\s+at /);
    const clash = desim(['sweep', 'bad.yaml', '--reps', '3']);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain('is a sweep plan: it gives vary, reps and mode itself; drop --reps');
  });
});

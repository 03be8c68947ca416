/**
 * Never destroy what a user owns, through the built CLI as users run it:
 * `--out` refuses folders desim did not write, `--overwrite` writes beside the
 * user's files without touching them, interrupted runs leave no litter, merge
 * writes only what its inputs hold, and sweeps refuse to wipe saved runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const root = mkdtempSync(join(tmpdir(), 'desim-safety-'));
let n = 0;
/** A fresh folder to work in. */
const fresh = (): string => {
  const d = join(root, `case${n++}`);
  mkdirSync(d);
  return d;
};

// A hang detector only (the old code spun forever on /proc paths): far above any real run time.
const HANG_MS = 300_000;
function desim(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: HANG_MS });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const noStack = (err: string) => expect(err).not.toMatch(/\n\s+at .*\.js:\d+/);
const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-'));
const SWEEP = ['sweep', 'tcp-original', '--vary', 'protocol.tcp.bottleneck.loss=0.01,0.02', '--set', 'outputs.plots=false', '--quiet'];

describe('--out never destroys what desim did not write', () => {
  it("refuses a folder with the user's files (exit 2, names the folder and the flags), and --overwrite writes beside them", () => {
    const d = fresh();
    mkdirSync(join(d, 'p'));
    writeFileSync(join(d, 'p', 'thesis.tex'), 'x\n');
    const r = desim(d, ['run', 'gossip-original', '--out', 'p']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('p: is not a desim results folder (it holds "thesis.tex")');
    expect(r.err).toContain('--overwrite');
    noStack(r.err);
    expect(readdirSync(join(d, 'p'))).toEqual(['thesis.tex']);

    const o = desim(d, ['run', 'gossip-original', '--out', 'p', '--overwrite']);
    expect(o.code).toBe(0);
    expect(readFileSync(join(d, 'p', 'thesis.tex'), 'utf8')).toBe('x\n');
    expect(readdirSync(join(d, 'p'))).toContain('summary.csv');
    // Again: desim's own files are replaced, the user's stay.
    expect(desim(d, ['run', 'gossip-original', '--out', 'p', '--overwrite', '--set', 'outputs.traces=[]']).code).toBe(0);
    expect(readdirSync(join(d, 'p')).sort()).toEqual(['meta.json', 'reads.csv', 'summary.csv', 'thesis.tex', 'updates.csv']);
    expect(readFileSync(join(d, 'p', 'thesis.tex'), 'utf8')).toBe('x\n');
    expect(temps(d)).toEqual([]);
    expect(temps(join(d, 'p'))).toEqual([]);
  });

  it('never replaces a regular file with a folder, never deletes the scenario file, and does not fail with EBUSY on --out .', () => {
    const d = fresh();
    writeFileSync(join(d, 'afile'), 'mine');
    const a = desim(d, ['run', 'gossip-original', '--out', 'afile']);
    expect(a.code).toBe(2);
    expect(a.err).toContain('afile: is a file, not a folder');
    expect(readFileSync(join(d, 'afile'), 'utf8')).toBe('mine');

    mkdirSync(join(d, 'exp'));
    const yaml = readFileSync(resolve('src/scenarios/bundled/gossip-original.yaml'), 'utf8');
    writeFileSync(join(d, 'exp', 's.yaml'), yaml);
    const e = desim(d, ['run', 'exp/s.yaml', '--out', 'exp']);
    expect(e.code).toBe(2);
    expect(readFileSync(join(d, 'exp', 's.yaml'), 'utf8')).toBe(yaml);

    // `.` holding the user's files is refused like any other such folder; an empty `.` is written into.
    const dot = desim(join(d, 'exp'), ['run', 'gossip-original', '--out', '.']);
    expect(dot.code).toBe(2);
    expect(dot.err).not.toContain('EBUSY');
    mkdirSync(join(d, 'empty'));
    expect(desim(join(d, 'empty'), ['run', 'gossip-original', '--out', '.']).code).toBe(0);
    expect(readdirSync(join(d, 'empty'))).toContain('meta.json');
  });

  it('replaces a run folder desim wrote, atomically, without a flag', () => {
    const d = fresh();
    expect(desim(d, ['run', 'tcp-original', '--out', 'r']).code).toBe(0);
    const again = desim(d, ['run', 'gossip-original', '--out', 'r']);
    expect(again.code).toBe(0);
    expect(readdirSync(join(d, 'r'))).not.toContain('trace-cwnd.csv');
    expect(temps(d)).toEqual([]);
  });

  it('schema --out replaces only a schema desim wrote', () => {
    const d = fresh();
    writeFileSync(join(d, 'notes.json'), '{"mine": true}');
    const r = desim(d, ['schema', '--out', 'notes.json']);
    expect(r.code).toBe(2);
    expect(readFileSync(join(d, 'notes.json'), 'utf8')).toBe('{"mine": true}');
    expect(desim(d, ['schema', '--out', 's.json']).code).toBe(0);
    expect(desim(d, ['schema', '--out', 's.json']).code).toBe(0);
  });

  it('fails at once with exit 2 and the path on an unwritable target instead of spinning (/proc)', () => {
    const d = fresh();
    const r = desim(d, ['run', 'gossip-original', '--out', '/proc/x']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('/proc/x');
    noStack(r.err);
  });
});

describe('what an attacker or a careless script could try', () => {
  it('an empty --out is refused up front', () => {
    const d = fresh();
    writeFileSync(join(d, 'summary.csv'), 'mine');
    for (const args of [['run', 'gossip-original'], [...SWEEP]]) {
      const r = desim(d, [...args, '--out', '']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('an empty path is not a folder');
    }
    expect(readdirSync(d)).toEqual(['summary.csv']);
    expect(readFileSync(join(d, 'summary.csv'), 'utf8')).toBe('mine');
  });

  it("the user's folders named like backups (.x.old-2024-01-15, .y.tmp-2023-12-31) are never taken for desim's leftovers", () => {
    const d = fresh();
    mkdirSync(join(d, '.config.old-2024-01-15'));
    writeFileSync(join(d, '.config.old-2024-01-15', 'settings'), 'data');
    mkdirSync(join(d, '.emacs.d.tmp-2023-12-31'));
    mkdirSync(join(d, '.x.tmp-99999999-0-0'));
    expect(desim(d, ['run', 'gossip-original', '--out', 'r']).code).toBe(0);
    expect(readFileSync(join(d, '.config.old-2024-01-15', 'settings'), 'utf8')).toBe('data');
    expect(existsSync(join(d, '.emacs.d.tmp-2023-12-31'))).toBe(true);
    expect(existsSync(join(d, '.x.tmp-99999999-0-0'))).toBe(true);
  });

  it('a forged marker cannot make desim delete anything outside the folder or behind a symbolic link', () => {
    const d = fresh();
    mkdirSync(join(d, 'B', 'real'), { recursive: true });
    writeFileSync(join(d, 'B', 'victim.txt'), 'x');
    writeFileSync(join(d, 'B', 'real', 'meta.json'), JSON.stringify({ desim_version: 'x', files: ['../victim.txt', '/etc/hostname'] }));
    symlinkSync('real', join(d, 'B', 'link'));
    desim(d, ['run', 'gossip-original', '--out', 'B/link']);
    expect(readFileSync(join(d, 'B', 'victim.txt'), 'utf8')).toBe('x');

    mkdirSync(join(d, 'S'));
    writeFileSync(
      join(d, 'S', 'sweep.json'),
      JSON.stringify({ desim_version: 'x', vary: ['a'], values: { a: [1] }, reps: 1, runs: 1, files: ['../victim.txt'] }),
    );
    desim(d, [...SWEEP, '--out', 'S', '--overwrite']);
    expect(readFileSync(join(d, 'B', 'victim.txt'), 'utf8')).toBe('x');

    // A runs/ that is a symbolic link to another sweep's runs is the user's, not desim's.
    expect(desim(d, [...SWEEP, '--out', 'other']).code).toBe(0);
    const theirs = readdirSync(join(d, 'other', 'runs'));
    mkdirSync(join(d, 'D'));
    cpSync(join(d, 'other', 'sweep.json'), join(d, 'D', 'sweep.json'));
    symlinkSync(join(d, 'other', 'runs'), join(d, 'D', 'runs'));
    desim(d, [...SWEEP, '--out', 'D', '--overwrite']);
    expect(readdirSync(join(d, 'other', 'runs'))).toEqual(theirs);
  });

  it('merge --overwrite into a symbolic link to a merged sweep changes nothing when it cannot finish', () => {
    const d = fresh();
    expect(desim(d, [...SWEEP, '--out', 'g']).code).toBe(0);
    expect(desim(d, ['merge', 'g', '--out', 'M1']).code).toBe(0);
    const before = readFileSync(join(d, 'M1', 'summary.csv'), 'utf8');
    symlinkSync('M1', join(d, 'ML'));
    expect(desim(d, [...SWEEP, '--set', 'seed=9', '--out', 'h']).code).toBe(0);
    const r = desim(d, ['merge', 'h', '--out', 'ML', '--overwrite']);
    expect(r.code).toBe(2);
    noStack(r.err);
    expect(readFileSync(join(d, 'M1', 'summary.csv'), 'utf8')).toBe(before);
  });

  it('a sweep.json whose numbers do not add up is named, not trusted', () => {
    const d = fresh();
    expect(desim(d, [...SWEEP, '--out', 's']).code).toBe(0);
    const id = JSON.parse(readFileSync(join(d, 's', 'sweep.json'), 'utf8')) as Record<string, unknown>;
    for (const runs of [1e300, 3e8, 1.5]) {
      writeFileSync(join(d, 's', 'sweep.json'), JSON.stringify({ ...id, runs }));
      const r = desim(d, ['merge', 's', '--out', `m${runs}`]);
      expect(r.code, String(runs)).toBe(2);
      expect(r.err).toContain('sweep.json: is not a desim sweep record');
      expect(existsSync(join(d, `m${runs}`))).toBe(false);
    }
  });
});

describe('interrupted runs leave no litter', () => {
  const longRun = (d: string) => spawn(process.execPath, [CLI, 'run', 'gossip-10k', '--out', 'big'], { cwd: d });
  const waitForTemp = async (d: string): Promise<void> => {
    // Bounded by count: the temporary folder appears when the run starts.
    for (let i = 0; i < 6000 && temps(d).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(temps(d)).toHaveLength(1);
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} removes the temporary folder, prints "interrupted" and exits 130`, async () => {
      const d = fresh();
      const child = longRun(d);
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
      await waitForTemp(d);
      child.kill(signal);
      expect(await exited).toBe(130);
      expect(err).toContain('interrupted');
      expect(readdirSync(d)).toEqual([]);
    });
  }

  it('a leftover of a killed run (SIGKILL) is removed by the next run into the same parent folder', async () => {
    const d = fresh();
    const child = longRun(d);
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    await waitForTemp(d);
    child.kill('SIGKILL');
    await exited;
    expect(temps(d)).toHaveLength(1);
    writeFileSync(join(d, '.notes.tmp-mine'), 'a user file whose name looks temporary');
    expect(desim(d, ['run', 'gossip-original', '--out', 'small']).code).toBe(0);
    expect(temps(d)).toEqual(['.notes.tmp-mine']);
  });
});

describe('sweeps and merge keep what they do not own', () => {
  it("sweep refuses a folder with the user's runs/ and an interrupted sweep without --resume; --overwrite keeps the user's files", () => {
    const d = fresh();
    mkdirSync(join(d, 'p', 'runs'), { recursive: true });
    writeFileSync(join(d, 'p', 'runs', 'mine.txt'), 'keep');
    const r = desim(d, [...SWEEP, '--out', 'p']);
    expect(r.code).toBe(2);
    expect(readFileSync(join(d, 'p', 'runs', 'mine.txt'), 'utf8')).toBe('keep');

    expect(desim(d, [...SWEEP, '--out', 's']).code).toBe(0);
    const saved = readdirSync(join(d, 's', 'runs'));
    const again = desim(d, [...SWEEP, '--out', 's']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('holds a sweep with 2 of 2 runs saved; use --resume');
    expect(readdirSync(join(d, 's', 'runs'))).toEqual(saved);
    expect(desim(d, [...SWEEP, '--out', 's', '--resume']).out).toContain('0 runs done, 2 resumed, of 2');

    writeFileSync(join(d, 's', 'notes.txt'), 'mine');
    writeFileSync(join(d, 's', 'runs', 'notes.txt'), 'mine too');
    const o = desim(d, [...SWEEP, '--out', 's', '--overwrite']);
    expect(o.code).toBe(0);
    expect(o.out).toContain('2 runs done, 0 resumed');
    expect(o.out).not.toContain('notes.txt');
    expect(readFileSync(join(d, 's', 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(d, 's', 'runs', 'notes.txt'), 'utf8')).toBe('mine too');
  });

  it('merge writes only what its inputs hold, refuses a non-empty target, and writes nothing for missing or overlapping shards', () => {
    const d = fresh();
    const big = [
      'sweep',
      'tcp-original',
      '--vary',
      'protocol.tcp.bottleneck.loss=0.01,0.02,0.03',
      '--reps',
      '2',
      '--set',
      'outputs.plots=false',
      '--quiet',
    ];
    expect(desim(d, [...big, '--shard', '0/2', '--out', 'a0']).code).toBe(0);
    expect(desim(d, [...big, '--shard', '1/2', '--out', 'a1']).code).toBe(0);
    expect(desim(d, [...SWEEP, '--out', 'b']).code).toBe(0);

    const missing = desim(d, ['merge', 'a0', '--out', 'm']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('3 of 6 runs are missing');
    expect(existsSync(join(d, 'm'))).toBe(false);

    const twice = desim(d, ['merge', 'a0', 'a1', 'a0', '--out', 'm']);
    expect(twice.code).toBe(2);
    expect(existsSync(join(d, 'm'))).toBe(false);

    mkdirSync(join(d, 'a2', 'runs'), { recursive: true });
    writeFileSync(join(d, 'a2', 'sweep.json'), readFileSync(join(d, 'a0', 'sweep.json')));
    writeFileSync(join(d, 'a2', 'runs', 'r0000.json'), readFileSync(join(d, 'a0', 'runs', 'r0000.json')));
    const overlap = desim(d, ['merge', 'a0', 'a1', 'a2', '--out', 'm']);
    expect(overlap.code).toBe(2);
    expect(overlap.err).toContain('shards must not overlap');
    expect(existsSync(join(d, 'm'))).toBe(false);

    expect(desim(d, ['merge', 'a0', 'a1', '--out', 'm']).code).toBe(0);
    expect(
      readFileSync(join(d, 'm', 'summary.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(7);
    // A second, smaller sweep merged into the same folder is refused: its rows would mix with the first's.
    const into = desim(d, ['merge', 'b', '--out', 'm']);
    expect(into.code).toBe(2);
    expect(into.err).toContain('m: is not empty');
    expect(
      readFileSync(join(d, 'm', 'summary.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(7);
    // A stray run record in a shard is not counted.
    writeFileSync(join(d, 'a1', 'runs', 'r0009.json'), readFileSync(join(d, 'a1', 'runs', 'r0001.json')));
    const stray = desim(d, ['merge', 'a0', 'a1', '--out', 'm2']);
    expect(stray.code).toBe(2);
    expect(stray.err).toContain('r0009.json: is not a run of this 6-run sweep');
    expect(existsSync(join(d, 'm2'))).toBe(false);
  });

  it('names a corrupt runs/*.json or sweep.json and says what to do', () => {
    const d = fresh();
    expect(desim(d, [...SWEEP, '--out', 's']).code).toBe(0);
    writeFileSync(join(d, 's', 'runs', 'r0001.json'), '{"run_id": "r00');
    const r = desim(d, [...SWEEP, '--out', 's', '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('r0001.json: is not valid JSON (truncated or edited?); delete this file and rerun the sweep with --resume');
    noStack(r.err);
    writeFileSync(join(d, 's', 'sweep.json'), '');
    const m = desim(d, ['merge', 's', '--out', 'm']);
    expect(m.code).toBe(2);
    expect(m.err).toContain('sweep.json: is not valid JSON');
  });

  it('plot refuses folders desim did not write and exits 2 when there is nothing to plot', () => {
    const d = fresh();
    mkdirSync(join(d, 'mine'));
    writeFileSync(join(d, 'mine', 'trace-cwnd.csv'), 'time_s\n');
    const a = desim(d, ['plot', 'mine']);
    expect(a.code).toBe(2);
    expect(a.err).toContain('is not a run or sweep folder that desim wrote');
    expect(desim(d, ['run', 'gossip-original', '--out', 'r', '--set', 'outputs.traces=[]']).code).toBe(0);
    const b = desim(d, ['plot', 'r']);
    expect(b.code).toBe(2);
    expect(b.err).toContain('has no CSV file that desim knows how to plot');
    expect(desim(d, ['run', 'gossip-original', '--out', 'g']).code).toBe(0);
    expect(desim(d, ['plot', 'g']).code).toBe(0);
  });
});

describe('sweep inputs that would silently mislead', () => {
  it('refuses duplicate --vary values (numeric or textual) and a parameter varied twice', () => {
    const d = fresh();
    for (const vary of [
      ['protocol.tcp.flows[0].variant=reno,reno'],
      ['protocol.tcp.bottleneck.loss=0.02,0.02,2e-2'],
      ['seed=1,1'],
      ['seed=1,2'],
      ['seed=1', 'seed=2'],
    ]) {
      const r = desim(d, ['sweep', 'tcp-original', ...vary.flatMap((v) => ['--vary', v]), '--out', 'never']);
      expect(r.code, vary.join(' ')).toBe(2);
      expect(existsSync(join(d, 'never'))).toBe(false);
    }
  });

  it('warns when every replication is identical, and caps --jobs at the core count with a note', () => {
    const d = fresh();
    const r = desim(d, [
      'sweep',
      'tcp-original',
      '--vary',
      'protocol.tcp.bottleneck.loss=0',
      '--reps',
      '3',
      '--jobs',
      '1000',
      '--set',
      'outputs.plots=false',
      '--quiet',
      '--out',
      's',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/--jobs 1000 lowered to \d+, the number of cores here/);
    expect(r.err).toContain('gave identical metrics in all 3 replications');
  });

  it('a failing run names the run and prints a desim run command that reproduces it, also with --jobs 2', () => {
    const d = fresh();
    copyFileSync(resolve('test/fixtures/modules/boom.mjs'), join(d, 'boom.mjs'));
    writeFileSync(join(d, 'boom.yaml'), 'name: boom\nduration_s: 5\nnetwork: { nodes: [A, B] }\nprotocol: { module: { path: ./boom.mjs } }\n');
    for (const jobs of ['1', '2']) {
      const r = desim(d, ['sweep', 'boom.yaml', '--vary', 'duration_s=1,2', '--jobs', jobs, '--quiet', '--out', `s${jobs}`]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/run r0001 failed: .*invariant broken in node 1/);
      const cmd = /rerun it alone: desim (.*)\n/.exec(r.err)?.[1];
      expect(cmd).toMatch(/^run boom\.yaml --set duration_s=2 --seed \d+$/);
      const again = desim(d, [...(cmd as string).split(' '), '--out', `rerun${jobs}`]);
      expect(again.code).toBe(1);
      expect(again.err).toContain('invariant broken in node 1');
      // A failed run leaves no temporary folder behind.
      expect(temps(d)).toEqual([]);
      expect(existsSync(join(d, `rerun${jobs}`))).toBe(false);
    }
  });
});

/**
 * Sweeps through the built CLI: the same summary.csv and aggregate.csv with
 * --jobs 1, --jobs 2, three shards merged, and an interrupted (SIGINT) sweep
 * finished with --resume; the same figures drawn on worker processes as in one;
 * the CPU profile of DESIM_PROFILE=1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-sweep-'));
const SWEEP = [
  'sweep',
  'tcp-mathis-padhye',
  '--set',
  'duration_s=600',
  '--vary',
  'protocol.tcp.bottleneck.loss=0.005,0.01,0.02',
  '--vary',
  'protocol.tcp.flows[0].variant=reno,newreno',
  '--reps',
  '2',
  '--quiet',
];

function desim(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`desim ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const tables = (out: string) => ({
  summary: readFileSync(join(dir, out, 'summary.csv'), 'utf8'),
  aggregate: readFileSync(join(dir, out, 'aggregate.csv'), 'utf8'),
});

describe('desim sweep', () => {
  it('gives byte-identical tables with --jobs 1, --jobs 2, and three shards merged (also via Slurm array variables)', () => {
    desim([...SWEEP, '--jobs', '1', '--out', 'j1']);
    const expected = tables('j1');
    expect(expected.summary.split('\n')[0]).toBe(
      'run_id,rep,seed,protocol.tcp.bottleneck.loss,protocol.tcp.flows[0].variant,' + expected.summary.split('\n')[0]?.split(',').slice(5).join(','),
    );
    expect(expected.summary.trim().split('\n')).toHaveLength(1 + 12);
    expect(expected.aggregate.trim().split('\n')).toHaveLength(1 + 6);

    desim([...SWEEP, '--jobs', '2', '--out', 'j2']);
    expect(tables('j2')).toEqual(expected);

    desim([...SWEEP, '--jobs', '1', '--shard', '0/3', '--out', 's0']);
    desim([...SWEEP, '--jobs', '2', '--shard', '1/3', '--out', 's1']);
    // The third shard comes from Slurm's job-array variables instead of --shard.
    desim([...SWEEP, '--out', 's2'], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0' });
    expect(existsSync(join(dir, 's0', 'summary.csv'))).toBe(false);
    expect(readdirSync(join(dir, 's2', 'runs')).sort()).toEqual(['r0002.json', 'r0005.json', 'r0008.json', 'r0011.json']);
    desim(['merge', 's0', 's1', 's2', '--out', 'merged']);
    expect(tables('merged')).toEqual(expected);

    // --columns safe: the same tables with R- and pgfplots-safe parameter column names, whether the
    // sweep or the merge asks for it; the figures still name the parameters by their paths.
    const safe = (t: string) =>
      t.replace('protocol.tcp.bottleneck.loss,protocol.tcp.flows[0].variant,', 'protocol_tcp_bottleneck_loss,protocol_tcp_flows_0_variant,');
    const expectedSafe = { summary: safe(expected.summary), aggregate: safe(expected.aggregate) };
    expect(expectedSafe.summary).not.toBe(expected.summary);
    expect(expectedSafe.aggregate).not.toBe(expected.aggregate);
    desim(['merge', 's0', 's1', 's2', '--out', 'merged-safe', '--columns', 'safe']);
    expect(tables('merged-safe')).toEqual(expectedSafe);
    desim([...SWEEP, '--jobs', '2', '--out', 'j2-safe', '--columns', 'safe']);
    expect(tables('j2-safe')).toEqual(expectedSafe);
    expect(readdirSync(join(dir, 'j2-safe')).filter((f) => f.endsWith('.svg'))).toEqual(
      readdirSync(join(dir, 'j2')).filter((f) => f.endsWith('.svg')),
    );
    expect(readFileSync(join(dir, 'j2-safe', 'goodput_bps.svg'), 'utf8')).toBe(readFileSync(join(dir, 'j2', 'goodput_bps.svg'), 'utf8'));
    const bad = spawnSync(process.execPath, [CLI, 'merge', 's0', 's1', 's2', '--out', 'merged-bad', '--columns', 'dots'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/columns/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('draws the figures on the worker processes with the same bytes as in one thread, and profiles the CPU time under DESIM_PROFILE=1', () => {
    const small = ['sweep', 'gossip-original', '--vary', 'protocol.gossip.fanout=2,3', '--reps', '2', '--format', 'svg,png', '--quiet'];
    desim([...small, '--jobs', '1', '--out', 'fig1']);
    const r = spawnSync(process.execPath, [CLI, ...small, '--jobs', '2', '--out', 'fig2'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, DESIM_PROFILE: '1' },
    });
    expect(r.status).toBe(0);
    // Every file, figures (SVG and PNG), tables, sweep.json and the run records, byte for byte.
    const files = (d: string): string[] =>
      readdirSync(join(dir, d), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.includes('.'))
        .sort();
    expect(files('fig2')).toEqual(files('fig1'));
    expect(files('fig1').filter((f) => f.endsWith('.png'))).toHaveLength(5);
    for (const f of files('fig1')) expect(readFileSync(join(dir, 'fig2', f)), f).toEqual(readFileSync(join(dir, 'fig1', f)));
    // The profile: the main thread's phases, each worker's start-up, runs and figures, and the Amdahl bound.
    expect(r.stderr).toMatch(/^desim profile: CPU seconds per thread/m);
    expect(r.stderr).toMatch(/^ {2}main {6}start-up \d+\.\d\d, validate \d+\.\d\d, runs \d+\.\d\d, tables \d+\.\d\d, figures \d+\.\d\d, after /m);
    if (availableParallelism() < 2) return; // --jobs 2 was lowered to 1: no workers to profile
    const threads = [...r.stderr.matchAll(/^ {2}worker \d+ +start-up [\d.]+, (\d) runs? [^;]*?(?:, (\d) figures? [\d.]+)?; total/gm)];
    expect(threads).toHaveLength(2);
    expect(threads.reduce((n, m) => n + Number(m[1]), 0)).toBe(4);
    expect(threads.reduce((n, m) => n + Number(m[2] ?? 0), 0)).toBe(5);
    expect(r.stderr).toMatch(/^ {2}Amdahl on 2 cores: at least \d+\.\d\d s, speed-up at most \d\.\d\d over/m);
    // The processes' CPU (this one's and the workers'), split into the JavaScript threads above and Node's own (garbage collection, compilation).
    const proc = /^ {2}processes (\d+\.\d\d): the threads above (\d+\.\d\d), Node's own (\d+\.\d\d) \(/m.exec(r.stderr);
    expect(proc).not.toBeNull();
    const [whole, threadsS, ownS] = (proc as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    // They add up (Node's own is shown as 0 when the threads' 10 ms ticks round above the process's total).
    if (ownS > 0) expect(Math.abs(threadsS + ownS - whole)).toBeLessThanOrEqual(0.011);
    else expect(threadsS).toBeGreaterThanOrEqual(whole - 0.011);
    expect(threadsS).toBeGreaterThan(0);
    // Without it, no profile.
    const quiet = spawnSync(process.execPath, [CLI, ...small, '--jobs', '2', '--out', 'fig3'], { cwd: dir, encoding: 'utf8' });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toContain('profile');
  });

  it('keeps finished runs on SIGINT, and --resume completes the same files', async () => {
    const child = spawn(process.execPath, [CLI, ...SWEEP.filter((a) => a !== '--quiet'), '--jobs', '1', '--out', 'int'], { cwd: dir });
    let stderr = '';
    const code = await new Promise<number | null>((done) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Interrupt once a run is done.
        if (/: [1-9]\/12 /.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted');
    const saved = readdirSync(join(dir, 'int', 'runs')).length;
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThan(12);
    expect(existsSync(join(dir, 'int', 'summary.csv'))).toBe(false);
    const out = desim([...SWEEP, '--jobs', '2', '--resume', '--out', 'int']);
    expect(out).toContain(`${12 - saved} ${12 - saved === 1 ? 'run' : 'runs'} done, ${saved} resumed, of 12`);
    expect(tables('int')).toEqual(tables('j1'));
  });

  it('finishes the runs in flight on a Ctrl-C to the whole process group with worker processes', async () => {
    if (process.platform === 'win32') return; // process groups: POSIX
    // A terminal's Ctrl-C reaches the sweep and its workers alike; the workers ignore it, so the runs
    // they hold finish and are saved.
    const child = spawn(process.execPath, [CLI, ...SWEEP.filter((a) => a !== '--quiet'), '--jobs', '2', '--out', 'intg'], {
      cwd: dir,
      detached: true,
    });
    let stderr = '';
    let doneAtSignal = -1;
    const code = await new Promise<number | null>((done) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /: ([1-9])\/12 /.exec(stderr);
        if (m !== null && doneAtSignal < 0) {
          doneAtSignal = Number(m[1]);
          process.kill(-(child.pid as number), 'SIGINT');
        }
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(130);
    expect(stderr).toContain('finishing the runs in flight');
    expect(stderr).not.toMatch(/exited unexpectedly|\n\s+at /);
    const saved = readdirSync(join(dir, 'intg', 'runs')).length;
    // The runs done when the signal came, and the two in flight then (unless the sweep was nearly over).
    expect(saved).toBeGreaterThanOrEqual(Math.min(12, doneAtSignal + 2));
    const out = desim([...SWEEP, '--jobs', '2', '--resume', '--out', 'intg']);
    expect(out).toContain(`${12 - saved} ${12 - saved === 1 ? 'run' : 'runs'} done, ${saved} resumed, of 12`);
    expect(tables('intg')).toEqual(tables('j1'));
  });

  it('stops its worker processes at once on a second Ctrl-C: none is left computing', async () => {
    if (process.platform !== 'linux') return; // finds the workers by their environment in /proc
    const tag = `desim-test-${process.pid}-${Date.now()}`;
    // Runs of many seconds each (100 times the simulated time), so that a worker left alive would still be computing.
    const long = SWEEP.map((a) => (a === 'duration_s=600' ? 'duration_s=60000' : a)).filter((a) => a !== '--quiet');
    const child = spawn(process.execPath, [CLI, ...long, '--jobs', '2', '--out', 'int2'], {
      cwd: dir,
      detached: true,
      env: { ...process.env, DESIM_TEST_TAG: tag },
    });
    const tagged = (): number[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/environ`, 'latin1').includes(`DESIM_TEST_TAG=${tag}`);
          } catch {
            return false; // gone, or a zombie
          }
        })
        .map(Number);
    let stderr = '';
    let signals = 0;
    let gone = false;
    const exited = new Promise<number | null>((done) =>
      child.on('exit', (c) => {
        gone = true;
        done(c);
      }),
    );
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (signals === 1 && stderr.includes('finishing the runs in flight')) {
        signals = 2;
        process.kill(-(child.pid as number), 'SIGINT');
      }
    });
    /** CPU seconds a process has used (utime + stime, in ticks of 10 ms). */
    const cpuS = (pid: number): number => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        return 0;
      }
    };
    // Once both workers are well into a run (start-up costs them under a second of CPU), a first Ctrl-C.
    let workers: number[] = [];
    while (!gone && (workers.length < 2 || workers.some((p) => cpuS(p) < 1.5))) {
      await new Promise((r) => setTimeout(r, 100));
      workers = tagged().filter((p) => p !== child.pid);
    }
    signals = 1;
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).toBe(130);
    expect(signals).toBe(2);
    expect(workers).toHaveLength(2);
    // SIGKILLed as the sweep exited (a worker left alive would be in a run of several seconds).
    let left = tagged();
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = tagged();
    }
    expect(left).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benchBareHeap, benchKernel, benchKernelPopulations, benchKernelVsBare, defaultHoldEvents } from '../../src/bench/kernel.js';
import { MAIN_JS, ensureBuilt } from '../transport/procs.js';

describe('kernel hold bench', () => {
  it('runs the same hold model on the kernel and on the bare heap: same draws, same events, same final time', () => {
    for (const pending of [1, 100, 5000]) {
      const k = benchKernel(30_000, pending, 'x');
      const b = benchBareHeap(30_000, pending, 'x');
      expect(k.events).toBe(30_000);
      expect(b.events).toBe(30_000);
      expect(k.pending).toBe(pending);
      expect(b.pending).toBe(pending);
      expect(k.finalTimeNs).toBeGreaterThan(0);
      expect(b.finalTimeNs).toBe(k.finalTimeNs);
    }
    // Another seed, another run.
    expect(benchKernel(30_000, 100, 'y').finalTimeNs).not.toBe(benchKernel(30_000, 100, 'x').finalTimeNs);
  });

  it('interleaves the two side by side and reports the ratio of their rates', () => {
    const r = benchKernelVsBare(40_000, 1000, 1, 8);
    expect(r.kernel.events).toBe(40_000);
    expect(r.bare.events).toBe(40_000);
    expect(r.kernel.finalTimeNs).toBe(r.bare.finalTimeNs);
    // Same events fired after the same warm-up as a plain run of 45,000.
    expect(r.kernel.finalTimeNs).toBe(benchKernel(45_000, 1000, 1).finalTimeNs);
    expect(r.ratio).toBeCloseTo(r.kernel.eventsPerCpuS / r.bare.eventsPerCpuS, 12);
    expect(r.ratio).toBeGreaterThan(0);
  });

  it('runs several populations side by side: each fires its own events, after its warm-ups, as a plain run would', () => {
    const [small, large] = benchKernelPopulations([100, 3000], (p) => (p === 100 ? 10_000 : 20_000), 'z', 4);
    expect(small?.events).toBe(10_000);
    expect(large?.events).toBe(20_000);
    expect(small?.pending).toBe(100);
    expect(large?.pending).toBe(3000);
    // Warm-up of a slice's worth (2,500), then 4 slices of 2,500 each preceded by 250 unmeasured.
    expect(small?.finalTimeNs).toBe(benchKernel(2_500 + 10_000 + 4 * 250, 100, 'z').finalTimeNs);
    expect(large?.finalTimeNs).toBe(benchKernel(5_000 + 20_000 + 4 * 500, 3000, 'z').finalTimeNs);
    expect(small?.eventsPerCpuS).toBeGreaterThan(0);
  });

  it('fires 2,000,000 events by default, or twice the population when larger', () => {
    expect(defaultHoldEvents(10_000)).toBe(2_000_000);
    expect(defaultHoldEvents(10_000_000)).toBe(20_000_000);
  });
});

describe('desim bench kernel', () => {
  it('prints one line per population, with the bare heap and the ratio under --baseline', () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [MAIN_JS, 'bench', 'kernel', '--pending', '100', '2000', '--events', '20000', '--baseline'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^kernel_hold pending=100 events=20000 events_per_s=\d+ events_per_cpu_s=\d+ rate_vs_first=1 peak_rss_mb=\d+$/);
    expect(lines[1]).toMatch(/^kernel_bare pending=100 events=20000 events_per_s=\d+ events_per_cpu_s=\d+$/);
    expect(lines[2]).toMatch(/^kernel_vs_bare pending=100 ratio=\d+\.\d{3}$/);
    expect(lines[3]).toMatch(/^kernel_hold pending=2000 events=20000 .* rate_vs_first=\d+\.\d{3} /);
  });

  it('refuses a population or an event count out of range, with exit 2 and no stack trace', () => {
    ensureBuilt();
    for (const [args, msg] of [
      [['--pending', '0'], '--pending must be integers in 1..10000000, got 0'],
      [['--pending', '100', '2.5'], '--pending must be integers in 1..10000000, got 2.5'],
      [['--events', '0'], '--events must be an integer in 1..1e9, got 0'],
    ] as const) {
      const r = spawnSync(process.execPath, [MAIN_JS, 'bench', 'kernel', ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const g = spawnSync(process.execPath, [MAIN_JS, 'bench', 'gossip', '--nodes', '5'], { encoding: 'utf8' });
    expect(g.status).toBe(2);
    expect(g.stderr).toContain('--nodes must be an integer in 10..10000000, got 5');
  });
});

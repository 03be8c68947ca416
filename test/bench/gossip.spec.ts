import { describe, expect, it } from 'vitest';
import {
  benchGossip,
  formatGossipBench,
  formatGossipCostRatio,
  formatGossipScaling,
  gossipBenchName,
  gossipCostRatios,
  gossipScaling,
} from '../../src/bench/gossip.js';

describe('gossip bench (small n)', () => {
  it('spreads the update to everyone, then runs one anti-entropy round of every node', () => {
    const r = benchGossip(3000);
    expect(r.digests).toBe(3000);
    expect(r.residueFrac).toBeLessThan(0.05);
    // Events are what the model handled: every message delivered (no loss here) and every timer fired.
    expect(r.events).toBe(r.messages + r.timers);
    expect(r.timers).toBeGreaterThan(3000); // a round timer of every node that spread it, and every anti-entropy timer
    // Batches and timer groups: the kernel fires far fewer.
    expect(r.kernelEvents).toBeLessThan(r.events / 100);
    expect(formatGossipBench({ ...r, nodes: 100_000 })).toMatch(
      /^gossip_100k wall_s=\d+\.\d{3} events_per_s=\d+ peak_rss_mb=\d+ cpu_s=\d+\.\d{3} kernel_events=\d+$/,
    );
  });
});

describe('gossip bench output', () => {
  it('names a run by its size and prints the cost per node and per event for --scaling', () => {
    expect(gossipBenchName(100_000)).toBe('gossip_100k');
    expect(gossipBenchName(1_000_000)).toBe('gossip_1000k');
    expect(gossipBenchName(2500)).toBe('gossip_2500');
    const f = {
      bench: 'gossip_10k',
      nodes: 10_000,
      events: 200_000,
      kernel_events: 40,
      wall_s: 0.5,
      events_per_s: 400_000,
      peak_rss_mb: 90,
      cpu_s: 0.8,
    };
    const { line, costs } = formatGossipScaling(f);
    expect(costs).toEqual({ wall_us_per_node: 50, cpu_us_per_node: 80, cpu_ns_per_event: 4000 });
    expect(line).toBe(
      'gossip_10k wall_s=0.500 events_per_s=400000 peak_rss_mb=90 cpu_s=0.800 kernel_events=40 wall_us_per_node=50.00 cpu_us_per_node=80.00 cpu_ns_per_event=4000',
    );
  });

  it('--scaling compares each size with the one before it, within one repetition', () => {
    const run = (nodes: number, wall_s: number, cpu_s: number) => ({
      bench: gossipBenchName(nodes),
      nodes,
      events: 16 * nodes,
      kernel_events: 60,
      wall_s,
      events_per_s: 1,
      peak_rss_mb: 1,
      cpu_s,
    });
    const ratios = gossipCostRatios(2, [run(10_000, 0.1, 0.2), run(100_000, 1.5, 2), run(1_000_000, 18, 30)]);
    expect(ratios.map((r) => [r.rep, r.larger, r.smaller])).toEqual([
      [2, 100_000, 10_000],
      [2, 1_000_000, 100_000],
    ]);
    expect(ratios[0]?.wall_ratio).toBeCloseTo(1.5, 12);
    expect(ratios[0]?.cpu_ratio).toBeCloseTo(1, 12);
    expect(ratios[1]?.wall_ratio).toBeCloseTo(1.2, 12);
    expect(ratios[1]?.cpu_ratio).toBeCloseTo(1.5, 12);
    expect(formatGossipCostRatio(ratios[1] as (typeof ratios)[number], true)).toBe(
      'gossip_cost_ratio rep=2 larger=1000000 smaller=100000 wall_ratio=1.200 cpu_ratio=1.500',
    );
    expect(formatGossipCostRatio(ratios[1] as (typeof ratios)[number], false)).toBe(
      'gossip_cost_ratio larger=1000000 smaller=100000 wall_ratio=1.200 cpu_ratio=1.500',
    );
  });

  it('--scaling --reps runs the sizes in turns and compares each pair within its turn, naming the turn only when there are several', () => {
    const run = (nodes: number, wall_s: number) => ({
      bench: gossipBenchName(nodes),
      nodes,
      events: 10 * nodes,
      kernel_events: 60,
      wall_s,
      events_per_s: 1,
      peak_rss_mb: 1,
      cpu_s: wall_s,
    });
    // Turn 1 is slow at 1,000 nodes, turn 2 at 10,000: each ratio must use its own turn's runs.
    const walls = [0.1, 2, 0.2, 1];
    const asked: number[] = [];
    const lines: string[] = [];
    gossipScaling(
      2,
      (n) => {
        asked.push(n);
        return run(n, walls[asked.length - 1] as number);
      },
      false,
      (l) => lines.push(l),
      [1000, 10_000],
    );
    expect(asked).toEqual([1000, 10_000, 1000, 10_000]);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^gossip_1k wall_s=0\.100 .* rep=1$/);
    expect(lines[2]).toBe('gossip_cost_ratio rep=1 larger=10000 smaller=1000 wall_ratio=2.000 cpu_ratio=2.000');
    expect(lines[5]).toBe('gossip_cost_ratio rep=2 larger=10000 smaller=1000 wall_ratio=0.500 cpu_ratio=0.500');

    const json: string[] = [];
    let i = 0;
    gossipScaling(
      1,
      (n) => run(n, walls[i++] as number),
      true,
      (l) => json.push(l),
      [1000, 10_000],
    );
    const objs = json.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o['bench'])).toEqual(['gossip_1k', 'gossip_10k', 'gossip_cost_ratio']);
    expect(objs.every((o) => !('rep' in o))).toBe(true);
    expect(objs[0]).toMatchObject({ nodes: 1000, wall_us_per_node: 100 });
    expect(objs[2]).toEqual({ bench: 'gossip_cost_ratio', larger: 10_000, smaller: 1000, wall_ratio: 2, cpu_ratio: 2 });
  });
});

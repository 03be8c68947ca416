import { describe, expect, it } from 'vitest';
import { benchGossip, formatGossipBench, formatGossipScaling, gossipBenchName } from '../../src/bench/gossip.js';

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
});

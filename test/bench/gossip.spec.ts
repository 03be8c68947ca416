import { describe, expect, it } from 'vitest';
import { benchGossip, formatGossipBench } from '../../src/bench/gossip.js';

describe('gossip bench (small n)', () => {
  it('spreads the update to everyone, then runs one anti-entropy round of every node', () => {
    const r = benchGossip(3000);
    expect(r.digests).toBe(3000);
    expect(r.residueFrac).toBeLessThan(0.05);
    expect(r.events).toBeGreaterThan(3000 * 3);
    expect(formatGossipBench({ ...r, nodes: 100_000 })).toMatch(/^gossip_100k wall_s=\d+\.\d{3} events_per_s=\d+ peak_rss_mb=\d+$/);
  });
});

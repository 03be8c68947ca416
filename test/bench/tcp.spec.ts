import { describe, expect, it } from 'vitest';
import { benchTcp, formatTcpBench } from '../../src/bench/tcp.js';

describe('benchTcp', () => {
  it('runs the benchmark scenario (shortened) and reports packets and events, no wall-clock assertion', () => {
    const r = benchTcp({ durationS: 2 });
    // 1 Gbps for 2 s with slow start from 3 segments: well over 10,000 full-size segments.
    expect(r.dataPackets).toBeGreaterThan(10_000);
    expect(r.acks).toBeGreaterThan(0.9 * r.dataPackets);
    expect(r.events).toBeLessThan(2.05 * r.dataPackets + 100);
    expect(r.goodputBps).toBeLessThan(1e9);
    expect(formatTcpBench(r)).toMatch(/^tcp_1g wall_s=\d+\.\d{3} packets_per_s=\d+$/);
    const again = benchTcp({ durationS: 2 });
    expect(again.dataPackets).toBe(r.dataPackets);
  });
});

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
    expect(formatTcpBench(r)).toMatch(/^tcp_1g wall_s=\d+\.\d{3} packets_per_s=\d+ packets_per_cpu_s=\d+$/);
    const again = benchTcp({ durationS: 2 });
    expect(again.dataPackets).toBe(r.dataPackets);
  });

  it('with sack: the same scenario with SACK recovery, which repairs the slow-start overshoot without the long stall of Reno', () => {
    const off = benchTcp({ durationS: 0.5 });
    const on = benchTcp({ durationS: 0.5, sack: true });
    expect(on.fastRetransmits).toBeGreaterThan(0);
    expect(on.timeouts).toBe(0);
    expect(on.goodputBps).toBeGreaterThan(2 * off.goodputBps);
    expect(on.packetsPerCpuS).toBeGreaterThan(0);
  });
});

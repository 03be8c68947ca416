import { describe, expect, it } from 'vitest';
import { SkewedClock } from '../../../src/protocols/gossip/clock.js';

describe('node clocks', () => {
  it('applies offset and drift (ppm) and clamps at zero', () => {
    const c = new SkewedClock({ kind: 'physical', offsetNs: 5_000, driftPpm: 100 });
    expect(c.physical(1_000_000_000)).toBe(1_000_000_000 + 5_000 + 100_000);
    expect(new SkewedClock({ kind: 'physical', offsetNs: -10, driftPpm: 0 }).physical(3)).toBe(0);
  });

  it('stamps strictly increasing timestamps at one node, even at the same instant', () => {
    const c = new SkewedClock({ kind: 'physical', offsetNs: 0, driftPpm: 0 });
    expect([c.stamp(100), c.stamp(100), c.stamp(100), c.stamp(50)]).toEqual([100, 101, 102, 103]);
  });

  it('HLC: a write after seeing a version from a clock ahead gets a larger timestamp; physical does not', () => {
    const hlc = new SkewedClock({ kind: 'hlc', offsetNs: 0, driftPpm: 0 });
    const phys = new SkewedClock({ kind: 'physical', offsetNs: 0, driftPpm: 0 });
    for (const c of [hlc, phys]) c.observe(5_000);
    expect(hlc.stamp(1_000)).toBe(5_001);
    expect(phys.stamp(1_000)).toBe(1_000);
  });
});

describe('timestamp units for real clocks', () => {
  it('reads µs since an epoch when unitNs = 1000', () => {
    const c = new SkewedClock({ kind: 'hlc', offsetNs: 0, driftPpm: 0, unitNs: 1000, epoch: 1_764_000_000_000_000 });
    expect(c.physical(2_500_999)).toBe(1_764_000_000_002_500);
    expect(c.units(1_000_000)).toBe(1000);
    expect(Number.isSafeInteger(c.stamp(5_000_000_000))).toBe(true);
  });
});

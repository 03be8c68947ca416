import { describe, expect, it } from 'vitest';
import { RttEstimator } from '../../../src/protocols/tcp/index.js';

const MS = 1_000_000;

describe('RttEstimator (RFC 6298)', () => {
  it('starts at 1 s and takes the first sample as SRTT = R, RTTVAR = R/2', () => {
    const e = new RttEstimator({ minRtoNs: 0 });
    expect(e.rtoNs).toBe(1000 * MS);
    e.sample(100 * MS);
    expect(e.srttNs).toBe(100 * MS);
    expect(e.rttvarNs).toBe(50 * MS);
    expect(e.rtoNs).toBe(300 * MS); // 100 + 4 * 50
  });

  it('updates RTTVAR before SRTT with gains 1/4 and 1/8', () => {
    const e = new RttEstimator({ minRtoNs: 0 });
    e.sample(100 * MS);
    e.sample(200 * MS);
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
    expect(e.rttvarNs).toBeCloseTo(62.5 * MS, 3);
    expect(e.srttNs).toBeCloseTo(112.5 * MS, 3);
    expect(e.rtoNs).toBe(362.5 * MS);
  });

  it('clamps the RTO to the minimum (default 1 s) and uses G when the variance vanishes', () => {
    const e = new RttEstimator();
    e.sample(10 * MS);
    expect(e.rtoNs).toBe(1000 * MS);
    const g = new RttEstimator({ minRtoNs: 0, granularityNs: 5 * MS });
    for (let i = 0; i < 200; i++) g.sample(10 * MS);
    expect(g.rtoNs).toBe(15 * MS); // SRTT + max(G, 4 RTTVAR ~ 0)
  });

  it('backs off by doubling up to the maximum, and a new sample clears the back-off', () => {
    const e = new RttEstimator({ maxRtoNs: 5000 * MS });
    e.backoff();
    expect(e.rtoNs).toBe(2000 * MS);
    e.backoff();
    e.backoff();
    expect(e.rtoNs).toBe(5000 * MS);
    expect(e.backoffs).toBe(3);
    e.sample(100 * MS);
    expect(e.rtoNs).toBe(1000 * MS);
    expect(e.backoffs).toBe(0);
  });
});

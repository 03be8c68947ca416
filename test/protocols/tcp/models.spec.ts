import { describe, expect, it } from 'vitest';
import { jainIndex, mathisBps, padhyeBps } from '../../../src/protocols/tcp/index.js';

describe('throughput models', () => {
  it('Mathis: (MSS/RTT) * sqrt(3/2) / sqrt(p)', () => {
    // 1460 B, 100 ms, p = 0.01: 116800 bps * 1.2247 / 0.1 = 1.4305 Mbps
    expect(mathisBps(1460, 0.1, 0.01)).toBeCloseTo(1_430_500, -3);
    expect(mathisBps(1460, 0.1, 0.0025) / mathisBps(1460, 0.1, 0.01)).toBeCloseTo(2, 10);
    expect(mathisBps(1460, 0.1, 0.01, 2) / mathisBps(1460, 0.1, 0.01)).toBeCloseTo(Math.SQRT1_2, 10);
  });

  it('Padhye: close to the square-root law at small p, far below it when timeouts dominate', () => {
    const low = padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 1e-4, t0S: 1 });
    expect(low / mathisBps(1460, 0.1, 1e-4)).toBeGreaterThan(0.95);
    expect(low / mathisBps(1460, 0.1, 1e-4)).toBeLessThan(1.05);
    const high = padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 0.05, t0S: 1 });
    expect(high / mathisBps(1460, 0.1, 0.05)).toBeLessThan(0.6);
    // A longer T0 and delayed ACKs both lower the prediction; a small receiver window caps it.
    expect(padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 0.05, t0S: 3 })).toBeLessThan(high);
    expect(padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 0.01, t0S: 1, b: 2 })).toBeLessThan(padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 0.01, t0S: 1 }));
    const capped = padhyeBps({ mssBytes: 1460, rttS: 0.1, p: 1e-5, t0S: 1, wmax: 10 });
    expect(capped).toBeLessThanOrEqual((10 * 1460 * 8) / 0.1);
    expect(capped).toBeGreaterThan(0.8 * ((10 * 1460 * 8) / 0.1));
  });

  it("Jain's index is 1 for equal shares and 1/n when one flow takes all", () => {
    expect(jainIndex([5, 5, 5, 5])).toBe(1);
    expect(jainIndex([8, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([1, 3])).toBeCloseTo(16 / 20, 12);
    expect(jainIndex([])).toBeNaN();
  });
});

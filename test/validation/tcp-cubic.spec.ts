/**
 * Validation of CUBIC against its response function (RFC 8312 section 5.1, RFC 9438 section 5.1): in
 * the cubic region the average window is (C (3 + beta) / (4 (1 - beta)))^(1/4) RTT^(3/4) / p^(3/4).
 * The sweep's points (RTT 0.1 to 0.8 s, p 1e-4 to 1e-2) all lie in the cubic region; each runs for at
 * least 1000 loss events, and goodput must be within 20% of the model at the measured loss-event rate.
 */
import { describe, expect, it } from 'vitest';
import { CUBIC_VALIDATION_POINTS, cubicRegionRatio, cubicValidationTable, formatCubicValidationTable } from '../../src/validation/tcp.js';

describe('CUBIC goodput against the RFC 8312 / RFC 9438 response function', () => {
  const rows = cubicValidationTable();
  const table = formatCubicValidationTable(rows);

  it('every point lies in the cubic region (cubic window >= 1.4 x the Reno-friendly one) and ran >= 1000 loss events', () => {
    expect(rows.map((r) => [r.rttS, r.p])).toEqual(CUBIC_VALIDATION_POINTS.map(([rtt, p]) => [rtt, p]));
    for (const r of rows) {
      expect(r.regionRatio, table).toBeGreaterThanOrEqual(1.4);
      expect(r.lossEvents, table).toBeGreaterThanOrEqual(1000);
      expect(r.meanRttS, table).toBeGreaterThanOrEqual(r.rttS);
      expect(r.meanRttS, table).toBeLessThan(r.rttS * 1.02);
      // Several drops of one recovery make one event: the event rate is below p, but not far.
      expect(r.lossEventRate, table).toBeLessThanOrEqual(r.p);
      expect(r.lossEventRate, table).toBeGreaterThan(0.7 * r.p);
    }
  });

  it('goodput is within 20% of the model at the measured loss-event rate', () => {
    for (const r of rows) {
      expect(r.ratio, table).toBeGreaterThanOrEqual(0.8);
      expect(r.ratio, table).toBeLessThanOrEqual(1.2);
      expect(r.pass).toBe(true);
    }
  });

  it('the region ratio says where the cubic curve governs: below 1 at short RTT and high loss', () => {
    expect(cubicRegionRatio(0.01, 0.01)).toBeLessThan(1);
    expect(cubicRegionRatio(0.4, 0.001)).toBeGreaterThan(2);
  });
});

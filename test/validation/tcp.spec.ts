/**
 * Validation of Reno against Mathis et al. 1997 and Padhye et al. 1998: one
 * Reno flow, no delayed ACKs, base RTT 100 ms, loss-limited. The full table
 * (>= 1000 loss events per loss rate) is cheap enough to run here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_FILES } from '../../src/reproduce.js';
import {
  VALIDATION_LOSS_RATES,
  VALIDATION_SACK_LOSS_RATES,
  VALIDATION_SACK_MIN_LOSS_EVENTS,
  formatValidationTable,
  validationPasses,
  validationTable,
  validationTableInWorkers,
} from '../../src/validation/tcp.js';

describe('Reno goodput against the analytic models', () => {
  const rows = validationTable({ minLossEvents: 1000 });

  it('every loss rate ran for at least 1000 loss events at the configured RTT', () => {
    expect(rows.map((r) => r.p)).toEqual(VALIDATION_LOSS_RATES);
    for (const r of rows) {
      expect(r.lossEvents).toBeGreaterThanOrEqual(1000);
      expect(r.meanRttS).toBeGreaterThan(0.1);
      expect(r.meanRttS).toBeLessThan(0.102);
      expect(r.t0S).toBeGreaterThanOrEqual(1);
    }
  });

  it('p <= 0.01: within 20% of Mathis; p in {0.02, 0.05}: between 0.8 x Padhye and 1.2 x Mathis', () => {
    const table = formatValidationTable(rows);
    for (const r of rows) {
      if (r.p <= 0.01) {
        expect(r.ratioMathis, table).toBeGreaterThanOrEqual(0.8);
        expect(r.ratioMathis, table).toBeLessThanOrEqual(1.2);
      } else {
        expect(r.ratioPadhye, table).toBeGreaterThanOrEqual(0.8);
        expect(r.ratioMathis, table).toBeLessThanOrEqual(1.2);
      }
      expect(r.pass).toBe(true);
    }
  });

  it('the criterion rejects a goodput far from the models', () => {
    expect(validationPasses(0.001, 0.7, 0.7)).toBe(false);
    expect(validationPasses(0.001, 1.25, 1.3)).toBe(false);
    expect(validationPasses(0.05, 0.5, 0.75)).toBe(false);
    expect(validationPasses(0.05, 0.5, 0.9)).toBe(true);
  });

  it('with delayed ACKs (b = 2) goodput follows Padhye with b = 2 and Mathis with C = sqrt(3/4)', () => {
    const delayed = validationTable({ delayedAck: true }, [0.002, 0.02]);
    const table = formatValidationTable(delayed);
    for (const r of delayed) {
      expect(r.lossEvents).toBeGreaterThanOrEqual(1000);
      expect(r.ratioPadhye, table).toBeGreaterThan(0.85);
      expect(r.ratioPadhye, table).toBeLessThan(1.15);
    }
    expect(delayed[0]?.ratioMathis, table).toBeGreaterThan(0.8);
    expect(delayed[0]?.ratioMathis, table).toBeLessThan(1.2);
    // Half the ACKs: slower window growth than without delayed ACKs at the same p.
    expect(delayed[0]!.goodputBps).toBeLessThan(0.8 * rows[1]!.goodputBps);
  });
});

describe('SACK Reno goodput against Mathis (p <= 0.01)', () => {
  const reno = validationTable({ minLossEvents: 1000 }, VALIDATION_SACK_LOSS_RATES);
  // RACK-TLP (RFC 8985) is on by default with SACK.
  const sack = validationTable({ minLossEvents: 1000, sack: true }, VALIDATION_SACK_LOSS_RATES);
  const table = formatValidationTable(sack);

  it('runs SACK for at least 1000 loss events per loss rate and beats Reno at every one', () => {
    expect(sack.map((r) => r.p)).toEqual(VALIDATION_SACK_LOSS_RATES);
    sack.forEach((r, i) => {
      expect(r.lossEvents).toBeGreaterThanOrEqual(1000);
      expect(r.goodputBps, table).toBeGreaterThan((reno[i] as (typeof reno)[number]).goodputBps);
      expect(r.criterion).toBe('1.0 <= goodput/Mathis <= 1.25');
    });
  });

  it('stays near the square-root law (0.95 to 1.25 x Mathis); the 1.0 floor is met at p <= 0.002 (the README reports the misses)', () => {
    for (const r of sack) {
      expect(r.ratioMathis, table).toBeGreaterThanOrEqual(0.95);
      expect(r.ratioMathis, table).toBeLessThanOrEqual(1.25);
      expect(r.pass).toBe(validationPasses(r.p, r.ratioMathis, r.ratioPadhye, true));
    }
    expect(
      sack.filter((r) => r.p <= 0.002).every((r) => r.pass),
      table,
    ).toBe(true);
    // Lost retransmissions are found in recovery (RACK, or Linux's lost-retransmit rule without it), not
    // by the timer: before either rule these runs had 3, 2, 9 and 10 timeouts, after lost fast retransmissions.
    for (const r of sack) expect(r.timeouts, table).toBeLessThanOrEqual(2);
    expect(validationPasses(0.01, 0.99, 1, true)).toBe(false);
    expect(validationPasses(0.01, 1.3, 1, true)).toBe(false);
    expect(validationPasses(0.01, 1.1, 1, true)).toBe(true);
  });
});

describe('SACK Reno with and without RACK-TLP (p = 0.005 and 0.01, where the 1.0 floor is missed)', () => {
  const ps = [0.005, 0.01];
  const on = validationTable({ minLossEvents: 1000, sack: true, rack: true }, ps);
  const off = validationTable({ minLossEvents: 1000, sack: true, rack: false }, ps);

  it('RACK-TLP lifts goodput (it starts recovery sooner) and leaves no timeout', () => {
    const table = `${formatValidationTable(on)}\n\nwithout RACK-TLP:\n${formatValidationTable(off)}`;
    ps.forEach((_, i) => {
      const a = on[i] as (typeof on)[number];
      const b = off[i] as (typeof off)[number];
      expect(a.goodputBps, table).toBeGreaterThan(b.goodputBps);
      expect(a.timeouts, table).toBe(0);
    });
  });
});

describe("the README's SACK rows (reproduce: 10,000 loss events per p, one row per worker)", () => {
  it('are the published table, each row over at least 10,000 loss events', () => {
    expect(PUBLISHED_FILES['tcp-mathis-padhye-sack.md']).toBe('validation/tcp-mathis-padhye-sack.md');
    const published = readFileSync('docs/results/tcp-mathis-padhye-sack.md', 'utf8').trimEnd();
    expect(readFileSync('README.md', 'utf8')).toContain(published);
    expect(VALIDATION_SACK_MIN_LOSS_EVENTS).toBeGreaterThanOrEqual(10_000);
    const rows = published
      .split('\n')
      .slice(2)
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((r) => Number(r[1]))).toEqual(VALIDATION_SACK_LOSS_RATES);
    for (const r of rows) expect(Number(r[3]), published).toBeGreaterThanOrEqual(VALIDATION_SACK_MIN_LOSS_EVENTS);
  });

  it('come out of worker threads as they do on one thread (each row has its own stream)', async () => {
    const ps = [0.005, 0.01, 0.02];
    const options = { sack: true, minLossEvents: 100 };
    expect(await validationTableInWorkers(options, ps, 2)).toEqual(validationTable(options, ps));
  });
});

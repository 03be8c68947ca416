import { describe, expect, it } from 'vitest';
import { demersTable, pittelRounds, spreadOnce, spreadTable } from '../../src/validation/gossip.js';

describe('gossip validation (n = 1000, aligned rounds, no loss)', () => {
  it('push, fanout 1, infect forever reaches everyone in log2(n) + ln(n) rounds, within 10 % (Pittel 1987)', () => {
    const [push1, push2, push3, pushPull] = spreadTable(1000, 12, 'ci');
    const predicted = pittelRounds(1000);
    expect(push1?.meanRounds).toBeGreaterThan(predicted * 0.9);
    expect(push1?.meanRounds).toBeLessThan(predicted * 1.1);
    // More fanout, or push-pull, is faster.
    expect(push2?.meanRounds).toBeLessThan(push1?.meanRounds ?? 0);
    expect(push3?.meanRounds).toBeLessThan(push2?.meanRounds ?? 0);
    expect(pushPull?.meanRounds).toBeLessThan(push1?.meanRounds ?? 0);
  });

  it('Demers tables: residue falls and traffic grows with k; residue ~ exp(-traffic); close to the paper', () => {
    for (const variant of ['feedback-counter', 'blind-coin'] as const) {
      const rows = demersTable(variant, 1000, 3, 'ci');
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i]!.residue).toBeLessThan(rows[i - 1]!.residue);
        expect(rows[i]!.traffic).toBeGreaterThan(rows[i - 1]!.traffic);
      }
      for (const r of rows) {
        // Each of m*n uniformly random pushes misses a given node: s ~ e^-m (Demers et al., section 1.4).
        if (r.k >= 2) expect(Math.abs(Math.log(r.residue) + r.traffic)).toBeLessThan(0.6);
        expect(Math.abs(r.traffic - r.paper!.traffic)).toBeLessThan(Math.max(0.2 * r.paper!.traffic, 0.05));
        expect(r.tLast).toBeGreaterThan(r.tAve);
      }
    }
  });

  it('a spread is a deterministic function of its seed', () => {
    expect(spreadOnce(200, { k: 2 }, 'demers-feedback-counter', 'same')).toEqual(spreadOnce(200, { k: 2 }, 'demers-feedback-counter', 'same'));
  });
});

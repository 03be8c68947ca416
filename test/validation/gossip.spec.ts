/**
 * Small versions of the gossip validation tables (the README's come from
 * `npm run reproduce` with 200 runs per row): each checks a property of the
 * model that a wrong rule would break, with tolerances wide enough for the
 * few runs CI can afford.
 */
import { describe, expect, it } from 'vitest';
import {
  DEMERS_PUBLISHED,
  demersTable,
  epidemicTable,
  pittelRounds,
  recurrenceRounds,
  recurrenceStep,
  spreadOnce,
  spreadTable,
} from '../../src/validation/gossip.js';

describe('gossip validation (aligned rounds, no loss)', () => {
  it('push, fanout 1, infect forever reaches everyone in log2(n) + ln(n) rounds, within 10 % (Pittel 1987), n = 1000', () => {
    const [push1, push2, push3, pushPull, pull] = spreadTable(1000, 8, 'ci');
    const predicted = pittelRounds(1000);
    expect(push1?.meanRounds).toBeGreaterThan(predicted * 0.9);
    expect(push1?.meanRounds).toBeLessThan(predicted * 1.1);
    // More fanout, or pull, or push-pull, is faster.
    expect(push2?.meanRounds).toBeLessThan(push1?.meanRounds ?? 0);
    expect(push3?.meanRounds).toBeLessThan(push2?.meanRounds ?? 0);
    expect(pull?.meanRounds).toBeLessThan(push1?.meanRounds ?? 0);
    expect(pushPull?.meanRounds).toBeLessThan(pull?.meanRounds ?? 0);
  });

  it('the recurrences: for large n, pull p -> p^2 and push p -> p e^-(1-p); expected rounds push > pull > push-pull', () => {
    const n = 1e9;
    for (const p of [0.9, 0.5, 0.1, 0.001]) {
      expect(recurrenceStep(p, n, 'pull')).toBeCloseTo(p * p, 6);
      expect(recurrenceStep(p, n, 'push')).toBeCloseTo(p * Math.exp(-(1 - p)), 6);
      expect(recurrenceStep(p, n, 'push-pull')).toBeCloseTo(p * p * Math.exp(-(1 - p)), 6);
    }
    for (const size of [100, 1000, 100_000]) {
      expect(recurrenceRounds(size, 'push')).toBeGreaterThan(recurrenceRounds(size, 'pull'));
      expect(recurrenceRounds(size, 'pull')).toBeGreaterThan(recurrenceRounds(size, 'push-pull'));
    }
    // Push: the recurrence and Pittel's log2(n) + ln(n) + O(1) agree within about a round.
    expect(Math.abs(recurrenceRounds(100_000, 'push') - pittelRounds(100_000))).toBeLessThan(1.5);
  });

  it('anti-entropy alone and infect-forever rumors reach everyone in the rounds the recurrences predict (n = 300)', () => {
    for (const kind of ['anti-entropy', 'rumor'] as const) {
      for (const row of epidemicTable(kind, [300], () => 8, 'ci')) {
        expect(Math.abs(row.meanRounds - row.recurrence), `${kind} ${row.variant}`).toBeLessThan(Math.max(1.5, 0.12 * row.recurrence));
      }
    }
  });

  it('Demers Table 1 (feedback + counter): traffic within 10 % of the paper for k = 1..5; the counter reset is what gets it there', () => {
    const rows = demersTable('feedback-counter', 1000, 6, 'ci');
    const old = demersTable('feedback-counter', 1000, 6, 'ci', { counterReset: false });
    for (const r of rows) {
      expect(Math.abs(r.traffic / r.paper!.traffic - 1), `k = ${r.k}`).toBeLessThan(0.1);
      expect(Math.abs(r.tLast / r.paper!.tLast - 1), `k = ${r.k}`).toBeLessThan(0.15);
      expect(r.tLast).toBeGreaterThan(r.tAve);
    }
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.residue).toBeLessThan(rows[i - 1]!.residue);
      // Without the reset a rumor dies sooner: k >= 2 sends clearly less than the paper.
      expect(old[i]!.traffic).toBeLessThan(0.95 * rows[i]!.traffic);
    }
  });

  it('Demers Table 2 (blind + coin): traffic within 10 % of the paper for k = 2..5; residue ~ e^-traffic', () => {
    const rows = demersTable('blind-coin', 1000, 6, 'ci');
    for (const r of rows.slice(1)) {
      expect(Math.abs(r.traffic / r.paper!.traffic - 1), `k = ${r.k}`).toBeLessThan(0.1);
      // Each of m*n uniformly random pushes misses a given node: s ~ e^-m (Demers et al., section 1.4).
      expect(Math.abs(Math.log(r.residue) + r.traffic)).toBeLessThan(0.6);
    }
  });

  it('pull rumor mongering (Table 3 setting) does better than s = e^-m: less residue than push for the same traffic', () => {
    const pull = demersTable('pull-feedback-counter', 1000, 6, 'ci');
    expect(pull).toHaveLength(DEMERS_PUBLISHED['pull-feedback-counter'].length);
    for (let i = 1; i < pull.length; i++) {
      expect(pull[i]!.residue).toBeLessThan(pull[i - 1]!.residue);
      expect(pull[i]!.traffic).toBeGreaterThan(pull[i - 1]!.traffic);
    }
    for (const r of pull.slice(1)) expect(r.residue).toBeLessThan(Math.exp(-r.traffic) / 3);
  });

  it('a spread is a deterministic function of its seed', () => {
    expect(spreadOnce(200, { k: 2 }, 'demers-feedback-counter', 'same')).toEqual(spreadOnce(200, { k: 2 }, 'demers-feedback-counter', 'same'));
    expect(spreadOnce(200, { k: 2 }, 'demers-pull-feedback-counter', 'same')).toEqual(
      spreadOnce(200, { k: 2 }, 'demers-pull-feedback-counter', 'same'),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import type { Feedback, StopRule } from '../../../src/protocols/gossip/config.js';
import { RumorList } from '../../../src/protocols/gossip/rumor.js';
import type { Entry } from '../../../src/protocols/gossip/store.js';
import { fcParams } from '../../fc.js';

const e = (key: string, ts: number): Entry => ({ key, value: ts, ts, origin: 0, deleted: false });

describe('RumorList one-rumor form', () => {
  it('a second key moves the rumors to a Map in the order they became hot; replacing and retiring work in both forms', () => {
    const rng = new Random('t');
    const r = new RumorList('feedback', 'counter', 2);
    r.add(e('a', 1));
    r.add(e('a', 2)); // replaces: still one rumor
    expect(r.entries()).toEqual([e('a', 2)]);
    r.sentAll(3);
    expect(r.get('a')).toMatchObject({ contacts: 3, sends: 1 });
    r.add(e('b', 1));
    r.add(e('c', 1));
    expect(r.entries().map((x) => x.key)).toEqual(['a', 'b', 'c']);
    expect(r.get('a')).toMatchObject({ contacts: 3, sends: 1 });
    r.retireUnless('b', undefined);
    expect(r.entries().map((x) => x.key)).toEqual(['a', 'c']);
    r.unnecessary('a', 2, 0, rng);
    r.unnecessary('a', 2, 0, rng);
    expect(r.entries().map((x) => x.key)).toEqual(['c']);
    const one = new RumorList('blind', 'counter', 1);
    one.add(e('x', 1));
    one.settle(rng); // not sent: kept
    expect(one.size).toBe(1);
    one.sentAll(1);
    one.settle(rng);
    expect(one.size).toBe(0);
    expect(one.entries()).toEqual([]);
  });
});

describe('rumor stop rules (Demers et al. 1987)', () => {
  it('feedback + counter without reset: lose interest at exactly k unnecessary contacts in all; rounds alone do not count', () => {
    const rng = new Random('t');
    const r = new RumorList('feedback', 'counter', 3, false);
    r.add(e('a', 1));
    for (let i = 0; i < 10; i++) {
      r.sentAll(1);
      r.settle(rng);
    }
    expect(r.size).toBe(1);
    r.unnecessary('a', 1, 0, rng);
    r.unnecessary('a', 1, 0, rng);
    r.sentAll(1);
    r.settle(rng); // a necessary contact: no reset without counterReset
    expect(r.size).toBe(1);
    r.unnecessary('a', 2, 0, rng); // another version: ignored
    expect(r.size).toBe(1);
    r.unnecessary('a', 1, 0, rng);
    expect(r.size).toBe(0);
  });

  it('feedback + counter (the paper): k consecutive unnecessary contacts; a necessary one resets the counter', () => {
    const rng = new Random('t');
    const r = new RumorList('feedback', 'counter', 3);
    r.add(e('a', 1));
    r.unnecessary('a', 1, 0, rng);
    r.unnecessary('a', 1, 0, rng);
    expect(r.get('a')?.count).toBe(2);
    r.necessary('a', 2, 0); // another version: ignored
    expect(r.get('a')?.count).toBe(2);
    r.necessary('a', 1, 0);
    expect(r.get('a')?.count).toBe(0);
    r.unnecessary('a', 1, 0, rng);
    r.unnecessary('a', 1, 0, rng);
    expect(r.size).toBe(1);
    r.unnecessary('a', 1, 0, rng);
    expect(r.size).toBe(0);
  });

  it('a contact that earns no answer (lost or refused) changes nothing; the reset needs counterReset', () => {
    const rng = new Random('t');
    const r = new RumorList('feedback', 'counter', 2);
    r.add(e('a', 1));
    r.sentAll(1);
    r.unnecessary('a', 1, 0, rng);
    r.settle(rng);
    r.sentAll(1); // no answer
    r.settle(rng);
    expect(r.get('a')?.count).toBe(1);
    const old = new RumorList('feedback', 'counter', 2, false);
    old.add(e('a', 1));
    old.unnecessary('a', 1, 0, rng);
    old.necessary('a', 1, 0);
    expect(old.get('a')?.count).toBe(1);
    old.unnecessary('a', 1, 0, rng);
    expect(old.size).toBe(0);
  });

  it('blind + counter: lose interest after k rounds in which it was sent, feedback ignored', () => {
    const rng = new Random('t');
    const r = new RumorList('blind', 'counter', 2);
    r.add(e('a', 1));
    r.unnecessary('a', 1, 0, rng);
    r.unnecessary('a', 1, 0, rng);
    r.settle(rng); // not sent: does not count
    r.sentAll(1);
    r.settle(rng);
    expect(r.size).toBe(1);
    r.sent(r.entries());
    r.settle(rng);
    expect(r.size).toBe(0);
  });

  it('blind + coin: each round keeps a rumor with probability 1 - 1/k', () => {
    const rng = new Random('coin');
    let kept = 0;
    const trials = 4000;
    for (let i = 0; i < trials; i++) {
      const r = new RumorList('blind', 'coin', 4);
      r.add(e('a', 1));
      r.sentAll(1);
      r.settle(rng);
      kept += r.size;
    }
    expect(kept / trials).toBeGreaterThan(0.72);
    expect(kept / trials).toBeLessThan(0.78);
  });

  it('a newer version of a key replaces the hot one and resets its counter; forever never stops', () => {
    const rng = new Random('t');
    const r = new RumorList('feedback', 'counter', 2);
    r.add(e('a', 1));
    r.unnecessary('a', 1, 0, rng);
    r.add(e('a', 2));
    expect([...r.hot()].map((h) => [h.entry.ts, h.count])).toEqual([[2, 0]]);
    const f = new RumorList('feedback', 'forever', 1);
    f.add(e('a', 1));
    for (let i = 0; i < 5; i++) {
      f.unnecessary('a', 1, 0, rng);
      f.sentAll(1);
      f.settle(rng);
    }
    expect(f.size).toBe(1);
  });
});

describe('RumorList: one rumor in fields behaves as in the Map form', () => {
  type Op =
    | { op: 'add'; key: number; ts: number }
    | { op: 'sentAll'; targets: number }
    | { op: 'sent'; key: number; targets: number }
    | { op: 'settle' }
    | { op: 'unnecessary'; key: number; ts: number }
    | { op: 'necessary'; key: number; ts: number }
    | { op: 'retire'; key: number; keep: boolean };
  const key = fc.integer({ min: 0, max: 2 });
  const ts = fc.integer({ min: 1, max: 3 });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('add' as const), key, ts }),
    fc.record({ op: fc.constant('sentAll' as const), targets: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('sent' as const), key, targets: fc.integer({ min: 0, max: 2 }) }),
    fc.constant({ op: 'settle' as const }),
    fc.record({ op: fc.constant('unnecessary' as const), key, ts }),
    fc.record({ op: fc.constant('necessary' as const), key, ts }),
    fc.record({ op: fc.constant('retire' as const), key, keep: fc.boolean() }),
  );
  const rules = fc.constantFrom(
    ['feedback', 'counter', true],
    ['feedback', 'counter', false],
    ['feedback', 'coin', true],
    ['blind', 'counter', true],
    ['blind', 'coin', true],
    ['feedback', 'once', true],
    ['feedback', 'forever', true],
  ) as fc.Arbitrary<[Feedback, StopRule, boolean]>;

  it('whatever the stop rule and the operations: the same rumors, counters, transmit order and draws', () => {
    fc.assert(
      fc.property(rules, fc.integer({ min: 1, max: 3 }), fc.array(opArb, { maxLength: 40, size: 'max' }), ([feedback, stop, reset], k, ops) => {
        const fields = new RumorList(feedback, stop, k, reset);
        // The reference starts in the Map form (two keys added and retired) and stays in it.
        const map = new RumorList(feedback, stop, k, reset);
        map.add(e('\u0000x', 1));
        map.add(e('\u0000y', 1));
        map.retireUnless('\u0000x', undefined);
        map.retireUnless('\u0000y', undefined);
        const rngs = [new Random('a'), new Random('a')] as const;
        const lists = [fields, map] as const;
        const view = (r: RumorList): unknown =>
          r.entries().map((x) => {
            const h = r.get(x.key);
            return [x.key, x.ts, h?.count, h?.contacts, h?.sends, h?.sinceRound];
          });
        for (const o of ops) {
          for (let i = 0; i < 2; i++) {
            const r = lists[i] as RumorList;
            const rng = rngs[i] as Random;
            const k = `k${'key' in o ? o.key : 0}`;
            switch (o.op) {
              case 'add':
                r.add(e(k, o.ts), o.ts);
                break;
              case 'sentAll':
                r.sentAll(o.targets);
                break;
              case 'sent': {
                const h = r.get(k);
                if (h !== undefined) r.sent([h.entry], o.targets);
                break;
              }
              case 'settle':
                r.settle(rng);
                break;
              case 'unnecessary':
                r.unnecessary(k, o.ts, 0, rng);
                break;
              case 'necessary':
                r.necessary(k, o.ts, 0);
                break;
              case 'retire':
                r.retireUnless(k, o.keep ? r.get(k)?.entry : undefined);
                break;
            }
          }
          expect(view(fields)).toEqual(view(map));
          expect(fields.size).toBe(map.size);
          expect(fields.transmitOrder(fields.entries()).map((x) => x.key)).toEqual(map.transmitOrder(map.entries()).map((x) => x.key));
          expect([...fields.hot()].map((h) => h.entry.key)).toEqual([...map.hot()].map((h) => h.entry.key));
        }
        // The same number of draws.
        expect(rngs[0].uniform()).toBe(rngs[1].uniform());
      }),
      fcParams({ numRuns: 300 }),
    );
  });
});

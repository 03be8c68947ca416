import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { RumorList } from '../../../src/protocols/gossip/rumor.js';
import type { Entry } from '../../../src/protocols/gossip/store.js';

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

import { describe, expect, it } from 'vitest';
import { Random } from '../../src/kernel/random.js';
import {
  CODEL_DEFAULTS,
  codelDequeue,
  newCodelState,
  newRedState,
  RED_DEFAULTS,
  redArrive,
  redBaseProbability,
  Verdict,
  type CodelQueue,
  type CodelSpec,
  type RedSpec,
} from '../../src/net/aqm.js';

const MS = 1_000_000;

/** RED with w_q = 1, so avg is the queue length of the arrival and p_b is known exactly. */
function instantRed(over: Partial<RedSpec> = {}): RedSpec {
  return { kind: 'red', ...RED_DEFAULTS, minThPackets: 5, maxThPackets: 15, maxP: 0.1, wq: 1, ...over };
}

describe('RED (Floyd and Jacobson 1993)', () => {
  it('p_b follows the configured curve: 0 below min_th, linear to max_p at max_th, gentle to 1 at 2 max_th', () => {
    const s = instantRed();
    expect(redBaseProbability(s, 4.99)).toBe(0);
    expect(redBaseProbability(s, 5)).toBe(0);
    expect(redBaseProbability(s, 10)).toBeCloseTo(0.05, 12);
    expect(redBaseProbability(s, 15)).toBeCloseTo(0.1, 12);
    expect(redBaseProbability(s, 22.5)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(redBaseProbability(s, 30)).toBe(1);
    expect(redBaseProbability(instantRed({ gentle: false }), 15)).toBe(1);
  });

  it('count-based spacing: with a fixed draw u the drop comes at the first count with p_b / (1 - count p_b) > u (section 7)', () => {
    // avg = 10: p_b = 0.05. With u = 0.51 the drop needs 1 - 0.05 count < 0.098, count >= 19: the 20th
    // packet after entering the region (count starts at 0), then every 19th (count restarts at 0 after a drop).
    const s = instantRed();
    const st = newRedState();
    const drops: number[] = [];
    for (let i = 1; i <= 60; i++) if (redArrive(s, st, 10, 0, 1, () => 0.51) === Verdict.Drop) drops.push(i);
    expect(drops).toEqual([20, 39, 58]);
  });

  it('the empirical drop fraction at a fixed avg matches 1 / E[X] of the inter-drop gap, across the linear and the gentle region', () => {
    const rng = new Random('red-curve');
    for (const q of [7, 10, 14, 18, 25]) {
      const s = instantRed();
      const pb = redBaseProbability(s, q);
      const st = newRedState();
      const n = 200_000;
      let drops = 0;
      for (let i = 0; i < n; i++) if (redArrive(s, st, q, 0, 1, () => rng.uniform()) === Verdict.Drop) drops++;
      // The n-th packet after a drop has count n and is dropped with p_a = p_b / (1 - n p_b), so the gap X
      // has P(X = n) = p_a(n) prod_{k<n} (1 - p_a(k)): uniform on {1, ..., 1/p_b - 1} (Floyd and Jacobson
      // section 7), mean about 1 / (2 p_b). The drop fraction is 1 / E[X].
      let survive = 1;
      let mean = 0;
      for (let k = 1; survive > 1e-12; k++) {
        const pa = Math.min(1, pb / Math.max(1 - k * pb, 1e-300));
        mean += k * survive * pa;
        survive *= 1 - pa;
      }
      const expected = 1 / mean;
      if (pb < 0.1) expect(expected).toBeCloseTo(2 * pb, 2);
      expect(Math.abs(drops / n - expected) / expected, `avg ${q}: p_b ${pb}, fraction ${drops / n} vs ${expected}`).toBeLessThan(0.06);
    }
  });

  it('drops every packet at or above max_th without gentle, and at or above 2 max_th with it', () => {
    const never = (): number => 0.999999;
    const hard = instantRed({ gentle: false });
    expect(redArrive(hard, newRedState(), 15, 0, 1, never)).toBe(Verdict.Drop);
    const gentle = instantRed();
    expect(redArrive(gentle, newRedState(), 16, 0, 1, never)).toBe(Verdict.Pass);
    expect(redArrive(gentle, newRedState(), 30, 0, 1, never)).toBe(Verdict.Drop);
    expect(redArrive(instantRed({ ecn: true }), newRedState(), 30, 0, 1, never)).toBe(Verdict.Mark);
  });

  it('EWMA with w_q on arrivals to a busy queue; an idle time t decays avg by (1 - w_q)^(t / s)', () => {
    const s: RedSpec = { kind: 'red', ...RED_DEFAULTS };
    const st = newRedState();
    redArrive(s, st, 10, 0, 1, () => 0.5);
    expect(st.avg).toBeCloseTo(0.002 * 10, 12);
    st.avg = 8;
    redArrive(s, st, 0, 50 * MS, 0.4 * MS, () => 0.5); // idle 50 ms, a packet takes 0.4 ms: m = 125
    expect(st.avg).toBeCloseTo(8 * Math.pow(0.998, 125), 10);
  });
});

/** A queue whose every packet has the same sojourn time, with a given backlog behind it. */
function fakeQueue(sojournNs: () => number, backlogBytes: () => number) {
  const events: { t: number; action: 'drop' | 'mark' }[] = [];
  let now = 0;
  const q: CodelQueue & { at(t: number): void } = {
    at(t: number) {
      now = t;
    },
    pop: () => sojournNs(),
    get backlogBytes() {
      return backlogBytes();
    },
    lastBytes: 1500,
    drop: () => events.push({ t: now, action: 'drop' }),
    mark: () => false,
  };
  return { q, events };
}

describe('CoDel (RFC 8289)', () => {
  const spec: CodelSpec = { kind: 'codel', ...CODEL_DEFAULTS };

  it('drops after a whole interval above target, then at interval / sqrt(count) (section 5.3), dequeuing every ms', () => {
    const st = newCodelState();
    const { q, events } = fakeQueue(
      () => 10 * MS,
      () => 100_000,
    );
    for (let t = 1 * MS; t <= 1000 * MS; t += MS) {
      q.at(t);
      codelDequeue(spec, st, q, t);
    }
    const times = events.map((e) => e.t);
    // First above target at 1 ms; dropping may start at 101 ms. Then drop_next = prev + 100 ms / sqrt(count).
    const expected: number[] = [101 * MS];
    let next = 101 * MS;
    for (let count = 1; ; count++) {
      next += Math.round((100 * MS) / Math.sqrt(count));
      if (next > 1000 * MS) break;
      expected.push(Math.ceil(next / MS) * MS); // the first dequeue at or after drop_next
    }
    expect(times).toEqual(expected);
  });

  it('never drops when the sojourn is below target, or when no more than one packet is left behind', () => {
    const st = newCodelState();
    const low = fakeQueue(
      () => 4 * MS,
      () => 100_000,
    );
    const short = fakeQueue(
      () => 50 * MS,
      () => 1500,
    );
    for (let t = 1 * MS; t <= 1000 * MS; t += MS) {
      low.q.at(t);
      codelDequeue(spec, st, low.q, t);
      short.q.at(t);
      codelDequeue(spec, newCodelState(), short.q, t);
    }
    expect(low.events).toEqual([]);
    expect(short.events).toEqual([]);
  });

  it('re-entering within 16 intervals resumes at count - lastcount (section 5.4), else at 1', () => {
    let sojourn = 10 * MS;
    const st = newCodelState();
    const { q } = fakeQueue(
      () => sojourn,
      () => 100_000,
    );
    const run = (from: number, to: number): void => {
      for (let t = from; t <= to; t += MS) {
        q.at(t);
        codelDequeue(spec, st, q, t);
      }
    };
    run(1 * MS, 1000 * MS); // dropping: count grows to about 9
    const countAfterFirst = st.count;
    expect(countAfterFirst).toBeGreaterThan(4);
    sojourn = 1 * MS;
    run(1001 * MS, 1010 * MS); // below target: leaves the dropping state
    expect(st.dropping).toBe(false);
    sojourn = 10 * MS;
    run(1011 * MS, 1200 * MS); // re-enters about 100 ms later, well within 16 intervals
    expect(st.dropping).toBe(true);
    // On re-entry count = count - lastcount (lastcount was 1 from the first entry), then it grew by one per drop since.
    expect(st.lastCount).toBe(countAfterFirst - 1);
    // A long pause (> 16 intervals after drop_next): count restarts at 1.
    sojourn = 1 * MS;
    run(1201 * MS, 4000 * MS);
    sojourn = 10 * MS;
    run(4001 * MS, 4200 * MS);
    expect(st.lastCount).toBe(1);
  });
});

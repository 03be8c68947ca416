/**
 * The order a parallel sweep hands out its runs: one of every combination
 * first, then the costliest combinations first, every run exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../src/scenarios/run-queue.js';
import type { SweepRun } from '../../src/scenarios/sweep.js';
import { fcParams } from '../fc.js';

function runs(combinations: number, reps: number): SweepRun[] {
  return Array.from({ length: combinations * reps }, (_, index) => ({
    runId: `r${String(index).padStart(4, '0')}`,
    index,
    rep: index % reps,
    values: [Math.floor(index / reps)],
    seed: index,
  }));
}

const combo = (reps: number) => (r: SweepRun) => Math.floor(r.index / reps);

/** Drains the queue, reporting each run's cost as soon as it is handed out. */
function drain(q: RunQueue, cost: (r: SweepRun) => number): SweepRun[] {
  const out: SweepRun[] = [];
  for (let r = q.next(); r !== undefined; r = q.next()) {
    out.push(r);
    q.finished(r, cost(r));
  }
  return out;
}

describe('RunQueue', () => {
  it('hands out one run of each combination in sweep order, then the costliest combinations first', () => {
    // 4 combinations x 3 replications; combination 3 costs most, then 1, then 0 and 2 (a tie keeps sweep order).
    const costs = [1, 5, 1, 9];
    const q = new RunQueue(runs(4, 3), combo(3));
    const order = drain(q, (r) => costs[Math.floor(r.index / 3)] as number).map((r) => r.runId);
    expect(order).toEqual([
      'r0000', 'r0003', 'r0006', 'r0009', // first wave, one per combination
      'r0010', 'r0011', // combination 3 (cost 9)
      'r0004', 'r0005', // combination 1 (cost 5)
      'r0001', 'r0002', 'r0007', 'r0008', // combinations 0 and 2 (cost 1), in sweep order
    ]); // prettier-ignore
  });

  it('puts a combination whose first run has not reported first: it is still running, so at least as long', () => {
    const q = new RunQueue(runs(3, 2), combo(2));
    const a = q.next() as SweepRun; // r0000
    const b = q.next() as SweepRun; // r0002
    const c = q.next() as SweepRun; // r0004, still running
    q.finished(a, 3);
    q.finished(b, 7);
    expect([a.runId, b.runId, c.runId]).toEqual(['r0000', 'r0002', 'r0004']);
    expect([q.next()?.runId, q.next()?.runId, q.next()?.runId, q.next()]).toEqual(['r0005', 'r0003', 'r0001', undefined]);
    q.finished(c, 1); // too late to matter, and harmless
    expect(q.size).toBe(0);
  });

  it('keeps sweep order with one replication (nothing to learn from)', () => {
    const q = new RunQueue(runs(5, 1), combo(1));
    expect(drain(q, (r) => 10 - r.index).map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands out every run exactly once, whatever the costs and the order they report in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
        (combinations, reps, costs, reportNow) => {
          const all = runs(combinations, reps);
          // A subset to do (as after --resume), in sweep order.
          const todo = all.filter((r) => (r.index * 7) % 5 !== 0 || combinations * reps < 3);
          const q = new RunQueue(todo, combo(reps));
          const out: SweepRun[] = [];
          const pending: SweepRun[] = [];
          let k = 0;
          for (let r = q.next(); r !== undefined; r = q.next()) {
            out.push(r);
            pending.push(r);
            if (reportNow[k++ % reportNow.length] === true) {
              const done = pending.shift() as SweepRun;
              q.finished(done, costs[Math.floor(done.index / reps)] as number);
            }
          }
          expect(q.size).toBe(0);
          expect(out.map((r) => r.runId).sort()).toEqual(todo.map((r) => r.runId));
          // The first wave: the first run of each combination to do, in sweep order.
          const firsts = todo.filter((r, i) => i === 0 || Math.floor((todo[i - 1] as SweepRun).index / reps) !== Math.floor(r.index / reps));
          expect(out.slice(0, firsts.length)).toEqual(firsts);
        },
      ),
      fcParams(),
    );
  });

  it('after the first wave, with every cost known, never hands out a cheaper combination before a costlier one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 12, maxLength: 12 }),
        (combinations, reps, costs) => {
          const cost = (r: SweepRun) => costs[Math.floor(r.index / reps)] as number;
          const out = drain(new RunQueue(runs(combinations, reps), combo(reps)), cost);
          const after = out.slice(combinations).map(cost);
          expect(after).toEqual([...after].sort((x, y) => y - x));
        },
      ),
      fcParams(),
    );
  });
});

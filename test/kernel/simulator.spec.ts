/**
 * The kernel against a model. The model keeps pending events in a plain map
 * and fires the one with the smallest (time, scheduling order) by a linear
 * scan, so it is obviously right; the property runs the same random program
 * of schedule / cancel / run / step / peek (with scheduling, cancelling,
 * stopping and mass cancellation from inside handlers) on both and compares
 * every observable after every command.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulationError } from '../../src/kernel/errors.js';
import { Simulator, type EventId, type SimulatorOptions, type StopReason } from '../../src/kernel/simulator.js';
import { fcParams } from '../fc.js';

// ---------------------------------------------------------------------------
// The program: actions run at top level or inside a handler.

type Action =
  | { readonly t: 'schedule'; readonly delay: number; readonly body: readonly Action[] }
  | { readonly t: 'cancel'; readonly ref: number }
  | { readonly t: 'stop' }
  /** Schedules `n` events (delays i % spread) and cancels all but every `keepEvery`-th. */
  | { readonly t: 'bulk'; readonly n: number; readonly keepEvery: number; readonly spread: number };

type Command =
  | { readonly c: 'do'; readonly actions: readonly Action[] }
  | { readonly c: 'run'; readonly untilDelta?: number; readonly maxEvents?: number }
  | { readonly c: 'step' }
  | { readonly c: 'peek' };

const delayArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) });

/** Actions nested at most `depth` handler levels deep. */
function actionArb(depth: number): fc.Arbitrary<Action> {
  const body: fc.Arbitrary<readonly Action[]> = depth === 0 ? fc.constant([]) : fc.array(actionArb(depth - 1), { maxLength: 3 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('schedule' as const), delay: delayArb, body }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('cancel' as const), ref: fc.nat({ max: 200 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'stop' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('bulk' as const),
        n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(4200), fc.constant(9000)),
        keepEvery: fc.integer({ min: 10, max: 50 }),
        spread: fc.integer({ min: 1, max: 2000 }),
      }),
    },
  );
}
const action = actionArb(2);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ c: fc.constant('do' as const), actions: fc.array(action, { maxLength: 6 }) }) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        c: fc.constant('run' as const),
        untilDelta: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2_000_000 })),
        maxEvents: fc.integer({ min: 0, max: 30 }),
      },
      { requiredKeys: ['c'] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ c: 'step' as const }) },
  { weight: 1, arbitrary: fc.constant({ c: 'peek' as const }) },
);

// ---------------------------------------------------------------------------
// The model.

interface ModelEvent {
  readonly time: number;
  readonly seq: number;
  readonly handle: number;
  readonly body: readonly Action[];
}

class Model {
  now = 0;
  private seq = 0;
  private handles = 0;
  readonly pending = new Map<number, ModelEvent>();
  readonly log: number[] = [];
  readonly cancelResults: boolean[] = [];
  private stopFlag = false;

  exec(actions: readonly Action[]): void {
    for (const a of actions) {
      switch (a.t) {
        case 'schedule':
          this.schedule(a.delay, a.body);
          break;
        case 'cancel':
          this.cancelResults.push(this.pending.delete(a.ref));
          break;
        case 'stop':
          this.stopFlag = true;
          break;
        case 'bulk': {
          const first = this.handles;
          for (let i = 0; i < a.n; i++) this.schedule(i % a.spread, []);
          for (let i = 0; i < a.n; i++) if (i % a.keepEvery !== 0) this.cancelResults.push(this.pending.delete(first + i));
          break;
        }
      }
    }
  }

  private schedule(delay: number, body: readonly Action[]): void {
    const h = this.handles++;
    this.pending.set(h, { time: this.now + delay, seq: this.seq++, handle: h, body });
  }

  next(): ModelEvent | undefined {
    let best: ModelEvent | undefined;
    for (const e of this.pending.values()) {
      if (best === undefined || e.time < best.time || (e.time === best.time && e.seq < best.seq)) best = e;
    }
    return best;
  }

  private fire(e: ModelEvent): void {
    this.pending.delete(e.handle);
    this.now = e.time;
    this.log.push(e.handle);
    this.exec(e.body);
  }

  run(until: number | undefined, maxEvents: number | undefined): StopReason {
    const horizon = until ?? Number.MAX_SAFE_INTEGER;
    const cap = maxEvents ?? Infinity;
    this.stopFlag = false;
    let fired = 0;
    let reason: StopReason;
    for (;;) {
      const e = this.next();
      if (e === undefined) {
        reason = 'idle';
        break;
      }
      if (e.time > horizon) {
        reason = 'until';
        break;
      }
      if (fired >= cap) {
        reason = 'max-events';
        break;
      }
      this.fire(e);
      fired++;
      if (this.stopFlag) {
        this.stopFlag = false;
        reason = 'stopped';
        break;
      }
    }
    if (reason === 'until' || (reason === 'idle' && until !== undefined)) {
      this.now = horizon;
      return 'until';
    }
    return reason;
  }

  step(): boolean {
    const e = this.next();
    if (e === undefined) return false;
    this.fire(e);
    this.stopFlag = false;
    return true;
  }
}

// ---------------------------------------------------------------------------
// The real kernel, driven by the same program.

/**
 * How the real kernel is handed events: 'arg', one shared handler and an argument per event (stored
 * in the kernel's `ev` array); 'closure', a fresh closure per event and no argument, labelled one of
 * three ways (the kernel interns the first 1,024 (handler, label) pairs and stores the rest in `ev`);
 * 'mixed', the two in turn.
 */
type Form = 'arg' | 'closure' | 'mixed';
const CLOSURE_LABELS = ['test.a', undefined, 'test.b'] as const;

class Real {
  readonly sim: Simulator;
  constructor(
    queue: SimulatorOptions,
    private readonly form: Form = 'arg',
  ) {
    this.sim = new Simulator({ seed: 7, initialCapacity: 16, ...queue });
  }
  private readonly handles: EventId[] = [];
  readonly log: number[] = [];
  readonly cancelResults: boolean[] = [];
  private readonly handler = (arg: { handle: number; body: readonly Action[] }): void => {
    this.log.push(arg.handle);
    this.exec(arg.body);
  };

  exec(actions: readonly Action[]): void {
    for (const a of actions) {
      switch (a.t) {
        case 'schedule':
          this.schedule(a.delay, a.body);
          break;
        case 'cancel': {
          const id = this.handles[a.ref];
          // A reference to a handle not created yet: the model's delete() fails too, and so must cancel().
          this.cancelResults.push(id === undefined ? false : this.sim.cancel(id));
          break;
        }
        case 'stop':
          this.sim.stop();
          break;
        case 'bulk': {
          const first = this.handles.length;
          for (let i = 0; i < a.n; i++) this.schedule(i % a.spread, []);
          for (let i = 0; i < a.n; i++) {
            if (i % a.keepEvery !== 0) this.cancelResults.push(this.sim.cancel(this.handles[first + i] as EventId));
          }
          break;
        }
      }
    }
  }

  private schedule(delay: number, body: readonly Action[]): void {
    const handle = this.handles.length;
    if (this.form === 'arg' || (this.form === 'mixed' && handle % 2 === 0))
      this.handles.push(this.sim.after(delay, this.handler, { handle, body }, 'test.event'));
    else this.handles.push(this.sim.after(delay, () => this.handler({ handle, body }), undefined, CLOSURE_LABELS[handle % 3]));
  }

  isPending(ref: number): boolean {
    const id = this.handles[ref];
    return id !== undefined && this.sim.isPending(id);
  }
}

function runProgram(commands: readonly Command[], queue: SimulatorOptions = {}, form: Form = 'arg'): void {
  const model = new Model();
  const real = new Real(queue, form);
  for (const [i, cmd] of commands.entries()) {
    const where = `after command ${i} (${cmd.c})`;
    switch (cmd.c) {
      case 'do':
        model.exec(cmd.actions);
        real.exec(cmd.actions);
        break;
      case 'run': {
        const until = cmd.untilDelta === undefined ? undefined : model.now + cmd.untilDelta;
        const expected = model.run(until, cmd.maxEvents);
        const opts = {
          ...(until === undefined ? {} : { until }),
          ...(cmd.maxEvents === undefined ? {} : { maxEvents: cmd.maxEvents }),
        };
        expect(real.sim.run(opts), where).toBe(expected);
        break;
      }
      case 'step':
        expect(real.sim.step(), where).toBe(model.step());
        break;
      case 'peek':
        expect(real.sim.peek(), where).toBe(model.next()?.time);
        break;
    }
    expect(real.log, where).toEqual(model.log);
    expect(real.cancelResults, where).toEqual(model.cancelResults);
    expect(real.sim.now, where).toBe(model.now);
    expect(real.sim.pending, where).toBe(model.pending.size);
    expect(real.sim.fired, where).toBe(model.log.length);
  }
  // Drain: everything still pending fires, in order, and nothing else.
  model.run(undefined, undefined);
  real.sim.run();
  // A stop() left in a handler body may end the drain early; finish it.
  while (model.pending.size > 0) model.run(undefined, undefined);
  while (real.sim.pending > 0) real.sim.run();
  expect(real.log).toEqual(model.log);
  expect(real.sim.peek()).toBeUndefined();
  for (let h = 0; h < 50; h++) expect(real.isPending(h)).toBe(false);
}

describe('Simulator.scheduled', () => {
  it('counts every schedule, cancelled and fired ones too, and nothing else', () => {
    const sim = new Simulator();
    expect(sim.scheduled).toBe(0);
    const a = sim.schedule(5, () => undefined, undefined);
    sim.schedule(7, () => undefined, undefined);
    expect(sim.scheduled).toBe(2);
    sim.cancel(a);
    expect(sim.scheduled).toBe(2);
    sim.run();
    expect(sim.scheduled).toBe(2);
    expect(sim.pending).toBe(0);
    sim.after(1, () => undefined, undefined);
    expect(sim.scheduled).toBe(3);
  });
});

describe('Simulator.lastScheduledAt', () => {
  it('knows nothing before recordInstants, then the last event scheduled at each instant', () => {
    const sim = new Simulator();
    sim.schedule(5, () => undefined, undefined);
    expect(sim.lastScheduledAt(5)).toBe(-1);
    sim.recordInstants();
    sim.schedule(5, () => undefined, undefined); // number 1
    sim.schedule(9, () => undefined, undefined); // number 2
    expect(sim.lastScheduledAt(5)).toBe(1);
    expect(sim.lastScheduledAt(9)).toBe(2);
    expect(sim.lastScheduledAt(7)).toBe(-1);
    sim.schedule(5, () => undefined, undefined);
    expect(sim.lastScheduledAt(5)).toBe(sim.scheduled - 1);
  });

  it('never names an event that is not the last one scheduled at that instant (a crowded table forgets instead)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 40 })), { minLength: 1, maxLength: 600 }),
        (times) => {
          const sim = new Simulator();
          sim.recordInstants();
          const last = new Map<number, number>();
          let known = 0;
          for (const at of times) {
            sim.schedule(at, () => undefined, undefined);
            last.set(at, sim.scheduled - 1);
            expect(sim.lastScheduledAt(at)).toBe(sim.scheduled - 1);
            for (const [t, seq] of last) {
              const got = sim.lastScheduledAt(t);
              if (got !== -1) {
                expect(got).toBe(seq);
                known++;
              }
            }
          }
          expect(known).toBeGreaterThan(0);
        },
      ),
      fcParams({ numRuns: 60 }),
    );
  });
});

describe('Simulator against a model', () => {
  it('fires exactly the non-cancelled events, in (time, scheduling order)', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 25 }), (commands) => runProgram(commands)),
      fcParams({ numRuns: 150 }),
    );
  });

  it('does the same with events given as closures without an argument (interned, then past the table in `ev`)', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 25 }), (commands) =>
        runProgram(commands, { ladderAbove: 8, ladderBucket: 2, ladderLanesFrom: 16 }, 'closure'),
      ),
      fcParams({ numRuns: 100 }),
    );
  });

  it('does the same with arguments and closures in turn, on the default queue', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 25 }), (commands) => runProgram(commands, {}, 'mixed')),
      fcParams({ numRuns: 100 }),
    );
  });

  // The same programs with the ladder forced on at a few events and tiny
  // buckets, so rungs are cut from the top, crowded buckets open finer rungs,
  // and the heap hands events to the ladder and takes them back, all many
  // times per program, with ties, cancellations and reschedules from handlers;
  // two of them deal the buckets of every rung (or of rungs over 16 events)
  // across four lanes; two cap a rung at 2 or 3 buckets, so buckets hold more
  // than `ladderBucket` events and crowded ones open finer rungs.
  for (const queue of [
    { ladderAbove: 1, ladderBucket: 1, ladderLanesFrom: 1 },
    { ladderAbove: 8, ladderBucket: 2 },
    { ladderAbove: 64, ladderBucket: 4, ladderLanesFrom: 16 },
    { ladderAbove: 4, ladderBucket: 1, ladderMaxBuckets: 2 },
    { ladderAbove: 16, ladderBucket: 1, ladderMaxBuckets: 3, ladderLanesFrom: 1 },
  ] as const) {
    const name = Object.entries(queue)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    it(`fires the same events in the same order with the ladder on (${name})`, () => {
      fc.assert(
        fc.property(fc.array(commandArb, { minLength: 1, maxLength: 25 }), (commands) => runProgram(commands, queue)),
        fcParams({ numRuns: 150 }),
      );
    });
  }

  it('fires same-time events first in, first out, including those scheduled by a handler at now', () => {
    const sim = new Simulator();
    const order: string[] = [];
    sim.schedule(
      10,
      () => {
        order.push('a');
        sim.schedule(10, () => order.push('a-child'), undefined);
      },
      undefined,
    );
    sim.schedule(10, () => order.push('b'), undefined);
    sim.schedule(5, () => order.push('first'), undefined);
    expect(sim.run()).toBe('idle');
    expect(order).toEqual(['first', 'a', 'b', 'a-child']);
    expect(sim.now).toBe(10);
  });
});

describe('Simulator ladder queue at scale', () => {
  /**
   * A hold-like workload: 30,000 starting events with many ties, each fired
   * event logs itself, draws whether to schedule one or two more (at now or
   * later, often at the same instant) and sometimes cancels a pending one. The
   * draws depend on the order of firing, so any reordering changes the log.
   */
  function workload(queue: SimulatorOptions): { log: number[]; sim: Simulator; maxDepth: number; maxHeap: number; maxBuckets: number } {
    const sim = new Simulator({ seed: 3, ...queue });
    const rng = sim.rng.stream('w');
    const log: number[] = [];
    const ids: EventId[] = [];
    const white = sim as unknown as { depth: number; size: number; rungBuckets: Int32Array };
    let maxDepth = 0;
    let maxBuckets = 0;
    let maxHeap = 0;
    let next = 0;
    const fire = (k: number): void => {
      log.push(k, sim.now);
      maxDepth = Math.max(maxDepth, white.depth);
      maxHeap = Math.max(maxHeap, white.size);
      for (let r = 0; r < white.depth; r++) maxBuckets = Math.max(maxBuckets, white.rungBuckets[r] as number);
      if (log.length > 400_000) return;
      const more = rng.int(0, 2);
      for (let i = 0; i < more; i++) {
        const delay = rng.bernoulli(0.3) ? rng.int(0, 3) : rng.int(0, 5_000_000);
        ids.push(sim.after(delay, fire, next++));
      }
      if (rng.bernoulli(0.1)) sim.cancel(ids[rng.int(0, ids.length - 1)] as EventId);
    };
    for (let i = 0; i < 30_000; i++) ids.push(sim.schedule(rng.int(0, 2_000) * 1000, fire, next++));
    sim.run();
    return { log, sim, maxDepth, maxHeap, maxBuckets };
  }

  it('fires the same events in the same order as the heap alone, with rungs opened, refilled and given back', () => {
    const heap = workload({ ladderAbove: Infinity });
    expect(heap.maxDepth).toBe(0);
    expect(heap.log.length).toBeGreaterThan(400_000);
    for (const queue of [
      {},
      { ladderAbove: 1000, ladderBucket: 1, ladderLanesFrom: 1 },
      { ladderAbove: 100_000, ladderBucket: 64 },
      { ladderAbove: 1000, ladderBucket: 1, ladderMaxBuckets: 64 },
    ]) {
      const ladder = workload(queue);
      expect(ladder.log.length).toBe(heap.log.length);
      for (let i = 0; i < heap.log.length; i++) {
        if (ladder.log[i] !== heap.log[i]) expect.fail(`log entry ${i} differs with ${JSON.stringify(queue)}: ${ladder.log[i]} vs ${heap.log[i]}`);
      }
      expect(ladder.sim.fired).toBe(heap.sim.fired);
      expect(ladder.sim.now).toBe(heap.sim.now);
      expect(ladder.sim.pending).toBe(0);
      if (queue.ladderAbove !== 100_000) {
        // The ladder was really used, and the heap stayed small.
        expect(ladder.maxDepth).toBeGreaterThan(0);
        expect(ladder.maxHeap).toBeLessThan(heap.maxHeap / 4);
      }
      // A rung has at most ladderMaxBuckets buckets (default 65,536, more than this workload needs).
      if ('ladderMaxBuckets' in queue) {
        expect(ladder.maxBuckets).toBe(queue.ladderMaxBuckets);
        // A capped rung's buckets hold hundreds of events here; crowded, they open finer rungs.
        expect(ladder.maxDepth).toBeGreaterThan(1);
      } else if (queue.ladderBucket === 1) expect(ladder.maxBuckets).toBeGreaterThan(64);
    }
  });

  it('refuses a ladder setting out of range', () => {
    expect(() => new Simulator({ ladderAbove: 0 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderAbove: 2.5 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderBucket: 0 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderBucket: 2 ** 21 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderLanesFrom: 0 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderLanesFrom: 1.5 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderMaxBuckets: 1 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderMaxBuckets: 2 ** 24 + 1 })).toThrow(RangeError);
    expect(() => new Simulator({ ladderMaxBuckets: 100.5 })).toThrow(RangeError);
  });
});

describe('Simulator.run options', () => {
  it('sets the clock to until, whether or not events remain', () => {
    const sim = new Simulator();
    const fired: number[] = [];
    sim.schedule(100, () => fired.push(sim.now), undefined);
    sim.schedule(300, () => fired.push(sim.now), undefined);
    expect(sim.run({ until: 100 })).toBe('until');
    expect(fired).toEqual([100]); // an event exactly at `until` fires
    expect(sim.now).toBe(100);
    expect(sim.run({ until: 250 })).toBe('until');
    expect(sim.now).toBe(250);
    expect(sim.run({ until: 1000 })).toBe('until');
    expect(fired).toEqual([100, 300]);
    expect(sim.now).toBe(1000);
    expect(sim.run()).toBe('idle');
    expect(sim.now).toBe(1000);
  });

  it('rejects an until before now or that is not a time', () => {
    const sim = new Simulator();
    sim.run({ until: 50 });
    expect(() => sim.run({ until: 49 })).toThrow(RangeError);
    expect(() => sim.run({ until: 60.5 })).toThrow(RangeError);
    expect(() => sim.run({ until: Infinity })).toThrow(RangeError);
    expect(sim.now).toBe(50);
  });

  it('stops after maxEvents, and reports idle or until when nothing live is left to fire', () => {
    const sim = new Simulator();
    const a = sim.schedule(1, () => undefined, undefined);
    sim.schedule(2, () => undefined, undefined);
    const c = sim.schedule(3, () => undefined, undefined);
    expect(sim.run({ maxEvents: 1 })).toBe('max-events');
    expect(sim.fired).toBe(1);
    expect(sim.cancel(a)).toBe(false); // already fired
    expect(sim.cancel(c)).toBe(true);
    // One live event left; once it fired, the cancelled entry behind it must not count as work.
    expect(sim.run({ maxEvents: 1 })).toBe('idle');
    expect(sim.fired).toBe(2);
    sim.schedule(10, () => undefined, undefined);
    sim.schedule(20, () => undefined, undefined);
    // The cap is reached exactly when the next event lies beyond until: all work up to until is done.
    expect(sim.run({ until: 15, maxEvents: 1 })).toBe('until');
    expect(sim.now).toBe(15);
  });

  it('returns stopped when a handler calls stop(), and resumes on the next run', () => {
    const sim = new Simulator();
    const log: number[] = [];
    for (let t = 1; t <= 5; t++) {
      sim.schedule(
        t,
        (x: number) => {
          log.push(x);
          if (x === 2) sim.stop();
        },
        t,
      );
    }
    expect(sim.run()).toBe('stopped');
    expect(log).toEqual([1, 2]);
    expect(sim.now).toBe(2);
    expect(sim.run({ until: 100 })).toBe('until');
    expect(log).toEqual([1, 2, 3, 4, 5]);
  });

  it('steps one event at a time and peeks without firing', () => {
    const sim = new Simulator();
    expect(sim.step()).toBe(false);
    expect(sim.peek()).toBeUndefined();
    const x = sim.schedule(4, () => undefined, undefined);
    sim.schedule(7, () => undefined, undefined);
    sim.cancel(x);
    expect(sim.peek()).toBe(7);
    expect(sim.fired).toBe(0);
    expect(sim.step()).toBe(true);
    expect(sim.now).toBe(7);
    expect(sim.step()).toBe(false);
  });

  it('refuses to schedule in the past or at a non-integer time', () => {
    const sim = new Simulator();
    sim.run({ until: 10 });
    expect(() => sim.schedule(9, () => undefined, undefined)).toThrow(RangeError);
    expect(() => sim.schedule(10.5, () => undefined, undefined)).toThrow(RangeError);
    expect(() => sim.schedule(NaN, () => undefined, undefined)).toThrow(RangeError);
    expect(() => sim.after(-1, () => undefined, undefined)).toThrow(RangeError);
    expect(sim.pending).toBe(0);
  });
});

describe('Simulator reserved sequence numbers', () => {
  for (const options of [{}, { ladderAbove: 1, ladderBucket: 1 }] as const) {
    it(`fires an event scheduled later with a reserved number where it would have fired when reserved (${JSON.stringify(options)})`, () => {
      const sim = new Simulator(options);
      const log: string[] = [];
      sim.schedule(10, (s: string) => log.push(s), 'a');
      const r = sim.reserveSeq(10); // b's place: after a, before c
      sim.schedule(10, (s: string) => log.push(s), 'c');
      for (let i = 0; i < 20; i++) sim.schedule(20 + i, (s: string) => log.push(s), `x${i}`);
      const r2 = sim.reserveSeq(40);
      sim.schedule(40, (s: string) => log.push(s), 'e');
      // b goes in before anything fired; d (reserved after the x events, before e) once x0 has fired,
      // before anything later than d: as a link's next packet, scheduled when the one before it arrives.
      sim.scheduleReserved(10, r, (s: string) => log.push(s), 'b');
      sim.schedule(5, () => undefined, undefined);
      sim.run({ until: 19 });
      expect(log).toEqual(['a', 'b', 'c']);
      sim.run({ until: 20 });
      sim.scheduleReserved(40, r2, (s: string) => log.push(s), 'd');
      sim.run();
      expect(log.slice(3)).toEqual([...Array.from({ length: 20 }, (_, i) => `x${i}`), 'd', 'e']);
      expect(sim.fired).toBe(26);
    });
  }

  it('refuses a number reserveSeq did not give, and a time in the past or not an integer', () => {
    const sim = new Simulator();
    expect(() => sim.reserveSeq(1.5)).toThrow(/not an integer >= now/);
    const r = sim.reserveSeq(0);
    expect(() => sim.scheduleReserved(0, r + 1, () => undefined, undefined)).toThrow(/not a sequence number reserveSeq gave/);
    expect(() => sim.scheduleReserved(0, -1, () => undefined, undefined)).toThrow(RangeError);
    expect(() => sim.scheduleReserved(0, 0.5, () => undefined, undefined)).toThrow(RangeError);
    sim.run({ until: 10 });
    expect(() => sim.scheduleReserved(9, r, () => undefined, undefined)).toThrow(/not an integer >= now/);
    expect(sim.pending).toBe(0);
  });
});

describe('Simulator cancellation', () => {
  it('keeps a handle inert after its event fired, even when its slot is reused', () => {
    const sim = new Simulator();
    const hits: string[] = [];
    const old = sim.schedule(1, () => hits.push('old'), undefined);
    sim.run();
    const fresh = sim.schedule(2, () => hits.push('fresh'), undefined); // reuses the slot
    expect(sim.isPending(old)).toBe(false);
    expect(sim.cancel(old)).toBe(false);
    expect(sim.isPending(fresh)).toBe(true);
    sim.run();
    expect(hits).toEqual(['old', 'fresh']);
  });

  it('compacts the heap under timer churn, so memory stays bounded', () => {
    const sim = new Simulator();
    const heapSize = (): number => (sim as unknown as { size: number }).size; // white-box: entries in the heap
    let fired = 0;
    sim.schedule(1_000_000_000, () => fired++, undefined); // one long-lived event
    let timer = sim.schedule(1000, () => fired++, undefined);
    let maxSize = 0;
    for (let i = 0; i < 100_000; i++) {
      sim.cancel(timer); // a retransmission timer restarted on every ACK
      timer = sim.schedule(1000 + i, () => fired++, undefined);
      maxSize = Math.max(maxSize, heapSize());
    }
    expect(maxSize).toBeLessThan(2 * 4096 + 10);
    expect(sim.pending).toBe(2);
    sim.run();
    expect(fired).toBe(2);
  });

  it('compacts from inside a handler without losing or reordering events', () => {
    const sim = new Simulator();
    const log: number[] = [];
    const ids: EventId[] = [];
    sim.schedule(
      5,
      () => {
        for (let i = 0; i < 10_000; i++) ids.push(sim.schedule(10 + (i % 97), (x: number) => log.push(x), i));
        for (let i = 0; i < 10_000; i++) if (i % 10 !== 0) sim.cancel(ids[i] as EventId);
      },
      undefined,
    );
    sim.run();
    const expected = Array.from({ length: 1000 }, (_, k) => k * 10).sort((a, b) => (a % 97) - (b % 97) || a - b);
    expect(log).toEqual(expected);
  });
});

/** What `sim.run()` threw (undefined if it returned). */
function runCaught(sim: Simulator): unknown {
  try {
    sim.run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('Simulator events without an argument (the kind table)', () => {
  it('keeps nothing in the per-slot handler array for a repeated handler and label, and fires each with its own', () => {
    const sim = new Simulator({ ladderAbove: 64 });
    const ev = (): unknown[] => (sim as unknown as { ev: unknown[] }).ev; // white-box: the per-slot array
    const log: string[] = [];
    const tick = (): void => {
      log.push(`tick@${sim.now}`);
    };
    const tock = (): void => {
      log.push(`tock@${sim.now}`);
    };
    // Two handlers, each under two labels, alternating: four kinds, more than the cache's last entry.
    for (let i = 0; i < 5000; i++) sim.schedule(1 + (i % 1000), i % 2 === 0 ? tick : tock, undefined, i % 4 < 2 ? 'l1' : undefined);
    expect(ev().length).toBe(0);
    const victim = sim.schedule(500, tick, undefined, 'l1');
    expect(sim.cancel(victim)).toBe(true);
    expect(sim.cancel(victim)).toBe(false);
    expect(sim.isPending(victim)).toBe(false);
    sim.run();
    expect(log.length).toBe(5000);
    expect(log.filter((x) => x.startsWith('tick')).length).toBe(2500);
    expect(log[0]).toBe('tick@1');
    expect(log[1]).toBe('tick@1'); // i = 0 and i = 1000 share time 1; FIFO order
    expect(log[4]).toBe('tick@1');
    expect(log[5]).toBe('tock@2');
    expect(ev().length).toBe(0);
  });

  it('lets go of every handler, argument and label stored per slot once its event fired or was cancelled', () => {
    const sim = new Simulator({ ladderAbove: 16 });
    const ev = (): unknown[] => (sim as unknown as { ev: unknown[] }).ev; // white-box: the per-slot array
    const ids: EventId[] = [];
    for (let i = 0; i < 200; i++) ids.push(sim.schedule(1 + (i % 50), (x: { i: number }) => x.i, { i }, `l${i % 3}`));
    for (let i = 0; i < 2000; i++) sim.schedule(1 + (i % 7), () => undefined, undefined, `c${i}`); // past the kind table
    expect(ev().some((x) => x !== undefined)).toBe(true);
    for (let i = 0; i < 200; i += 3) sim.cancel(ids[i] as EventId);
    sim.run();
    expect(ev().length).toBeGreaterThan(0);
    expect(ev().every((x) => x === undefined)).toBe(true);
  });

  it('names the label of a failing event whichever way it was stored, past the 1,024 interned kinds too', () => {
    for (const n of [3, 2000]) {
      const sim = new Simulator({ seed: 5 });
      let fired = 0;
      // n distinct closures: the first 1,024 (handler, label) pairs are interned, the rest stored per slot.
      for (let i = 0; i < n; i++) {
        sim.schedule(
          10 + i,
          () => {
            fired++;
            if (i === n - 1) throw new Error(`last of ${n}`);
          },
          undefined,
          `ev.${i}`,
        );
      }
      const caught = runCaught(sim);
      expect(caught).toBeInstanceOf(SimulationError);
      expect((caught as SimulationError).label).toBe(`ev.${n - 1}`);
      expect(fired).toBe(n);
    }
    // One handler under three labels: three kinds, each failing under its own label.
    const sim = new Simulator();
    const boom = (): void => {
      throw new Error('boom');
    };
    sim.schedule(1, boom, undefined, 'interned');
    sim.schedule(2, boom, undefined, 'other');
    sim.schedule(3, boom, undefined);
    expect(() => sim.run()).toThrow(/interned/);
    expect(() => sim.run()).toThrow(/other/);
    expect(() => sim.run()).toThrow(/<unlabelled>/);
  });
});

describe('SimulationError', () => {
  it('aborts run() with the simulated time, the seed, the event label and the cause', () => {
    const sim = new Simulator({ seed: 'abc' });
    const boom = new TypeError('boom');
    const after: string[] = [];
    sim.schedule(1_500_000_000, () => undefined, undefined, 'fine');
    sim.schedule(
      2_000_000_001,
      () => {
        throw boom;
      },
      undefined,
      'gossip.round',
    );
    sim.schedule(3_000_000_000, () => after.push('later'), undefined, 'later');
    const caught = runCaught(sim);
    expect(caught).toBeInstanceOf(SimulationError);
    const err = caught as SimulationError;
    expect(err.timeNs).toBe(2_000_000_001);
    expect(err.seed).toBe('abc');
    expect(err.label).toBe('gossip.round');
    expect(err.cause).toBe(boom);
    expect(err.name).toBe('SimulationError');
    expect(err.message).toContain('boom');
    expect(err.message).toContain('2.000000001');
    expect(err.message).toContain('seed abc');
    expect(err.message).toContain('gossip.round');
    expect(after).toEqual([]);
    expect(sim.fired).toBe(2);
    // The kernel stays usable: the next run fires what is left.
    expect(sim.run()).toBe('idle');
    expect(after).toEqual(['later']);
  });

  it('reports an unlabelled event and a non-Error throw, also from step()', () => {
    const sim = new Simulator({ seed: 9 });
    sim.schedule(
      3,
      () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point of the test
        throw 'a string';
      },
      undefined,
    );
    expect(() => sim.step()).toThrow(/a string.*seed 9.*<unlabelled>/);
  });
});

describe('re-entrancy', () => {
  it('refuses run() or step() from inside a handler, naming the fix, and aborts the run', () => {
    const sim = new Simulator({ seed: 1 });
    sim.schedule(5, () => sim.run(), undefined, 'nested');
    expect(() => sim.run()).toThrow(/run\/step called from inside an event handler/);
    // The simulator is usable again afterwards.
    let fired = false;
    sim.schedule(sim.now + 1, () => (fired = true), undefined);
    sim.run();
    expect(fired).toBe(true);
  });
});

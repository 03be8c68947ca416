/**
 * The event kernel: one clock and one heap of pending events.
 *
 * Theory of operation. Every pending event has a time (integer ns) and a
 * sequence number taken from a counter that only grows; the heap is ordered by
 * (time, seq), so events scheduled for the same instant fire in the order they
 * were scheduled (first in, first out). That order is part of the public
 * contract: runs are byte-for-byte reproducible because of it.
 *
 * The heap is array-backed and purpose-built: the keys (time, seq) and a slot
 * index live in typed arrays at heap positions, so sifting touches only
 * numbers; the handler, its argument and its label live in plain arrays
 * indexed by slot, and slots are recycled through a free list. Scheduling an
 * event allocates nothing once the arrays have grown to the run's working size.
 *
 * Cancelling marks the slot empty; the entry stays in the heap until it
 * reaches the top, where it is discarded. When discarded entries outnumber
 * live ones the heap is compacted, so timer churn (a retransmission timer
 * restarted on every ACK) cannot grow memory without bound.
 *
 * A handler that throws aborts the run with a {@link SimulationError} carrying
 * the simulated time, the seed and the event's label.
 */
import { SimulationError } from './errors.js';
import { RandomStreams } from './random.js';
import { MAX_TIME, isTime, type Time } from './time.js';

/** An event handler: called with the argument given when the event was scheduled. */
export type EventHandler<A> = (arg: A) => void;

/**
 * Opaque handle of a scheduled event, for {@link Simulator.cancel}. A handle
 * stays valid (cancel is a no-op) after its event fired or was cancelled.
 */
export type EventId = number;

/** Why {@link Simulator.run} returned. */
export type StopReason = 'idle' | 'until' | 'max-events' | 'stopped';

/** Options of {@link Simulator.run}. */
export interface RunOptions {
  /** Fire events with time <= until, then set the clock to `until`. Default: no limit. */
  readonly until?: Time;
  /** Fire at most this many events. Default: no limit. */
  readonly maxEvents?: number;
}

/** Options of the {@link Simulator} constructor. */
export interface SimulatorOptions {
  /** Root seed of the run's random streams. Default 1. */
  readonly seed?: number | string;
  /** Initial heap capacity (it grows as needed). Default 1024. */
  readonly initialCapacity?: number;
}

const SLOT_BITS = 24;
const SLOT_SPAN = 1 << SLOT_BITS; // at most 16,777,216 events pending at once
const GEN_MASK = (1 << 29) - 1; // generation fits with the slot in 53 bits

/** The clock, the event heap and the run's random streams. */
export class Simulator {
  /** The run's random streams; `sim.rng.stream('net')` and so on. */
  readonly rng: RandomStreams;

  private nowNs: Time = 0;
  private seqCounter = 0;
  private size = 0; // entries in the heap, live or cancelled
  private live = 0; // entries not cancelled
  private firedCount = 0;
  private stopRequested = false;
  private running = false;
  private currentLabel: string | undefined = undefined;

  // Heap, by position.
  private hTime: Float64Array;
  private hSeq: Float64Array;
  private hSlot: Int32Array;
  // Event data, by slot.
  private fns: (EventHandler<never> | undefined)[] = [];
  private args: unknown[] = [];
  private labels: (string | undefined)[] = [];
  private gens: Int32Array;
  private freeSlots: Int32Array;
  private freeCount = 0;
  private slotCount = 0;

  constructor(options: SimulatorOptions = {}) {
    this.rng = new RandomStreams(options.seed ?? 1);
    const cap = Math.max(16, options.initialCapacity ?? 1024);
    this.hTime = new Float64Array(cap);
    this.hSeq = new Float64Array(cap);
    this.hSlot = new Int32Array(cap);
    this.gens = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
  }

  /** The current simulated time (ns). */
  get now(): Time {
    return this.nowNs;
  }

  /** The root seed of this run. */
  get seed(): string {
    return this.rng.seed;
  }

  /** Number of events fired so far. */
  get fired(): number {
    return this.firedCount;
  }

  /** Number of pending (scheduled, not cancelled, not yet fired) events. */
  get pending(): number {
    return this.live;
  }

  /**
   * Schedules `fn(arg)` at absolute time `at` (ns, >= now).
   * @param label names the event in error messages (keep it a constant string: it is stored, not formatted).
   */
  schedule<A>(at: Time, fn: EventHandler<A>, arg: A, label?: string): EventId {
    if (!(at >= this.nowNs) || !isTime(at)) {
      throw new RangeError(`schedule: time ${at} ns is not an integer >= now (${this.nowNs} ns)`);
    }
    let slot: number;
    if (this.freeCount > 0) {
      slot = this.freeSlots[--this.freeCount] as number;
    } else {
      slot = this.slotCount++;
      if (slot >= SLOT_SPAN) throw new RangeError(`schedule: more than ${SLOT_SPAN} events pending`);
      if (slot >= this.gens.length) this.growSlots();
    }
    this.fns[slot] = fn;
    this.args[slot] = arg;
    this.labels[slot] = label;
    if (this.size >= this.hTime.length) this.growHeap();
    this.siftUp(this.size++, at, this.seqCounter++, slot);
    this.live++;
    return (this.gens[slot] as number) * SLOT_SPAN + slot;
  }

  /** Schedules `fn(arg)` after `delay` ns (a non-negative integer). */
  after<A>(delay: Time, fn: EventHandler<A>, arg: A, label?: string): EventId {
    return this.schedule(this.nowNs + delay, fn, arg, label);
  }

  /** Cancels a pending event. Returns true if it was pending (and now will not fire). */
  cancel(id: EventId): boolean {
    const slot = id % SLOT_SPAN;
    const gen = (id - slot) / SLOT_SPAN;
    if (slot >= this.slotCount || this.gens[slot] !== gen || this.fns[slot] === undefined) return false;
    this.fns[slot] = undefined;
    this.args[slot] = undefined;
    this.live--;
    if (this.size - this.live > 4096 && this.size - this.live > this.live) this.compact();
    return true;
  }

  /** True if the event is still pending. */
  isPending(id: EventId): boolean {
    const slot = id % SLOT_SPAN;
    const gen = (id - slot) / SLOT_SPAN;
    return slot < this.slotCount && this.gens[slot] === gen && this.fns[slot] !== undefined;
  }

  /** Time of the next pending event, or undefined when none is pending. */
  peek(): Time | undefined {
    this.dropCancelledTop();
    return this.size > 0 ? this.hTime[0] : undefined;
  }

  /** Asks {@link run} to return after the current event (callable from inside a handler). */
  stop(): void {
    this.stopRequested = true;
  }

  /** Fires the next pending event. Returns false when none was pending. */
  step(): boolean {
    this.dropCancelledTop();
    if (this.size === 0) return false;
    this.runLoop(MAX_TIME, 1);
    return true;
  }

  /**
   * Fires events in (time, seq) order until the queue is empty, the next event
   * is later than `until` (the clock is then set to `until`), `maxEvents` have
   * fired, or a handler called {@link stop}. The reason is 'max-events' only
   * when live events at or before `until` remain, so a capped run that has in
   * fact finished its work reports 'idle' or 'until' (and sets the clock).
   * @throws RangeError if `until` is not an integer time >= now
   */
  run(options: RunOptions = {}): StopReason {
    const until = options.until ?? MAX_TIME;
    if (!(until >= this.nowNs) || !isTime(until)) {
      throw new RangeError(`run: until ${until} ns is not an integer >= now (${this.nowNs} ns)`);
    }
    const maxEvents = options.maxEvents ?? Infinity;
    this.stopRequested = false;
    const reason = this.runLoop(until, maxEvents);
    if (reason === 'until' || (reason === 'idle' && options.until !== undefined)) {
      this.nowNs = until;
      return 'until';
    }
    return reason;
  }

  private runLoop(until: Time, maxEvents: number): StopReason {
    if (this.running) throw new Error('run/step called from inside an event handler: schedule an event instead');
    this.running = true;
    let fired = 0;
    try {
      while (this.size > 0) {
        if (fired >= maxEvents) return this.capReason(until);
        const t = this.hTime[0] as number;
        if (t > until) return 'until';
        const slot = this.hSlot[0] as number;
        this.popTop();
        const fn = this.fns[slot];
        if (fn === undefined) {
          this.releaseSlot(slot);
          continue;
        }
        const arg = this.args[slot];
        this.currentLabel = this.labels[slot];
        this.fns[slot] = undefined;
        this.args[slot] = undefined;
        this.releaseSlot(slot);
        this.live--;
        this.nowNs = t;
        fired++;
        (fn as EventHandler<unknown>)(arg);
        if (this.stopRequested) {
          this.stopRequested = false;
          return 'stopped';
        }
      }
      return 'idle';
    } catch (err) {
      if (err instanceof SimulationError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new SimulationError(`event handler threw: ${msg}`, {
        timeNs: this.nowNs,
        seed: this.seed,
        label: this.currentLabel,
      }, { cause: err });
    } finally {
      this.firedCount += fired;
      this.running = false;
    }
  }

  /** Why a run that fired its `maxEvents` ends: only 'max-events' if live work within `until` remains. */
  private capReason(until: Time): StopReason {
    this.dropCancelledTop();
    if (this.size === 0) return 'idle';
    return (this.hTime[0] as number) > until ? 'until' : 'max-events';
  }

  private releaseSlot(slot: number): void {
    this.labels[slot] = undefined;
    this.gens[slot] = ((this.gens[slot] as number) + 1) & GEN_MASK;
    this.freeSlots[this.freeCount++] = slot;
  }

  private dropCancelledTop(): void {
    while (this.size > 0 && this.fns[this.hSlot[0] as number] === undefined) {
      const slot = this.hSlot[0] as number;
      this.popTop();
      this.releaseSlot(slot);
    }
  }

  /** Places (t, s, slot) at the hole `pos` and sifts it up. */
  private siftUp(pos: number, t: number, s: number, slot: number): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pt = hTime[parent] as number;
      if (pt < t || (pt === t && (hSeq[parent] as number) < s)) break;
      hTime[pos] = pt;
      hSeq[pos] = hSeq[parent] as number;
      hSlot[pos] = hSlot[parent] as number;
      pos = parent;
    }
    hTime[pos] = t;
    hSeq[pos] = s;
    hSlot[pos] = slot;
  }

  /** Removes the top entry: moves the last entry into the hole at the root and sifts it down. */
  private popTop(): void {
    const n = --this.size;
    if (n === 0) return;
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    const t = hTime[n] as number;
    const s = hSeq[n] as number;
    const slot = hSlot[n] as number;
    this.siftDown(0, t, s, slot, n);
  }

  private siftDown(pos: number, t: number, s: number, slot: number, n: number): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    const half = n >> 1;
    while (pos < half) {
      let child = 2 * pos + 1;
      let ct = hTime[child] as number;
      let cs = hSeq[child] as number;
      const right = child + 1;
      if (right < n) {
        const rt = hTime[right] as number;
        const rs = hSeq[right] as number;
        if (rt < ct || (rt === ct && rs < cs)) {
          child = right;
          ct = rt;
          cs = rs;
        }
      }
      if (t < ct || (t === ct && s < cs)) break;
      hTime[pos] = ct;
      hSeq[pos] = cs;
      hSlot[pos] = hSlot[child] as number;
      pos = child;
    }
    hTime[pos] = t;
    hSeq[pos] = s;
    hSlot[pos] = slot;
  }

  /** Drops cancelled entries from the heap and re-heapifies (Floyd, O(n)). */
  private compact(): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    let k = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = hSlot[i] as number;
      if (this.fns[slot] === undefined) {
        this.releaseSlot(slot);
        continue;
      }
      hTime[k] = hTime[i] as number;
      hSeq[k] = hSeq[i] as number;
      hSlot[k] = slot;
      k++;
    }
    this.size = k;
    for (let i = (k >> 1) - 1; i >= 0; i--) {
      this.siftDown(i, hTime[i] as number, hSeq[i] as number, hSlot[i] as number, k);
    }
  }

  private growHeap(): void {
    const cap = this.hTime.length * 2;
    const t = new Float64Array(cap);
    t.set(this.hTime);
    const s = new Float64Array(cap);
    s.set(this.hSeq);
    const sl = new Int32Array(cap);
    sl.set(this.hSlot);
    this.hTime = t;
    this.hSeq = s;
    this.hSlot = sl;
  }

  private growSlots(): void {
    const cap = Math.min(this.gens.length * 2, SLOT_SPAN);
    const g = new Int32Array(cap);
    g.set(this.gens);
    const f = new Int32Array(cap);
    f.set(this.freeSlots);
    this.gens = g;
    this.freeSlots = f;
  }
}

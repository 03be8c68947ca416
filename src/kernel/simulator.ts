/**
 * The event kernel: one clock and one queue of pending events.
 *
 * Theory of operation. Every pending event has a time (integer ns) and a
 * sequence number taken from a counter that only grows; the heap is ordered by
 * (time, seq), so events scheduled for the same instant fire in the order they
 * were scheduled (first in, first out). That order is part of the public
 * contract: runs are byte-for-byte reproducible because of it.
 *
 * The heap is array-backed and purpose-built: the keys (time, seq) and a slot
 * index live in typed arrays at heap positions, so sifting touches only
 * numbers; the handler, its argument and its label live in one plain array
 * (three cells a slot), and the slot's ladder fields, generation and kind
 * (what it holds) in a 32-byte record of one buffer, so that a slot's numbers
 * share a cache line; slots are recycled through a free list.
 * An event without an argument (a closure, the hold model's handler) is the
 * exception: its handler and label are interned in a small table of kinds
 * (the first 1,024 pairs a simulator sees), and its record holds only the
 * kind's number. At 10^6 pending events that saves a cache miss an event
 * (4-9% of the hold model's rate there, in one process beside the kernel
 * before); an event with an argument skips the table's look-up. The kind used
 * to live in an array of its own, read once more when a bucket was emptied;
 * in the record, it comes with the line that read already brings (about 5%
 * more events per CPU second at 10^6 pending). Scheduling an event
 * allocates nothing once the arrays have grown to the run's working size.
 *
 * Beside the heap, chosen automatically, is a ladder queue (after Tang, Goh &
 * Thng, ACM TOMACS 15(3), 2005). When the heap holds more than `ladderAbove`
 * events (default 4,096) they move to the ladder's top, an unsorted list.
 * Rungs of time buckets (unsorted lists of slots, linked through the slots'
 * `next` field) are cut from the top when the heap runs dry, four buckets
 * per `ladderBucket` events; a bucket holding more than 32 × `ladderBucket`
 * events at different times opens a finer rung. Four times as many buckets
 * as the average asks for, because events crowd at a rung's front: in the
 * hold model (each event schedules one at now + Exp(mean)) the earliest
 * buckets hold several times the average (about ln(pending) times), and
 * those are the buckets that reach the heap; so cut, the heap keeps a few
 * events instead of about twenty at 10^4 pending, about a tenth more events
 * per CPU second there (see docs/performance-history.md). Only the earliest
 * bucket's events sit in the heap, which stays at a few dozen entries, so a
 * pop sifts through a few cached levels instead of ~13 (10^4 pending) or ~20
 * (10^6). An event is
 * filed by its time alone: before `heapLimit` (the end of the bucket in the
 * heap) into the heap, else into the innermost rung whose range holds it,
 * else on the top. Every heap event is thus earlier than every laddered one,
 * and all events of one instant meet in the heap, where (time, seq) orders
 * them: the pop order is exactly the heap's, ties included, whatever the
 * settings (test/kernel/simulator.spec.ts runs the model test with the ladder
 * forced on). Events that all share one instant go to the heap whole. When
 * at most half of `ladderAbove` events remain, the heap takes them all back.
 *
 * At 10^6 pending events a bucket's slots have left the cache by the time the
 * bucket is emptied, and following one linked list waits for one memory read
 * after another: profiled, that walk was 45% of the hold benchmark's time. A
 * rung opened over `ladderLanesFrom` events or more (default 65,536) deals each
 * bucket's events in turn across four lists, and emptying the bucket follows
 * the four side by side, so four reads are in flight at once.
 *
 * Every insert into a rung reads its bucket's list head. A rung cut that way
 * would have 2,000,000 buckets at 10^6 pending (32 MB of heads with four
 * lanes), and each insert then missed the cache once more. A rung has at most
 * `ladderMaxBuckets` buckets (default 65,536, heads of 1 MB at most); a
 * larger rung puts more events in each bucket, a few hundred at the front at
 * 10^6 pending. Such a bucket opens a finer rung when it is emptied, like any
 * crowded one: its events are in the cache by then, and the heap again holds
 * a few. (The crowding threshold used to grow with a capped rung's buckets,
 * so the heap held those few hundred; the finer rung was 10-15% faster at
 * 10^6 pending in a loop of both builds in one process, and within the noise
 * in `desim bench kernel` runs on the loaded machine.)
 *
 * Cancelling marks the slot empty; the entry stays where it is until it
 * reaches the heap's top (or is moved between ladder lists), where it is
 * discarded. When discarded entries outnumber live ones the heap and the
 * ladder are compacted, so timer churn (a retransmission timer restarted on
 * every ACK) cannot grow memory without bound.
 *
 * A handler that throws aborts the run with a {@link SimulationError} carrying
 * the simulated time, the seed and the event's label.
 */
import { INSTANT_BITS, instantHash } from './instants.js';
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
  /**
   * The heap hands its events to the ladder when it holds more than this many
   * (an integer >= 1, or Infinity for a heap alone); the ladder hands them back
   * when at most half of this are stored. Default 4,096. Changes speed only,
   * never the order of events.
   */
  readonly ladderAbove?: number;
  /**
   * Scale of the ladder's buckets (1..1,048,576): a rung over `count` events
   * has 4 × `count` / `ladderBucket` buckets (at least 2, at most
   * `ladderMaxBuckets`), so that the crowded buckets at a rung's front hold
   * about `ladderBucket` events; a bucket with more than 32 × `ladderBucket`
   * events, at more than one instant, opens a finer rung. Default 2. Changes
   * speed only.
   */
  readonly ladderBucket?: number;
  /**
   * Most buckets a rung has (2..16,777,216). Every insert into a rung reads
   * its bucket's list head, so the heads should stay in the cache: the default
   * 65,536 keeps them within 256 KB (1 MB with four lanes); a larger rung puts
   * more events in each bucket instead. Default 65,536. Changes speed only.
   */
  readonly ladderMaxBuckets?: number;
  /**
   * A rung opened over at least this many events (an integer >= 1, or
   * Infinity for never) deals each bucket's events across four lists, so that
   * emptying a bucket whose events have left the cache waits for four memory
   * reads at once instead of one. Default 65,536. Changes speed only.
   */
  readonly ladderLanesFrom?: number;
}

const SLOT_BITS = 24;
const SLOT_SPAN = 1 << SLOT_BITS; // at most 16,777,216 events pending at once
const GEN_MASK = (1 << 29) - 1; // generation fits with the slot in 53 bits
const NONE = -1; // end of a slot list
const LANES = 4; // lists (lanes) a bucket of a large rung is dealt across (see listToHeap)
const MAX_RUNG_BUCKETS = 1 << 24;
const MAX_DEPTH = 64; // each rung's buckets are at least 2x narrower than its parent's: 53 levels at most
const RUNG_SPREAD = 4; // a rung has RUNG_SPREAD buckets per ladderBucket events (see the file's header)
const CROWDED = 32; // a bucket with more than CROWDED * ladderBucket events opens a finer rung
// Per slot, 32 bytes of one buffer (so a slot's numbers share a cache line), seen as float64s
// (`rec`, 4 a slot) and as int32s (`recI`, 8 a slot):
const R_TIME = 0; // rec: the event's time (while laddered)
const R_SEQ = 1; // rec: its sequence number (while laddered)
const I_NEXT = 4; // recI: the next slot of its ladder list, or NONE
const I_GEN = 5; // recI: generation of the slot, bumped on release so old handles go inert
const I_KIND = 6; // recI: what the slot holds (see KIND_* below)
// Per slot, in `ev` (one plain array, three cells a slot): handler, argument, label, where the kind says so.
// The kind (I_KIND) is:
const KIND_NONE = 0; // no live event: free, fired or cancelled
const KIND_EV = 1; // handler, argument and label are in `ev`
// Otherwise, k >= 2: an event without an argument whose handler and label are kind k of the kind table.
// The table is small and stays in the cache, so such an event (the hold model's, a closure's) never
// touches `ev`, a second array of 24 bytes a slot: at 10^6 pending events a cache miss an event saved.
// An event with an argument is stored in `ev` without a look-up.
/** Most (handler, label) pairs a simulator interns; later ones are stored in `ev`, slot by slot. */
const MAX_KINDS = 1024;
const KIND_CACHE = 4; // recently used kinds, compared before the table's Map
const FIRST_KIND = 2;

/** Default of {@link SimulatorOptions.ladderAbove}. */
const DEFAULT_LADDER_ABOVE = 4096;
/** Default of {@link SimulatorOptions.ladderBucket}. */
const DEFAULT_LADDER_BUCKET = 2;
/** Default of {@link SimulatorOptions.ladderMaxBuckets}. */
const DEFAULT_LADDER_MAX_BUCKETS = 65_536;
/** Default of {@link SimulatorOptions.ladderLanesFrom}. */
const DEFAULT_LADDER_LANES_FROM = 65_536;

/** The clock, the event queue and the run's random streams. */
export class Simulator {
  /** The run's random streams; `sim.rng.stream('net')` and so on. */
  readonly rng: RandomStreams;

  private nowNs: Time = 0;
  private seqCounter = 0;
  private size = 0; // entries in the heap, live or cancelled
  private stored = 0; // entries anywhere (heap, rungs, top), live or cancelled
  private live = 0; // entries not cancelled
  private firedCount = 0;
  private stopRequested = false;
  private running = false;
  private currentLabel: string | undefined = undefined;

  // Heap, by position.
  private hTime: Float64Array;
  private hSeq: Float64Array;
  private hSlot: Int32Array;
  // Event data, by slot (see R_*, I_* and `ev` above).
  private ev: unknown[] = [];
  private rec: Float64Array;
  private recI: Int32Array;
  private freeSlots: Int32Array;
  private freeCount = 0;
  private slotCount = 0;

  // The ladder (see the file's header). heapLimit is +Infinity while the heap holds everything.
  private readonly ladderAbove: number;
  private readonly ladderBucket: number;
  private readonly ladderLanesFrom: number;
  private readonly ladderMaxBuckets: number;
  private heapLimit = Infinity;
  // The top: an unsorted list of events at or after the outermost rung's end.
  private topHead = NONE;
  private topCount = 0;
  private topMin = Infinity;
  private topMax = -Infinity;
  // Rungs 0 (outermost) .. depth - 1 (innermost): bucket list heads, lane by lane (lane l of
  // bucket b at l * buckets + b), one lane or LANES.
  private depth = 0;
  private readonly rungStart = new Float64Array(MAX_DEPTH);
  private readonly rungEnd = new Float64Array(MAX_DEPTH);
  private readonly rungWidth = new Float64Array(MAX_DEPTH);
  private readonly rungBuckets = new Int32Array(MAX_DEPTH);
  private readonly rungCur = new Int32Array(MAX_DEPTH);
  private readonly rungCrowded = new Float64Array(MAX_DEPTH); // a bucket with more events opens a finer rung
  private readonly rungHeads: Int32Array[] = [];
  private readonly rungLanes = new Int32Array(MAX_DEPTH);
  private lane = 0; // the lane the last laddered event went to
  // The kind table (see KIND_EV): kind k's handler and label, kinds by handler, and the last few used.
  private readonly kindFn: (EventHandler<never> | undefined)[] = [undefined, undefined];
  private readonly kindLabel: (string | undefined)[] = [undefined, undefined];
  private readonly kindsOf = new Map<EventHandler<never>, Map<string | undefined, number>>();
  private readonly cacheFn: (EventHandler<never> | undefined)[] = new Array<undefined>(KIND_CACHE).fill(undefined);
  private readonly cacheLabel: (string | undefined)[] = new Array<undefined>(KIND_CACHE).fill(undefined);
  private readonly cacheKind = new Int32Array(KIND_CACHE);
  private cacheNext = 0;
  // Recorded instants (see recordInstants): by a hash of the time, the last time scheduled and its sequence number.
  private instantAt: Float64Array | undefined;
  private instantSeq: Float64Array | undefined;

  constructor(options: SimulatorOptions = {}) {
    this.rng = new RandomStreams(options.seed ?? 1);
    const cap = Math.max(16, options.initialCapacity ?? 1024);
    this.hTime = new Float64Array(cap);
    this.hSeq = new Float64Array(cap);
    this.hSlot = new Int32Array(cap);
    this.rec = new Float64Array(4 * cap);
    this.recI = new Int32Array(this.rec.buffer);
    this.freeSlots = new Int32Array(cap);
    const above = options.ladderAbove ?? DEFAULT_LADDER_ABOVE;
    if (!(above === Infinity || (Number.isInteger(above) && above >= 1))) {
      throw new RangeError(`ladderAbove must be an integer >= 1 or Infinity, got ${above}`);
    }
    const bucket = options.ladderBucket ?? DEFAULT_LADDER_BUCKET;
    if (!(Number.isInteger(bucket) && bucket >= 1 && bucket <= 1 << 20)) {
      throw new RangeError(`ladderBucket must be an integer in 1..1048576, got ${bucket}`);
    }
    const lanesFrom = options.ladderLanesFrom ?? DEFAULT_LADDER_LANES_FROM;
    if (!(lanesFrom === Infinity || (Number.isInteger(lanesFrom) && lanesFrom >= 1))) {
      throw new RangeError(`ladderLanesFrom must be an integer >= 1 or Infinity, got ${lanesFrom}`);
    }
    const maxBuckets = options.ladderMaxBuckets ?? DEFAULT_LADDER_MAX_BUCKETS;
    if (!(Number.isInteger(maxBuckets) && maxBuckets >= 2 && maxBuckets <= MAX_RUNG_BUCKETS)) {
      throw new RangeError(`ladderMaxBuckets must be an integer in 2..${MAX_RUNG_BUCKETS}, got ${maxBuckets}`);
    }
    this.ladderMaxBuckets = maxBuckets;
    this.ladderLanesFrom = lanesFrom;
    this.ladderAbove = above;
    this.ladderBucket = bucket;
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

  /**
   * Number of events scheduled so far (cancelled and fired ones included): a counter that only grows,
   * so two equal readings mean that nothing was scheduled in between.
   */
  get scheduled(): number {
    return this.seqCounter;
  }

  /**
   * From now on, records for {@link lastScheduledAt} the last event scheduled at each instant, in a
   * small table indexed by a hash of the time (two numbers written per schedule; off until called).
   */
  recordInstants(): void {
    if (this.instantAt !== undefined) return;
    this.instantAt = new Float64Array(1 << INSTANT_BITS).fill(-1);
    this.instantSeq = new Float64Array(1 << INSTANT_BITS);
  }

  /**
   * The sequence number of the last event scheduled at instant `at` (ns), or -1 when unknown: before
   * {@link recordInstants}, or when a schedule at another instant took its entry in the table since.
   * The event scheduled last has number `scheduled - 1`. A caller that remembers an event's number and
   * finds it here again knows that nothing was scheduled at that instant since: whatever it would
   * schedule there now would fire right after that event.
   */
  lastScheduledAt(at: Time): number {
    const h = instantHash(at);
    return this.instantAt !== undefined && this.instantAt[h] === at ? ((this.instantSeq as Float64Array)[h] as number) : -1;
  }

  /** Number of pending (scheduled, not cancelled, not yet fired) events. */
  get pending(): number {
    return this.live;
  }

  /**
   * Schedules `fn(arg)` at absolute time `at` (ns, >= now).
   *
   * An event without an argument is stored as the kind (`fn`, `label`): the simulator keeps a
   * reference to the first 1,024 such pairs it sees, and what their handlers capture, for its
   * lifetime (a closure made per event fills the table early; later events are stored per slot).
   * @param label names the event in error messages (keep it a constant string: it is stored, not formatted).
   */
  schedule<A>(at: Time, fn: EventHandler<A>, arg: A, label?: string): EventId {
    if (!(at >= this.nowNs) || !isTime(at)) {
      throw new RangeError(`schedule: time ${at} ns is not an integer >= now (${this.nowNs} ns)`);
    }
    const seq = this.seqCounter++;
    if (this.instantAt !== undefined) this.noteInstant(at, seq);
    return this.place(at, seq, fn, arg, label, 'schedule');
  }

  /**
   * Takes the sequence number the next {@link schedule} would have used, for an event that
   * {@link scheduleReserved} schedules later for time `at` (ns, >= now): it then fires exactly where an
   * event scheduled now for `at` would have, among the events of its instant. The network uses it to
   * keep only the first of a link's packets in flight in the queue (see net/network.ts). A number
   * never used leaves a gap in the order, which changes nothing.
   */
  reserveSeq(at: Time): number {
    if (!(at >= this.nowNs) || !isTime(at)) {
      throw new RangeError(`reserveSeq: time ${at} ns is not an integer >= now (${this.nowNs} ns)`);
    }
    const seq = this.seqCounter++;
    // A reserved number is a place among the events of `at`: lastScheduledAt must see it, or a caller
    // could join an earlier event at `at` and fire ahead of the reserved one. (scheduleReserved, which
    // uses an older number, records nothing.)
    if (this.instantAt !== undefined) this.noteInstant(at, seq);
    return seq;
  }

  /**
   * Schedules `fn(arg)` at `at` with a sequence number from {@link reserveSeq}, as if it had been
   * scheduled when the number was taken. The caller must schedule it before the kernel fires any
   * event that comes after it in (time, seq) order (for instance while handling an event that comes
   * before it); an event scheduled later than that would fire out of order, which the kernel does
   * not check.
   */
  scheduleReserved<A>(at: Time, seq: number, fn: EventHandler<A>, arg: A, label?: string): EventId {
    if (!(at >= this.nowNs) || !isTime(at)) {
      throw new RangeError(`scheduleReserved: time ${at} ns is not an integer >= now (${this.nowNs} ns)`);
    }
    if (!(Number.isInteger(seq) && seq >= 0 && seq < this.seqCounter)) {
      throw new RangeError(`scheduleReserved: ${seq} is not a sequence number reserveSeq gave`);
    }
    return this.place(at, seq, fn, arg, label, 'scheduleReserved');
  }

  /** Records `seq` as the last number taken at instant `at` (see {@link recordInstants}). */
  private noteInstant(at: Time, seq: number): void {
    const h = instantHash(at);
    (this.instantAt as Float64Array)[h] = at;
    (this.instantSeq as Float64Array)[h] = seq;
  }

  /** Stores an event (a free slot, its handler, argument and label) and queues it at (`at`, `seq`); `who` names the caller in the error. */
  private place<A>(at: Time, seq: number, fn: EventHandler<A>, arg: A, label: string | undefined, who: string): EventId {
    let slot: number;
    if (this.freeCount > 0) {
      slot = this.freeSlots[--this.freeCount] as number;
    } else {
      slot = this.slotCount++;
      if (slot >= SLOT_SPAN) throw new RangeError(`${who}: more than ${SLOT_SPAN} events pending`);
      if (slot >= this.freeSlots.length) this.growSlots();
    }
    const k = arg === undefined ? this.kindFor(fn, label) : KIND_EV;
    if (k === KIND_EV) {
      const ev = this.ev;
      ev[3 * slot] = fn;
      ev[3 * slot + 1] = arg;
      ev[3 * slot + 2] = label;
    }
    this.recI[8 * slot + I_KIND] = k;
    this.live++;
    this.stored++;
    if (at < this.heapLimit) {
      if (this.size >= this.hTime.length) this.growHeap();
      this.siftUp(this.size++, at, seq, slot);
      if (this.size > this.ladderAbove && this.heapLimit === Infinity) this.heapToLadder();
    } else {
      this.ladderInsert(at, seq, slot);
    }
    return (this.recI[8 * slot + I_GEN] as number) * SLOT_SPAN + slot;
  }

  /** Schedules `fn(arg)` after `delay` ns (a non-negative integer). */
  after<A>(delay: Time, fn: EventHandler<A>, arg: A, label?: string): EventId {
    return this.schedule(this.nowNs + delay, fn, arg, label);
  }

  /** Cancels a pending event. Returns true if it was pending (and now will not fire). */
  cancel(id: EventId): boolean {
    if (!this.isPending(id)) return false;
    const slot = id % SLOT_SPAN;
    this.clearEvent(slot);
    this.live--;
    if (this.stored - this.live > 4096 && this.stored - this.live > this.live) this.compact();
    return true;
  }

  /** True if the event is still pending. */
  isPending(id: EventId): boolean {
    if (!(Number.isSafeInteger(id) && id >= 0)) return false;
    const slot = id % SLOT_SPAN;
    const gen = (id - slot) / SLOT_SPAN;
    return slot < this.slotCount && this.recI[8 * slot + I_GEN] === gen && this.recI[8 * slot + I_KIND] !== KIND_NONE;
  }

  /** Time of the next pending event, or undefined when none is pending. */
  peek(): Time | undefined {
    return this.liveTop() ? this.hTime[0] : undefined;
  }

  /** Asks {@link run} to return after the current event (callable from inside a handler). */
  stop(): void {
    this.stopRequested = true;
  }

  /** Fires the next pending event. Returns false when none was pending. */
  step(): boolean {
    if (!this.liveTop()) return false;
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
      for (;;) {
        if (this.size === 0 && !this.refill()) return 'idle';
        if (fired >= maxEvents) return this.capReason(until);
        const t = this.hTime[0] as number;
        if (t > until) return 'until';
        const slot = this.hSlot[0] as number;
        this.popTop();
        this.stored--;
        const v = this.recI[8 * slot + I_KIND] as number;
        if (v === KIND_NONE) {
          this.releaseSlot(slot);
          continue;
        }
        let fn: EventHandler<unknown>;
        let arg: unknown = undefined;
        if (v === KIND_EV) {
          const ev = this.ev;
          const e = 3 * slot;
          fn = ev[e] as EventHandler<unknown>;
          arg = ev[e + 1];
          this.currentLabel = ev[e + 2] as string | undefined;
          ev[e] = undefined;
          ev[e + 1] = undefined;
          ev[e + 2] = undefined;
        } else {
          fn = this.kindFn[v] as EventHandler<unknown>;
          this.currentLabel = this.kindLabel[v];
        }
        this.recI[8 * slot + I_KIND] = KIND_NONE;
        this.releaseSlot(slot);
        this.live--;
        this.nowNs = t;
        fired++;
        fn(arg);
        if (this.stopRequested) {
          this.stopRequested = false;
          return 'stopped';
        }
      }
    } catch (err) {
      if (err instanceof SimulationError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new SimulationError(
        `event handler threw: ${msg}`,
        {
          timeNs: this.nowNs,
          seed: this.seed,
          label: this.currentLabel,
        },
        { cause: err },
      );
    } finally {
      this.firedCount += fired;
      this.running = false;
    }
  }

  /** Why a run that fired its `maxEvents` ends: only 'max-events' if live work within `until` remains. */
  private capReason(until: Time): StopReason {
    if (!this.liveTop()) return 'idle';
    return (this.hTime[0] as number) > until ? 'until' : 'max-events';
  }

  /** Marks a live slot's event cancelled and drops what it holds in `ev`. */
  private clearEvent(slot: number): void {
    if (this.recI[8 * slot + I_KIND] === KIND_EV) {
      this.ev[3 * slot] = undefined;
      this.ev[3 * slot + 1] = undefined;
      this.ev[3 * slot + 2] = undefined;
    }
    this.recI[8 * slot + I_KIND] = KIND_NONE;
  }

  /**
   * The kind of (`fn`, `label`): interned at its first use while the table has room (at most
   * MAX_KINDS; the table holds a reference to each handler for the simulator's lifetime), else KIND_EV.
   */
  private kindFor(fn: EventHandler<never>, label: string | undefined): number {
    const cf = this.cacheFn;
    for (let i = 0; i < KIND_CACHE; i++) {
      if (cf[i] === fn && this.cacheLabel[i] === label) return this.cacheKind[i] as number;
    }
    const ks = this.kindsOf.get(fn);
    let k = ks?.get(label) ?? KIND_EV;
    if (k === KIND_EV) {
      if (this.kindFn.length >= FIRST_KIND + MAX_KINDS) return KIND_EV;
      k = this.kindFn.length;
      this.kindFn.push(fn);
      this.kindLabel.push(label);
      if (ks === undefined) this.kindsOf.set(fn, new Map([[label, k]]));
      else ks.set(label, k);
    }
    const i = this.cacheNext;
    this.cacheNext = (i + 1) & (KIND_CACHE - 1);
    cf[i] = fn;
    this.cacheLabel[i] = label;
    this.cacheKind[i] = k;
    return k;
  }

  private releaseSlot(slot: number): void {
    const g = 8 * slot + I_GEN;
    this.recI[g] = ((this.recI[g] as number) + 1) & GEN_MASK;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Drops cancelled entries at the top of the queue; true if a live event is then at the heap's root. */
  private liveTop(): boolean {
    for (;;) {
      if (this.size === 0 && !this.refill()) return false;
      const slot = this.hSlot[0] as number;
      if (this.recI[8 * slot + I_KIND] !== KIND_NONE) return true;
      this.popTop();
      this.stored--;
      this.releaseSlot(slot);
    }
  }

  // ---------------------------------------------------------------------------
  // The heap.

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

  /** Floyd's O(n) heap construction over the first `size` entries. */
  private heapify(): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    const k = this.size;
    for (let i = (k >> 1) - 1; i >= 0; i--) {
      this.siftDown(i, hTime[i] as number, hSeq[i] as number, hSlot[i] as number, k);
    }
  }

  /** Drops cancelled entries from the heap and from every ladder list. */
  private compact(): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    let k = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = hSlot[i] as number;
      if (this.recI[8 * slot + I_KIND] === KIND_NONE) {
        this.releaseSlot(slot);
        continue;
      }
      hTime[k] = hTime[i] as number;
      hSeq[k] = hSeq[i] as number;
      hSlot[k] = slot;
      k++;
    }
    this.stored -= this.size - k;
    this.size = k;
    this.heapify();
    for (let r = 0; r < this.depth; r++) {
      const heads = this.rungHeads[r] as Int32Array;
      for (let b = (this.rungCur[r] as number) + 1; b < (this.rungBuckets[r] as number); b++) {
        const n = this.rungBuckets[r] as number;
        for (let j = b; j < (this.rungLanes[r] as number) * n; j += n) if (heads[j] !== NONE) heads[j] = this.compactList(heads[j] as number);
      }
    }
    if (this.topCount > 0) {
      const before = this.stored;
      this.topHead = this.compactList(this.topHead);
      this.topCount -= before - this.stored;
    }
  }

  /** Releases the cancelled slots of a list; returns its new head. */
  private compactList(head: number): number {
    const recI = this.recI;
    let first = NONE;
    let prev = NONE;
    let slot = head;
    while (slot !== NONE) {
      const nx = recI[8 * slot + I_NEXT] as number;
      if (this.recI[8 * slot + I_KIND] === KIND_NONE) {
        this.releaseSlot(slot);
        this.stored--;
      } else {
        if (prev === NONE) first = slot;
        else recI[8 * prev + I_NEXT] = slot;
        prev = slot;
      }
      slot = nx;
    }
    if (prev !== NONE) recI[8 * prev + I_NEXT] = NONE;
    return first;
  }

  // ---------------------------------------------------------------------------
  // The ladder.

  /** The heap grew past `ladderAbove`: its entries move to the top, the next pop builds rungs from them. */
  private heapToLadder(): void {
    const hTime = this.hTime;
    const hSeq = this.hSeq;
    const hSlot = this.hSlot;
    for (let i = 0; i < this.size; i++) this.topPush(hTime[i] as number, hSeq[i] as number, hSlot[i] as number);
    this.size = 0;
    this.heapLimit = -Infinity;
  }

  private topPush(t: number, s: number, slot: number): void {
    const rec = this.rec;
    const r = 4 * slot;
    rec[r + R_TIME] = t;
    rec[r + R_SEQ] = s;
    this.recI[8 * slot + I_NEXT] = this.topHead;
    this.topHead = slot;
    this.topCount++;
    if (t < this.topMin) this.topMin = t;
    if (t > this.topMax) this.topMax = t;
  }

  /** Files an event at or after heapLimit in the innermost rung whose range holds it, or on the top. */
  private ladderInsert(t: number, s: number, slot: number): void {
    for (let r = this.depth - 1; r >= 0; r--) {
      if (t < (this.rungEnd[r] as number)) {
        const rec = this.rec;
        const i = 4 * slot;
        rec[i + R_TIME] = t;
        rec[i + R_SEQ] = s;
        const j = this.headIndex(r, this.bucketOf(r, t));
        const heads = this.rungHeads[r] as Int32Array;
        this.recI[8 * slot + I_NEXT] = heads[j] as number;
        heads[j] = slot;
        return;
      }
    }
    this.topPush(t, s, slot);
  }

  /** Bucket of time t in rung r: floor((t - start) / width), guarded against rounding at bucket edges. */
  private bucketOf(r: number, t: number): number {
    const start = this.rungStart[r] as number;
    const w = this.rungWidth[r] as number;
    let b = Math.floor((t - start) / w);
    if (start + b * w > t) b--;
    else if (start + (b + 1) * w <= t) b++;
    const last = (this.rungBuckets[r] as number) - 1;
    return b > last ? last : b;
  }

  /** Where a new event of bucket b of rung r goes in the rung's heads: the next lane in turn, or the only one. */
  private headIndex(r: number, b: number): number {
    if (this.rungLanes[r] === 1) return b;
    this.lane = (this.lane + 1) & (LANES - 1);
    return this.lane * (this.rungBuckets[r] as number) + b;
  }

  /** Opens rung `depth` over [start, end) with about `RUNG_SPREAD * count / ladderBucket` buckets. */
  private openRung(start: number, end: number, count: number): number {
    const r = this.depth++;
    if (r >= MAX_DEPTH) throw new Error('kernel: event ladder deeper than 64 rungs (a bug)');
    const span = end - start;
    const want = Math.min(this.ladderMaxBuckets, Math.max(2, Math.ceil((RUNG_SPREAD * count) / this.ladderBucket)));
    const w = Math.max(1, Math.ceil(span / want));
    const n = Math.ceil(span / w);
    this.rungStart[r] = start;
    this.rungEnd[r] = end;
    this.rungWidth[r] = w;
    this.rungBuckets[r] = n;
    this.rungCur[r] = -1;
    this.rungCrowded[r] = CROWDED * this.ladderBucket;
    let heads = this.rungHeads[r];
    const lanes = count >= this.ladderLanesFrom ? LANES : 1;
    this.rungLanes[r] = lanes;
    if (heads === undefined || heads.length < lanes * n) {
      heads = new Int32Array(lanes * Math.max(n, 64));
      this.rungHeads[r] = heads;
    }
    heads.fill(NONE, 0, lanes * n);
    return r;
  }

  /**
   * The heap is empty: fills it with the next bucket's events (opening a finer
   * rung for a crowded bucket, rebuilding rungs from the top when they are
   * used up). Returns false when no event is stored anywhere. Moves events
   * between structures only; the (time, seq) order of what fires does not
   * depend on it.
   */
  private refill(): boolean {
    if (this.heapLimit === Infinity) return false;
    const rec = this.rec;
    const recI = this.recI;
    for (;;) {
      if (this.depth === 0) {
        if (this.topCount === 0) return false;
        let slot = this.topHead;
        if (this.topCount <= this.ladderAbove >> 1) {
          // Few events left: back to the plain heap.
          this.clearTop();
          this.heapLimit = Infinity;
          this.listToHeap(slot, NONE, NONE, NONE);
          return this.size > 0;
        }
        const r = this.openRung(this.topMin, this.topMax + 1, this.topCount);
        this.rungEnd[r] = (this.rungStart[r] as number) + (this.rungBuckets[r] as number) * (this.rungWidth[r] as number);
        this.clearTop();
        const heads = this.rungHeads[r] as Int32Array;
        while (slot !== NONE) {
          const i = 4 * slot;
          const nx = recI[8 * slot + I_NEXT] as number;
          const j = this.headIndex(r, this.bucketOf(r, rec[i + R_TIME] as number));
          recI[8 * slot + I_NEXT] = heads[j] as number;
          heads[j] = slot;
          slot = nx;
        }
        continue;
      }
      const r = this.depth - 1;
      const n = this.rungBuckets[r] as number;
      const heads = this.rungHeads[r] as Int32Array;
      let b = (this.rungCur[r] as number) + 1;
      const four = this.rungLanes[r] === LANES;
      if (four) {
        while (b < n && ((heads[b] as number) & (heads[b + n] as number) & (heads[b + 2 * n] as number) & (heads[b + 3 * n] as number)) === NONE) b++;
      } else {
        while (b < n && heads[b] === NONE) b++;
      }
      if (b === n) {
        this.depth--;
        continue;
      }
      this.rungCur[r] = b;
      const l0 = heads[b] as number;
      heads[b] = NONE;
      let l1 = NONE;
      let l2 = NONE;
      let l3 = NONE;
      if (four) {
        l1 = heads[b + n] as number;
        l2 = heads[b + 2 * n] as number;
        l3 = heads[b + 3 * n] as number;
        heads[b + n] = NONE;
        heads[b + 2 * n] = NONE;
        heads[b + 3 * n] = NONE;
      }
      const w = this.rungWidth[r] as number;
      const lo = (this.rungStart[r] as number) + b * w;
      const hi = b === n - 1 ? (this.rungEnd[r] as number) : lo + w;
      this.heapLimit = hi;
      this.listToHeap(l0, l1, l2, l3);
      const k = this.size;
      if (k > (this.rungCrowded[r] as number) && hi - lo > 1) {
        // A crowded bucket: unless its events all share one instant, cut a finer rung from it.
        const hTime = this.hTime;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < k; i++) {
          const t = hTime[i] as number;
          if (t < min) min = t;
          if (t > max) max = t;
        }
        if (max > min) {
          const c = this.openRung(lo, hi, k);
          const cheads = this.rungHeads[c] as Int32Array;
          const hSlot = this.hSlot;
          for (let i = 0; i < k; i++) {
            const slot = hSlot[i] as number;
            const cj = this.headIndex(c, this.bucketOf(c, hTime[i] as number));
            recI[8 * slot + I_NEXT] = cheads[cj] as number;
            cheads[cj] = slot;
          }
          this.size = 0;
          continue;
        }
      }
      this.heapify();
      if (this.size > 0) return true;
    }
  }

  private clearTop(): void {
    this.topHead = NONE;
    this.topCount = 0;
    this.topMin = Infinity;
    this.topMax = -Infinity;
  }

  /**
   * Appends the live slots of up to four lists (one bucket's lanes, NONE for
   * an empty one) to the (empty) heap, unordered; cancelled ones are released.
   * The lists are followed side by side: each step reads the next entry of
   * every lane, and those reads do not wait for one another, so at 10^6
   * pending events four cache misses are in flight instead of one.
   */
  private listToHeap(l0: number, l1: number, l2: number, l3: number): void {
    const recI = this.recI;
    let a = l0;
    let b = l1;
    let c = l2;
    let d = l3;
    let k = this.size;
    while ((a & b & c & d) !== NONE) {
      if (a !== NONE) {
        const nx = recI[8 * a + I_NEXT] as number;
        k = this.toHeap(a, k);
        a = nx;
      }
      if (b !== NONE) {
        const nx = recI[8 * b + I_NEXT] as number;
        k = this.toHeap(b, k);
        b = nx;
      }
      if (c !== NONE) {
        const nx = recI[8 * c + I_NEXT] as number;
        k = this.toHeap(c, k);
        c = nx;
      }
      if (d !== NONE) {
        const nx = recI[8 * d + I_NEXT] as number;
        k = this.toHeap(d, k);
        d = nx;
      }
    }
    this.size = k;
    if (this.heapLimit === Infinity) this.heapify();
  }

  /** Puts a laddered slot at heap position k, unordered, or releases it if cancelled; returns the next position. */
  private toHeap(slot: number, k: number): number {
    if (this.recI[8 * slot + I_KIND] === KIND_NONE) {
      this.releaseSlot(slot);
      this.stored--;
      return k;
    }
    if (k >= this.hTime.length) this.growHeap();
    const i = 4 * slot;
    this.hTime[k] = this.rec[i + R_TIME] as number;
    this.hSeq[k] = this.rec[i + R_SEQ] as number;
    this.hSlot[k] = slot;
    return k + 1;
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
    const cap = Math.min(this.freeSlots.length * 2, SLOT_SPAN);
    const r = new Float64Array(4 * cap);
    // Copied as int32s: the int32 fields keep every bit, whatever they would spell as float64s.
    new Int32Array(r.buffer).set(this.recI);
    const f = new Int32Array(cap);
    f.set(this.freeSlots);
    this.rec = r;
    this.recI = new Int32Array(r.buffer);
    this.freeSlots = f;
  }
}

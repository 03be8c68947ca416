/**
 * Node clocks that stamp writes.
 *
 * Theory of operation. A node reads true time only through the `now` its
 * driver passes (simulated ns, or real ns on UDP). {@link SkewedClock} turns it
 * into the node's physical clock: `now + offset + drift * now` (drift in parts
 * per million), clamped at 0. Write timestamps must increase at one node, so
 * both clocks below never return a timestamp <= the previous one.
 *
 * - `physical`: ts = max(physical, last + 1). A node whose clock runs behind
 *   loses its writes to older writes of a node whose clock runs ahead: this
 *   is what skew does to last-writer-wins, kept for study.
 * - `hlc` (the default): a hybrid logical clock (Kulkarni et al. 2014) with
 *   the logical counter folded into the nanoseconds: ts = max(physical,
 *   last + 1), and every timestamp the node *receives* raises `last`. So a
 *   write made after a node has seen version v gets a timestamp > v.ts: a
 *   read-modify-write is never lost to skew, and ts stays within
 *   (max skew + number of events) ns of physical time.
 */
import type { Time } from '../sans-io.js';

/** Which timestamp rule a node uses. */
export type ClockKind = 'hlc' | 'physical';

/** Parameters of one node's physical clock. */
export interface ClockParams {
  readonly kind: ClockKind;
  /** Constant offset from true time (ns; may be negative). */
  readonly offsetNs: number;
  /** Rate error in parts per million (positive runs fast). */
  readonly driftPpm: number;
  /**
   * Timestamp unit (ns). Default 1: timestamps are ns of the node's clock,
   * which keeps them exact below 2^53 ns (104 days): fine for simulations.
   * A real deployment uses 1000 (µs) with {@link ClockParams.epoch}.
   */
  readonly unitNs?: number;
  /** Added to every reading (in units), e.g. µs since 1970 at `now` = 0. Default 0. */
  readonly epoch?: number;
}

/** A node's timestamp source. */
export class SkewedClock {
  private last = -1;
  readonly kind: ClockKind;
  readonly offsetNs: number;
  readonly driftPpm: number;
  readonly unitNs: number;
  readonly epoch: number;

  constructor(params: ClockParams) {
    this.kind = params.kind;
    this.offsetNs = params.offsetNs;
    this.driftPpm = params.driftPpm;
    this.unitNs = params.unitNs ?? 1;
    this.epoch = params.epoch ?? 0;
  }

  /** The node's physical clock reading at true time `now` (ns), in timestamp units (integer >= 0). */
  physical(now: Time): number {
    let t = this.driftPpm === 0 ? now + this.offsetNs : now + this.offsetNs + Math.round((now * this.driftPpm) / 1e6);
    if (this.unitNs !== 1) t = Math.floor(t / this.unitNs);
    t += this.epoch;
    return t > 0 ? t : 0;
  }

  /** A duration in ns as timestamp units. */
  units(ns: number): number {
    return ns / this.unitNs;
  }

  /** A fresh, strictly increasing write timestamp at true time `now`. */
  stamp(now: Time): number {
    const p = this.physical(now);
    this.last = p > this.last ? p : this.last + 1;
    return this.last;
  }

  /** Learns a timestamp seen in a received version (HLC only; the physical clock ignores it). */
  observe(ts: number): void {
    if (this.kind === 'hlc' && ts > this.last) this.last = ts;
  }

  /** The last timestamp issued or observed (for snapshots). */
  get lastTs(): number {
    return this.last;
  }

  /** Restores the last timestamp (after a restart from a snapshot). */
  set lastTs(ts: number) {
    this.last = ts;
  }
}

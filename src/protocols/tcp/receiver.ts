/**
 * The TCP receiver state machine (sans-I/O).
 *
 * Theory of operation. `rcvNxt` is the next byte expected. A segment that
 * starts at or before rcvNxt and ends after it advances rcvNxt; data buffered
 * out of order (a sorted list of disjoint byte ranges) that then touches
 * rcvNxt is delivered too, and the application receives each byte exactly
 * once, in order (bytes [0, rcvNxt) are delivered). ACKs are cumulative (the
 * ACK number is rcvNxt). RFC 5681 section 4.2: an out-of-order segment, a
 * duplicate, or a segment that fills a gap is acknowledged at once (the
 * first two give the sender its duplicate ACKs); in-order segments are
 * acknowledged at once, or with delayed ACKs every second full segment or
 * when the delayed-ACK timer (default 200 ms) expires.
 *
 * It is a sans-I/O {@link ProtocolNode}: a data segment or the delayed-ACK
 * timer goes in; out come `send` (an ACK to the peer), at most one timer
 * action per input (only when the delayed-ACK deadline comes before the
 * pending timer; one that fires early is set again), and, while the
 * `trace` gate is active, a `deliver` trace action (flow, start, end) per
 * in-order delivery to the application. The actions come from a reused
 * {@link ActionBuffer}: consume them before the next input.
 * {@link TcpReceiver.onSegment} and {@link TcpReceiver.onDelayedAckTimer} are
 * the bare transitions (they return the ACK number to send now, or -1).
 *
 * SACK (RFC 2018), when on: every ACK carries up to 4 blocks of the data held
 * out of order (3 when the timestamps option would share the header; desim
 * models no timestamps, so `timestamps` only sets that limit). The first
 * block holds the segment that triggered the ACK, unless it advanced rcvNxt;
 * the others repeat the most recently reported blocks (section 4), each still
 * a whole range of the buffer above rcvNxt. No D-SACK (RFC 2883).
 *
 * Receive window (config `rwndBytes`), when set: every ACK advertises it. The
 * application reads in-order bytes at once, so the window does not close; it
 * only bounds what the sender may have outstanding (out-of-order data is held
 * whatever the window).
 *
 * ECN (RFC 3168 section 6.1.3), when on: a segment marked CE makes every ACK
 * carry ECE until a segment with CWR arrives (a CWR segment that is itself
 * marked CE starts the echo again).
 */
import type { Action, NodeId, ProtocolNode, Time } from '../sans-io.js';
import { ActionBuffer } from './action-buffer.js';
import type { TcpPacket } from './packet.js';
import type { TraceGate } from './sender.js';

/** Configuration of a {@link TcpReceiver}. */
export interface ReceiverConfig {
  /** Delay ACKs (every second segment or after `delayedAckNs`). Default false. */
  readonly delayedAck?: boolean;
  /** Delayed-ACK timeout (ns). Default 200 ms. */
  readonly delayedAckNs?: Time;
  /** Flow id, put in ACKs and `deliver` traces. Default 0. */
  readonly flow?: number;
  /** Where ACKs go (the sender's node). Default 0. */
  readonly peer?: NodeId;
  /** Size of an ACK on the wire (bytes). Default 40. */
  readonly headerBytes?: number;
  /** Name of the delayed-ACK timer. Default `delack`. */
  readonly timer?: string;
  /** The action queue (shared with other machines of a {@link TcpStack}). Default: its own. */
  readonly actions?: ActionBuffer<TcpPacket>;
  /** Emit a `deliver` trace action per in-order delivery while this gate is active. Default: never. */
  readonly trace?: TraceGate;
  /** Send SACK blocks (RFC 2018). Default false. */
  readonly sack?: boolean;
  /** With SACK: the timestamps option would be on, so at most 3 blocks fit (else 4, RFC 2018 section 3). Default false. */
  readonly timestamps?: boolean;
  /**
   * The receive window every ACK advertises (bytes from its ACK number on). The application reads
   * each byte as soon as it is in order, so the window stays this size and its right edge moves with
   * the ACK number (never shrinks). Default Infinity: no window field at all.
   */
  readonly rwndBytes?: number;
  /** ECN (RFC 3168): echo CE marks as ECE until CWR. Default false. */
  readonly ecn?: boolean;
}

const NO_BLOCKS: readonly number[] = Object.freeze([]);

/** A TCP receiver with an out-of-order buffer, a sans-I/O protocol node. */
export class TcpReceiver implements ProtocolNode<TcpPacket> {
  /** Next byte expected (the cumulative ACK number). */
  rcvNxt = 0;
  /** When the delayed ACK must be sent (ns), or -1. */
  delackDeadlineNs: Time = -1;
  /** Data segments received (including duplicates) and their payload bytes. */
  segmentsReceived = 0;
  bytesReceived = 0;
  /** Segments entirely below rcvNxt (already received). */
  duplicateSegments = 0;
  /** ACKs sent. */
  acksSent = 0;

  private readonly delayed: boolean;
  private readonly delayNs: Time;
  /** Flow id. */
  readonly flow: number;
  /** The sender's node. */
  readonly peer: NodeId;
  /** Name of the delayed-ACK timer. */
  readonly timer: string;
  private readonly headerBytes: number;
  private readonly out: ActionBuffer<TcpPacket>;
  private readonly trace: TraceGate | undefined;
  /** When the driver's delayed-ACK timer fires (ns), or -1 when none is pending. */
  private armedNs: Time = -1;
  private pending = 0; // in-order segments not yet acknowledged (delayed ACKs)
  private oooStart: number[] = [];
  private oooEnd: number[] = [];
  private readonly sack: boolean;
  private readonly maxBlocks: number;
  /** The blocks to report, most recent first: [start0, end0, ...] (SACK only). */
  private recent: number[] = [];
  /** The advertised window (bytes), or undefined for none. */
  private readonly wnd: number | undefined;
  private readonly ecn: boolean;
  /** RFC 3168: set ECE on ACKs (a CE mark seen, no CWR since). */
  private echo = false;

  constructor(config: ReceiverConfig = {}) {
    this.delayed = config.delayedAck ?? false;
    this.delayNs = config.delayedAckNs ?? 200_000_000;
    this.flow = config.flow ?? 0;
    this.peer = config.peer ?? 0;
    this.headerBytes = config.headerBytes ?? 40;
    this.timer = config.timer ?? 'delack';
    this.out = config.actions ?? new ActionBuffer<TcpPacket>();
    this.trace = config.trace;
    this.sack = config.sack ?? false;
    this.maxBlocks = config.timestamps === true ? 3 : 4;
    const rwnd = config.rwndBytes ?? Infinity;
    if (!(rwnd > 0)) throw new RangeError(`rwndBytes must be > 0, got ${rwnd}`);
    this.wnd = rwnd === Infinity ? undefined : rwnd;
    this.ecn = config.ecn ?? false;
  }

  /** The SACK blocks the next ACK carries (a copy): [start0, end0, ...], most recent first. */
  sackBlocks(): number[] {
    return this.recent.slice();
  }

  /** Nothing to do at the first start; after a restart that kept its state, tells the driver the delayed-ACK deadline again. */
  start(): void {
    this.armedNs = -1; // a crash stopped the driver's timer
    this.flushTimer();
  }

  /** A data segment arrived (ACKs sent to a receiver are ignored): acknowledges it now or arms the delayed ACK. */
  handleMessage(_from: NodeId, msg: TcpPacket, now: Time): void {
    if (msg.len === 0) return;
    if (this.ecn) {
      if (msg.cwr === true) this.echo = false; // RFC 3168 6.1.3: CWR ends the echo
      if (msg.ce === true) this.echo = true;
    }
    const ack = this.onSegment(msg.seq, msg.len, now);
    if (ack >= 0) this.sendAck(ack);
    this.flushTimer();
  }

  /** The delayed-ACK timer fired. */
  handleTimer(timer: string, now: Time): void {
    if (timer !== this.timer) return;
    this.armedNs = -1; // the driver's timer fired: none is pending now
    const ack = this.onDelayedAckTimer(now);
    if (ack >= 0) this.sendAck(ack);
    this.flushTimer();
  }

  /** The actions queued since the last poll (reused: consume them before the next input). */
  pollActions(): readonly Action<TcpPacket>[] {
    return this.out.poll();
  }

  private sendAck(ack: number): void {
    const wnd = this.wnd;
    if (this.echo) {
      const sack = this.sack ? (this.recent.length > 0 ? this.recent.slice() : NO_BLOCKS) : undefined;
      this.out.send(
        this.peer,
        { flow: this.flow, seq: ack, len: 0, ece: true, ...(sack !== undefined ? { sack } : {}), ...(wnd !== undefined ? { wnd } : {}) },
        this.headerBytes,
      );
    } else if (this.sack) {
      const sack = this.recent.length > 0 ? this.recent.slice() : NO_BLOCKS;
      this.out.send(
        this.peer,
        wnd === undefined ? { flow: this.flow, seq: ack, len: 0, sack } : { flow: this.flow, seq: ack, len: 0, sack, wnd },
        this.headerBytes,
      );
    } else
      this.out.send(
        this.peer,
        wnd === undefined ? { flow: this.flow, seq: ack, len: 0 } : { flow: this.flow, seq: ack, len: 0, wnd },
        this.headerBytes,
      );
  }

  /** RFC 2018 section 4: the block [s, e) of the arriving segment first, then the earlier blocks it does not cover. */
  private reportFirst(s: number, e: number): void {
    const old = this.recent;
    const next = [s, e];
    for (let i = 0; i + 1 < old.length && next.length < 2 * this.maxBlocks; i += 2) {
      const os = old[i] as number;
      if (os >= s && os < e) continue; // merged into the first block
      next.push(os, old[i + 1] as number);
    }
    this.recent = next;
  }

  /** Drops the reported blocks the cumulative ACK now covers. */
  private dropCovered(): void {
    if (this.recent.length === 0) return;
    const kept: number[] = [];
    for (let i = 0; i + 1 < this.recent.length; i += 2) {
      if ((this.recent[i] as number) > this.rcvNxt) kept.push(this.recent[i] as number, this.recent[i + 1] as number);
    }
    this.recent = kept;
  }

  /** Lazy re-arm, as the sender's: the driver's timer moves only earlier; one that fires early is set again. */
  private flushTimer(): void {
    const d = this.delackDeadlineNs;
    if (d < 0 || (this.armedNs >= 0 && this.armedNs <= d)) return;
    this.out.setTimer(this.timer, d);
    this.armedNs = d;
  }

  /** Bytes held out of order. */
  get bufferedBytes(): number {
    let n = 0;
    for (let i = 0; i < this.oooStart.length; i++) n += (this.oooEnd[i] as number) - (this.oooStart[i] as number);
    return n;
  }

  /** A data segment [seq, seq + len) arrived. Returns the ACK number to send now, or -1. */
  onSegment(seq: number, len: number, now: Time): number {
    this.segmentsReceived++;
    this.bytesReceived += len;
    const end = seq + len;
    if (end <= this.rcvNxt) {
      this.duplicateSegments++;
      return this.ackNow();
    }
    if (seq > this.rcvNxt) {
      const i = this.insert(seq, end);
      if (this.sack) this.reportFirst(this.oooStart[i] as number, this.oooEnd[i] as number);
      return this.ackNow(); // out of order: immediate duplicate ACK
    }
    const from = this.rcvNxt;
    this.rcvNxt = end;
    const hadGap = this.oooStart.length > 0;
    if (hadGap) {
      this.pullBuffered();
      if (this.sack) this.dropCovered();
    }
    const trace = this.trace;
    if (trace !== undefined && trace.active) this.out.trace('deliver', { flow: this.flow, start: from, end: this.rcvNxt });
    if (hadGap || !this.delayed) return this.ackNow();
    if (++this.pending >= 2) return this.ackNow();
    if (this.delackDeadlineNs < 0) this.delackDeadlineNs = now + this.delayNs;
    return -1;
  }

  /** The delayed-ACK timer fired. Returns the ACK number to send, or -1. */
  onDelayedAckTimer(now: Time): number {
    if (this.delackDeadlineNs < 0 || now < this.delackDeadlineNs) return -1;
    return this.ackNow();
  }

  private ackNow(): number {
    this.pending = 0;
    this.delackDeadlineNs = -1;
    this.acksSent++;
    return this.rcvNxt;
  }

  /** Moves buffered ranges that now touch rcvNxt into the stream. */
  private pullBuffered(): void {
    const starts = this.oooStart;
    const ends = this.oooEnd;
    let i = 0;
    while (i < starts.length && (starts[i] as number) <= this.rcvNxt) {
      const e = ends[i] as number;
      if (e > this.rcvNxt) this.rcvNxt = e;
      i++;
    }
    if (i > 0) {
      starts.splice(0, i);
      ends.splice(0, i);
    }
  }

  /** Adds [s, e) to the sorted, disjoint out-of-order ranges, merging overlaps and neighbours; returns the index of its range. */
  private insert(s: number, e: number): number {
    const starts = this.oooStart;
    const ends = this.oooEnd;
    // Find the first range that ends at or after s (ranges usually arrive in order: search from the end).
    let i = starts.length;
    while (i > 0 && (ends[i - 1] as number) >= s) i--;
    let j = i;
    let ns = s;
    let ne = e;
    while (j < starts.length && (starts[j] as number) <= e) {
      if ((starts[j] as number) < ns) ns = starts[j] as number;
      if ((ends[j] as number) > ne) ne = ends[j] as number;
      j++;
    }
    starts.splice(i, j - i, ns);
    ends.splice(i, j - i, ne);
    return i;
  }
}

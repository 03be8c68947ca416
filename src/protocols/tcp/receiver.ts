/**
 * The TCP receiver state machine (sans-I/O).
 *
 * Theory of operation. `rcvNxt` is the next byte expected. A segment that
 * starts at or before rcvNxt and ends after it advances rcvNxt; data buffered
 * out of order (a sorted list of disjoint byte ranges) that then touches
 * rcvNxt is delivered too, and the application receives each byte exactly
 * once, in order, through `deliver(start, end)`. ACKs are cumulative (the
 * ACK number is rcvNxt). RFC 5681 section 4.2: an out-of-order segment, a
 * duplicate, or a segment that fills a gap is acknowledged at once (the
 * first two give the sender its duplicate ACKs); in-order segments are
 * acknowledged at once, or with delayed ACKs every second full segment or
 * when the delayed-ACK timer (default 200 ms) expires.
 *
 * Inputs: {@link TcpReceiver.onSegment}, {@link TcpReceiver.onDelayedAckTimer};
 * each returns the ACK number to send now, or -1. The driver reads
 * {@link TcpReceiver.delackDeadlineNs} after each input to arm its timer.
 */
import type { Time } from '../sans-io.js';

/** Configuration of a {@link TcpReceiver}. */
export interface ReceiverConfig {
  /** Delay ACKs (every second segment or after `delayedAckNs`). Default false. */
  readonly delayedAck?: boolean;
  /** Delayed-ACK timeout (ns). Default 200 ms. */
  readonly delayedAckNs?: Time;
  /** The application: receives bytes [start, end) in order, each exactly once. */
  readonly deliver?: (start: number, end: number) => void;
}

/** A TCP receiver with an out-of-order buffer. */
export class TcpReceiver {
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
  private readonly deliver: ((start: number, end: number) => void) | undefined;
  private pending = 0; // in-order segments not yet acknowledged (delayed ACKs)
  private oooStart: number[] = [];
  private oooEnd: number[] = [];

  constructor(config: ReceiverConfig = {}) {
    this.delayed = config.delayedAck ?? false;
    this.delayNs = config.delayedAckNs ?? 200_000_000;
    this.deliver = config.deliver;
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
      this.insert(seq, end);
      return this.ackNow(); // out of order: immediate duplicate ACK
    }
    const from = this.rcvNxt;
    this.rcvNxt = end;
    const hadGap = this.oooStart.length > 0;
    if (hadGap) this.pullBuffered();
    if (this.deliver !== undefined) this.deliver(from, this.rcvNxt);
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

  /** Adds [s, e) to the sorted, disjoint out-of-order ranges, merging overlaps and neighbours. */
  private insert(s: number, e: number): void {
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
  }
}

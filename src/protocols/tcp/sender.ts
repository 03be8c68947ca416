/**
 * The TCP sender state machine (sans-I/O), after ns-3's `TcpSocketBase`:
 * sequence space, per-ACK duplicate-ACK counting, loss recovery and the
 * retransmission timer live here; the window arithmetic is delegated to a
 * {@link CongestionOps} working on a {@link TcpControlBlock}.
 *
 * Theory of operation. Sequence numbers are byte offsets from 0 (no SYN or
 * FIN); segments start at multiples of the MSS, so segment k is bytes
 * [k*MSS, (k+1)*MSS). `sndUna` is the oldest unacknowledged byte, `sndNxt`
 * the next byte to send and `highTx` the highest byte ever sent (snd_max);
 * `sndNxt < highTx` only after a timeout's go-back-N. The sender may
 * transmit while the bytes in flight (`sndNxt - sndUna`) after the segment
 * do not exceed cwnd (no receiver window: the receiver buffers everything).
 *
 * Every input emits one trace record (after the segments it sent), named
 * by what happened: ack, dupack, fast_retransmit, recovery_exit, timeout.
 *
 * Inputs: {@link TcpSender.start} (the application has data), {@link
 * TcpSender.onAck} (a cumulative ACK arrived), {@link TcpSender.onTimeout}
 * (the driver's timer reached {@link TcpSender.rtoDeadlineNs}). Outputs: calls
 * to the injected {@link SenderOutput.transmit} and the timer deadline the
 * driver reads after every input (one timer, re-armed lazily: the driver
 * keeps a single kernel event and moves it only when the deadline moves
 * earlier, as real stacks do). Trace records go to an optional TraceSource.
 *
 * ACK processing (RFC 5681 section 3.2, RFC 6582 section 3.2):
 * - ACK below sndUna: stale, ignored.
 * - ACK == sndUna with data outstanding: a duplicate ACK. In fast recovery
 *   it inflates cwnd by one SMSS (RFC 5681 3.2 step 4). Otherwise the third
 *   one triggers fast retransmit (step 2): ssthresh = max(FlightSize/2,
 *   2*SMSS) (FlightSize capped at cwnd, see flightSize()), the segment at
 *   sndUna is resent, and
 *   - Tahoe: cwnd = 1 SMSS, slow start (only the missing segment is resent,
 *     as 4.3BSD-Tahoe does; a second hole in the window waits for the timer);
 *   - Reno / NewReno: cwnd = ssthresh + 3*SMSS, enter fast recovery (step 3).
 *   The third duplicate only counts if the ACK covers more than `recover`
 *   (RFC 6582 3.2 step 2 and section 4), that is ack - 1 > recover (the
 *   ACK field is the next byte expected): `recover` is the highest byte sent
 *   when the last timeout fired or, for Tahoe and NewReno, when the last fast
 *   retransmit happened. After a timeout's go-back-N, segments the receiver
 *   already holds come back as duplicate ACKs of up to highTx, i.e. of
 *   recover + 1; the check keeps them from triggering spurious fast
 *   retransmits. Reno (RFC 5681) does not set `recover` on fast retransmit,
 *   so a second hole in the same window halves cwnd again.
 * - ACK above sndUna: new data. RTT sample if no acknowledged segment was
 *   ever retransmitted (Karn's rule); the timer restarts (RFC 6298 5.3) or
 *   stops when everything is acknowledged (5.2). In fast recovery:
 *   - Reno: leave recovery, cwnd = ssthresh (deflate, RFC 5681 3.2 step 6);
 *   - NewReno, full ACK (acknowledges all data up to and including
 *     `recover`: ack > recover): leave recovery, cwnd = ssthresh
 *     (RFC 6582 3.2 step 3, option 2);
 *   - NewReno, partial ACK: resend the segment at the new sndUna, deflate
 *     cwnd by the bytes acknowledged and add back one SMSS if that was at
 *     least one SMSS; restart the timer on the first partial ACK only (RFC
 *     6582 3.2 step 3; the "Impatient" variant of RFC 3782).
 *   Outside recovery the congestion-control algorithm opens the window.
 * - Timeout (RFC 6298 5.4-5.7, RFC 5681 eq. 4): ssthresh = max(FlightSize/2,
 *   2*SMSS) unless the timer already expired for this data or the sender was
 *   in fast recovery (then ssthresh is kept), cwnd = 1 SMSS, leave recovery,
 *   recover = highTx - 1 (RFC 6582 3.2 step 4), back off the RTO, go back to
 *   sndUna and resend.
 */
import type { Time, TraceSink } from '../sans-io.js';
import { congestionState, createControlBlock, type CongestionState, type TcpControlBlock } from './control-block.js';
import type { CongestionOps } from './congestion/ops.js';
import { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';

/** What a trace record reports. `drop` is emitted by the path when the network drops one of the flow's data segments. */
export type TcpEvent = 'ack' | 'dupack' | 'fast_retransmit' | 'timeout' | 'recovery_exit' | 'drop';

/** One row of the cwnd trace: the sender's state right after an ACK or an event. */
export interface TcpTraceRecord {
  readonly timeNs: Time;
  readonly flow: number;
  readonly event: TcpEvent;
  readonly cwndBytes: number;
  /** Infinity until the first loss. */
  readonly ssthreshBytes: number;
  readonly segmentSize: number;
  readonly state: CongestionState;
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly dupacks: number;
  /** 0 before the first RTT sample. */
  readonly srttNs: number;
  readonly rtoNs: Time;
}

/** Where the sender's segments go. */
export interface SenderOutput {
  /** Sends bytes [seq, seq + len); `retransmission` when some of them were sent before. */
  transmit(seq: number, len: number, retransmission: boolean): void;
}

/** Configuration of a {@link TcpSender}. */
export interface SenderConfig {
  /** SMSS (bytes). */
  readonly mssBytes: number;
  /** Initial window (segments). */
  readonly initialWindowSegments: number;
  /** Bytes the application sends (Infinity: unlimited bulk transfer). */
  readonly totalBytes: number;
  /** The congestion-control algorithm. */
  readonly ops: CongestionOps;
  /** RTO estimator settings (minimum RTO default 1 s). */
  readonly rtt?: RttEstimatorOptions;
  /** Flow id put in trace records. Default 0. */
  readonly flow?: number;
  /** Trace source that receives a record per ACK and per event. */
  readonly trace?: TraceSink<TcpTraceRecord>;
}

/** Counters of one sender. */
export interface SenderStats {
  /** Data segments transmitted, including retransmissions. */
  segmentsSent: number;
  /** Payload bytes transmitted, including retransmissions. */
  bytesSent: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  /** Sum (ns) and count of the RTT samples taken (Karn-valid ones). */
  rttSumNs: number;
  rttSamples: number;
  /** Sum (ns) of the RTO values that expired at first timeouts (before back-off), and their count. */
  firstTimeoutRtoSumNs: number;
  firstTimeouts: number;
  /** When every byte of a finite transfer was acknowledged (ns), or -1. */
  completedNs: Time;
}

/** A TCP sender (Tahoe, Reno or NewReno by its {@link CongestionOps}). */
export class TcpSender {
  /** The control block the congestion-control algorithm works on. */
  readonly tcb: TcpControlBlock;
  /** The RFC 6298 estimator. */
  readonly rtt: RttEstimator;
  readonly stats: SenderStats = {
    segmentsSent: 0,
    bytesSent: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    rttSumNs: 0,
    rttSamples: 0,
    firstTimeoutRtoSumNs: 0,
    firstTimeouts: 0,
    completedNs: -1,
  };
  /** Oldest unacknowledged byte. */
  sndUna = 0;
  /** Next byte to send. */
  sndNxt = 0;
  /** One past the highest byte ever sent (snd_max). */
  highTx = 0;
  /**
   * RFC 6582 `recover`: the highest byte outstanding at the last loss event (highTx - 1), or
   * -Infinity before the first one, so that every ACK covers more than it. (RFC 6582 3.2 step 1
   * starts it at the initial send sequence number; taken literally with the step 2 test that would
   * refuse a fast retransmit of the very first data segment.)
   */
  recover = -Infinity;
  /** Duplicate ACKs counted since the last ACK of new data. */
  dupacks = 0;
  /** When the retransmission timer expires (ns), or -1 when it is off. */
  rtoDeadlineNs: Time = -1;

  private readonly ops: CongestionOps;
  private readonly mss: number;
  private readonly totalBytes: number;
  private readonly flow: number;
  private readonly trace: TraceSink<TcpTraceRecord> | undefined;
  private firstPartialAck = false;
  private started = false;
  // Per segment (index k = seq / mss, slot k & mask): first-transmission time and "was retransmitted".
  private sentAt: Float64Array = new Float64Array(64);
  private retx: Uint8Array = new Uint8Array(64);
  private mask = 63;

  constructor(
    config: SenderConfig,
    private readonly out: SenderOutput,
  ) {
    this.ops = config.ops;
    this.mss = config.mssBytes;
    this.totalBytes = config.totalBytes;
    if (!(this.totalBytes >= 0)) throw new RangeError(`totalBytes must be >= 0, got ${this.totalBytes}`);
    this.flow = config.flow ?? 0;
    this.trace = config.trace;
    this.tcb = createControlBlock(config.mssBytes, config.initialWindowSegments);
    this.rtt = new RttEstimator(config.rtt);
  }

  /** True when a finite transfer is fully acknowledged. */
  get done(): boolean {
    return this.sndUna >= this.totalBytes;
  }

  /** The traced congestion state. */
  get state(): CongestionState {
    return congestionState(this.tcb);
  }

  /** The application has data: send the initial window. */
  start(now: Time): void {
    if (this.started) return;
    this.started = true;
    if (this.done) this.stats.completedNs = now;
    this.sendData(now);
  }

  /** A cumulative ACK (next byte expected by the receiver) arrived. */
  onAck(ack: number, now: Time): void {
    if (ack > this.highTx || ack < this.sndUna) return; // acknowledges unsent data, or stale
    const tcb = this.tcb;
    const mss = this.mss;
    if (ack === this.sndUna) {
      if (this.highTx <= this.sndUna) return; // nothing outstanding: not a duplicate ACK (RFC 5681 section 2)
      this.dupacks++;
      if (tcb.inRecovery) {
        tcb.cwnd += mss; // RFC 5681 3.2 step 4: inflate
        this.sendData(now);
        this.emit(now, 'dupack');
      } else if (this.dupacks === 3 && ack - 1 > this.recover) {
        // RFC 6582 3.2 step 2: fast retransmit only if the ACK "covers more than recover". The ACK
        // field is the next byte expected, so the highest byte it covers is ack - 1 (the RFC's own
        // note after step 4: "ack_number - 1 > recover"). An ACK equal to the highTx of the last
        // timeout (recover + 1) covers exactly recover: those are the duplicates of go-back-N
        // resending what the receiver already holds (RFC 6582 section 4), not a new loss.
        this.fastRetransmit(now);
      } else {
        this.emit(now, 'dupack');
      }
      return;
    }

    // New data acknowledged.
    const bytesAcked = ack - this.sndUna;
    const kFirst = this.sndUna / mss;
    const kLast = Math.ceil(ack / mss) - 1;
    let karnOk = true;
    for (let k = kFirst; k <= kLast; k++) {
      if (this.retx[k & this.mask] === 1) {
        karnOk = false;
        break;
      }
    }
    let rttNs = -1;
    if (karnOk) {
      rttNs = now - (this.sentAt[kLast & this.mask] as number);
      this.rtt.sample(rttNs);
      this.stats.rttSumNs += rttNs;
      this.stats.rttSamples++;
    }
    this.sndUna = ack;
    if (this.sndNxt < ack) this.sndNxt = ack;
    if (this.ops.pktsAcked !== undefined) this.ops.pktsAcked(tcb, kLast - kFirst + 1, rttNs);

    let restartTimer = true;
    let event: TcpEvent = 'ack';
    if (tcb.inRecovery) {
      if (this.ops.recovery === 'reno' || ack > this.recover) {
        // Reno: RFC 5681 3.2 step 6. NewReno full ACK: RFC 6582 3.2 step 3 (option 2).
        tcb.cwnd = tcb.ssthresh;
        tcb.inRecovery = false;
        tcb.cwndCount = 0;
        this.dupacks = 0;
        event = 'recovery_exit';
      } else {
        // NewReno partial ACK, RFC 6582 3.2 step 3: resend the next hole, partial deflation.
        this.transmit(this.sndUna, Math.min(mss, this.totalBytes - this.sndUna), now);
        tcb.cwnd = Math.max(tcb.cwnd - bytesAcked + (bytesAcked >= mss ? mss : 0), mss);
        this.dupacks = 0;
        restartTimer = this.firstPartialAck; // RFC 6582 3.2 step 3 ("Impatient")
        this.firstPartialAck = false;
      }
    } else {
      this.dupacks = 0;
      this.ops.increaseWindow(tcb, bytesAcked);
    }

    if (this.sndUna >= this.highTx) {
      this.rtoDeadlineNs = -1; // RFC 6298 5.2
      if (this.done && this.stats.completedNs < 0) this.stats.completedNs = now;
    } else if (restartTimer) {
      this.rtoDeadlineNs = now + this.rtt.rtoNs; // RFC 6298 5.3
    }
    this.sendData(now);
    this.emit(now, event);
  }

  /** The retransmission timer fired at `now` (the driver calls this at or after {@link rtoDeadlineNs}). */
  onTimeout(now: Time): void {
    if (this.rtoDeadlineNs < 0 || now < this.rtoDeadlineNs) return;
    const tcb = this.tcb;
    this.stats.timeouts++;
    if (this.rtt.backoffs === 0) {
      this.stats.firstTimeouts++;
      this.stats.firstTimeoutRtoSumNs += this.rtt.rtoNs;
    }
    if (this.rtt.backoffs === 0 && !tcb.inRecovery) {
      // RFC 5681 eq. 4 applies the first time this data times out; later expirations keep ssthresh.
      // A timeout in fast recovery keeps the ssthresh of the fast retransmit (as Linux's
      // tcp_enter_loss does): FlightSize is inflated there and would undo the reduction.
      tcb.ssthresh = this.ops.ssThresh(tcb, this.flightSize());
    }
    tcb.cwnd = this.mss; // loss window, RFC 5681 section 3.1
    tcb.inRecovery = false;
    tcb.cwndCount = 0;
    this.dupacks = 0;
    this.recover = this.highTx - 1; // RFC 6582 3.2 step 4
    this.rtt.backoff(); // RFC 6298 5.5
    this.sndNxt = this.sndUna; // go back N
    this.rtoDeadlineNs = -1;
    this.sendData(now); // resends sndUna and restarts the timer (5.4, 5.6)
    this.emit(now, 'timeout');
  }

  /** Emits a trace record of the current state with `event` (the path uses it for `drop`). */
  emit(now: Time, event: TcpEvent): void {
    const trace = this.trace;
    if (trace === undefined || !trace.active) return;
    const tcb = this.tcb;
    trace.emit({
      timeNs: now,
      flow: this.flow,
      event,
      cwndBytes: tcb.cwnd,
      ssthreshBytes: tcb.ssthresh,
      segmentSize: tcb.segmentSize,
      state: congestionState(tcb),
      sndUna: this.sndUna,
      sndNxt: this.sndNxt,
      dupacks: this.dupacks,
      srttNs: this.rtt.srttNs,
      rtoNs: this.rtt.rtoNs,
    });
  }

  private fastRetransmit(now: Time): void {
    const tcb = this.tcb;
    this.stats.fastRetransmits++;
    tcb.ssthresh = this.ops.ssThresh(tcb, this.flightSize()); // RFC 5681 eq. 4
    if (this.ops.recovery !== 'reno') this.recover = this.highTx - 1; // RFC 6582 3.2 step 2 (and Tahoe, see above)
    tcb.cwndCount = 0;
    this.transmit(this.sndUna, Math.min(this.mss, this.totalBytes - this.sndUna), now);
    if (this.ops.recovery === 'none') {
      // Tahoe: cwnd = one segment, slow start. As in 4.3BSD-Tahoe only the missing segment is resent
      // (snd_nxt is restored after it), and the duplicate-ACK count is not reset, so the rest of the
      // window's duplicates trigger nothing; new data waits until the window has room again.
      tcb.cwnd = this.mss;
      this.emit(now, 'fast_retransmit');
      return;
    }
    tcb.cwnd = tcb.ssthresh + 3 * this.mss; // RFC 5681 3.2 step 3
    tcb.inRecovery = true;
    this.firstPartialAck = true;
    this.sendData(now);
    this.emit(now, 'fast_retransmit');
  }

  /**
   * FlightSize for RFC 5681 eq. 4: sndNxt - sndUna, but at most cwnd. Right after fast recovery
   * the flight still holds everything sent on the inflated window (without SACK much of it sits in
   * the receiver's out-of-order buffer); halving that would undo the reduction just made, so a loss
   * then halves the (deflated) cwnd, as Linux does.
   */
  private flightSize(): number {
    const flight = this.sndNxt - this.sndUna;
    return flight < this.tcb.cwnd ? flight : this.tcb.cwnd;
  }

  /** Sends new (or, after go-back-N, old) segments while the window allows. */
  private sendData(now: Time): void {
    const mss = this.mss;
    const total = this.totalBytes;
    const cwnd = this.tcb.cwnd;
    while (this.sndNxt < total) {
      const len = total - this.sndNxt < mss ? total - this.sndNxt : mss;
      if (this.sndNxt + len - this.sndUna > cwnd) break;
      this.transmit(this.sndNxt, len, now);
    }
  }

  private transmit(seq: number, len: number, now: Time): void {
    const k = seq / this.mss;
    const isRetx = seq < this.highTx;
    if (isRetx) {
      this.retx[k & this.mask] = 1;
      this.stats.retransmits++;
    } else {
      if ((this.highTx - this.sndUna) / this.mss + 1 > this.mask) this.grow();
      this.sentAt[k & this.mask] = now;
      this.retx[k & this.mask] = 0;
      this.highTx = seq + len;
    }
    this.stats.segmentsSent++;
    this.stats.bytesSent += len;
    if (seq === this.sndNxt) this.sndNxt = seq + len;
    if (this.rtoDeadlineNs < 0) this.rtoDeadlineNs = now + this.rtt.rtoNs; // RFC 6298 5.1
    this.out.transmit(seq, len, isRetx);
  }

  /** Doubles the per-segment ring, keeping the outstanding segments at their new slots. */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const sentAt = new Float64Array(cap);
    const retx = new Uint8Array(cap);
    const mask = cap - 1;
    const kEnd = Math.ceil(this.highTx / this.mss);
    for (let k = this.sndUna / this.mss; k < kEnd; k++) {
      sentAt[k & mask] = this.sentAt[k & this.mask] as number;
      retx[k & mask] = this.retx[k & this.mask] as number;
    }
    this.sentAt = sentAt;
    this.retx = retx;
    this.mask = mask;
  }
}

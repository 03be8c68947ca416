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
 * It is a sans-I/O {@link ProtocolNode}: a message (an ACK), a timer (`open`,
 * the application starts sending; `rto`, the retransmission timer) or a call
 * goes in, actions come out: `send` (a data segment to the peer), `set-timer`
 * (at most one per input, and only when the retransmission deadline comes
 * earlier than the pending timer: a timer that fires early is set again for
 * the deadline, so restarting the timer on every ACK costs nothing), and,
 * when someone listens (the `trace` gate of the config), `trace` actions.
 * Every input emits one `cwnd` trace record (after the segments it sent),
 * named by what happened: ack, dupack, fast_retransmit, recovery_exit,
 * timeout; every segment sent is followed by a `tx` record of the state right
 * after it, which the driver turns into a `drop` row when the network dropped
 * that segment. The actions come from a reused {@link ActionBuffer}: consume
 * them before the next input.
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
import type { Action, NodeId, ProtocolNode, Time } from '../sans-io.js';
import { ActionBuffer } from './action-buffer.js';
import { congestionState, createControlBlock, type CongestionState, type TcpControlBlock } from './control-block.js';
import type { CongestionOps } from './congestion/ops.js';
import type { TcpPacket } from './packet.js';
import { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';

/** What a trace record reports. `drop` marks a segment the network dropped when it was sent (the driver knows). */
export type TcpEvent = 'ack' | 'dupack' | 'fast_retransmit' | 'timeout' | 'recovery_exit' | 'drop';

/** One row of the cwnd trace: the sender's state right after an ACK or an event (a type, so it is a trace action's data). */
export type TcpTraceRecord = {
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
};

/** The `tx` trace record: the state right after a segment was sent, and the segment. Its event is `drop` (the driver emits it only for dropped segments). */
export type TcpTxRecord = TcpTraceRecord & {
  readonly seq: number;
  readonly len: number;
  /** 1 when some of the bytes were sent before. */
  readonly retransmission: number;
};

/** Whether anyone listens to the node's trace actions (checked before building a record: the cwnd trace is hot). */
export interface TraceGate {
  readonly active: boolean;
}

/** Timer names of a sender (a {@link TcpStack} gives each flow its own). */
export interface SenderTimerNames {
  /** The application starts sending. Default `open`. */
  readonly open: string;
  /** The retransmission timer. Default `rto`. */
  readonly rto: string;
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
  /** Flow id, put in packets and trace records. Default 0. */
  readonly flow?: number;
  /** Where data segments go (the receiver's node). Default 0. */
  readonly peer?: NodeId;
  /** TCP/IP header bytes added to each segment's size on the wire. Default 40. */
  readonly headerBytes?: number;
  /** When the application starts sending (ns; `start` sets the `open` timer for it). Default 0. */
  readonly startNs?: Time;
  /** Timer names. Default `open` and `rto`. */
  readonly timers?: SenderTimerNames;
  /** The action queue (shared with other machines of a {@link TcpStack}). Default: its own. */
  readonly actions?: ActionBuffer<TcpPacket>;
  /** Emit `cwnd` and `tx` trace actions while this gate is active. Default: never. */
  readonly trace?: TraceGate;
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

const DEFAULT_TIMERS: SenderTimerNames = { open: 'open', rto: 'rto' };

/** A TCP sender (Tahoe, Reno or NewReno by its {@link CongestionOps}), a sans-I/O protocol node. */
export class TcpSender implements ProtocolNode<TcpPacket> {
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
  /** Flow id. */
  readonly flow: number;
  /** The receiver's node. */
  readonly peer: NodeId;
  /** Timer names. */
  readonly timers: SenderTimerNames;

  private readonly ops: CongestionOps;
  private readonly mss: number;
  private readonly headerBytes: number;
  private readonly totalBytes: number;
  private readonly startNs: Time;
  private readonly out: ActionBuffer<TcpPacket>;
  private readonly trace: TraceGate | undefined;
  /** When the driver's retransmission timer fires (ns), or -1 when none is pending. */
  private armedNs: Time = -1;
  private firstPartialAck = false;
  private started = false;
  // Per segment (index k = seq / mss, slot k & mask): first-transmission time and "was retransmitted".
  private sentAt: Float64Array = new Float64Array(64);
  private retx: Uint8Array = new Uint8Array(64);
  private mask = 63;

  constructor(config: SenderConfig) {
    this.ops = config.ops;
    this.mss = config.mssBytes;
    this.totalBytes = config.totalBytes;
    if (!(this.totalBytes >= 0)) throw new RangeError(`totalBytes must be >= 0, got ${this.totalBytes}`);
    this.flow = config.flow ?? 0;
    this.peer = config.peer ?? 0;
    this.headerBytes = config.headerBytes ?? 40;
    this.startNs = config.startNs ?? 0;
    this.timers = config.timers ?? DEFAULT_TIMERS;
    this.out = config.actions ?? new ActionBuffer<TcpPacket>();
    this.trace = config.trace;
    this.tcb = createControlBlock(config.mssBytes, config.initialWindowSegments);
    this.rtt = new RttEstimator(config.rtt);
  }

  /** True when a finite transfer is fully acknowledged. */
  get done(): boolean {
    return this.sndUna >= this.totalBytes;
  }

  /** True once the application started sending. */
  get opened(): boolean {
    return this.started;
  }

  /** The traced congestion state. */
  get state(): CongestionState {
    return congestionState(this.tcb);
  }

  /**
   * The node starts (or restarts after a crash that kept its state): sets the `open` timer for the
   * application's start, or, once open, tells the driver the retransmission deadline again (a crash
   * stopped the driver's timers; a deadline already past fires at once).
   */
  start(now: Time): void {
    if (!this.started) {
      this.out.setTimer(this.timers.open, this.startNs > now ? this.startNs : now);
      return;
    }
    this.armedNs = -1; // the crash stopped the driver's timer
    this.flushTimer();
  }

  /** An ACK arrived (data segments sent to a sender are ignored). */
  handleMessage(_from: NodeId, msg: TcpPacket, now: Time): void {
    if (msg.len === 0) this.onAck(msg.seq, now);
  }

  /** The `open` or the `rto` timer fired. */
  handleTimer(timer: string, now: Time): void {
    if (timer === this.timers.rto) {
      this.armedNs = -1; // the driver's timer fired: none is pending now
      if (this.rtoDeadlineNs >= 0 && now < this.rtoDeadlineNs) this.flushTimer();
      else this.onTimeout(now);
    } else if (timer === this.timers.open) this.open(now);
  }

  /** The actions queued since the last poll (reused: consume them before the next input). */
  pollActions(): readonly Action<TcpPacket>[] {
    return this.out.poll();
  }

  /** The application has data: send the initial window (the `open` timer calls this). */
  open(now: Time): void {
    if (this.started) return;
    this.started = true;
    if (this.done) this.stats.completedNs = now;
    this.sendData(now);
    this.flushTimer();
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
      this.flushTimer();
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
    this.flushTimer();
  }

  /** The retransmission timer fired at `now` (ignored before {@link rtoDeadlineNs}). */
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
    this.flushTimer();
  }

  /** The record of the current state with `event`. */
  record(now: Time, event: TcpEvent): TcpTraceRecord {
    const tcb = this.tcb;
    return {
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
    };
  }

  private emit(now: Time, event: TcpEvent): void {
    const trace = this.trace;
    if (trace === undefined || !trace.active) return;
    this.out.trace('cwnd', this.record(now, event));
  }

  /**
   * Lazy re-arm (as real stacks do): the driver's timer is moved only when the deadline comes
   * earlier than the time it will fire, or when none is pending. A timer that fires before the
   * deadline (which RFC 6298 5.3 moved later on every ACK since) is set again for it; one that
   * fires with no deadline (5.2 turned the timer off) does nothing.
   */
  private flushTimer(): void {
    const d = this.rtoDeadlineNs;
    if (d < 0 || (this.armedNs >= 0 && this.armedNs <= d)) return;
    this.out.setTimer(this.timers.rto, d);
    this.armedNs = d;
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
    this.out.send(this.peer, { flow: this.flow, seq, len }, len + this.headerBytes);
    const trace = this.trace;
    if (trace !== undefined && trace.active) {
      const tx: TcpTxRecord = { ...this.record(now, 'drop'), seq, len, retransmission: isRetx ? 1 : 0 };
      this.out.trace('tx', tx);
    }
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

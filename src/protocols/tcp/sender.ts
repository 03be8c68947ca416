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
 * do not exceed min(cwnd, rwnd): rwnd is the window the last ACK advertised
 * (config `rwndBytes` until then, as a handshake would have carried it;
 * unlimited when the receiver advertises none).
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
 *
 * SACK (config `sack`, Reno or NewReno windows): the ACKs carry RFC 2018
 * blocks and a per-segment scoreboard replaces the algorithm's own recovery
 * with RFC 6675's: a duplicate ACK is one that SACKs new data; recovery starts
 * on the third or when the segment at sndUna IsLost (more than 2 SMSS SACKed
 * above it), with RecoveryPoint = recover = highTx - 1; every ACK then sets
 * pipe (SetPipe) and sends NextSeg (lost holes, new data, other holes, one
 * rescue) while cwnd - pipe >= 1 SMSS; cwnd is ssthresh (RFC 6675 4.2) or,
 * with PRR, pipe + sndcnt (RFC 6937 3.1, slow-start reduction bound); the
 * ACK that covers RecoveryPoint leaves recovery with cwnd = ssthresh. A
 * retransmission lost in recovery is found without waiting for the timer, by
 * Linux's lost-retransmit rule (`tcp_mark_lost_retrans` in
 * net/ipv4/tcp_input.c, with FACK, as Linux had it before RACK replaced it):
 * each retransmission remembers snd_nxt (here highTx) when it was sent, and is
 * lost once the highest SACKed segment starts after that byte, i.e. once
 * data sent after the retransmission reached the receiver first. The segment
 * then leaves pipe (its retransmission no longer counts, RFC 6675 SetPipe
 * (b)) and NextSeg sends it again before any other (the lowest lost segment
 * first, as Linux's retransmit queue does). RFC 6675 itself leaves a lost
 * retransmission to the retransmission timer. Before
 * recovery, RFC 3042 limited transmit sends new data by pipe on the first
 * duplicate ACKs (RFC 6675 step 3). After a timeout the go-back-N skips
 * SACKed segments. Every segment sent is a `tx` trace with its kind (see
 * {@link TxKind}) when the cwnd or the segment trace listens; PRR adds a
 * `prr` trace per ACK in recovery.
 *
 * RACK-TLP (SACK option `rack`, RFC 8985): every segment keeps the time it
 * was last sent. RACK (section 6.2) takes from each ACK the most recently sent
 * segment it delivered (RACK.xmit_ts, RACK.rtt) and marks lost every segment
 * not SACKed that was sent before it and RACK.rtt + reo_wnd ago; reo_wnd is
 * min_RTT / 4 (at most SRTT), or 0 in recovery or once DupThresh segments are
 * SACKed while no reordering was seen. A segment that would be lost a little
 * later sets the reordering timer. A mark starts recovery (beside RFC 6675's
 * DupThresh rule, which stays), NextSeg rule 1 sends marked segments first,
 * and pipe leaves them out; a retransmission marked lost replaces Linux's
 * lost-retransmit rule, which runs only without RACK. TLP (section 7): with
 * nothing SACKed, outside recovery and with no probe outstanding, the PTO is
 * (re)started on each new send or ACK of new data for 2 SRTT (+ WCDelAckT
 * with one segment in flight, never past the RTO); when it fires, one probe
 * goes out regardless of cwnd (new data, else the highest segment again), the
 * RTO restarts, and a retransmitted probe that repaired a loss reduces the
 * window once. One driver timer (`rto`) serves the RTO, the RACK timer and
 * the PTO, as Linux's retransmit timer does.
 *
 * ECN (config `ecn`, RFC 3168 section 6.1): first transmissions of data
 * segments are ECN-capable (retransmissions are not, section 6.1.5). An ACK
 * with ECE reduces the window as a loss would, ssthresh by the algorithm's
 * ssThresh and cwnd = ssthresh, without retransmitting anything, at most
 * once per window of data: not in loss recovery, not for ACKs at or below
 * `recover` (a loss in the same window reduced already), and only for an
 * ACK beyond the highest byte sent at the last ECN reduction. The next new
 * segment carries CWR. The reduction is traced as an `ecn` record before the
 * record of the ACK that carried ECE.
 */
import type { Action, NodeId, ProtocolNode, Time } from '../sans-io.js';
import { ActionBuffer } from './action-buffer.js';
import { congestionState, createControlBlock, type CongestionState, type TcpControlBlock } from './control-block.js';
import type { CongestionOps } from './congestion/ops.js';
import type { TcpPacket } from './packet.js';
import { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';

/** What a trace record reports. `drop` marks a segment the network dropped when it was sent (the driver knows). */
export type TcpEvent = 'ack' | 'dupack' | 'fast_retransmit' | 'timeout' | 'recovery_exit' | 'drop' | 'ecn' | 'tlp' | 'tlp_loss' | 'rack_timer';

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

/**
 * Why a segment was sent: `new` (first transmission), `fast` (the fast retransmit that starts
 * recovery), `rto` (a retransmission after a timeout: the timer's own and the go-back-N that follows),
 * `partial` (NewReno's retransmission on a partial ACK), `sack` (an RFC 6675 NextSeg retransmission
 * in SACK recovery), `rescue` (RFC 6675's rescue retransmission), `tlp` (an RFC 8985 tail loss probe:
 * new data, or the highest segment sent again).
 */
export type TxKind = 'new' | 'fast' | 'rto' | 'partial' | 'sack' | 'rescue' | 'tlp';

/** The `tx` trace record: the state right after a segment was sent, and the segment. Its event is `drop` (the driver emits it only for dropped segments). */
export type TcpTxRecord = TcpTraceRecord & {
  readonly seq: number;
  readonly len: number;
  /** 1 when some of the bytes were sent before. */
  readonly retransmission: number;
  readonly kind: TxKind;
  /** When the retransmission timer expires after this send (ns), as RFC 6298 5.1 leaves it. */
  readonly rtoDeadlineNs: Time;
  /** RFC 6675 pipe right after this send (bytes, the segment included), or -1 when the send was not governed by pipe. */
  readonly pipeBytes: number;
};

/**
 * The `prr` trace record: one per ACK a SACK sender with PRR handles in recovery (RFC 6937 section
 * 3), written before the segments that ACK lets out. `sndcnt` is what the ACK allows; the sends that
 * follow keep pipe within cwnd = pipe + sndcnt.
 */
export type PrrRecord = {
  readonly timeNs: Time;
  readonly flow: number;
  /** 1 on the ACK that starts recovery (its fast retransmit may go out even when sndcnt is 0, as Linux does). */
  readonly entry: number;
  /** Bytes this ACK newly delivered: advance of sndUna plus the change in SACKed bytes. */
  readonly deliveredBytes: number;
  /** prr_delivered and prr_out (before this ACK's sends), RecoverFS, pipe, ssthresh (bytes). */
  readonly prrDeliveredBytes: number;
  readonly prrOutBytes: number;
  readonly recoverFsBytes: number;
  readonly pipeBytes: number;
  readonly ssthreshBytes: number;
  /** `prr` (pipe > ssthresh: proportional part) or `ssrb` (slow-start reduction bound). */
  readonly mode: 'prr' | 'ssrb';
  readonly sndcntBytes: number;
  readonly segmentSize: number;
};

/** SACK settings of a {@link TcpSender} (RFC 2018, RFC 6675). */
export interface SackOptions {
  /** RFC 3042 limited transmit on the first two duplicate ACKs (as RFC 6675 section 5 step 3 words it, by pipe). */
  readonly limitedTransmit: boolean;
  /** RFC 6937 Proportional Rate Reduction in recovery (else RFC 6675: cwnd = ssthresh for the whole recovery). */
  readonly prr: boolean;
  /**
   * RFC 8985 RACK-TLP: time-based loss detection (RACK) beside RFC 6675's DupThresh rule, in place of
   * Linux's lost-retransmit rule, and the tail loss probe (TLP). Default false.
   */
  readonly rack?: boolean;
}

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
  /** Emit `tx` trace actions while this gate is active, whatever `trace` says. Default: never. */
  readonly segmentTrace?: TraceGate;
  /** Emit `prr` trace actions while this gate is active. Default: `segmentTrace`. */
  readonly prrTrace?: TraceGate;
  /** SACK loss recovery (RFC 6675) with these options, or none (the algorithm's own). Not with Tahoe. Default none. */
  readonly sack?: SackOptions;
  /** Initial ssthresh (bytes). Default Infinity (RFC 5681 3.1: "arbitrarily high"). */
  readonly initialSsthreshBytes?: number;
  /** The receiver's window before its first ACK says (bytes; the handshake's). Default Infinity. */
  readonly rwndBytes?: number;
  /**
   * The ACK that ends fast recovery: `rfc` only deflates cwnd to ssthresh (RFC 5681 3.2 step 6,
   * RFC 6582 3.2 step 3, RFC 6675 step A); `linux` then also lets it count toward window growth,
   * as Linux and ns-3 do. Default `rfc`.
   */
  readonly recoveryExit?: 'rfc' | 'linux';
  /** ECN (RFC 3168): send ECN-capable segments and react to ECE. Default false. */
  readonly ecn?: boolean;
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
  /** SACK recovery: retransmissions found lost by the lost-retransmit rule (Linux's TCPLostRetransmit). */
  lostRetransmits: number;
  /** Window reductions for ECN-Echo (RFC 3168). */
  ecnReductions: number;
  /** RFC 8985: tail loss probes sent. */
  tlpProbes: number;
  /** RFC 8985 section 7.4: window reductions because a retransmitted probe repaired a loss. */
  tlpLossResponses: number;
  /** RFC 8985 section 6.2 step 6: expirations of the RACK reordering timer that marked a segment lost. */
  rackTimerLosses: number;
}

const DEFAULT_TIMERS: SenderTimerNames = { open: 'open', rto: 'rto' };
/** RFC 8985 section 7.2: WCDelAckT, the worst-case delayed-ACK timer added to a one-segment flight's PTO (ns). */
export const TLP_WC_DEL_ACK_NS = 200_000_000;
/** The window of RACK's minimum-RTT filter (ns; Linux's tcp_min_rtt_wlen default, 300 s). */
const RACK_MIN_RTT_WINDOW_NS = 300_000_000_000;
const NEVER: TraceGate = Object.freeze({ active: false });

/** A TCP sender (Tahoe, Reno, NewReno or CUBIC by its {@link CongestionOps}), a sans-I/O protocol node. */
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
    lostRetransmits: 0,
    ecnReductions: 0,
    tlpProbes: 0,
    tlpLossResponses: 0,
    rackTimerLosses: 0,
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
  /** The receive window the last ACK advertised (bytes; Infinity: none). */
  sndWnd: number;
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
  // The gates are read per segment: plain `active` fields (a TraceSource's), never undefined.
  private readonly trace: TraceGate;
  private readonly segmentTrace: TraceGate;
  private readonly prrTrace: TraceGate;
  /** SACK settings, or undefined for the algorithm's own recovery. */
  private readonly sack: SackOptions | undefined;
  /** When the driver's retransmission timer fires (ns), or -1 when none is pending. */
  private armedNs: Time = -1;
  private firstPartialAck = false;
  private started = false;
  // Per segment (index k = seq / mss, slot k & mask): first-transmission time and "was retransmitted".
  private sentAt: Float64Array = new Float64Array(64);
  private retx: Uint8Array = new Uint8Array(64);
  private mask = 63;
  // SACK scoreboard (RFC 6675 section 3): per segment, 1 when SACKed; the SACKed bytes in [sndUna, highTx).
  private sacked: Uint8Array = new Uint8Array(64);
  private sackedBytes = 0;
  private sackedSegs = 0;
  /** Set by nextSeg when the segment it returns is the rescue retransmission. */
  private nextRescue = false;
  /** One past the highest byte SACKed (RFC 6675 HighSACK + 1), or 0. */
  private highSack = 0;
  /** One past the highest byte retransmitted in this recovery (RFC 6675 HighRxt + 1). */
  private highRxt = 0;
  /** RFC 6675 RescueRxt: the RecoveryPoint of the recovery that made its rescue retransmission, or -1. */
  private rescueRxt = -1;
  /** RFC 6675 pipe as last computed (bytes), or -1 outside a send governed by it (traced with each segment). */
  private pipe = -1;
  // Lost-retransmit detection (Linux's tcp_mark_lost_retrans): per segment, highTx when it was last
  // retransmitted in recovery (Linux keeps snd_nxt in the segment's ack_seq), and 1 once that
  // retransmission is known lost (until it is sent again).
  private rxtNxt: Float64Array = new Float64Array(64);
  private rxtLost: Uint8Array = new Uint8Array(64);
  private rxtLostSegs = 0;
  /** The lowest rxtNxt of the retransmissions not known lost (Linux's lost_retrans_low), or Infinity. */
  private lostRetransLow = Infinity;
  // RFC 6937 state: prr_delivered, prr_out, RecoverFS (bytes).
  private readonly linuxExit: boolean;
  private prrDelivered = 0;
  private prrOut = 0;
  private recoverFs = 0;
  private readonly ecn: boolean;
  /** RFC 3168: highTx at the last ECN reduction (an ECE reduces again only for an ACK beyond it). */
  private ecnHigh = -Infinity;
  /** RFC 3168: set CWR on the next new data segment. */
  private cwrPending = false;
  // RFC 8985 RACK-TLP (config `sack.rack`). Per segment: when it was last sent (xmit_ts) and 1 when
  // RACK found that transmission lost and it has not been sent again in this recovery (a
  // retransmission below HighRxt found lost is marked in rxtLost instead).
  private readonly rack: boolean;
  private xmitAt: Float64Array = new Float64Array(64);
  private rackLost: Uint8Array = new Uint8Array(64);
  private rackLostSegs = 0;
  /** RACK.xmit_ts and RACK.end_seq of the most recently sent segment delivered, RACK.rtt (ns), or -1 before any. */
  private rackXmitNs = -1;
  private rackEndSeq = 0;
  private rackRttNs = 0;
  /** RACK.min_RTT (ns) and when it was taken (a windowed minimum). */
  private rackMinRttNs = Infinity;
  private rackMinRttAtNs = 0;
  /** RACK.fack (highest end sequence delivered) and RACK.reordering_seen. */
  private rackFack = 0;
  private reorderingSeen = false;
  /** The newest valid segment this ACK delivered (xmit_ts, end_seq, rtt), or xmit -1 (RFC 8985 6.2 step 2). */
  private ackXmitNs = -1;
  private ackEndSeq = 0;
  private ackRttNs = 0;
  /** The RACK reordering timer and the TLP probe timeout (ns), or -1 when off. */
  private rackDeadlineNs: Time = -1;
  private ptoDeadlineNs: Time = -1;
  /** TLP.end_seq (highTx right after the probe) or -1 when no probe is outstanding; TLP.is_retrans. */
  private tlpEndSeq = -1;
  private tlpIsRetrans = false;
  /** Between a timeout and the ACK past its `recover` (RFC 8985's "RTO recovery"). */
  private rtoRecovery = false;

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
    this.trace = config.trace ?? NEVER;
    this.segmentTrace = config.segmentTrace ?? NEVER;
    this.prrTrace = config.prrTrace ?? this.segmentTrace;
    this.sack = config.sack;
    this.rack = config.sack?.rack === true;
    this.ecn = config.ecn ?? false;
    if (this.sack !== undefined && this.ops.recovery === 'none')
      throw new RangeError(`SACK recovery needs fast recovery, which ${this.ops.name} does not have`);
    this.tcb = createControlBlock(config.mssBytes, config.initialWindowSegments, config.initialSsthreshBytes ?? Infinity);
    this.sndWnd = config.rwndBytes ?? Infinity;
    if (!(this.sndWnd >= this.mss)) throw new RangeError(`rwndBytes must be >= one segment (${this.mss}), got ${this.sndWnd}`);
    this.linuxExit = config.recoveryExit === 'linux';
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
    if (msg.len !== 0) return;
    if (msg.wnd !== undefined && msg.seq >= this.sndUna) this.sndWnd = msg.wnd; // the window of an ACK not stale
    if (msg.ece === true && this.ecn) this.onEce(msg.seq, now);
    this.onAck(msg.seq, now, msg.sack);
  }

  /**
   * An ACK with ECN-Echo (RFC 3168 section 6.1.2): reduce as for a loss, without retransmitting, at
   * most once per window of data (see the theory of operation), before the ACK itself is processed.
   */
  onEce(ack: number, now: Time): void {
    if (ack > this.highTx || ack < this.sndUna) return;
    const tcb = this.tcb;
    if (tcb.inRecovery || ack <= this.ecnHigh || ack - 1 <= this.recover) return;
    tcb.ssthresh = this.ops.ssThresh(tcb, this.flightSize()); // as RFC 5681 eq. 4
    tcb.cwnd = tcb.ssthresh > this.mss ? tcb.ssthresh : this.mss;
    tcb.cwndCount = 0;
    this.ecnHigh = this.highTx;
    this.cwrPending = true;
    this.stats.ecnReductions++;
    this.emit(now, 'ecn');
  }

  /** The `open` or the `rto` timer fired. */
  handleTimer(timer: string, now: Time): void {
    if (timer === this.timers.rto) {
      this.armedNs = -1; // the driver's timer fired: none is pending now
      if (this.rack) this.onRackTlpTimer(now);
      else if (this.rtoDeadlineNs >= 0 && now < this.rtoDeadlineNs) this.flushTimer();
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
    if (this.rack) this.armPto(now);
    this.flushTimer();
  }

  /** A cumulative ACK (next byte expected by the receiver) arrived, with its SACK blocks if any. */
  onAck(ack: number, now: Time, sackBlocks?: readonly number[]): void {
    if (ack > this.highTx || ack < this.sndUna) return; // acknowledges unsent data, or stale
    if (this.sack !== undefined) {
      this.onSackAck(ack, now, sackBlocks, this.sack);
      return;
    }
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
    this.advance(ack, now);

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
        if (this.linuxExit) this.ops.increaseWindow(tcb, bytesAcked, now); // Linux, ns-3: the exit ACK counts
      } else {
        // NewReno partial ACK, RFC 6582 3.2 step 3: resend the next hole, partial deflation. The
        // timer restarts on the first partial ACK only ("Impatient"), before the resend so that
        // the resend's trace shows the deadline it leaves.
        tcb.cwnd = Math.max(tcb.cwnd - bytesAcked + (bytesAcked >= mss ? mss : 0), mss);
        this.dupacks = 0;
        restartTimer = false;
        if (this.firstPartialAck) this.rtoDeadlineNs = now + this.rtt.rtoNs; // RFC 6298 5.3
        this.firstPartialAck = false;
        this.transmit(this.sndUna, Math.min(mss, this.totalBytes - this.sndUna), now, 'partial');
      }
    } else {
      this.dupacks = 0;
      this.ops.increaseWindow(tcb, bytesAcked, now);
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

  /**
   * An ACK of a SACK sender (RFC 6675 section 5; PRR per RFC 6937 section 3). The scoreboard takes
   * the ACK's blocks first. A duplicate ACK is one that SACKs data not SACKed before (RFC 6675
   * section 2); recovery starts on the third, or when the segment at sndUna IsLost (step 2), once
   * sndUna is past `recover` (the RecoveryPoint of the last recovery or timeout). In recovery
   * (steps A-C) the ACK that covers RecoveryPoint (= recover) ends it with cwnd = ssthresh; any other
   * sets pipe and sends NextSeg while cwnd - pipe >= 1 SMSS, cwnd being ssthresh (RFC 6675 step 4.2)
   * or, with PRR, pipe + sndcnt.
   */
  private onSackAck(ack: number, now: Time, blocks: readonly number[] | undefined, opts: SackOptions): void {
    const tcb = this.tcb;
    const sackedBefore = this.sackedBytes;
    const bytesAcked = ack - this.sndUna;
    const highTxBefore = this.highTx;
    if (bytesAcked > 0) this.advance(ack, now);
    const newlySacked = blocks !== undefined && blocks.length > 0 ? this.updateScoreboard(blocks, now) : 0;
    if (this.rack) {
      if (bytesAcked > 0 && this.rtoRecovery && ack > this.recover) this.rtoRecovery = false;
      this.rackAfterAck(ack, bytesAcked, now);
    } else if (newlySacked > 0 && tcb.inRecovery) this.markLostRetransmits();
    const delivered = bytesAcked + this.sackedBytes - sackedBefore; // RFC 6937 DeliveredData
    if (bytesAcked === 0 && (this.highTx <= this.sndUna || newlySacked === 0)) {
      if (this.rack) this.flushTimer(); // the RACK timer may have moved
      return; // not a duplicate ACK
    }

    let event: TcpEvent = bytesAcked > 0 ? 'ack' : 'dupack';
    if (bytesAcked > 0) {
      if (this.sndUna >= this.highTx) {
        this.rtoDeadlineNs = -1; // RFC 6298 5.2
        if (this.done && this.stats.completedNs < 0) this.stats.completedNs = now;
      } else this.rtoDeadlineNs = now + this.rtt.rtoNs; // RFC 6298 5.3
    }
    if (tcb.inRecovery) {
      if (ack > this.recover) {
        // RFC 6675 step A: the cumulative ACK covers RecoveryPoint; RFC 6937 ends with cwnd = ssthresh too.
        tcb.cwnd = tcb.ssthresh;
        tcb.inRecovery = false;
        this.forgetLostRetransmits();
        tcb.cwndCount = 0;
        this.dupacks = 0;
        event = 'recovery_exit';
        if (this.linuxExit && bytesAcked > 0) this.ops.increaseWindow(tcb, bytesAcked, now); // Linux, ns-3: the exit ACK counts
        this.sendData(now);
      } else {
        if (bytesAcked === 0) this.dupacks++;
        this.recoverySend(now, delivered, opts, false); // steps B and C
      }
    } else {
      if (bytesAcked > 0) {
        this.dupacks = 0; // step 1
        this.ops.increaseWindow(tcb, bytesAcked, now);
      } else this.dupacks++;
      // HighACK > RecoveryPoint: not while a timeout's go-back-N is still below its recover. (NewReno's
      // stricter "covers more than recover" guards against duplicates of segments resent after a
      // timeout; with SACK those SACK nothing new, so they are no duplicate ACKs at all, and the
      // stricter test would wrongly refuse a loss of the first segment after a recovery.)
      const lost = this.dupacks >= 3 || this.isLost(this.sndUna) || this.rackLostSegs > 0; // RFC 8985 6.2: or RACK found a loss
      if (lost && this.sndUna > this.recover && this.highTx > this.sndUna) {
        this.enterSackRecovery(now, delivered, opts); // steps 2 and 4
        event = 'fast_retransmit';
      } else if (bytesAcked === 0) {
        // Step 3 (RFC 3042 by pipe): new data while cwnd - pipe >= 1 SMSS; SACKed segments left the pipe.
        if (opts.limitedTransmit && this.sndNxt === this.highTx) this.sendNewByPipe(now);
      } else this.sendData(now);
    }
    this.pipe = -1;
    if (this.rack) {
      // RFC 8985 7.2: (re)start the PTO after sending new data or on an ACK of new data.
      if (bytesAcked > 0 || this.highTx > highTxBefore) this.armPto(now);
      else if (!this.ptoAllowed()) this.ptoDeadlineNs = -1;
    }
    this.emit(now, event);
    this.flushTimer();
  }

  /** RFC 6675 step 4 (fast retransmit, loss recovery), with RFC 6937's initialisation when PRR is on. */
  private enterSackRecovery(now: Time, delivered: number, opts: SackOptions): void {
    const tcb = this.tcb;
    this.stats.fastRetransmits++;
    tcb.ssthresh = this.ops.ssThresh(tcb, this.flightSize()); // step 4.2 (RFC 5681 eq. 4)
    this.recover = this.highTx - 1; // step 4.1: RecoveryPoint = HighData
    tcb.inRecovery = true;
    tcb.cwndCount = 0;
    this.highRxt = this.sndUna;
    this.rescueRxt = -1;
    this.forgetLostRetransmits();
    if (this.rack) {
      // No probe in recovery (RFC 8985 7.2); this reduction answers any loss a probe outstanding repaired.
      this.ptoDeadlineNs = -1;
      this.tlpEndSeq = -1;
    }
    if (opts.prr) {
      this.prrDelivered = 0;
      this.prrOut = 0;
      this.recoverFs = this.highTx - this.sndUna; // RFC 6937: RecoverFS = snd.nxt - snd.una
    } else tcb.cwnd = tcb.ssthresh; // step 4.2
    this.recoverySend(now, delivered, opts, true);
  }

  /**
   * One ACK in SACK recovery: pipe (RFC 6675 SetPipe), cwnd by PRR (RFC 6937 section 3.1, with
   * the slow-start reduction bound) when on, then step C: NextSeg while cwnd - pipe >= 1 SMSS. On
   * entry the segment at sndUna goes first, whatever the window (RFC 6675 step 4.3; with PRR Linux's
   * tcp_cwnd_reduction likewise lets the first segment of a recovery out).
   */
  private recoverySend(now: Time, delivered: number, opts: SackOptions, entry: boolean): void {
    const tcb = this.tcb;
    const mss = this.mss;
    this.pipe = this.setPipe();
    if (opts.prr) {
      this.prrDelivered += delivered;
      const ssthresh = tcb.ssthresh;
      let sndcnt: number;
      const proportional = this.pipe > ssthresh;
      if (proportional) sndcnt = Math.ceil((this.prrDelivered * ssthresh) / this.recoverFs) - this.prrOut;
      else sndcnt = Math.min(ssthresh - this.pipe, Math.max(this.prrDelivered - this.prrOut, delivered) + mss);
      if (sndcnt < 0) sndcnt = 0;
      if (this.prrTrace.active) {
        const r: PrrRecord = {
          timeNs: now,
          flow: this.flow,
          entry: entry ? 1 : 0,
          deliveredBytes: delivered,
          prrDeliveredBytes: this.prrDelivered,
          prrOutBytes: this.prrOut,
          recoverFsBytes: this.recoverFs,
          pipeBytes: this.pipe,
          ssthreshBytes: ssthresh,
          mode: proportional ? 'prr' : 'ssrb',
          sndcntBytes: sndcnt,
          segmentSize: mss,
        };
        this.out.trace('prr', r);
      }
      tcb.cwnd = this.pipe + sndcnt;
    }
    if (entry) {
      const len = this.segmentLength(this.sndUna / mss);
      this.pipe += len; // a lost segment is back in the pipe (it is now below HighRxt)
      this.highRxt = this.sndUna + len;
      if (opts.prr) this.prrOut += len;
      this.noteRetransmit(this.sndUna / mss);
      this.transmit(this.sndUna, len, now, 'fast');
    }
    while (tcb.cwnd - this.pipe >= mss) {
      const k = this.nextSeg();
      if (k < 0) break;
      const seq = k * mss;
      let kind: TxKind;
      let len: number;
      if (seq >= this.highTx) {
        if (seq >= this.totalBytes) break;
        kind = 'new';
        len = this.totalBytes - seq < mss ? this.totalBytes - seq : mss;
        if (seq + len - this.sndUna > this.sndWnd) break; // the receive window
      } else {
        len = this.segmentLength(k);
        if (this.nextRescue) {
          kind = 'rescue';
          this.rescueRxt = this.recover; // NextSeg rule 4: HighRxt is not updated
        } else {
          kind = 'sack';
          if (seq + len > this.highRxt) this.highRxt = seq + len; // step C.2
          this.noteRetransmit(k);
        }
      }
      this.pipe += len; // step C.3
      if (opts.prr) this.prrOut += len;
      this.transmit(seq, len, now, kind);
    }
  }

  /** RFC 6675 step 3 (limited transmit, RFC 3042): previously unsent segments while cwnd - pipe >= 1 SMSS. */
  private sendNewByPipe(now: Time): void {
    const mss = this.mss;
    this.highRxt = this.sndUna; // step 3.1: HighRxt = HighACK
    this.pipe = this.setPipe();
    while (this.tcb.cwnd - this.pipe >= mss && this.highTx < this.totalBytes) {
      const len = this.totalBytes - this.highTx < mss ? this.totalBytes - this.highTx : mss;
      if (this.highTx + len - this.sndUna > this.sndWnd) break; // the receive window
      this.pipe += len;
      this.transmit(this.highTx, len, now, 'new');
    }
  }

  /** Segment k is retransmitted in recovery now: remember highTx for the lost-retransmit rule. */
  private noteRetransmit(k: number): void {
    const slot = k & this.mask;
    if (this.rxtLost[slot] === 1) {
      this.rxtLost[slot] = 0;
      this.rxtLostSegs--;
    }
    this.rxtNxt[slot] = this.highTx;
    if (this.highTx < this.lostRetransLow) this.lostRetransLow = this.highTx;
  }

  /**
   * Linux's lost-retransmit rule (tcp_mark_lost_retrans, with FACK): a retransmission in recovery is
   * lost when the highest SACKed segment starts after the snd_nxt it was sent with, i.e. when
   * data sent after it arrived first (desim's links keep order). Every segment below HighRxt and not
   * SACKed was retransmitted in this recovery (NextSeg passes over SACKed ones only).
   */
  private markLostRetransmits(): void {
    const mss = this.mss;
    const receivedUpto = (Math.ceil(this.highSack / mss) - 1) * mss; // tcp_highest_sack_seq: start of the highest SACKed segment
    if (!(receivedUpto > this.lostRetransLow)) return;
    let low = Infinity;
    const kEnd = Math.ceil(this.highRxt / mss);
    for (let k = this.sndUna / mss; k < kEnd; k++) {
      const slot = k & this.mask;
      if (this.sacked[slot] === 1 || this.rxtLost[slot] === 1) continue;
      const sentWith = this.rxtNxt[slot] as number;
      if (receivedUpto > sentWith) {
        this.rxtLost[slot] = 1;
        this.rxtLostSegs++;
        this.stats.lostRetransmits++;
      } else if (sentWith < low) low = sentWith;
    }
    this.lostRetransLow = low;
  }

  /**
   * RFC 8985 section 6.2 steps 1-3 for one segment this ACK delivered (cumulatively or by SACK):
   * min_RTT, reordering (a segment below RACK.fack that was never retransmitted arrived late), and
   * the candidate for RACK.xmit_ts / RACK.rtt, applied once per ACK by {@link rackAfterAck}.
   */
  private rackDelivered(k: number, now: Time): void {
    const slot = k & this.mask;
    const end = k * this.mss + this.segmentLength(k);
    const retransmitted = this.retx[slot] === 1;
    if (end > this.rackFack) this.rackFack = end;
    else if (end < this.rackFack && !retransmitted) this.reorderingSeen = true; // step 3
    const xmit = this.xmitAt[slot] as number;
    const rtt = now - xmit;
    if (retransmitted) {
      // Step 2: the ACK may be for the original (no timestamps here): an RTT below min_RTT says so.
      if (rtt < this.rackMinRttNs) return;
    } else if (rtt <= this.rackMinRttNs || now - this.rackMinRttAtNs > RACK_MIN_RTT_WINDOW_NS) {
      this.rackMinRttNs = rtt; // step 1, a windowed minimum (the window is Linux's, 300 s)
      this.rackMinRttAtNs = now;
    }
    if (xmit > this.ackXmitNs || (xmit === this.ackXmitNs && end > this.ackEndSeq)) {
      this.ackXmitNs = xmit;
      this.ackEndSeq = end;
      this.ackRttNs = rtt;
    }
  }

  /**
   * After an ACK's deliveries (RFC 8985 6.2 steps 2, 4, 5 and section 7.4): RACK.rtt is the RTT of
   * the most recently sent segment the ACK delivered, RACK.xmit_ts/end_seq move forward to it; the
   * TLP episode is closed or answered; losses are detected when anything is SACKed or in recovery.
   */
  private rackAfterAck(ack: number, bytesAcked: number, now: Time): void {
    if (this.ackXmitNs >= 0) {
      this.rackRttNs = this.ackRttNs;
      if (this.ackXmitNs > this.rackXmitNs || (this.ackXmitNs === this.rackXmitNs && this.ackEndSeq > this.rackEndSeq)) {
        this.rackXmitNs = this.ackXmitNs;
        this.rackEndSeq = this.ackEndSeq;
      }
      this.ackXmitNs = -1;
    }
    if (this.tlpEndSeq >= 0 && ack >= this.tlpEndSeq) this.tlpOnAck(ack, bytesAcked, now);
    if (this.sackedSegs > 0 || this.tcb.inRecovery || this.rackLostSegs > 0) this.rackDetectLoss(now);
    else this.rackDeadlineNs = -1;
  }

  /**
   * RFC 8985 section 7.4.2 on an ACK at or past TLP.end_seq: a probe of new data ends the episode
   * (RACK finds any loss); a retransmitted probe that was cumulatively acknowledged past its end
   * repaired a loss (desim's receiver sends no DSACK that could say both copies arrived), so the
   * window is reduced as for any loss, once (ssthresh by the algorithm, cwnd = ssthresh, Linux's
   * CWR); a pure duplicate ACK of it means original and probe both arrived.
   */
  private tlpOnAck(ack: number, bytesAcked: number, now: Time): void {
    if (!this.tlpIsRetrans) {
      this.tlpEndSeq = -1;
      return;
    }
    if (ack > this.tlpEndSeq) {
      this.tlpEndSeq = -1;
      if (this.tcb.inRecovery) return;
      const tcb = this.tcb;
      tcb.ssthresh = this.ops.ssThresh(tcb, this.flightSize());
      tcb.cwnd = tcb.ssthresh > this.mss ? tcb.ssthresh : this.mss;
      tcb.cwndCount = 0;
      this.stats.tlpLossResponses++;
      this.emit(now, 'tlp_loss');
    } else if (bytesAcked === 0) this.tlpEndSeq = -1;
  }

  /** RFC 8985 6.2 step 4: RACK.reo_wnd (no DSACK here, so reo_wnd_mult stays 1). */
  private rackReoWnd(): number {
    if (!this.reorderingSeen && (this.tcb.inRecovery || this.rtoRecovery || this.sackedSegs >= 3)) return 0;
    const quarter = Math.floor(this.rackMinRttNs / 4);
    const srtt = Math.floor(this.rtt.srttNs); // integer ns, as every deadline
    return quarter < srtt ? quarter : srtt;
  }

  /**
   * RFC 8985 6.2 step 5 (RACK_detect_loss): every segment not SACKed, sent before RACK's segment
   * (by time, then end sequence), is lost once RACK.rtt + reo_wnd has passed since it was sent;
   * the reordering timer is set for the earliest one still waiting. Returns whether it marked any.
   * A retransmission of this recovery (below HighRxt) found lost is marked as a lost retransmission.
   */
  private rackDetectLoss(now: Time): boolean {
    this.rackDeadlineNs = -1;
    if (this.rackXmitNs < 0) return false;
    const mss = this.mss;
    const reo = this.rackReoWnd();
    const inRecovery = this.tcb.inRecovery;
    let timeout = 0;
    let marked = false;
    const kEnd = Math.ceil(this.highTx / mss);
    for (let k = this.sndUna / mss; k < kEnd; k++) {
      const slot = k & this.mask;
      if (this.sacked[slot] === 1) continue;
      const rxt = inRecovery && k * mss < this.highRxt;
      if (rxt ? this.rxtLost[slot] === 1 : this.rackLost[slot] === 1) continue;
      const xmit = this.xmitAt[slot] as number;
      if (!(this.rackXmitNs > xmit || (this.rackXmitNs === xmit && this.rackEndSeq > k * mss + this.segmentLength(k)))) continue;
      const remaining = xmit + this.rackRttNs + reo - now;
      if (remaining > 0) {
        if (remaining > timeout) timeout = remaining;
        continue;
      }
      marked = true;
      if (rxt) {
        this.rxtLost[slot] = 1;
        this.rxtLostSegs++;
        this.stats.lostRetransmits++;
      } else {
        this.rackLost[slot] = 1;
        this.rackLostSegs++;
        if (this.retx[slot] === 1) this.stats.lostRetransmits++;
      }
    }
    if (timeout > 0) this.rackDeadlineNs = now + timeout;
    return marked;
  }

  /** A timeout: go-back-N resends everything not SACKed, so RACK's marks and the probe end (RFC 8985 6.3, 7). */
  private rackOnTimeout(): void {
    if (this.rackLostSegs > 0) {
      const kEnd = Math.ceil(this.highTx / this.mss);
      for (let k = this.sndUna / this.mss; k < kEnd; k++) this.rackLost[k & this.mask] = 0;
      this.rackLostSegs = 0;
    }
    this.rackDeadlineNs = -1;
    this.ptoDeadlineNs = -1;
    this.tlpEndSeq = -1;
    this.rtoRecovery = true;
  }

  /** RFC 8985 7.2: a probe may be scheduled (SACK is on here): no probe outstanding, not in recovery, nothing SACKed, data in flight. */
  private ptoAllowed(): boolean {
    return this.tlpEndSeq < 0 && !this.tcb.inRecovery && !this.rtoRecovery && this.sackedSegs === 0 && this.sndUna < this.highTx;
  }

  /**
   * RFC 8985 7.2 (TLP_calc_PTO): PTO = 2 SRTT, plus WCDelAckT when one segment is in flight, 1 s
   * before any RTT sample; never later than the retransmission timer.
   */
  private armPto(now: Time): void {
    if (!this.ptoAllowed()) {
      this.ptoDeadlineNs = -1;
      return;
    }
    const srtt = Math.ceil(this.rtt.srttNs); // integer ns, as every deadline
    let pto = srtt > 0 ? 2 * srtt : 1_000_000_000;
    if (srtt > 0 && this.highTx - this.sndUna <= this.mss) pto += TLP_WC_DEL_ACK_NS;
    let d = now + pto;
    if (this.rtoDeadlineNs >= 0 && d > this.rtoDeadlineNs) d = this.rtoDeadlineNs;
    this.ptoDeadlineNs = d;
  }

  /** The earliest of the retransmission, RACK and PTO deadlines, or -1. */
  private nextDeadline(): Time {
    let d = this.rtoDeadlineNs;
    const r = this.rackDeadlineNs;
    if (r >= 0 && (d < 0 || r < d)) d = r;
    const p = this.ptoDeadlineNs;
    if (p >= 0 && (d < 0 || p < d)) d = p;
    return d;
  }

  /**
   * The driver's timer of a RACK-TLP sender fired (one timer serves the RTO, the RACK reordering
   * timer and the PTO, as Linux's retransmit timer does): the RACK timer first, then the probe
   * (which, when due with the RTO, takes its place: RFC 8985 7.2), then the timeout.
   */
  private onRackTlpTimer(now: Time): void {
    const d = this.nextDeadline();
    if (d < 0) return;
    if (now < d) {
      this.flushTimer();
      return;
    }
    if (this.rackDeadlineNs >= 0 && now >= this.rackDeadlineNs) this.onRackTimer(now);
    else if (this.ptoDeadlineNs >= 0 && now >= this.ptoDeadlineNs) this.onPto(now);
    else this.onTimeout(now);
  }

  /** RFC 8985 6.2 step 6: the reordering timer expired: detect losses again; a loss starts or feeds recovery. */
  private onRackTimer(now: Time): void {
    const opts = this.sack as SackOptions;
    if (!this.rackDetectLoss(now)) {
      this.flushTimer();
      return;
    }
    this.stats.rackTimerLosses++;
    if (this.tcb.inRecovery) this.recoverySend(now, 0, opts, false);
    else if (this.sndUna > this.recover && this.highTx > this.sndUna) this.enterSackRecovery(now, 0, opts);
    this.pipe = -1;
    this.emit(now, 'rack_timer');
    this.flushTimer();
  }

  /**
   * RFC 8985 7.3 (TLP_send_probe): the PTO expired: send one new segment if the receive window lets
   * it out (cwnd does not count), else the highest segment sent again; remember TLP.end_seq and
   * whether it was a retransmission, and restart the retransmission timer.
   */
  private onPto(now: Time): void {
    this.ptoDeadlineNs = -1;
    if (!this.ptoAllowed()) {
      this.flushTimer();
      return;
    }
    const mss = this.mss;
    const total = this.totalBytes;
    const newLen = total - this.highTx < mss ? total - this.highTx : mss;
    const isRetx = !(this.sndNxt === this.highTx && newLen > 0 && this.highTx + newLen - this.sndUna <= this.sndWnd);
    this.rtoDeadlineNs = now + this.rtt.rtoNs; // 7.3: re-arm the retransmission timer (before the send, so its trace shows it)
    if (isRetx) {
      const k = Math.ceil(this.highTx / mss) - 1;
      this.transmit(k * mss, this.segmentLength(k), now, 'tlp');
    } else this.transmit(this.highTx, newLen, now, 'tlp');
    this.tlpEndSeq = this.highTx;
    this.tlpIsRetrans = isRetx;
    this.stats.tlpProbes++;
    this.emit(now, 'tlp');
    this.flushTimer();
  }

  /** Leaving (or entering) recovery: no retransmission is known lost or watched any more. */
  private forgetLostRetransmits(): void {
    this.lostRetransLow = Infinity;
    if (this.rxtLostSegs === 0) return;
    const kEnd = Math.ceil(this.highTx / this.mss);
    for (let k = this.sndUna / this.mss; k < kEnd; k++) this.rxtLost[k & this.mask] = 0;
    this.rxtLostSegs = 0;
  }

  /** Marks the segments the blocks cover entirely as SACKed; returns the bytes newly SACKed. */
  private updateScoreboard(blocks: readonly number[], now: Time): number {
    const mss = this.mss;
    let newly = 0;
    for (let i = 0; i + 1 < blocks.length; i += 2) {
      const s = Math.max(blocks[i] as number, this.sndUna);
      const e = Math.min(blocks[i + 1] as number, this.highTx);
      for (let k = Math.ceil(s / mss); k * mss < e; k++) {
        const len = this.segmentLength(k);
        const end = k * mss + len;
        if (end > e) break;
        const slot = k & this.mask;
        if (this.sacked[slot] === 1) continue;
        this.sacked[slot] = 1;
        if (this.rxtLost[slot] === 1) {
          this.rxtLost[slot] = 0;
          this.rxtLostSegs--;
        }
        if (this.rack) {
          this.rackDelivered(k, now);
          if (this.rackLost[slot] === 1) {
            this.rackLost[slot] = 0;
            this.rackLostSegs--;
          }
        }
        this.sackedBytes += len;
        this.sackedSegs++;
        newly += len;
        if (end > this.highSack) this.highSack = end;
      }
    }
    return newly;
  }

  /**
   * RFC 6675 IsLost for the segment at sndUna: DupThresh (3) SACKed segments above it, or more than
   * (DupThresh - 1) * SMSS bytes SACKed above it (every SACKed byte is above sndUna).
   */
  private isLost(seq: number): boolean {
    if (seq !== this.sndUna) throw new RangeError('isLost is asked about sndUna only');
    return this.sackedSegs >= 3 || this.sackedBytes > 2 * this.mss;
  }

  /**
   * RFC 6675 SetPipe: every outstanding segment not SACKed counts once unless IsLost, and once more
   * if it was retransmitted in this recovery (it starts below HighRxt).
   */
  private setPipe(): number {
    const mss = this.mss;
    const una = this.sndUna;
    const kUna = una / mss;
    const kEnd = Math.ceil(this.highTx / mss);
    let kHs = Math.ceil(this.highSack / mss);
    if (kHs < kUna) kHs = kUna;
    if (kHs > kEnd) kHs = kEnd;
    // Above HighSACK nothing is SACKed or lost: count the bytes at once.
    const top = kHs * mss > una ? kHs * mss : una;
    let pipe = this.highTx > top ? this.highTx - top : 0;
    const rxtTop = this.highRxt < this.highTx ? this.highRxt : this.highTx;
    if (rxtTop > top) pipe += rxtTop - top;
    let above = 0;
    let aboveSegs = 0;
    for (let k = kHs - 1; k >= kUna; k--) {
      const len = this.segmentLength(k);
      if (this.sacked[k & this.mask] === 1) {
        above += len;
        aboveSegs++;
        continue;
      }
      if (aboveSegs < 3 && above <= 2 * mss && this.rackLost[k & this.mask] !== 1) pipe += len;
      if (k * mss < this.highRxt && this.rxtLost[k & this.mask] !== 1) pipe += len; // a retransmission known lost is not in flight
    }
    if (this.rack && (this.rackLostSegs > 0 || this.rxtLostSegs > 0)) {
      // RACK may find segments above HighSACK lost (sent before a retransmission that arrived), and
      // retransmissions of them: out of the pipe.
      for (let k = kHs; k < kEnd; k++) {
        if (this.rackLost[k & this.mask] === 1) pipe -= this.segmentLength(k);
        if (k * mss < this.highRxt && this.rxtLost[k & this.mask] === 1) pipe -= this.segmentLength(k);
      }
    }
    return pipe;
  }

  /**
   * RFC 6675 NextSeg: the segment index to send next, or -1. Rule 1: the first segment at or above
   * HighRxt, below HighSACK, not SACKed and IsLost; rule 2: new data; rule 3: the first segment at or
   * above HighRxt, below HighSACK, not SACKed; rule 4: the rescue retransmission of the highest
   * outstanding segment not SACKed, once per recovery (sets {@link nextRescue}).
   */
  private nextSeg(): number {
    this.nextRescue = false;
    const mss = this.mss;
    const kUna = this.sndUna / mss;
    const kHs = Math.ceil(this.highSack / mss);
    let kFrom = Math.ceil(this.highRxt / mss);
    if (kFrom < kUna) kFrom = kUna;
    if (this.rxtLostSegs > 0) {
      // Rule 1 for the segments below HighRxt whose retransmission is known lost: the lowest first.
      for (let k = kUna; k < kFrom; k++) if (this.rxtLost[k & this.mask] === 1) return k;
    }
    let belowBytes = 0;
    let belowSegs = 0;
    for (let k = kUna; k < kFrom && k < kHs; k++) {
      if (this.sacked[k & this.mask] === 1) {
        belowBytes += this.segmentLength(k);
        belowSegs++;
      }
    }
    let firstUnsacked = -1;
    for (let k = kFrom; k < kHs; k++) {
      if (this.sacked[k & this.mask] === 1) {
        belowBytes += this.segmentLength(k);
        belowSegs++;
        continue;
      }
      if (this.rackLost[k & this.mask] === 1) return k; // rule 1, lost by RACK (RFC 8985 6.2 step 5)
      // SACKed data above k only shrinks as k grows: if this one is not lost, no later one is.
      if (this.sackedSegs - belowSegs >= 3 || this.sackedBytes - belowBytes > 2 * mss) return k; // rule 1
      firstUnsacked = k;
      break;
    }
    if (this.rackLostSegs > 0 && firstUnsacked < 0) {
      // Rule 1 for a segment RACK found lost above HighSACK. (Past a hole not lost NextSeg does not jump:
      // every segment below HighRxt must have been retransmitted. Links keep order, so RACK's marks above
      // HighRxt start at the lowest hole and this does not arise.)
      const kEnd = Math.ceil(this.highTx / mss);
      for (let k = kFrom > kHs ? kFrom : kHs; k < kEnd; k++) if (this.rackLost[k & this.mask] === 1) return k;
    }
    if (this.highTx < this.totalBytes) return this.highTx / mss; // rule 2
    if (firstUnsacked >= 0) return firstUnsacked; // rule 3
    if (this.rescueRxt < 0 || this.sndUna > this.rescueRxt) {
      // Rule 4: one segment holding the highest outstanding byte not SACKed, above HighRxt (S2 > HighRxt).
      for (let k = Math.ceil(this.highTx / mss) - 1; k >= kFrom; k--) {
        if (this.sacked[k & this.mask] !== 1) {
          this.nextRescue = true;
          return k;
        }
      }
    }
    return -1;
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
    this.highRxt = this.sndUna;
    this.forgetLostRetransmits();
    if (this.rack) this.rackOnTimeout();
    this.rtt.backoff(); // RFC 6298 5.5
    this.sndNxt = this.sndUna; // go back N
    this.rtoDeadlineNs = -1;
    if (this.ops.timeout !== undefined) this.ops.timeout(tcb);
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
    if (!this.trace.active) return;
    this.out.trace('cwnd', this.record(now, event));
  }

  /**
   * Lazy re-arm (as real stacks do): the driver's timer is moved only when the deadline comes
   * earlier than the time it will fire, or when none is pending. A timer that fires before the
   * deadline (which RFC 6298 5.3 moved later on every ACK since) is set again for it; one that
   * fires with no deadline (5.2 turned the timer off) does nothing.
   */
  private flushTimer(): void {
    const d = this.rack ? this.nextDeadline() : this.rtoDeadlineNs;
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
    this.transmit(this.sndUna, Math.min(this.mss, this.totalBytes - this.sndUna), now, 'fast');
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

  /**
   * Sends new (or, after go-back-N, old) segments while the window allows. With SACK the go-back-N
   * skips segments the receiver SACKed (RFC 6675 section 5.1 lets the scoreboard guide the
   * retransmissions after a timeout; desim's receiver never reneges, so the SACKed bits stay valid).
   */
  private sendData(now: Time): void {
    const mss = this.mss;
    const total = this.totalBytes;
    const cwnd = this.tcb.cwnd < this.sndWnd ? this.tcb.cwnd : this.sndWnd; // min(cwnd, rwnd)
    const skipSacked = this.sackedBytes > 0;
    while (this.sndNxt < total) {
      const len = total - this.sndNxt < mss ? total - this.sndNxt : mss;
      if (this.sndNxt + len - this.sndUna > cwnd) break;
      if (this.sndNxt < this.highTx) {
        if (skipSacked && this.sacked[(this.sndNxt / mss) & this.mask] === 1) this.sndNxt += len;
        else this.transmit(this.sndNxt, len, now, 'rto');
      } else this.transmit(this.sndNxt, len, now, 'new');
    }
  }

  private transmit(seq: number, len: number, now: Time, kind: TxKind): void {
    const k = seq / this.mss;
    const isRetx = seq < this.highTx;
    if (isRetx) {
      this.retx[k & this.mask] = 1;
      this.stats.retransmits++;
    } else {
      if ((this.highTx - this.sndUna) / this.mss + 1 > this.mask) this.grow();
      this.sentAt[k & this.mask] = now;
      this.retx[k & this.mask] = 0;
      this.sacked[k & this.mask] = 0;
      this.rxtLost[k & this.mask] = 0;
      this.highTx = seq + len;
    }
    if (this.rack) {
      this.xmitAt[k & this.mask] = now; // RFC 8985 6.1: the segment's (latest) transmission time
      if (!isRetx) this.rackLost[k & this.mask] = 0;
    }
    this.stats.segmentsSent++;
    this.stats.bytesSent += len;
    if (seq === this.sndNxt) this.sndNxt = seq + len;
    if (this.rtoDeadlineNs < 0) this.rtoDeadlineNs = now + this.rtt.rtoNs; // RFC 6298 5.1
    if (this.ecn) {
      // RFC 3168 6.1.5: retransmissions are not ECN-capable; 6.1.2: CWR on the first new segment after a reduction.
      const cwr = this.cwrPending && !isRetx;
      if (cwr) this.cwrPending = false;
      this.out.send(this.peer, { flow: this.flow, seq, len, ect: !isRetx, ...(cwr ? { cwr } : {}) }, len + this.headerBytes);
    } else this.out.send(this.peer, { flow: this.flow, seq, len }, len + this.headerBytes);
    if (this.trace.active || this.segmentTrace.active) {
      const tx: TcpTxRecord = {
        ...this.record(now, 'drop'),
        seq,
        len,
        retransmission: isRetx ? 1 : 0,
        kind,
        rtoDeadlineNs: this.rtoDeadlineNs,
        pipeBytes: this.pipe,
      };
      this.out.trace('tx', tx);
    }
  }

  /**
   * The cumulative ACK moved sndUna to `ack`: an RTT sample unless an acknowledged segment was
   * retransmitted (Karn's rule), SACKed bits below `ack` leave the scoreboard, the algorithm hears of it.
   */
  private advance(ack: number, now: Time): void {
    const mss = this.mss;
    const kFirst = this.sndUna / mss;
    const kLast = Math.ceil(ack / mss) - 1;
    if (this.rack) {
      for (let k = kFirst; k <= kLast; k++) {
        const slot = k & this.mask;
        if (this.sacked[slot] !== 1) this.rackDelivered(k, now); // a SACKed one was delivered before
        if (this.rackLost[slot] === 1) {
          this.rackLost[slot] = 0;
          this.rackLostSegs--;
        }
      }
    }
    let karnOk = true;
    for (let k = kFirst; k <= kLast; k++) {
      if (this.retx[k & this.mask] === 1) {
        karnOk = false;
        break;
      }
    }
    if (this.sackedBytes > 0) {
      for (let k = kFirst; k <= kLast; k++) {
        if (this.sacked[k & this.mask] === 1) {
          this.sacked[k & this.mask] = 0;
          this.sackedBytes -= this.segmentLength(k);
          this.sackedSegs--;
        }
      }
    }
    if (this.rxtLostSegs > 0) {
      for (let k = kFirst; k <= kLast; k++) {
        if (this.rxtLost[k & this.mask] === 1) {
          this.rxtLost[k & this.mask] = 0;
          this.rxtLostSegs--;
        }
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
    if (this.ops.pktsAcked !== undefined) this.ops.pktsAcked(this.tcb, kLast - kFirst + 1, rttNs);
  }

  /** Payload bytes of sent segment k (the last one of a finite transfer may be short). */
  private segmentLength(k: number): number {
    const start = k * this.mss;
    return this.highTx - start < this.mss ? this.highTx - start : this.mss;
  }

  /** Doubles the per-segment ring, keeping the outstanding segments at their new slots. */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const sentAt = new Float64Array(cap);
    const retx = new Uint8Array(cap);
    const sacked = new Uint8Array(cap);
    const rxtNxt = new Float64Array(cap);
    const rxtLost = new Uint8Array(cap);
    const xmitAt = new Float64Array(cap);
    const rackLost = new Uint8Array(cap);
    const mask = cap - 1;
    const kEnd = Math.ceil(this.highTx / this.mss);
    for (let k = this.sndUna / this.mss; k < kEnd; k++) {
      sentAt[k & mask] = this.sentAt[k & this.mask] as number;
      retx[k & mask] = this.retx[k & this.mask] as number;
      sacked[k & mask] = this.sacked[k & this.mask] as number;
      rxtNxt[k & mask] = this.rxtNxt[k & this.mask] as number;
      rxtLost[k & mask] = this.rxtLost[k & this.mask] as number;
      xmitAt[k & mask] = this.xmitAt[k & this.mask] as number;
      rackLost[k & mask] = this.rackLost[k & this.mask] as number;
    }
    this.sentAt = sentAt;
    this.retx = retx;
    this.sacked = sacked;
    this.rxtNxt = rxtNxt;
    this.rxtLost = rxtLost;
    this.xmitAt = xmitAt;
    this.rackLost = rackLost;
    this.mask = mask;
  }
}

/**
 * The TCP control block (after ns-3's `TcpSocketState`): the plain record a
 * congestion-control algorithm reads and writes. The sender state machine owns
 * the sequence space and the loss-recovery rules; the algorithm only sees
 * this record, so it can be tested on a bare block without a sender.
 *
 * Everything is in bytes except where the name says otherwise.
 */

/**
 * Congestion state as traced (RFC 5681 vocabulary): `slow_start` while
 * cwnd < ssthresh, `congestion_avoidance` otherwise, `fast_recovery` between
 * a fast retransmit and the ACK that ends recovery.
 */
export type CongestionState = 'slow_start' | 'congestion_avoidance' | 'fast_recovery';

/** The state a congestion-control algorithm works on. */
export interface TcpControlBlock {
  /** Congestion window (bytes). Never below one segment. */
  cwnd: number;
  /** Slow-start threshold (bytes); `Infinity` until the first loss unless an initial value is configured. */
  ssthresh: number;
  /** Sender maximum segment size, SMSS (bytes). */
  readonly segmentSize: number;
  /** True between fast retransmit and recovery exit (the sender sets it). */
  inRecovery: boolean;
  /**
   * ACKs counted toward the next congestion-avoidance increment (Linux's
   * `snd_cwnd_cnt`, ns-3's `m_cWndCnt`): one segment is added per cwnd's worth of ACKs.
   */
  cwndCount: number;
}

/**
 * Creates a control block with `cwnd = initialWindowSegments * segmentSize` and ssthresh
 * `initialSsthreshBytes`: by default infinite, RFC 5681 section 3.1's "arbitrarily high" initial value.
 */
export function createControlBlock(segmentSize: number, initialWindowSegments: number, initialSsthreshBytes = Infinity): TcpControlBlock {
  if (!(Number.isInteger(segmentSize) && segmentSize > 0)) throw new RangeError(`segmentSize must be a positive integer, got ${segmentSize}`);
  if (!(initialWindowSegments >= 1)) throw new RangeError(`initial window must be >= 1 segment, got ${initialWindowSegments}`);
  if (!(initialSsthreshBytes > 0)) throw new RangeError(`initial ssthresh must be > 0 bytes, got ${initialSsthreshBytes}`);
  return { cwnd: initialWindowSegments * segmentSize, ssthresh: initialSsthreshBytes, segmentSize, inRecovery: false, cwndCount: 0 };
}

/** The traced state of a control block. */
export function congestionState(tcb: TcpControlBlock): CongestionState {
  if (tcb.inRecovery) return 'fast_recovery';
  return tcb.cwnd < tcb.ssthresh ? 'slow_start' : 'congestion_avoidance';
}

/**
 * RFC 5681 section 3.1 initial window, in segments: 4 if SMSS <= 1095 bytes,
 * 3 if SMSS <= 2190 bytes, else 2 (the byte limits of IW = min(4*SMSS, max(2*SMSS, 4380))).
 */
export function rfc5681InitialWindow(segmentSize: number): number {
  if (segmentSize > 2190) return 2;
  if (segmentSize > 1095) return 3;
  return 4;
}

/** RFC 6928's initial window: 10 segments (min(10*MSS, max(2*MSS, 14600)) for MSS <= 1460). */
export function rfc6928InitialWindow(segmentSize: number): number {
  return Math.max(2, Math.min(10, Math.floor(14600 / segmentSize)));
}

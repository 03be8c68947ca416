/**
 * Reno's window rules (RFC 5681 section 3.1), shared by Tahoe, Reno and
 * NewReno, which differ only in loss recovery (see {@link LossRecovery}).
 *
 * - Slow start (cwnd < ssthresh), RFC 5681 eq. 2: cwnd += min(N, SMSS) per
 *   ACK, N the bytes newly acknowledged.
 * - Congestion avoidance, RFC 5681 eq. 3 counted exactly as Linux and ns-3's
 *   TcpLinuxReno do: each ACK adds one to a counter; when the counter reaches
 *   the window in segments, cwnd grows by one SMSS. That is one segment per
 *   window of ACKs: about one MSS per RTT with an ACK per segment, half that
 *   with delayed ACKs (the b = 2 of Padhye's model).
 * - After a loss, RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
 */
import type { TcpControlBlock } from '../control-block.js';
import type { CongestionOps, LossRecovery } from './ops.js';

/** RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS), in bytes (rounded down to a byte). */
export function renoSsThresh(tcb: TcpControlBlock, bytesInFlight: number): number {
  return Math.max(Math.floor(bytesInFlight / 2), 2 * tcb.segmentSize);
}

/** RFC 5681 eq. 2 (slow start) and eq. 3 (congestion avoidance, one segment per window of ACKs). */
export function renoIncreaseWindow(tcb: TcpControlBlock, bytesAcked: number): void {
  const mss = tcb.segmentSize;
  if (tcb.cwnd < tcb.ssthresh) {
    tcb.cwnd += Math.min(bytesAcked, mss);
    return;
  }
  const windowSegments = Math.max(1, Math.floor(tcb.cwnd / mss));
  if (++tcb.cwndCount >= windowSegments) {
    tcb.cwnd += mss;
    tcb.cwndCount = 0;
  }
}

/** Builds a Reno-window algorithm with the given name and recovery rules. */
export function renoFamily(name: string, recovery: LossRecovery): CongestionOps {
  return { name, recovery, ssThresh: renoSsThresh, increaseWindow: renoIncreaseWindow };
}

/** TCP Reno (RFC 5681): fast retransmit and fast recovery, recovery ends on the first new ACK. */
export const reno: CongestionOps = renoFamily('reno', 'reno');

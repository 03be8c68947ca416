/**
 * The congestion-control interface (after ns-3's `TcpCongestionOps`): an
 * algorithm only reads and writes a {@link TcpControlBlock}. Algorithms here
 * are stateless singletons; per-connection state lives in the block.
 */
import type { TcpControlBlock } from '../control-block.js';

/**
 * How the sender recovers after the third duplicate ACK:
 * - `none` (Tahoe): fast retransmit, then slow start from one segment, go-back-N;
 * - `reno` (RFC 5681 section 3.2): fast recovery, left on the first ACK of new data;
 * - `newreno` (RFC 6582): fast recovery, left only when `recover` is acknowledged;
 *   a partial ACK retransmits the next hole.
 */
export type LossRecovery = 'none' | 'reno' | 'newreno';

/** A congestion-control algorithm. */
export interface CongestionOps {
  /** Its name in scenario files (`tahoe`, `reno`, `newreno`). */
  readonly name: string;
  /** The loss-recovery rules the sender applies (kept in the sender, as the RFCs and ns-3 do). */
  readonly recovery: LossRecovery;
  /** The new slow-start threshold (bytes) after a loss, given the bytes in flight (FlightSize). */
  ssThresh(tcb: TcpControlBlock, bytesInFlight: number): number;
  /** Opens the window on an ACK of `bytesAcked` new bytes (outside recovery). */
  increaseWindow(tcb: TcpControlBlock, bytesAcked: number): void;
  /** Called on every ACK of new data with the number of segments it acknowledged and an RTT sample (ns, or -1 if none). */
  pktsAcked?(tcb: TcpControlBlock, segmentsAcked: number, rttNs: number): void;
}

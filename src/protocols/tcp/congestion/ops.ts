/**
 * The congestion-control interface (after ns-3's `TcpCongestionOps`): an
 * algorithm only reads and writes a {@link TcpControlBlock}. Tahoe, Reno and
 * NewReno are stateless singletons (per-connection state lives in the block);
 * CUBIC keeps its own and is made once per connection.
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

/** A congestion-control algorithm (stateless, or one instance per connection when it keeps state, as CUBIC does). */
export interface CongestionOps {
  /** Its name in scenario files (`tahoe`, `reno`, `newreno`, `cubic`). */
  readonly name: string;
  /** The loss-recovery rules the sender applies (kept in the sender, as the RFCs and ns-3 do). */
  readonly recovery: LossRecovery;
  /** The new slow-start threshold (bytes) after a loss, given the bytes in flight (FlightSize). */
  ssThresh(tcb: TcpControlBlock, bytesInFlight: number): number;
  /**
   * Opens the window on an ACK of `bytesAcked` new bytes (outside recovery) that arrived at `nowNs`
   * (simulated time, ns: CUBIC's window is a function of time; Reno's ignores it).
   */
  increaseWindow(tcb: TcpControlBlock, bytesAcked: number, nowNs: number): void;
  /** Called on every ACK of new data with the number of segments it acknowledged and an RTT sample (ns, or -1 if none). */
  pktsAcked?(tcb: TcpControlBlock, segmentsAcked: number, rttNs: number): void;
  /** Called when the retransmission timer expired, after the sender set ssthresh and cwnd (RFC 9438 section 4.8 needs it). */
  timeout?(tcb: TcpControlBlock): void;
}

/** What TCP puts on the network: a data segment (len > 0) or an ACK (len = 0, seq = the ACK number). */
export interface TcpPacket {
  /** The flow (connection) it belongs to: a {@link TcpStack} demultiplexes by it, as by a port pair. */
  readonly flow: number;
  /** First byte of a segment, or the cumulative ACK number (the next byte expected). */
  readonly seq: number;
  /** Payload bytes; 0 for an ACK. */
  readonly len: number;
  /**
   * SACK blocks of an ACK when the flow uses SACK (RFC 2018): [start0, end0, start1, end1, ...], byte
   * ranges [start, end) held out of order, the block of the segment that triggered the ACK first,
   * then the most recently reported ones. Absent on flows without SACK.
   */
  readonly sack?: readonly number[];
  /**
   * The receive window an ACK advertises (bytes from its ACK number on, RFC 9293 SEG.WND, window
   * scaling taken as done). Absent: unlimited (the receiver was given no window).
   */
  readonly wnd?: number;
  /** RFC 3168: ECN-capable transport (ECT), on the first transmission of a data segment of a flow that uses ECN. */
  readonly ect?: boolean;
  /** RFC 3168: Congestion Experienced, set by a queue discipline that marked this ECT segment instead of dropping it. */
  readonly ce?: boolean;
  /** RFC 3168: ECN-Echo, on ACKs of a receiver that saw CE, until it sees CWR. */
  readonly ece?: boolean;
  /** RFC 3168: Congestion Window Reduced, on the first new data segment after the sender reduced for an ECE. */
  readonly cwr?: boolean;
}

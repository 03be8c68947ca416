/** What TCP puts on the network: a data segment (len > 0) or an ACK (len = 0, seq = the ACK number). */
export interface TcpPacket {
  /** The flow (connection) it belongs to: a {@link TcpStack} demultiplexes by it, as by a port pair. */
  readonly flow: number;
  /** First byte of a segment, or the cumulative ACK number (the next byte expected). */
  readonly seq: number;
  /** Payload bytes; 0 for an ACK. */
  readonly len: number;
}

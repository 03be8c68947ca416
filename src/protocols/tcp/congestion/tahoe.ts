/**
 * TCP Tahoe (Jacobson 1988, as in 4.3BSD-Tahoe): Reno's window rules, fast
 * retransmit on the third duplicate ACK, but no fast recovery: cwnd goes to
 * one segment and the sender slow-starts once the retransmission is acknowledged.
 */
import type { CongestionOps } from './ops.js';
import { renoFamily } from './reno.js';

/** TCP Tahoe. */
export const tahoe: CongestionOps = renoFamily('tahoe', 'none');

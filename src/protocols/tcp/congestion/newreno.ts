/**
 * TCP NewReno (RFC 6582): Reno's window rules; fast recovery lasts until
 * every segment outstanding at the fast retransmit (`recover`) is
 * acknowledged; each partial ACK retransmits the next hole and deflates the
 * window by the data it acknowledged (section 3.2 step 3).
 */
import type { CongestionOps } from './ops.js';
import { renoFamily } from './reno.js';

/** TCP NewReno. */
export const newreno: CongestionOps = renoFamily('newreno', 'newreno');

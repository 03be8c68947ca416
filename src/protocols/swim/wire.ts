/**
 * SWIM's messages. A membership update (`alive`, `suspect`, `dead`, `left`
 * about a member at an incarnation) rides on every message, as the paper's
 * infection-style dissemination does (section 4.1); `sync` carries a whole
 * table (join, and reconnection after a partition, as memberlist's push-pull).
 */
import type { NodeId } from '../sans-io.js';

/** What an update says about its member. */
export type UpdateKind = 'alive' | 'suspect' | 'dead' | 'left';

/** One membership update: `node` is `kind` at `incarnation`, as `from` said. */
export interface Update {
  readonly kind: UpdateKind;
  readonly node: NodeId;
  readonly incarnation: number;
  /** Who raised it (suspect: the suspecting member, which Lifeguard counts as a confirmation). */
  readonly from: NodeId;
}

/** A SWIM message. `seq` ties an ack or nack to its ping. */
export type SwimMessage =
  | { readonly type: 'ping'; readonly seq: number; readonly updates: readonly Update[] }
  /** Please probe `target` for me (section 3.1). */
  | { readonly type: 'ping-req'; readonly seq: number; readonly target: NodeId; readonly updates: readonly Update[] }
  | { readonly type: 'ack'; readonly seq: number; readonly updates: readonly Update[] }
  /** Lifeguard: the indirect prober heard nothing from the target in time (section 4.1). */
  | { readonly type: 'nack'; readonly seq: number; readonly updates: readonly Update[] }
  /** A whole table; `reply` false asks for the receiver's table back. */
  | { readonly type: 'sync'; readonly reply: boolean; readonly members: readonly Update[]; readonly updates: readonly Update[] };

/** Header bytes of every message (type, seq, target; a UDP payload without the IP and UDP headers). */
export const HEADER_BYTES = 16;
/** Bytes of one update or table record (kind, node address, incarnation, sender). */
export const UPDATE_BYTES = 16;

/** The size of `msg` on the wire, in bytes. */
export function messageBytes(msg: SwimMessage): number {
  return HEADER_BYTES + UPDATE_BYTES * (msg.updates.length + (msg.type === 'sync' ? msg.members.length : 0));
}

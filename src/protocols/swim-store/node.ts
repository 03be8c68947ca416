/**
 * SwimStoreNode: the gossip key-value store whose peers are the members SWIM
 * holds live, as one sans-I/O {@link ProtocolNode}. The simulator's host and a
 * UDP driver run the same class: it speaks only the sans-I/O contract.
 *
 * Theory of operation. The node owns a {@link SwimNode} (membership and
 * failure detection) and a {@link GossipNode} (the store) and passes each
 * input to one of them:
 * - messages by their `type`: `ping`, `ping-req`, `ack`, `nack` and `sync`
 *   are SWIM's, every other type is the store's (the two sets are disjoint,
 *   so no header is added and sizes are each protocol's own);
 * - timers by name: SWIM's carry the prefix `swim.` (the store's keep their
 *   names), so the two timer sets can never collide;
 * - client calls by `op`: `join`, `leave` and `members` are SWIM's, `put`,
 *   `get`, `delete` and `stats` the store's (`stats` adds SWIM's counters).
 * After each input it drains the inner node's actions into its own queue.
 * Whenever SWIM's table changes (a `member` trace), the store's peers become
 * SWIM's view: the members held **alive or suspect** (plus `staticPeers`, if
 * given: a real node's `--peers` stay peers whatever SWIM says). Suspects stay peers
 * because SWIM treats a suspected member as still in the group until the
 * suspicion is confirmed (Das et al. 2002, section 4.2), and memberlist's
 * gossip targets likewise include suspect members: a falsely suspected
 * member (the common case under loss, Lifeguard section 5) keeps receiving
 * writes, and a tombstone waits for its confirmation. A crashed member stops
 * being a peer when it is declared dead, after the suspicion timeout.
 *
 * Join and leave. A dormant node (not yet in the group) runs its store alone
 * (its view is itself: it sends nothing) until a `join` call; SWIM then syncs
 * with the seeds and the store gains peers as the table fills in. A graceful
 * `leave` spreads SWIM's `left`, then the whole node goes silent: the store's
 * timers are cancelled, messages and timers are ignored, reads still answer
 * from the local store and writes are refused (nobody would receive them).
 *
 * Restart. With its state (the simulator keeps the object): `start` restarts
 * both; SWIM syncs with a seed or a member it knew and refutes what the group
 * declared it. From a {@link SwimStoreSnapshot} (a process restarted from
 * disk): the store's entries and clock are restored and the members it last
 * held live are added to its seeds, so it rejoins through any of them and
 * refutes its death with a higher incarnation (SWIM's own state is not saved:
 * the group tells it where it stands).
 *
 * Piggybacking on the store's gossip (`piggybackOnStore`, default on). SWIM
 * spreads its updates on its own messages (Das et al. 2002, section 4.1); a
 * store that gossips more often than SWIM probes has more messages to carry
 * them, as memberlist lets its user's broadcasts and its own share every
 * packet. When SWIM has updates waiting, a peer-to-peer message of the store
 * (`rumor`, `feedback`, `learned`, `digest`, `summary`, `delta`, `request`;
 * never a `client-reply` or `client-request`) leaves wrapped in a
 * {@link PiggybackMessage} with up to `maxPiggyback` of them, taken by
 * {@link SwimNode.takeUpdates}: fewest sends first, each counted against the
 * same retransmit limit lambda * ceil(log10(n + 1)) as on SWIM's own messages,
 * so an update is sent that many times in all, whichever messages carry it.
 * Only as many ride as keep the whole message within the store's `mtuBytes`
 * (a full page of the store goes unwrapped). The receiver hands the updates
 * to SWIM first ({@link SwimNode.receiveUpdates}: applied and spread as if
 * they came on a ping), then the store message to the store. A node unwraps
 * a `piggyback` whether or not it sends them itself. Size on the wire: the
 * store message's own size, plus {@link PIGGYBACK_HEADER_BYTES} (a type
 * code, a reserved byte and a u16 count of updates), plus
 * {@link UPDATE_BYTES} per update (as in SWIM's messages); the store message
 * comes last, so its own encoding runs to the end of the datagram.
 */
import type { GossipNodeOptions, GossipNodeSnapshot } from '../gossip/node.js';
import { GossipNode } from '../gossip/node.js';
import type { GossipMessage, KvCall, KvReply } from '../gossip/wire.js';
import type { Action, NodeId, ProtocolNode, Rng, Time } from '../sans-io.js';
import type { SwimConfig } from '../swim/config.js';
import { SwimNode, type MemberInfo, type SwimCall, type SwimNodeOptions, type SwimReply } from '../swim/node.js';
import { UPDATE_BYTES, type SwimMessage, type Update } from '../swim/wire.js';

/** A store message carrying SWIM's updates (see the module comment). */
export interface PiggybackMessage {
  readonly type: 'piggyback';
  readonly store: GossipMessage;
  readonly updates: readonly Update[];
}

/** A message of the SWIM-backed store: one of SWIM's, one of the store's, or a store message carrying SWIM's updates. */
export type SwimStoreMessage = SwimMessage | GossipMessage | PiggybackMessage;
/** A client call: the store's (`put`, `get`, `delete`, `stats`) or SWIM's (`join`, `leave`, `members`). */
export type SwimStoreCall = KvCall | SwimCall;
/** The reply to a {@link SwimStoreCall}. */
export type SwimStoreReply = KvReply | SwimReply;

const SWIM_TYPES: ReadonlySet<string> = new Set(['ping', 'ping-req', 'ack', 'nack', 'sync']);
const SWIM_OPS: ReadonlySet<string> = new Set(['join', 'leave', 'members']);
/** The store's peer-to-peer messages: the ones SWIM's updates may ride on (not a client's request or its reply). */
const CARRIER_TYPES: ReadonlySet<string> = new Set(['rumor', 'feedback', 'learned', 'digest', 'summary', 'delta', 'request']);
/** Bytes a {@link PiggybackMessage} adds besides its updates: a type code, a reserved byte, a u16 count of updates. */
export const PIGGYBACK_HEADER_BYTES = 4;

/** The size on the wire of `store` (of `storeBytes`) carrying `updates` updates. */
export function piggybackBytes(storeBytes: number, updates: number): number {
  return storeBytes + PIGGYBACK_HEADER_BYTES + UPDATE_BYTES * updates;
}

/** True when `msg` is a store message carrying SWIM's updates. */
export function isPiggybackMessage(msg: unknown): msg is PiggybackMessage {
  return (msg as { type?: unknown } | null)?.type === 'piggyback';
}
/** The prefix of SWIM's timer names. */
export const SWIM_TIMER_PREFIX = 'swim.';
const STORE_TIMERS = ['gossip', 'ae', 'gc'] as const;

/** True when `msg` is one of SWIM's messages (by its `type`); anything else goes to the store. */
export function isSwimMessage(msg: unknown): msg is SwimMessage {
  const t = (msg as { type?: unknown } | null)?.type;
  return typeof t === 'string' && SWIM_TYPES.has(t);
}

/** What a restart from disk keeps: the store's state and the members last held live (to rejoin through). */
export interface SwimStoreSnapshot {
  readonly format: 1;
  readonly store: GossipNodeSnapshot;
  /** The members the node held alive or suspect when the snapshot was taken (itself excluded). */
  readonly members: readonly NodeId[];
}

/** Options of the {@link SwimStoreNode} constructor. */
export interface SwimStoreNodeOptions {
  /** This node's id: its SWIM member id, and the origin id of its writes unless `originId` is given. */
  readonly id: NodeId;
  /** The origin id of its writes, 0..2^32 - 1 (default `id`; see `GossipNodeOptions.originId`). */
  readonly originId?: number;
  /**
   * Members the store gossips with whatever SWIM says of them, beside SWIM's view (a real node's
   * `--peers`). Default none: the store's peers are SWIM's view alone.
   */
  readonly staticPeers?: readonly NodeId[];
  /** SWIM's configuration, random stream and start (members of a bootstrapped group, seeds, dormant). */
  readonly swim: SwimNodeOptions & { readonly config: SwimConfig; readonly rng: Rng };
  /** The store's random stream, configuration, clock and observer: {@link GossipNode}'s options but those this node sets. */
  readonly store: Omit<GossipNodeOptions, 'id' | 'originId' | 'peers' | 'snapshot'>;
  /** State to start from (a restart from disk). */
  readonly snapshot?: SwimStoreSnapshot;
  /** Piggyback SWIM's waiting updates on the store's gossip (see the module comment). Default true. */
  readonly piggybackOnStore?: boolean;
  /**
   * The bytes a piggyback message adds to its store message: a fixed header and so many per update
   * (default {@link PIGGYBACK_HEADER_BYTES} and `UPDATE_BYTES`, the simulator's). A real node's driver
   * gives its wire's, so that the updates taken (each counted against its retransmit limit) are those
   * that fit the store's MTU on the wire.
   */
  readonly piggybackSizes?: { readonly headerBytes: number; readonly updateBytes: number };
}

/** The gossip store on SWIM's view: see the module comment. */
export class SwimStoreNode implements ProtocolNode<SwimStoreMessage, SwimStoreCall, SwimStoreReply> {
  /** The membership half (read it; inputs go through this node). */
  readonly swim: SwimNode;
  /** The store half (read it; inputs go through this node). */
  readonly store: GossipNode;
  readonly id: NodeId;
  private out: Action<SwimStoreMessage>[] = [];
  private readonly traceMembers: boolean;
  private left = false;
  private readonly staticPeers: readonly NodeId[];
  /** SWIM messages dropped because handling them threw (malformed), and piggybacked updates likewise. */
  private swimDropped = 0;
  private readonly piggybackOnStore: boolean;
  private readonly pbHeader: number;
  private readonly pbUpdate: number;

  constructor(options: SwimStoreNodeOptions) {
    const { id, swim: s, store: g, snapshot } = options;
    this.id = id;
    this.staticPeers = options.staticPeers ?? [];
    this.traceMembers = s.trace !== false;
    this.piggybackOnStore = options.piggybackOnStore !== false;
    this.pbHeader = options.piggybackSizes?.headerBytes ?? PIGGYBACK_HEADER_BYTES;
    this.pbUpdate = options.piggybackSizes?.updateBytes ?? UPDATE_BYTES;
    if (!(Number.isInteger(this.pbHeader) && this.pbHeader >= 0 && Number.isInteger(this.pbUpdate) && this.pbUpdate >= 1))
      throw new RangeError(`piggybackSizes must be integers (header >= 0, update >= 1), got ${this.pbHeader} and ${this.pbUpdate}`);
    const seeds = [...(s.seeds ?? [])];
    for (const m of snapshot?.members ?? []) if (m !== id && !seeds.includes(m)) seeds.push(m);
    // SWIM always traces: its `member` trace is how this node learns that the view changed.
    this.swim = new SwimNode(id, s.config, s.rng, {
      ...(s.members !== undefined ? { members: s.members } : {}),
      ...(seeds.length > 0 ? { seeds } : {}),
      ...(s.dormant !== undefined ? { dormant: s.dormant } : {}),
      trace: true,
    });
    this.store = new GossipNode({
      ...g,
      id,
      ...(options.originId !== undefined ? { originId: options.originId } : {}),
      peers: this.peersOf(this.swim.view()),
      ...(snapshot !== undefined ? { snapshot: snapshot.store } : {}),
    });
  }

  // ---- ProtocolNode ----

  start(now: Time): void {
    if (this.left) return;
    this.swim.start(now);
    this.fromSwim();
    this.store.start(now);
    this.fromStore();
  }

  handleMessage(from: NodeId, msg: SwimStoreMessage, now: Time): void {
    if (this.left) return;
    if (isSwimMessage(msg)) {
      try {
        this.swim.handleMessage(from, msg, now);
      } catch {
        this.swimDropped++;
      }
      this.fromSwim();
    } else if (isPiggybackMessage(msg)) {
      const store = msg.store as unknown;
      if (!Array.isArray(msg.updates) || isSwimMessage(store) || isPiggybackMessage(store) || typeof store !== 'object' || store === null) {
        this.swimDropped++;
        return;
      }
      // SWIM's updates first, as on SWIM's own messages: a joiner's `alive` makes it a peer before its gossip is handled.
      this.handleUpdates(from, msg.updates, now);
      if (this.left) return;
      this.store.handleMessage(from, msg.store, now);
      this.fromStore();
    } else {
      this.store.handleMessage(from, msg, now);
      this.fromStore();
    }
  }

  /**
   * SWIM's updates that rode on a store message from `from`, applied and spread as if they had come on
   * one of SWIM's messages (the first half of handling a {@link PiggybackMessage}; a real node's driver
   * calls it alone when the store part is not to be taken). A malformed update is counted and dropped.
   */
  handleUpdates(from: NodeId, updates: readonly Update[], now: Time): void {
    if (this.left) return;
    try {
      this.swim.receiveUpdates(from, updates, now);
    } catch {
      this.swimDropped++;
    }
    this.fromSwim();
  }

  handleTimer(timer: string, now: Time): void {
    if (this.left) return;
    if (timer.startsWith(SWIM_TIMER_PREFIX)) {
      this.swim.handleTimer(timer.slice(SWIM_TIMER_PREFIX.length), now);
      this.fromSwim();
    } else {
      this.store.handleTimer(timer, now);
      this.fromStore();
    }
  }

  handleCall(call: SwimStoreCall, now: Time): SwimStoreReply {
    const op = (call as { op?: unknown } | null)?.op;
    if (typeof op === 'string' && SWIM_OPS.has(op)) {
      const reply = this.swim.handleCall(call as SwimCall, now);
      this.fromSwim();
      return reply;
    }
    const kv = call as KvCall;
    if (this.left && (kv.op === 'put' || kv.op === 'delete')) return { op: kv.op, ok: false, error: 'this node left the group' };
    const reply = this.store.handleCall(kv, now);
    this.fromStore();
    if (reply.op === 'stats' && reply.ok) return { ...reply, stats: { ...reply.stats, ...this.swimStats() } };
    return reply;
  }

  pollActions(): readonly Action<SwimStoreMessage>[] {
    const q = this.out;
    if (q.length === 0) return q;
    this.out = [];
    return q;
  }

  // ---- queries ----

  /** The members SWIM holds alive or suspect, ascending (itself included unless it left): the store's peers. */
  view(): NodeId[] {
    return this.swim.view();
  }

  /** SWIM's table. */
  members(): MemberInfo[] {
    return this.swim.members();
  }

  /** True once the node left gracefully. */
  get hasLeft(): boolean {
    return this.left;
  }

  /** The state a restart from disk needs (see {@link SwimStoreSnapshot}). */
  snapshot(): SwimStoreSnapshot {
    return { format: 1, store: this.store.snapshot(), members: this.swim.view().filter((m) => m !== this.id) };
  }

  // ---- internals ----

  private swimStats(): Record<string, number> {
    const c = this.swim.counters;
    return {
      members_live: this.swim.view().length,
      incarnation: this.swim.currentIncarnation,
      swim_messages_sent: c.sent,
      swim_bytes_sent: c.bytesSent,
      swim_messages_received: c.received,
      swim_updates_on_store_sent: c.updatesCarriedOut,
      swim_updates_on_store_received: c.updatesCarriedIn,
      swim_dropped: this.swimDropped,
    };
  }

  /** Moves SWIM's actions to the queue (timers renamed); a change of its table updates the store's peers. */
  private fromSwim(): void {
    const actions = this.swim.pollActions();
    let changed = false;
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.out.push(a);
          break;
        case 'set-timer':
          this.out.push({ type: 'set-timer', timer: SWIM_TIMER_PREFIX + a.timer, atNs: a.atNs });
          break;
        case 'cancel-timer':
          this.out.push({ type: 'cancel-timer', timer: SWIM_TIMER_PREFIX + a.timer });
          break;
        case 'trace':
          if (a.name === 'member') changed = true;
          if (this.traceMembers || a.name !== 'member') this.out.push(a);
          break;
      }
    }
    if (this.swim.hasLeft && !this.left) {
      this.left = true;
      this.store.setPeers([]);
      this.fromStore();
      for (const t of STORE_TIMERS) this.out.push({ type: 'cancel-timer', timer: t });
      return;
    }
    if (changed) this.updatePeers();
  }

  /** Moves the store's actions to the queue, its peer-to-peer messages carrying SWIM's waiting updates when there are any. */
  private fromStore(): void {
    for (const a of this.store.pollActions()) {
      if (a.type === 'send' && this.piggybackOnStore && this.swim.pendingBroadcasts > 0 && CARRIER_TYPES.has(a.msg.type)) {
        // Only as many as keep the message within the store's MTU.
        const room = Math.floor((this.store.config.mtuBytes - a.sizeBytes - this.pbHeader) / this.pbUpdate);
        const updates = room > 0 ? this.swim.takeUpdates(room) : [];
        if (updates.length > 0) {
          const msg: PiggybackMessage = { type: 'piggyback', store: a.msg, updates };
          this.out.push({ type: 'send', to: a.to, msg, sizeBytes: a.sizeBytes + this.pbHeader + this.pbUpdate * updates.length });
          continue;
        }
      }
      this.out.push(a);
    }
  }

  /** SWIM's view, then the static peers it lacks. */
  private peersOf(view: NodeId[]): NodeId[] {
    for (const p of this.staticPeers) if (!view.includes(p)) view.push(p);
    return view;
  }

  /** The store's peers := SWIM's view and the static peers (when they differ). */
  private updatePeers(): void {
    const view = this.peersOf(this.swim.view());
    const cur = this.store.currentPeers;
    if (view.length === cur.length && view.every((m, i) => cur[i] === m)) return;
    this.store.setPeers(view);
  }
}

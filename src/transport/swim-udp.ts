/**
 * SWIM and the store on a real node: the simulator's very sans-I/O {@link SwimStoreNode}, unchanged, on
 * a socket ({@link UdpHost}): SWIM's messages as their own message type (`swim-wire.ts`), the store's
 * as the gossip wire, inside the same envelope. The store's peers follow SWIM's view inside the node,
 * by the rule the simulator runs (plus the static `--peers`, its `staticPeers`), and its timer names
 * are the node's own.
 *
 * Theory of operation. The node names members by local ids; this driver keeps the {@link AddressBook}
 * that maps them to addresses (the gossip member list first, then every address SWIM learns, in the
 * order learned) and translates SWIM's messages both ways: incoming addresses become ids (a new
 * address gets the next id), outgoing ids become addresses. The store's messages name no member (their
 * versions carry origin ids, which are not node ids), so they pass as they are; the
 * host maps their source address to an id. A store message carrying SWIM's updates (the node's
 * `piggyback`) travels as SWIM wire type 6: its updates translated like SWIM's, its store part as it is;
 * updates that would take it past the MTU are left off (21 bytes each on the wire against the node's 16),
 * and a store message with room for none goes alone. It is taken from store peers only, as store gossip
 * is. A datagram from an address outside the book is handed over
 * only once it authenticated and decoded as SWIM (`UdpHost`'s `admit`), so a stranger cannot take a
 * place in the book with garbage.
 *
 * Bounds. The book holds at most `maxMembers` addresses, this node's own included; SWIM never forgets
 * a member (a dead one stays dead in its table), so an address, once in, keeps its place. At the cap
 * a message from a new address is dropped (`unknown_peer`), an update about a new address is dropped
 * from its message, and a ping-req naming one is dropped; each is counted in `swim_members_refused`.
 * The node's own tables (its member table, the updates waiting to be piggybacked, its suspicions) are
 * indexed by member, so they are bounded by the book. The one table that grows with traffic instead,
 * the indirect probes it runs for others, is bounded here: at most `maxMembers` ping-reqs are taken
 * per probe timeout (an honest member sends at most k per period), the rest counted in
 * `swim_dropped_ping_req`.
 *
 * Incarnation. A restarted member must come back with an incarnation above any it had, or the group
 * keeps the death it declared (section 4.2 of the SWIM paper: only an `alive` with a higher
 * incarnation overrides `dead`). The driver starts the node at an incarnation derived from the wall
 * clock, milliseconds since 1970, given to it as the group would: an `alive` about itself, which it
 * refutes with that number plus one. Nothing is written, so a SIGKILL cannot lose it; a restart is
 * higher than the run before unless that run refuted more than once per millisecond of its life, or
 * the clock stepped back, and even then the restarted member hears the group's record of it at its
 * first sync and refutes with one more.
 *
 * Joining. The node starts with an empty table and joins through its seeds (`--join`, then the
 * gossip peers), one per period until one answers with its table (the sans-I/O node's own join).
 * A table larger than one datagram is sent as several `sync` datagrams; only the first asks for the
 * receiver's table back.
 *
 * The store's view. Every change of the member table (the node's `member` trace) marks the view
 * changed; {@link SwimDriver.takeViewChange} hands the new view (by the book's ids) to the owner once.
 */
import { encodedSize, type GossipMessage, type KvCall, type KvReply } from '../protocols/gossip/wire.js';
import type { Action, NodeId, Rng, Time } from '../protocols/sans-io.js';
import {
  isPiggybackMessage,
  isSwimMessage,
  SwimStoreNode,
  type PiggybackMessage,
  type SwimStoreNodeOptions,
  type SwimStoreSnapshot,
} from '../protocols/swim-store/node.js';
import { DEFAULT_SWIM_CONFIG, suspicionTimeoutNs, type SwimConfig } from '../protocols/swim/config.js';
import type { SwimNode } from '../protocols/swim/node.js';
import type { SwimMessage, Update } from '../protocols/swim/wire.js';
import { formatAddress, type Membership, type UdpAddress } from './address.js';
import {
  MAX_WIRE_UPDATES,
  PIGGYBACK_WIRE_OVERHEAD,
  SYNC_HEADER_BYTES,
  WIRE_UPDATE_BYTES,
  type MemberRow,
  type SwimPacket,
  type SwimWireMessage,
  type WireUpdate,
} from './swim-wire.js';

/** Default cap of the address book (members known, this node included). */
export const DEFAULT_MAX_MEMBERS = 1024;
/** Largest `maxMembers`. */
export const MAX_MAX_MEMBERS = 65536;

/**
 * The gossip member list plus the addresses SWIM learned: a {@link Membership} that grows, up to a cap.
 * Ids of the gossip members are those of `buildMembership` (the store's), the others follow in the order learned.
 */
export class AddressBook implements Membership {
  private readonly addrs: UdpAddress[];
  private readonly keys: string[];
  private readonly ids = new Map<string, NodeId>();
  readonly self: NodeId;
  readonly peers: readonly NodeId[];

  constructor(
    base: Membership,
    /** Most addresses held, this node's own included. */
    readonly cap: number,
  ) {
    if (!Number.isInteger(cap) || cap < 2 || cap > MAX_MAX_MEMBERS)
      throw new RangeError(`--max-members must be an integer in 2..${MAX_MAX_MEMBERS}, got ${cap}`);
    if (base.members.length > cap)
      throw new RangeError(`--max-members ${cap} is below the ${base.members.length} members given (this node and --peers)`);
    this.addrs = [...base.members];
    this.keys = this.addrs.map(formatAddress);
    this.keys.forEach((k, i) => this.ids.set(k, i));
    this.self = base.self;
    this.peers = base.peers;
  }

  /** Every address, index = node id. */
  get members(): readonly UdpAddress[] {
    return this.addrs;
  }

  /** Number of addresses held. */
  get size(): number {
    return this.addrs.length;
  }

  idOf(key: string): NodeId | undefined {
    return this.ids.get(key);
  }

  /** `host:port` of a node id. */
  keyOf(id: NodeId): string | undefined {
    return this.keys[id];
  }

  /** The id of `key`, given the next one if new; undefined when new and the book is full. */
  add(key: string): NodeId | undefined {
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    if (this.addrs.length >= this.cap) return undefined;
    const i = key.lastIndexOf(':');
    const id = this.addrs.length;
    this.addrs.push({ host: key.slice(0, i), port: Number(key.slice(i + 1)) });
    this.keys.push(key);
    this.ids.set(key, id);
    return id;
  }
}

/**
 * A bound on the time from a member's crash to every other live member holding it dead, in ns, for a
 * group of `n` members under `config` without Lifeguard and with no loss: each member probes every
 * other within 2n - 1 periods (its shuffled round-robin list, section 4.3 of the SWIM paper), the probe
 * fails at the end of its period (one more), and the suspicion it raises is confirmed after the
 * suspicion timeout (suspicionMult * max(1, log10 n) periods, section 4.2); hearing another's
 * suspicion or death first only brings it sooner. So (2n + suspicionMult * max(1, log10 n)) periods;
 * with suspicion off, 2n periods.
 */
export function detectionBoundNs(config: SwimConfig, n: number): number {
  return 2 * n * config.probeIntervalNs + (config.suspicion ? suspicionTimeoutNs(config, n) : 0);
}

/** Counters of the driver (in `kv stats`). */
export interface SwimDriverCounters {
  /** Messages, updates or ping-req targets dropped because the address book was full. */
  swim_members_refused: number;
  /** Ping-reqs dropped over the per-probe-timeout bound. */
  swim_dropped_ping_req: number;
  /** SWIM datagrams sent (a large sync counts once per datagram). */
  swim_sent: number;
  /** SWIM messages handed to the node. */
  swim_received: number;
}

/** What the driver sends and receives: SWIM packets (members by address) and the store's gossip messages (no member ids in them). */
export type SwimStorePacket = SwimPacket | GossipMessage;

/** Options of a {@link SwimDriver}. */
export interface SwimDriverOptions {
  readonly book: AddressBook;
  /** Full configuration (missing fields take {@link DEFAULT_SWIM_CONFIG}). */
  readonly config?: Partial<SwimConfig>;
  /** Addresses to join through, tried in turn (they must be in the book). */
  readonly seeds: readonly NodeId[];
  /** This node's incarnation at start (default: the wall clock, ms since 1970). */
  readonly incarnation: number;
  readonly rng: Rng;
  /** Largest encoded SWIM message, bytes (the host's MTU). */
  readonly mtuBytes: number;
  /** The store half: its options as {@link SwimStoreNode}'s (default: a store with the gossip defaults on a stream of `rng`'s seed). */
  readonly store?: SwimStoreNodeOptions['store'];
  /** Origin id of the store's writes (see `GossipNodeOptions.originId`). */
  readonly originId?: number;
  /** The store's static peers (`--peers`), peers whatever SWIM says. */
  readonly staticPeers?: readonly NodeId[];
  /** The store's state at start (its entries and clock; see the module comment of `gossip-udp.ts`). */
  readonly snapshot?: SwimStoreSnapshot;
}

/**
 * The sans-I/O {@link SwimStoreNode} on a real socket: address translation of SWIM's messages, bounds,
 * chunked syncs. See the module comment.
 */
export class SwimDriver {
  /** The sans-I/O node: SWIM and the store on its view, as the simulator runs it. */
  readonly core: SwimStoreNode;
  readonly config: SwimConfig;
  readonly counters: SwimDriverCounters = { swim_members_refused: 0, swim_dropped_ping_req: 0, swim_sent: 0, swim_received: 0 };
  private readonly book: AddressBook;
  private readonly seeds: readonly NodeId[];
  private readonly startIncarnation: number;
  private readonly mtu: number;
  private out: Action<SwimStorePacket>[] = [];
  private pingReqWindowStart = -Infinity;
  private pingReqsInWindow = 0;
  private viewChanged = false;

  constructor(opts: SwimDriverOptions) {
    this.config = { ...DEFAULT_SWIM_CONFIG, ...opts.config };
    const c = this.config;
    if (!(Number.isSafeInteger(c.probeIntervalNs) && c.probeIntervalNs > 0))
      throw new RangeError(`the probe interval must be > 0, got ${c.probeIntervalNs} ns`);
    if (!(Number.isSafeInteger(c.probeTimeoutNs) && c.probeTimeoutNs > 0 && c.probeTimeoutNs < c.probeIntervalNs))
      throw new RangeError(
        `the probe timeout must be > 0 and below the probe interval (${c.probeIntervalNs / 1e6} ms), got ${c.probeTimeoutNs / 1e6} ms`,
      );
    if (!Number.isSafeInteger(opts.incarnation) || opts.incarnation < 1)
      throw new RangeError(`the incarnation must be an integer >= 1, got ${opts.incarnation}`);
    this.book = opts.book;
    this.seeds = opts.seeds;
    this.startIncarnation = opts.incarnation;
    this.mtu = opts.mtuBytes;
    // No table, no seeds: it takes itself as the whole group, then joins at `start`.
    this.core = new SwimStoreNode({
      id: opts.book.self,
      ...(opts.originId !== undefined ? { originId: opts.originId } : {}),
      ...(opts.staticPeers !== undefined ? { staticPeers: opts.staticPeers } : {}),
      swim: { config: this.config, rng: opts.rng },
      store: opts.store ?? { rng: opts.rng },
      // Updates riding on the store's gossip are taken as the wire will size them.
      piggybackSizes: { headerBytes: PIGGYBACK_WIRE_OVERHEAD, updateBytes: WIRE_UPDATE_BYTES },
      ...(opts.snapshot !== undefined ? { snapshot: opts.snapshot } : {}),
    });
  }

  /** The membership half (read it). */
  get node(): SwimNode {
    return this.core.swim;
  }

  /** Starts the node alone at its incarnation, then joins through the seeds. */
  start(now: Time): void {
    const self = this.book.self;
    this.core.start(now);
    // The group's word about this member at startIncarnation - 1: it refutes with startIncarnation.
    const claim: Update = { kind: 'alive', node: self, incarnation: this.startIncarnation - 1, from: self };
    this.core.handleMessage(self, { type: 'ping', seq: 0, updates: [claim] }, now);
    if (this.seeds.length > 0) this.core.handleCall({ op: 'join', seeds: this.seeds }, now);
    this.collect();
  }

  /** Leaves the group gracefully: `left` goes to k + 1 members at once, and the node goes silent. */
  leave(now: Time): void {
    this.core.handleCall({ op: 'leave' }, now);
    this.collect();
  }

  /** Admits a datagram's source address (a SWIM message from outside the book): its new id, or undefined at the cap. */
  admit(from: string): NodeId | undefined {
    const id = this.book.add(from);
    if (id === undefined) this.counters.swim_members_refused++;
    return id;
  }

  /** A SWIM message from a peer (members by address). */
  handleMessage(from: NodeId, msg: SwimWireMessage, now: Time): void {
    const m = this.toNode(msg, now);
    if (m === undefined) return;
    this.counters.swim_received++;
    this.core.handleMessage(from, m, now);
    this.collect();
  }

  /**
   * A store message with SWIM's updates riding on it (members by address), from a member in the book.
   * The updates are applied first, as SWIM's own messages' are (so a joiner's `alive` makes it a store
   * peer before its gossip is checked, as in the simulator); then the store part is handed over only if
   * `takeStore()` says so (the owner's check that the sender is a store peer). True when it was.
   */
  handlePiggyback(
    from: NodeId,
    msg: { readonly updates: readonly WireUpdate[]; readonly store: GossipMessage },
    now: Time,
    takeStore: () => boolean,
  ): boolean {
    this.counters.swim_received++;
    this.core.handleUpdates(from, this.updatesIn(msg.updates), now);
    const take = takeStore();
    if (take) this.core.handleMessage(from, msg.store, now);
    this.collect();
    return take;
  }

  /** A store message from a peer (it names no member: origin ids are not node ids). */
  handleStoreMessage(from: NodeId, msg: GossipMessage, now: Time): void {
    this.core.handleMessage(from, msg, now);
    this.collect();
  }

  /** A timer of the node (the names are {@link SwimStoreNode}'s own). */
  handleTimer(timer: string, now: Time): void {
    this.core.handleTimer(timer, now);
    this.collect();
  }

  /** A client call to the store. */
  handleCall(call: KvCall, now: Time): KvReply {
    // `stats` goes to the store alone: the owner adds SWIM's figures by this driver's names
    // ({@link SwimDriver.stats}), and the core's copies of them would not fit the reply's datagram.
    if (call.op === 'stats') return this.core.store.handleCall(call, now);
    const reply = this.core.handleCall(call, now) as KvReply;
    this.collect();
    return reply;
  }

  /**
   * SWIM's view (members held alive or suspect, this node included, ascending ids) if the member table
   * changed since the last call, else undefined. The ids are the book's.
   */
  takeViewChange(): NodeId[] | undefined {
    if (!this.viewChanged) return undefined;
    this.viewChanged = false;
    return this.core.view();
  }

  /** Actions queued since the last poll, translated for the host. */
  pollActions(): readonly Action<SwimStorePacket>[] {
    const q = this.out;
    this.out = [];
    return q;
  }

  /** The member table, by address (numeric order). */
  members(): MemberRow[] {
    const rows: MemberRow[] = [];
    for (const m of this.core.members()) {
      const address = this.book.keyOf(m.node);
      if (address !== undefined) rows.push({ address, state: m.state, incarnation: m.incarnation });
    }
    return rows.sort((a, b) => compareKeys(a.address, b.address));
  }

  /** Figures for `kv stats`. */
  stats(): Record<string, number> {
    const by = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of this.core.members()) by[m.state]++;
    return {
      swim_incarnation: this.core.swim.currentIncarnation,
      swim_members_alive: by.alive,
      swim_members_suspect: by.suspect,
      swim_members_dead: by.dead,
      swim_members_left: by.left,
      swim_address_book: this.book.size,
      swim_address_book_cap: this.book.cap,
      ...this.counters,
    };
  }

  // ---- translation ----------------------------------------------------------

  private id(key: string): NodeId | undefined {
    const id = this.book.add(key);
    if (id === undefined) this.counters.swim_members_refused++;
    return id;
  }

  /** SWIM updates from the wire: addresses to ids (a new address takes the next id; at the cap it is dropped and counted). */
  updatesIn(us: readonly WireUpdate[]): Update[] {
    const out: Update[] = [];
    for (const u of us) {
      const node = this.id(u.node);
      const from = node === undefined ? undefined : this.id(u.from);
      if (node !== undefined && from !== undefined) out.push({ kind: u.kind, node, incarnation: u.incarnation, from });
    }
    return out;
  }

  /** SWIM updates for the wire: ids to addresses, at most {@link MAX_WIRE_UPDATES}. */
  updatesOut(us: readonly Update[]): WireUpdate[] {
    const out = this.allRows(us);
    return out.length > MAX_WIRE_UPDATES ? out.slice(0, MAX_WIRE_UPDATES) : out;
  }

  private toNode(msg: SwimWireMessage, now: Time): SwimMessage | undefined {
    switch (msg.type) {
      case 'ping':
      case 'ack':
      case 'nack':
        return { type: msg.type, seq: msg.seq, updates: this.updatesIn(msg.updates) };
      case 'ping-req': {
        if (now - this.pingReqWindowStart >= this.config.probeTimeoutNs) {
          this.pingReqWindowStart = now;
          this.pingReqsInWindow = 0;
        }
        if (++this.pingReqsInWindow > this.book.cap) {
          this.counters.swim_dropped_ping_req++;
          return undefined;
        }
        const target = this.id(msg.target);
        if (target === undefined || target === this.book.self) return undefined;
        return { type: 'ping-req', seq: msg.seq, target, updates: this.updatesIn(msg.updates) };
      }
      case 'sync':
        return { type: 'sync', reply: msg.reply, members: this.updatesIn(msg.members), updates: this.updatesIn(msg.updates) };
    }
  }

  private send(to: NodeId, msg: SwimWireMessage): void {
    this.counters.swim_sent++;
    this.out.push({ type: 'send', to, msg: { type: 'swim', msg }, sizeBytes: 0 });
  }

  /** Moves the node's actions to the host's queue: SWIM's messages translated, the store's as they are. */
  private collect(): void {
    for (const a of this.core.pollActions()) {
      switch (a.type) {
        case 'send':
          if (isSwimMessage(a.msg)) {
            if (a.to !== this.book.self) this.sendOut(a.to, a.msg);
          } else if (isPiggybackMessage(a.msg)) this.sendPiggyback(a.to, a.msg, a.sizeBytes);
          else this.out.push({ type: 'send', to: a.to, msg: a.msg, sizeBytes: a.sizeBytes });
          break;
        case 'set-timer':
        case 'cancel-timer':
          this.out.push(a);
          break;
        case 'trace': {
          if (a.name === 'member') this.viewChanged = true;
          const member = a.data['member'];
          const data = typeof member === 'number' ? { ...a.data, member: this.book.keyOf(member) ?? member } : a.data;
          this.out.push({ type: 'trace', name: a.name, data });
          break;
        }
      }
    }
  }

  /**
   * A store message with SWIM's updates, members by address. An update takes 21 bytes here against the
   * node's 16, so the updates that would take the datagram past the MTU are left off (SWIM counted them as
   * sent: they still ride on its own messages until their retransmit budget is spent); with none left the
   * store message goes alone.
   */
  private sendPiggyback(to: NodeId, msg: PiggybackMessage, sizeBytes: number): void {
    const store = msg.store;
    const room = Math.floor((this.mtu - PIGGYBACK_WIRE_OVERHEAD - encodedSize(store)) / WIRE_UPDATE_BYTES);
    const all = this.updatesOut(msg.updates);
    const updates = room < all.length ? all.slice(0, Math.max(0, room)) : all;
    if (updates.length === 0) this.out.push({ type: 'send', to, msg: store, sizeBytes });
    else this.out.push({ type: 'send', to, msg: { type: 'piggyback', updates, store }, sizeBytes });
  }

  /** One of SWIM's messages as wire messages (a sync too large for one datagram as several). */
  private sendOut(to: NodeId, msg: SwimMessage): void {
    const updates = this.updatesOut(msg.updates);
    switch (msg.type) {
      case 'ping':
      case 'ack':
      case 'nack':
        return this.send(to, { type: msg.type, seq: msg.seq, updates });
      case 'ping-req': {
        const target = this.book.keyOf(msg.target);
        if (target !== undefined) this.send(to, { type: 'ping-req', seq: msg.seq, target, updates });
        return;
      }
      case 'sync': {
        // A table too large for one datagram goes as several; only the first asks for a reply.
        const all = this.allRows(msg.members);
        const first = Math.max(1, Math.floor((this.mtu - SYNC_HEADER_BYTES - WIRE_UPDATE_BYTES * updates.length) / WIRE_UPDATE_BYTES));
        const rest = Math.max(1, Math.floor((this.mtu - SYNC_HEADER_BYTES) / WIRE_UPDATE_BYTES));
        this.send(to, { type: 'sync', reply: msg.reply, members: all.slice(0, first), updates });
        for (let i = first; i < all.length; i += rest) this.send(to, { type: 'sync', reply: true, members: all.slice(i, i + rest), updates: [] });
        return;
      }
    }
  }

  private allRows(us: readonly Update[]): WireUpdate[] {
    const out: WireUpdate[] = [];
    for (const u of us) {
      const node = this.book.keyOf(u.node);
      const from = this.book.keyOf(u.from);
      if (node !== undefined && from !== undefined) out.push({ kind: u.kind, node, incarnation: u.incarnation, from });
    }
    return out;
  }
}

/** Orders `host:port` keys by IPv4 address, then port. */
export function compareKeys(a: string, b: string): number {
  const pa = a.split(/[.:]/).map(Number);
  const pb = b.split(/[.:]/).map(Number);
  for (let i = 0; i < 5; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

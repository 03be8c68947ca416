/**
 * A SWIM member (Das, Gupta and Motivala, "SWIM: Scalable Weakly-consistent
 * Infection-style Process Group Membership Protocol", DSN 2002), with
 * Lifeguard's refinements as an option (Dadgar, Phillips and Currey,
 * "Lifeguard: Local Health Awareness for More Accurate Failure Detection", 2018).
 *
 * Theory of operation. Every protocol period T (timer `probe`) a member
 * first judges the probe it started one period earlier, then probes the next
 * member of its probe list: a shuffled list walked round-robin and shuffled
 * again at its end, new members inserted at random places (section 4.3), so
 * every member is probed within 2n - 1 periods. The shuffle is done as the
 * list is walked: each probe draws its target uniformly from the members not
 * yet probed in this walk (the same random order, one Fisher-Yates step per
 * period), and a new member is added to those. A probe is a `ping` that the
 * target answers with an `ack`; without an ack within the probe timeout the
 * member sends `ping-req` to k other members (section 3.1), which ping the
 * target and relay its ack (with Lifeguard they send a `nack` when they hear
 * nothing in time). A probe that got no ack by the end of its period has
 * failed: the target becomes `suspect` (section 4.2), or `dead` at once
 * without suspicion (section 3). A suspicion is confirmed `dead` when its
 * timeout runs out (timer `suspect`) unless an `alive` with a higher
 * incarnation arrives first: a member that hears it is suspected (or dead)
 * refutes by raising its incarnation and spreading `alive` (section 4.2).
 *
 * Updates override by incarnation (section 4.2): alive(i) beats suspect(j) and
 * alive(j) when i > j; suspect(i) beats alive(j) when i >= j and suspect(j)
 * when i > j; dead and left beat alive and suspect when i >= j, and only an
 * alive with a higher incarnation brings a dead member back.
 *
 * Dissemination (section 4.1): each update is queued and piggybacked on the
 * next messages, those sent fewest times first, up to `maxPiggyback` per
 * message, and dropped after lambda * ceil(log10(n + 1)) sends (memberlist's
 * retransmit limit). When a member probes a suspect it puts the suspicion
 * first, so the suspect learns it and can refute (Lifeguard's "buddy system").
 * Another protocol's messages may carry updates too, as memberlist's user
 * broadcasts share its packets: {@link SwimNode.takeUpdates} hands some out
 * from the same queue, by the same order and cap, each counted as one of the
 * lambda * ceil(log10(n + 1)) sends, and {@link SwimNode.receiveUpdates}
 * applies the ones such a message brought (see `swim-store`).
 *
 * Joining: a member with no table sends a `sync` (its own `alive`) to a seed,
 * which merges it, spreads the joiner's `alive` and answers with its whole
 * table; the joiner retries the next seed each period until answered. A
 * restarted member syncs again the same way, learns the incarnation at which
 * it was declared dead and refutes it with a higher one. Every
 * `reconnectIntervalNs` a member also syncs with one random member it holds
 * dead, with probability (members held dead) / (members alive or suspect),
 * as Serf's reconnect does, so the group as a whole tries each dead member
 * about once per interval and the sides of a healed partition merge again, and
 * every `pushPullIntervalNs` with one random live member (memberlist's
 * push-pull anti-entropy: it repairs an update the piggybacking missed); a
 * table's `dead` records are merged as `suspect` (memberlist's push-pull), so
 * a live member gets the chance to refute. A graceful leave spreads `left`
 * (to k + 1 members at once) and the member goes silent.
 *
 * Lifeguard (`lifeguard: true`): a local health score s in 0 .. max - 1
 * stretches the member's own period and probe timeout by (s + 1) (section
 * 4.1): +1 for a failed probe (less the nacks received: a nack shows the
 * member itself is healthy), +1 for each suspicion about itself it refutes,
 * -1 for each probe acked. The suspicion timeout starts at
 * `suspicionMaxTimeoutMult` times the base and shrinks towards the base as
 * k = suspicionMult - 2 other members independently suspect the same member
 * (section 4.2).
 *
 * Members are NodeIds, as the driver maps them to network nodes or sockets.
 * Memory and time per member grow with its view, not with the group squared:
 * a member's state is one byte per NodeId and its incarnation one byte,
 * widened to 2, 4 or 8 only when an incarnation needs it (so keep ids small
 * and dense); the order heard is a typed list, and the members a group was
 * bootstrapped with are held once for every member built from the same
 * list; the probe list is a typed array shuffled in place; the members held
 * dead are a list of their own. Nothing scans the view per message: only the
 * probe list refill (once per walk of the list) and the whole-table syncs do.
 * Indirect-probe helpers are drawn at random places of the table as
 * memberlist's kRandomNodes draws them, with a scan only when few members
 * qualify.
 */
import type { Action, NodeId, ProtocolNode, Rng, Time } from '../sans-io.js';
import { Outbox } from '../sans-io.js';
import { dynamicSuspicionTimeoutNs, pushPullIntervalNs, retransmitLimit, suspicionTimeoutNs, type SwimConfig } from './config.js';
import { messageBytes, type SwimMessage, type Update, type UpdateKind } from './wire.js';

/** A member's state in a table. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

const UNKNOWN = 0;
const ALIVE = 1;
const SUSPECT = 2;
const DEAD = 3;
const LEFT = 4;
const STATE_NAMES: readonly (MemberState | undefined)[] = [undefined, 'alive', 'suspect', 'dead', 'left'];
const KIND_CODES: Readonly<Record<UpdateKind, number>> = { alive: ALIVE, suspect: SUSPECT, dead: DEAD, left: LEFT };

/** Incarnations, one element per NodeId: the narrowest width that holds every value seen. */
type IncArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;

const NO_IDS = new Int32Array(0);
/**
 * Deduplicated copies of the member lists groups were bootstrapped with, keyed by the caller's
 * array: the n members of a group built from one list share one copy (checked against the list
 * at every construction, so a list changed in between gets a copy of its own).
 */
const sharedBases = new WeakMap<readonly NodeId[], Int32Array>();
/** Scratch ids shared by every member: no method that fills it runs inside another. */
let scratch = new Int32Array(64);

function scratchFor(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** A client call: leave gracefully, join through seeds (a dormant or fresh member), or list the table. */
export type SwimCall = { readonly op: 'leave' } | { readonly op: 'join'; readonly seeds: readonly NodeId[] } | { readonly op: 'members' };

/** One row of {@link SwimNode.members}. */
export interface MemberInfo {
  readonly node: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
}

/** The reply to a {@link SwimCall}: the table for `members`, nothing otherwise. */
export type SwimReply = readonly MemberInfo[] | undefined;

/**
 * How a member's state changed, in the `member` trace:
 * `probe` (a failed probe: suspect, or dead without suspicion), `timeout` (a suspicion expired),
 * `gossip` (an update heard), `sync` (a table merged), `self` (a refutation or a leave).
 */
export type ChangeVia = 'probe' | 'timeout' | 'gossip' | 'sync' | 'self';

/** Construction options of a {@link SwimNode}. */
export interface SwimNodeOptions {
  /** The members this one knows alive at start (a bootstrapped group); itself may be included. */
  readonly members?: readonly NodeId[];
  /** Members to join through when it starts with no table (tried in turn, one per period). */
  readonly seeds?: readonly NodeId[];
  /** Start silent: do nothing until a `join` call (a node not yet in the group). */
  readonly dormant?: boolean;
  /** Emit a `member` trace on every change of the table (default true). */
  readonly trace?: boolean;
}

/** Counters of a member's messages. */
export interface SwimCounters {
  sent: number;
  bytesSent: number;
  received: number;
  /** Messages of another protocol that carried this member's updates ({@link SwimNode.takeUpdates} calls that gave some). */
  carriersOut: number;
  /** Updates handed to other protocols' messages: each one counts against the retransmit limit as a send does. */
  updatesCarriedOut: number;
  /** Messages of another protocol whose updates this member received ({@link SwimNode.receiveUpdates}). */
  carriersIn: number;
  /** Updates received on other protocols' messages. */
  updatesCarriedIn: number;
}

interface Probe {
  readonly target: NodeId;
  readonly seq: number;
  acked: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  readonly seq: number;
  readonly origSeq: number;
  readonly requester: NodeId;
  readonly deadline: Time;
}

interface Suspicion {
  readonly incarnation: number;
  readonly startNs: Time;
  readonly minNs: number;
  readonly maxNs: number;
  readonly k: number;
  readonly confirmers: NodeId[];
  deadline: Time;
}

interface Broadcast {
  readonly update: Update;
  transmits: number;
}

/** One SWIM member. Inputs are the sans-I/O calls; see the module comment for the protocol. */
export class SwimNode implements ProtocolNode<SwimMessage, SwimCall, SwimReply> {
  private readonly out = new Outbox<SwimMessage>();
  /** State per NodeId (UNKNOWN .. LEFT). */
  private state = new Uint8Array(16);
  /** Incarnation per NodeId, widened as needed (see {@link setInc}). */
  private inc: IncArray = new Uint8Array(16);
  /** The largest value `inc` holds at its current width. */
  private incMax = 0xff;
  /**
   * Every member ever heard of, in the order heard (iteration order of the table): this one,
   * then `base` (the bootstrapped members, shared; this one skipped), then `own[0 .. ownLen)`.
   */
  private base: Int32Array = NO_IDS;
  /** Index of this member in `base`, or -1. */
  private selfInBase = -1;
  private own: Int32Array = NO_IDS;
  private ownLen = 0;
  /** The members held dead (not left), in no particular order, and each one's place in it. */
  private readonly deadIds: NodeId[] = [];
  private readonly deadAt = new Map<NodeId, number>();
  private incarnation = 0;
  /** Members alive or suspect, this one included. */
  private liveCount = 1;
  /**
   * The round-robin probe order (section 4.3): `probeList[0 .. probeLen)`, walked from `probeIdx` and
   * shuffled as it is walked (16-bit while every id fits).
   */
  private probeList: Uint16Array | Int32Array = NO_IDS;
  private probeLen = 0;
  private probeIdx = 0;
  private probe: Probe | undefined;
  private seq = 0;
  private readonly relays: Relay[] = [];
  private readonly relayBySeq = new Map<number, Relay>();
  private readonly suspicions = new Map<NodeId, Suspicion>();
  private broadcasts: Broadcast[] = [];
  private health = 0;
  private seeds: readonly NodeId[];
  private seedIdx = 0;
  private joined: boolean;
  private dormant: boolean;
  private left = false;
  private started = false;
  private readonly traceOn: boolean;
  /** Messages this member sent and received. */
  readonly counters: SwimCounters = { sent: 0, bytesSent: 0, received: 0, carriersOut: 0, updatesCarriedOut: 0, carriersIn: 0, updatesCarriedIn: 0 };

  constructor(
    readonly id: NodeId,
    readonly config: SwimConfig,
    private readonly rng: Rng,
    options: SwimNodeOptions = {},
  ) {
    this.seeds = (options.seeds ?? []).filter((s) => s !== id);
    this.dormant = options.dormant === true;
    this.traceOn = options.trace !== false;
    this.grow(id);
    this.state[id] = ALIVE;
    if (options.members !== undefined && options.members.length > 0) this.adoptBase(options.members);
    this.liveCount = this.countLive();
    this.joined = this.liveCount > 1;
  }

  /** Takes the bootstrapped members as alive, in order, without duplicates; shares the list's copy (see `sharedBases`). */
  private adoptBase(members: readonly NodeId[]): void {
    let maxId = this.id;
    for (const m of members) if (m > maxId) maxId = m;
    this.grow(maxId, true);
    const firsts = scratchFor(members.length);
    let len = 0;
    let seenSelf = false;
    for (const m of members) {
      if (m === this.id) {
        if (seenSelf) continue;
        seenSelf = true;
        this.selfInBase = len;
      } else {
        if (this.stateOf(m) !== UNKNOWN) continue;
        this.grow(m);
        this.state[m] = ALIVE;
      }
      firsts[len++] = m;
    }
    let base = sharedBases.get(members);
    let same = base !== undefined && base.length === len;
    for (let j = 0; same && j < len; j++) if ((base as Int32Array)[j] !== firsts[j]) same = false;
    if (!same) {
      base = firsts.slice(0, len);
      sharedBases.set(members, base);
    }
    this.base = base as Int32Array;
  }

  // ---- inputs -------------------------------------------------------------

  start(now: Time): void {
    if (this.dormant || this.left) return;
    const restart = this.started;
    this.started = true;
    this.probe = undefined;
    this.relays.length = 0;
    this.relayBySeq.clear();
    this.refillProbeList();
    this.probeIdx = 0;
    const T = this.config.probeIntervalNs;
    const first = this.config.phase === 'aligned' ? Math.ceil((now + 1) / T) * T : now + Math.floor(this.rng.uniform() * T);
    this.out.setTimer('probe', first);
    // Reconnects at a random phase, so members do not all sync at one instant.
    if (this.config.reconnectIntervalNs > 0)
      this.out.setTimer('reconnect', now + Math.floor((0.5 + this.rng.uniform()) * this.config.reconnectIntervalNs));
    if (this.config.pushPullIntervalNs > 0) this.out.setTimer('push-pull', now + Math.floor((0.5 + this.rng.uniform()) * this.pushPullNs()));
    if (this.suspicions.size > 0) this.armSuspicionTimer();
    if (restart || !this.joined) {
      // A restarted member syncs with a seed or a member it knew, to learn what the group thinks of it.
      this.joined = false;
      this.trySync();
    }
  }

  handleMessage(from: NodeId, msg: SwimMessage, now: Time): void {
    if (this.dormant || this.left || !this.started) return;
    this.counters.received++;
    for (const u of msg.updates) this.apply(u, now, 'gossip', true);
    switch (msg.type) {
      case 'ping':
        this.send(from, { type: 'ack', seq: msg.seq, updates: this.piggyback() });
        break;
      case 'ping-req': {
        const seq = ++this.seq;
        const relay: Relay = { seq, origSeq: msg.seq, requester: from, deadline: now + this.config.probeTimeoutNs };
        this.relays.push(relay);
        this.relayBySeq.set(seq, relay);
        if (this.relays.length === 1) this.out.setTimer('relay', relay.deadline);
        this.send(msg.target, { type: 'ping', seq, updates: this.piggyback() });
        break;
      }
      case 'ack': {
        const p = this.probe;
        if (p !== undefined && p.seq === msg.seq) {
          p.acked = true;
          break;
        }
        const relay = this.relayBySeq.get(msg.seq);
        if (relay !== undefined) {
          this.relayBySeq.delete(msg.seq);
          this.send(relay.requester, { type: 'ack', seq: relay.origSeq, updates: this.piggyback() });
        }
        break;
      }
      case 'nack': {
        const p = this.probe;
        if (p !== undefined && p.seq === msg.seq) p.nacks++;
        break;
      }
      case 'sync':
        this.merge(from, msg.members, now);
        if (!msg.reply) this.send(from, { type: 'sync', reply: true, members: this.table(), updates: this.piggyback() });
        break;
    }
  }

  handleTimer(timer: string, now: Time): void {
    if (this.dormant || this.left || !this.started) return;
    switch (timer) {
      case 'probe':
        this.finishProbe(now);
        if (!this.joined) this.trySync();
        this.startProbe(now);
        this.out.setTimer('probe', now + this.config.probeIntervalNs * (this.health + 1));
        break;
      case 'ack':
        this.indirectProbe();
        break;
      case 'relay':
        this.expireRelays(now);
        break;
      case 'suspect':
        this.expireSuspicions(now);
        break;
      case 'reconnect':
        this.reconnect();
        this.out.setTimer('reconnect', now + this.config.reconnectIntervalNs);
        break;
      case 'push-pull':
        if (this.joined) this.trySync(false);
        this.out.setTimer('push-pull', now + this.pushPullNs());
        break;
    }
  }

  handleCall(call: SwimCall, now: Time): SwimReply {
    switch (call.op) {
      case 'members':
        return this.members();
      case 'join':
        if (this.left) return undefined;
        this.seeds = call.seeds.filter((s) => s !== this.id);
        this.seedIdx = 0;
        if (this.dormant) {
          this.dormant = false;
          this.start(now);
        } else {
          this.joined = false;
          this.trySync();
        }
        return undefined;
      case 'leave':
        this.leave();
        return undefined;
    }
  }

  pollActions(): readonly Action<SwimMessage>[] {
    return this.out.drain();
  }

  // ---- piggybacking on another protocol's messages (section 4.1; issue 17) ----

  /**
   * Takes updates from the broadcast queue for a message this member does not send itself (a store's
   * gossip that travels to `to` anyway): up to `max` of them (at most `maxPiggyback`, the cap of SWIM's
   * own messages), chosen as for SWIM's own messages (fewest sends first) and each counted as one
   * send against the same retransmit limit lambda * ceil(log10(n + 1)). Empty while dormant, after a
   * leave, or when nothing waits.
   */
  takeUpdates(max: number = this.config.maxPiggyback): Update[] {
    if (this.dormant || this.left || !this.started || this.broadcasts.length === 0) return [];
    const updates = this.piggyback(Math.min(max, this.config.maxPiggyback));
    if (updates.length > 0) {
      this.counters.carriersOut++;
      this.counters.updatesCarriedOut += updates.length;
    }
    return updates;
  }

  /**
   * Updates that arrived from `from` on another protocol's message: applied and spread exactly as if
   * they had come on a SWIM message (an update that changes the table is queued to be piggybacked in
   * turn). Ignored while dormant, after a leave, or before start, as SWIM's messages are. `from` is the
   * relaying member; as on SWIM's own messages, each update is judged by its incarnation, not its relay.
   */
  receiveUpdates(from: NodeId, updates: readonly Update[], now: Time): void {
    if (this.dormant || this.left || !this.started) return;
    this.counters.carriersIn++;
    this.counters.updatesCarriedIn += updates.length;
    for (const u of updates) this.apply(u, now, 'gossip', true);
  }

  // ---- queries ------------------------------------------------------------

  /** This member's incarnation number. */
  get currentIncarnation(): number {
    return this.incarnation;
  }

  /** The local health score (0 without Lifeguard). */
  get healthScore(): number {
    return this.health;
  }

  /** True once it left gracefully. */
  get hasLeft(): boolean {
    return this.left;
  }

  /** True while dormant (not yet joined by a call). */
  get isDormant(): boolean {
    return this.dormant;
  }

  /** The table: every member heard of (itself included), in the order heard. */
  members(): MemberInfo[] {
    const rows: MemberInfo[] = [];
    for (let i = 0, len = this.knownLen(); i < len; i++) {
      const m = this.knownAt(i);
      const s = this.stateOf(m);
      rows.push({ node: m, state: STATE_NAMES[s] as MemberState, incarnation: m === this.id ? this.incarnation : (this.inc[m] as number) });
    }
    return rows;
  }

  /** The members it holds alive or suspect (itself included, unless it left), ascending. */
  view(): NodeId[] {
    const v: NodeId[] = [];
    for (let i = 0, len = this.knownLen(); i < len; i++) {
      const m = this.knownAt(i);
      const s = this.stateOf(m);
      if (s === ALIVE || s === SUSPECT) v.push(m);
    }
    return v.sort((a, b) => a - b);
  }

  /** The state it holds for `node`, or undefined if it never heard of it. */
  stateOfMember(node: NodeId): MemberState | undefined {
    return STATE_NAMES[this.stateOf(node)];
  }

  /** Updates waiting to be piggybacked. */
  get pendingBroadcasts(): number {
    return this.broadcasts.length;
  }

  // ---- probing (sections 3.1, 4.3) -----------------------------------------

  private startProbe(now: Time): void {
    const target = this.nextTarget();
    if (target === undefined) return;
    const seq = ++this.seq;
    this.probe = { target, seq, acked: false, expectedNacks: 0, nacks: 0 };
    const updates = this.piggyback();
    // Lifeguard's buddy system: a suspect probed hears the suspicion first.
    const updatesFirst = this.stateOf(target) === SUSPECT ? withFirst(updates, this.suspectUpdate(target)) : updates;
    this.send(target, { type: 'ping', seq, updates: updatesFirst });
    this.out.setTimer('ack', now + this.config.probeTimeoutNs * (this.health + 1));
  }

  private suspectUpdate(node: NodeId): Update {
    return { kind: 'suspect', node, incarnation: this.inc[node] as number, from: this.id };
  }

  private indirectProbe(): void {
    const p = this.probe;
    if (p === undefined || p.acked) return;
    const helpers = this.randomMembers(this.config.indirectChecks, p.target);
    for (const h of helpers) this.send(h, { type: 'ping-req', seq: p.seq, target: p.target, updates: this.piggyback() });
    p.expectedNacks = this.config.lifeguard ? helpers.length : 0;
  }

  private finishProbe(now: Time): void {
    const p = this.probe;
    this.probe = undefined;
    if (p === undefined) return;
    if (p.acked) {
      this.adjustHealth(-1);
      return;
    }
    // Lifeguard section 4.1: a missed nack counts against this member's own health.
    this.adjustHealth(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
    const s = this.stateOf(p.target);
    if (s !== ALIVE && s !== SUSPECT) return;
    const incarnation = this.inc[p.target] as number;
    // A failed probe of a member already suspect is one more confirmation (Lifeguard section 4.2).
    if (this.config.suspicion) this.apply({ kind: 'suspect', node: p.target, incarnation, from: this.id }, now, 'probe', true);
    else this.apply({ kind: 'dead', node: p.target, incarnation, from: this.id }, now, 'probe', true);
  }

  private nextTarget(): NodeId | undefined {
    for (let tries = 0; tries <= this.probeLen; tries++) {
      if (this.probeIdx >= this.probeLen) {
        this.refillProbeList();
        this.probeIdx = 0;
        if (this.probeLen === 0) return undefined;
      }
      // One Fisher-Yates step: the next target is a uniform draw from the rest of the walk.
      const xs = this.probeList;
      const i = this.probeIdx++;
      const r = i + Math.floor(this.rng.uniform() * (this.probeLen - i));
      const m = xs[r] as NodeId;
      xs[r] = xs[i] as NodeId;
      xs[i] = m;
      const s = this.stateOf(m);
      if (s === ALIVE || s === SUSPECT) return m;
    }
    return undefined;
  }

  private expireRelays(now: Time): void {
    let i = 0;
    while (i < this.relays.length && (this.relays[i] as Relay).deadline <= now) {
      const r = this.relays[i] as Relay;
      if (this.relayBySeq.delete(r.seq) && this.config.lifeguard) {
        this.send(r.requester, { type: 'nack', seq: r.origSeq, updates: this.piggyback() });
      }
      i++;
    }
    this.relays.splice(0, i);
    const head = this.relays[0];
    if (head !== undefined) this.out.setTimer('relay', head.deadline);
  }

  private adjustHealth(delta: number): void {
    if (!this.config.lifeguard) return;
    this.health = Math.min(this.config.awarenessMaxMultiplier - 1, Math.max(0, this.health + delta));
  }

  // ---- suspicion (section 4.2; Lifeguard section 4.2) ----------------------

  private startSuspicion(node: NodeId, incarnation: number, from: NodeId, now: Time): void {
    const minNs = suspicionTimeoutNs(this.config, this.liveCount);
    const maxNs = this.config.lifeguard ? minNs * this.config.suspicionMaxTimeoutMult : minNs;
    let k = this.config.lifeguard ? this.config.suspicionMult - 2 : 0;
    if (this.liveCount - 2 < k) k = 0;
    const s: Suspicion = { incarnation, startNs: now, minNs, maxNs, k, confirmers: [from], deadline: now + maxNs };
    this.suspicions.set(node, s);
    this.armSuspicionTimer();
  }

  /** Another member suspects the same: with Lifeguard, one more independent confirmation shortens the timeout. True if it was new. */
  private confirmSuspicion(node: NodeId, from: NodeId): boolean {
    const s = this.suspicions.get(node);
    if (s === undefined || s.confirmers.includes(from)) return false;
    s.confirmers.push(from);
    if (s.k > 0) {
      s.deadline = s.startNs + dynamicSuspicionTimeoutNs(s.minNs, s.maxNs, s.k, s.confirmers.length - 1);
      this.armSuspicionTimer();
    }
    return true;
  }

  private armSuspicionTimer(): void {
    let first = Infinity;
    for (const s of this.suspicions.values()) if (s.deadline < first) first = s.deadline;
    if (first === Infinity) this.out.cancelTimer('suspect');
    else this.out.setTimer('suspect', first);
  }

  private expireSuspicions(now: Time): void {
    const due: [NodeId, Suspicion][] = [];
    for (const [node, s] of this.suspicions) if (s.deadline <= now) due.push([node, s]);
    for (const [node, s] of due) {
      this.suspicions.delete(node);
      if (this.stateOf(node) === SUSPECT && (this.inc[node] as number) === s.incarnation) {
        this.apply({ kind: 'dead', node, incarnation: s.incarnation, from: this.id }, now, 'timeout', true);
      }
    }
    this.armSuspicionTimer();
  }

  // ---- updates (section 4.2) -------------------------------------------------

  /** Applies one update; `spread` queues it for piggybacking when it changed the table. */
  private apply(u: Update, now: Time, via: ChangeVia, spread: boolean): void {
    if (u.node === this.id) {
      this.aboutSelf(u);
      return;
    }
    const kind = KIND_CODES[u.kind];
    const cur = this.stateOf(u.node);
    const ci = cur === UNKNOWN ? -1 : (this.inc[u.node] as number);
    const i = u.incarnation;
    switch (kind) {
      case ALIVE:
        if (cur !== UNKNOWN && i <= ci) return;
        this.change(u.node, ALIVE, i, now, via);
        if (cur !== ALIVE && cur !== SUSPECT) this.addToProbeList(u.node);
        break;
      case SUSPECT:
        if (cur === UNKNOWN || cur === DEAD || cur === LEFT) return;
        if (cur === SUSPECT && i === ci) {
          if (this.confirmSuspicion(u.node, u.from) && spread) this.enqueue(u);
          return;
        }
        if (i < ci || (cur === SUSPECT && i <= ci)) return;
        this.change(u.node, SUSPECT, i, now, via);
        this.startSuspicion(u.node, i, u.from, now);
        break;
      case DEAD:
      case LEFT:
        if (cur === DEAD || cur === LEFT) {
          if (i > ci) this.setState(u.node, cur, i);
          return;
        }
        if (cur !== UNKNOWN && i < ci) return;
        this.change(u.node, kind, i, now, via);
        break;
    }
    if (spread) this.enqueue(u);
  }

  /** Refutes a suspicion, a death or a stale incarnation about this member (section 4.2). */
  private aboutSelf(u: Update): void {
    if (this.left) return;
    if (u.kind === 'alive' && u.incarnation <= this.incarnation) return;
    if (u.kind !== 'alive' && u.incarnation < this.incarnation) return;
    this.incarnation = u.incarnation + 1;
    this.setInc(this.id, this.incarnation);
    if (u.kind !== 'alive') this.adjustHealth(1);
    this.enqueue({ kind: 'alive', node: this.id, incarnation: this.incarnation, from: this.id });
    this.emit(this.id, ALIVE, this.incarnation, 'self');
  }

  private change(node: NodeId, s: number, incarnation: number, now: Time, via: ChangeVia): void {
    const before = this.stateOf(node);
    if (before === SUSPECT && s !== SUSPECT && this.suspicions.delete(node)) this.armSuspicionTimer();
    this.setState(node, s, incarnation);
    const wasLive = before === ALIVE || before === SUSPECT;
    const isLive = s === ALIVE || s === SUSPECT;
    if (wasLive !== isLive) this.liveCount += isLive ? 1 : -1;
    this.emit(node, s, incarnation, via);
  }

  private emit(node: NodeId, s: number, incarnation: number, via: ChangeVia): void {
    if (this.traceOn) this.out.trace('member', { member: node, state: STATE_NAMES[s] as string, incarnation, via });
  }

  // ---- dissemination (section 4.1) -------------------------------------------

  private enqueue(u: Update): void {
    const q = this.broadcasts;
    for (let j = 0; j < q.length; j++) {
      if ((q[j] as Broadcast).update.node === u.node) {
        q.splice(j, 1);
        break;
      }
    }
    q.push({ update: u, transmits: 0 });
  }

  /** Up to `max` (default `maxPiggyback`) queued updates for one message: fewest sends first, newest first among equals. */
  private piggyback(max: number = this.config.maxPiggyback): Update[] {
    const q = this.broadcasts;
    if (q.length === 0 || max <= 0) return [];
    const limit = retransmitLimit(this.config.retransmitMult, this.liveCount);
    const order = q.map((b, j) => j).sort((a, b) => (q[a] as Broadcast).transmits - (q[b] as Broadcast).transmits || b - a);
    const picked: Update[] = [];
    let spent = false;
    for (const j of order) {
      if (picked.length >= max) break;
      const b = q[j] as Broadcast;
      picked.push(b.update);
      b.transmits++;
      if (b.transmits >= limit) spent = true;
    }
    if (spent) this.broadcasts = q.filter((b) => b.transmits < limit);
    return picked;
  }

  // ---- join, sync, reconnect, leave ----------------------------------------

  /** Sends its table to a seed (joining) or to a random live member (push-pull, or no seeds). */
  private trySync(useSeeds = true): void {
    let to: NodeId | undefined;
    if (useSeeds && this.seeds.length > 0) {
      to = this.seeds[this.seedIdx % this.seeds.length];
      this.seedIdx++;
    } else {
      const count = this.liveCount - (this.isLive(this.id) ? 1 : 0);
      to = this.liveOther(Math.floor(this.rng.uniform() * count));
    }
    if (to === undefined) {
      if (useSeeds) this.joined = true; // alone: nothing to join
      return;
    }
    this.send(to, { type: 'sync', reply: false, members: this.table(), updates: [] });
  }

  /**
   * Serf's reconnect (serf.go): with probability (members held dead) / (members alive or suspect, this
   * one included), a sync with one member held dead, chosen at random.
   */
  private reconnect(): void {
    const failed = this.deadIds.length;
    if (failed === 0) return;
    if (this.rng.uniform() > failed / Math.max(1, this.liveCount)) return;
    const to = this.deadIds[Math.floor(this.rng.uniform() * failed)] as NodeId;
    this.send(to, { type: 'sync', reply: false, members: this.table(), updates: this.piggyback() });
  }

  /** Merges a table received from `from`: dead records as suspect (memberlist's push-pull), the rest as updates. */
  private merge(from: NodeId, records: readonly Update[], now: Time): void {
    const joining = !this.joined;
    this.joined = true;
    // A joiner announces itself (memberlist's join broadcasts the node's own alive).
    if (joining) this.enqueue({ kind: 'alive', node: this.id, incarnation: this.incarnation, from: this.id });
    for (const r of records) {
      const u: Update = r.kind === 'dead' ? { kind: 'suspect', node: r.node, incarnation: r.incarnation, from } : r;
      // A joiner takes the table quietly (it would flood its piggybacks); the record about the sender always spreads.
      this.apply(u, now, 'sync', !joining || r.node === from);
    }
  }

  private table(): Update[] {
    const rows: Update[] = [];
    for (let i = 0, len = this.knownLen(); i < len; i++) {
      const m = this.knownAt(i);
      const s = this.stateOf(m);
      const kind = STATE_NAMES[s] as UpdateKind;
      rows.push({ kind, node: m, incarnation: m === this.id ? this.incarnation : (this.inc[m] as number), from: this.id });
    }
    return rows;
  }

  private leave(): void {
    if (this.left || this.dormant) return;
    const u: Update = { kind: 'left', node: this.id, incarnation: this.incarnation, from: this.id };
    this.enqueue(u);
    for (const m of this.randomMembers(this.config.indirectChecks + 1, this.id)) {
      this.send(m, { type: 'ping', seq: ++this.seq, updates: withFirst(this.piggyback(), u) });
    }
    this.setState(this.id, LEFT, this.incarnation);
    this.emit(this.id, LEFT, this.incarnation, 'self');
    this.left = true;
    for (const t of ['probe', 'ack', 'relay', 'suspect', 'reconnect', 'push-pull']) this.out.cancelTimer(t);
  }

  // ---- helpers ---------------------------------------------------------------

  private send(to: NodeId, msg: SwimMessage): void {
    const bytes = messageBytes(msg);
    this.counters.sent++;
    this.counters.bytesSent += bytes;
    this.out.send(to, msg, bytes);
  }

  private stateOf(node: NodeId): number {
    return node < this.state.length ? (this.state[node] as number) : UNKNOWN;
  }

  private isLive(node: NodeId): boolean {
    const s = this.stateOf(node);
    return s === ALIVE || s === SUSPECT;
  }

  /** Makes room for `node` in the per-NodeId arrays: just enough if `exact`, else at least double. */
  private grow(node: NodeId, exact = false): void {
    if (node < this.state.length) return;
    const len = exact ? node + 1 : Math.max(node + 1, 2 * this.state.length);
    const st = new Uint8Array(len);
    st.set(this.state);
    this.state = st;
    const ic = newIncArray(this.incMax, len);
    ic.set(this.inc);
    this.inc = ic;
  }

  private setState(node: NodeId, s: number, incarnation: number): void {
    this.grow(node);
    const before = this.state[node] as number;
    if (before === UNKNOWN) this.pushKnown(node);
    if (before === DEAD && s !== DEAD) this.removeDead(node);
    else if (s === DEAD && before !== DEAD) {
      this.deadAt.set(node, this.deadIds.length);
      this.deadIds.push(node);
    }
    this.state[node] = s;
    this.setInc(node, incarnation);
  }

  /** Stores an incarnation, first widening the array when the value does not fit (8, 16, 32 bits, then any number). */
  private setInc(node: NodeId, incarnation: number): void {
    if (this.incMax !== Infinity && !(Number.isInteger(incarnation) && incarnation >= 0 && incarnation <= this.incMax)) {
      this.incMax =
        !Number.isInteger(incarnation) || incarnation < 0
          ? Infinity
          : incarnation <= 0xffff
            ? 0xffff
            : incarnation <= 0xffffffff
              ? 0xffffffff
              : Infinity;
      const ic = newIncArray(this.incMax, this.inc.length);
      ic.set(this.inc);
      this.inc = ic;
    }
    this.inc[node] = incarnation;
  }

  private removeDead(node: NodeId): void {
    const at = this.deadAt.get(node) as number;
    const last = this.deadIds.pop() as NodeId;
    this.deadAt.delete(node);
    if (last !== node) {
      this.deadIds[at] = last;
      this.deadAt.set(last, at);
    }
  }

  private pushKnown(node: NodeId): void {
    if (this.ownLen === this.own.length) {
      const next = new Int32Array(Math.max(8, this.own.length + (this.own.length >> 1)));
      next.set(this.own);
      this.own = next;
    }
    this.own[this.ownLen++] = node;
  }

  /** How many members it ever heard of, itself included. */
  private knownLen(): number {
    return 1 + this.base.length - (this.selfInBase >= 0 ? 1 : 0) + this.ownLen;
  }

  /** The `i`-th member heard of (0: itself). */
  private knownAt(i: number): NodeId {
    if (i === 0) return this.id;
    const inBase = this.base.length - (this.selfInBase >= 0 ? 1 : 0);
    if (i <= inBase) {
      const j = i - 1;
      return this.base[this.selfInBase >= 0 && j >= this.selfInBase ? j + 1 : j] as NodeId;
    }
    return this.own[i - 1 - inBase] as NodeId;
  }

  private countLive(): number {
    let n = 0;
    for (let i = 0, len = this.knownLen(); i < len; i++) if (this.isLive(this.knownAt(i))) n++;
    return n;
  }

  /** The `r`-th member alive or suspect other than this one, in table order, or undefined. */
  private liveOther(r: number): NodeId | undefined {
    for (let i = 0, len = this.knownLen(); i < len; i++) {
      const m = this.knownAt(i);
      if (m !== this.id && this.isLive(m) && r-- === 0) return m;
    }
    return undefined;
  }

  /**
   * A new walk of the probe list: the members alive or suspect, this one excepted, in table order;
   * {@link nextTarget} shuffles it as it walks (a random permutation, one step per probe, so a group
   * does not pay n shuffles of n members at start).
   */
  private refillProbeList(): void {
    const need = this.knownLen();
    const wide = this.state.length > 0x10000;
    if (this.probeList.length < need || wide !== this.probeList instanceof Int32Array) {
      const size = need + (need >> 3) + 8;
      this.probeList = wide ? new Int32Array(size) : new Uint16Array(size);
    }
    const xs = this.probeList;
    let n = 0;
    for (let i = 0, len = this.knownLen(); i < len; i++) {
      const m = this.knownAt(i);
      if (m !== this.id && this.isLive(m)) xs[n++] = m;
    }
    this.probeLen = n;
  }

  private pushPullNs(): number {
    return pushPullIntervalNs(this.config.pushPullIntervalNs, this.liveCount);
  }

  /**
   * Section 4.3: a new member goes to a uniformly random place of the rest of the walk. The rest is
   * drawn from at random as it is walked, so appending it does that.
   */
  private addToProbeList(node: NodeId): void {
    const xs = this.probeList;
    if (this.probeLen === xs.length || (node > 0xffff && xs instanceof Uint16Array)) {
      const size = this.probeLen + (this.probeLen >> 3) + 8;
      const next = node > 0xffff || xs instanceof Int32Array ? new Int32Array(size) : new Uint16Array(size);
      next.set(xs.subarray(0, this.probeLen));
      this.probeList = next;
    }
    this.probeList[this.probeLen++] = node;
  }

  /**
   * Up to `k` distinct random alive members, neither this one nor `except`: as memberlist's kRandomNodes,
   * draws at random places of the table, skipping members that do not qualify or were drawn already;
   * when a few tries per wanted member have not found them all (most of the table dead, or a small
   * group), the rest come from a scan of the members that qualify.
   */
  private randomMembers(k: number, except: NodeId): NodeId[] {
    const picked: NodeId[] = [];
    const len = this.knownLen();
    const tries = Math.min(3 * len, 8 * k + 8);
    for (let t = 0; t < tries && picked.length < k; t++) {
      const m = this.knownAt(Math.floor(this.rng.uniform() * len));
      if (m !== this.id && m !== except && this.stateOf(m) === ALIVE && !picked.includes(m)) picked.push(m);
    }
    if (picked.length === k) return picked;
    const pool = scratchFor(len);
    let size = 0;
    for (let i = 0; i < len; i++) {
      const m = this.knownAt(i);
      if (m !== this.id && m !== except && this.stateOf(m) === ALIVE && !picked.includes(m)) pool[size++] = m;
    }
    const more = Math.min(k - picked.length, size);
    for (let j = 0; j < more; j++) {
      const r = j + Math.floor(this.rng.uniform() * (size - j));
      const t = pool[j] as NodeId;
      pool[j] = pool[r] as NodeId;
      pool[r] = t;
      picked.push(pool[j] as NodeId);
    }
    return picked;
  }
}

function newIncArray(max: number, len: number): IncArray {
  return max === 0xff
    ? new Uint8Array(len)
    : max === 0xffff
      ? new Uint16Array(len)
      : max === 0xffffffff
        ? new Uint32Array(len)
        : new Float64Array(len);
}

function withFirst(updates: Update[], first: Update): Update[] {
  const rest = updates.filter((u) => u.node !== first.node);
  return [first, ...rest];
}

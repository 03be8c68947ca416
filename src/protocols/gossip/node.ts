/**
 * GossipNode: one replica of the gossip key-value store, as a sans-I/O
 * {@link ProtocolNode}. The simulator's {@link SimHost} and the UDP driver run
 * the same class.
 *
 * Theory of operation.
 * - Writes (`put`, `delete`) are stamped by the node's clock (HLC by default,
 *   see `clock.ts`) and stored as last-writer-wins versions ordered by
 *   (ts, origin id) (`store.ts`); a delete stores a tombstone, collected once
 *   it is older than `tombstoneGcNs` and every peer has confirmed it (see
 *   "Tombstone collection" below).
 * - Rumor mongering (`rumor.ts`): a new version becomes a hot rumor. With
 *   `timing: rounds` the node ticks every `intervalNs` (phase `aligned`: at
 *   multiples of the interval, all nodes together; `random`: at a per-node
 *   offset) while it has hot rumors (always, in `push-pull` and `pull`
 *   modes), settles the stop rules of the round that ended, and sends its
 *   hot rumors to `fanout` random peers (`push`), sends them with a pull
 *   request (`push-pull`), or sends an empty pull request (`pull`). A pulled
 *   node answers with its hot rumors; with `roundSemantics: synchronous`
 *   only those it held when its current round began. With `timing:
 *   immediate` (the original program) it forwards at once, once, with
 *   probability `forwardProbability` (the writer always forwards).
 *   A recipient replies `feedback` listing the rumors it already knew and,
 *   with feedback + counter + `counterReset`, `learned` listing those that
 *   were new to it (so a lost message is no necessary contact); past its
 *   `connectionLimit` of connections in a round it refuses a message unread
 *   and unanswered. With a `rumorBudget` a push to one peer, or one pull
 *   answer, carries at most that many messages, least-sent and newest
 *   rumors first (`RumorList.transmitOrder`); the rest wait. A hot rumor
 *   whose version the node no longer stores is retired at once.
 * - Anti-entropy (`anti-entropy.ts`): every `antiEntropyIntervalNs` a
 *   push-pull digest exchange with one random peer. Entries learned this way
 *   are stored, and made hot rumors only with `regossipAntiEntropy`.
 * - Client requests arriving as `client-request` messages are answered with
 *   `client-reply` (the UDP client uses this); {@link handleCall} is the same
 *   thing as a direct call.
 * - A bad message never throws: it is dropped and counted by reason in
 *   {@link GossipNode.dropped}.
 * - Bounded clocks: a received version stamped more than `maxAheadNs`
 *   ahead of this node's own physical clock is dropped (not stored, not
 *   observed by the HLC) and counted as `future_timestamp`, by sender. Such a
 *   version is refused again at every later exchange until the node's clock
 *   catches up with it, so an honest peer whose clock runs ahead by less
 *   than the bound only sees its writes delayed, never lost, while one forged
 *   timestamp near 2^53 can no longer drag every later write past what
 *   peers accept. At `start`, a clock or entries restored from a snapshot
 *   beyond the bound are reset and purged (a file saved by a poisoned node).
 *
 * Randomness comes only from the `Random` given at construction, time only
 * from the `now` arguments.
 */
import type { Action, ActionSink, NodeId, ProtocolNode, Rng as Random, Time } from '../sans-io.js';
import { answerDigest, answerRequest, answerSummary, buildDigests, digestHashOf, paginate } from './anti-entropy.js';
import { SkewedClock } from './clock.js';
import { DEFAULT_CONFIG, MIN_MTU_BYTES, type GossipConfig } from './config.js';
import { RumorList } from './rumor.js';
import { bucketOf, compareVersion, MergeResult, Store, type Entry, type Value } from './store.js';
import {
  LIST_OVERHEAD_FEEDBACK,
  LIST_OVERHEAD_RUMOR,
  MAX_KEY_BYTES,
  encodedSize,
  entrySize,
  isInline,
  refSize,
  utf8Length,
  type GossipMessage,
  type KvCall,
  type KvReply,
  type VersionRef,
} from './wire.js';

/** How a node came to store a version. */
export type Via = 'local' | 'rumor' | 'anti_entropy';

/** Optional in-process hooks (the simulator's metrics); the UDP driver passes none. Must not throw. */
export interface GossipObserver {
  /** `node` stored version `entry` (it was newer than what it held). */
  stored(node: NodeId, entry: Entry, via: Via, nowNs: Time): void;
  /** `node` received version `entry` in a rumor message (new to it or not). */
  rumorReceived?(node: NodeId, entry: Entry): void;
  /** `node` sent a rumor message (of `sizeBytes` encoded) carrying `rumors` to `to`. */
  rumorSent?(node: NodeId, rumors: readonly Entry[], to: NodeId, sizeBytes: number): void;
  /** `node` collected the tombstone of `key`. */
  collected?(node: NodeId, key: string, nowNs: Time): void;
}

/** Why a node dropped a message. */
export type DropReason = 'malformed' | 'unknown_type' | 'bucket_mismatch' | 'unexpected' | 'error';

/** Serializable state of a node: what "restart with state" keeps (the UDP node writes it to disk as JSON). */
export interface GossipNodeSnapshot {
  readonly format: 1;
  readonly id: NodeId;
  readonly entries: readonly Entry[];
  /** The clock's last timestamp, so timestamps keep increasing across a restart. */
  readonly clockLastTs: number;
}

/** Options of the {@link GossipNode} constructor. */
export interface GossipNodeOptions {
  /** This node's id (also the origin id of its writes unless `originId` is given). */
  readonly id: NodeId;
  /**
   * The origin id of this node's writes (the last-writer-wins tie-break after the timestamp), an
   * integer in 0..2^32 - 1 (the wire's u32). Default `id`. Writers must have distinct origin ids: a
   * real node, whose `id` is local to its member list, passes one that is the same everywhere.
   */
  readonly originId?: number;
  /** The peers it gossips with (may include `id`, which is skipped). The array is not copied: do not change it afterwards (give new peers with {@link GossipNode.setPeers}). */
  readonly peers: readonly NodeId[];
  /** The node's random stream (peer choice, coins, tick phase). */
  readonly rng: Random;
  /** Configuration; missing fields take {@link DEFAULT_CONFIG}. */
  readonly config?: Partial<GossipConfig>;
  /** Physical clock offset (ns) and drift (ppm). Default 0, 0. */
  readonly clockOffsetNs?: number;
  readonly clockDriftPpm?: number;
  /**
   * Write-timestamp unit (ns) and epoch (in units). Defaults 1 and 0: ns of
   * simulated time. On real clocks pass 1000 and the µs since 1970 at
   * `now` = 0, so timestamps are µs since 1970 (exact in a double for
   * centuries) and comparable across processes and restarts.
   */
  readonly timestampUnitNs?: number;
  readonly timestampEpoch?: number;
  readonly observer?: GossipObserver;
  /** State to start from (restart with persisted state). */
  readonly snapshot?: GossipNodeSnapshot;
}

const TIMER_GOSSIP = 'gossip';
const TIMER_AE = 'ae';
const TIMER_GC = 'gc';

/** A tombstone this node holds, and the peers that have shown they hold it or a newer version of its key. */
interface TombstoneAcks {
  readonly e: Entry;
  readonly bucket: number;
  /** One bit per peer, indexed by the peer's position in `peers` (remapped when {@link GossipNode.setPeers} changes them). */
  bits: Uint32Array;
  count: number;
}

/** A collected tombstone, remembered without value until `untilNs`: re-deliveries of it (or of older versions) are refused and answered. */
interface Ghost {
  readonly e: Entry;
  readonly untilNs: Time;
}

/** Messages sent and bytes, by type. */
export interface SendCounters {
  messages: number;
  bytes: number;
  rumor: number;
  /** `feedback` and `learned` answers. */
  feedback: number;
  digest: number;
  summary: number;
  delta: number;
  request: number;
  clientReply: number;
}

const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof GossipConfig)[];
const completeConfigs = new WeakSet<object>();

function isComplete(c: Partial<GossipConfig>): c is GossipConfig {
  if (completeConfigs.has(c)) return true;
  for (const k of CONFIG_KEYS) if (c[k] === undefined) return false;
  completeConfigs.add(c);
  return true;
}

const NO_DROPS: Readonly<Record<DropReason, number>> = Object.freeze({ malformed: 0, unknown_type: 0, bucket_mismatch: 0, unexpected: 0, error: 0 });

const NO_ACTIONS: readonly Action<GossipMessage>[] = Object.freeze([]);
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** One feedback message per version, shared by every node that replies about it (messages are immutable). */
const feedbackCache = new WeakMap<Entry, GossipMessage>();

const rumorCache = new WeakMap<Entry, GossipMessage>();

/** The plain push of one version, shared by every node that pushes it. */
function rumorFor(e: Entry): GossipMessage {
  let m = rumorCache.get(e);
  if (m === undefined) {
    m = { type: 'rumor', rumors: [e], pull: false, reply: false };
    rumorCache.set(e, m);
  }
  return m;
}

const learnedCache = new WeakMap<Entry, GossipMessage>();

/** The `learned` answer about one version, shared like {@link feedbackFor}. */
function learnedFor(e: Entry): GossipMessage {
  let m = learnedCache.get(e);
  if (m === undefined) {
    m = { type: 'learned', learned: [e] };
    learnedCache.set(e, m);
  }
  return m;
}

function feedbackFor(e: Entry): GossipMessage {
  let m = feedbackCache.get(e);
  if (m === undefined) {
    m = { type: 'feedback', known: [e] };
    feedbackCache.set(e, m);
  }
  return m;
}

/** A string naming version (key, ts, origin). */
function versionId(e: VersionRef): string {
  return `${e.ts}:${e.origin}:${e.key}`;
}

/** Peer lists already checked by {@link isIndexList}: 10^6 nodes share one list, checked once. */
const indexLists = new WeakMap<readonly NodeId[], boolean>();

/** True when `peers[i] === i` for every i. */
function isIndexList(peers: readonly NodeId[]): boolean {
  let known = indexLists.get(peers);
  if (known === undefined) {
    known = true;
    for (let i = 0; i < peers.length; i++) {
      if (peers[i] !== i) {
        known = false;
        break;
      }
    }
    indexLists.set(peers, known);
  }
  return known;
}

/** Scratch array for peer choice (single-threaded, consumed before the next call). */
const scratchPeers: NodeId[] = [];
/** Scratch one-target list for a pull answer. */
const scratchTarget: NodeId[] = [0];

function nextTick(now: Time, intervalNs: number, phaseNs: number): Time {
  return phaseNs + (Math.floor((now - phaseNs) / intervalNs) + 1) * intervalNs;
}

function isValue(v: unknown): v is Value {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * The largest timestamp accepted from a message: 2^32 below the largest safe
 * integer, so a node whose HLC has observed it can still stamp 2^32 writes
 * with exact, encodable timestamps (a peer cannot push a clock past 2^53).
 */
export const MAX_ACCEPTED_TS = 2 ** 53 - 2 ** 32 - 1;

/** True when `e` is a structurally valid entry (a message from outside may carry anything). */
export function isValidEntry(e: unknown): e is Entry {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return (
    typeof x['key'] === 'string' &&
    utf8Length(x['key']) <= MAX_KEY_BYTES &&
    typeof x['ts'] === 'number' &&
    Number.isSafeInteger(x['ts']) &&
    x['ts'] >= 0 &&
    x['ts'] <= MAX_ACCEPTED_TS &&
    typeof x['origin'] === 'number' &&
    Number.isInteger(x['origin']) &&
    x['origin'] >= 0 &&
    x['origin'] <= 0xffffffff &&
    typeof x['deleted'] === 'boolean' &&
    isValue(x['value']) &&
    (!x['deleted'] || x['value'] === null)
  );
}

function isValidDigest(m: Extract<GossipMessage, { type: 'digest' }>): boolean {
  if (!Array.isArray(m.hashes) || !Number.isInteger(m.start) || m.start < 0) return false;
  if (m.indices === undefined) return m.start + m.hashes.length <= m.buckets;
  const indices: unknown = m.indices; // from the wire: checked before its type is trusted
  if (!Array.isArray(indices) || m.indices.length !== m.hashes.length) return false;
  let prev = -1;
  for (const b of m.indices) {
    if (!Number.isInteger(b) || b <= prev || b >= m.buckets) return false;
    prev = b;
  }
  return true;
}

function isValidRef(r: unknown): r is VersionRef {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return typeof x['key'] === 'string' && typeof x['ts'] === 'number' && typeof x['origin'] === 'number';
}

/** One replica of the gossip key-value store. */
export class GossipNode implements ProtocolNode<GossipMessage, KvCall, KvReply> {
  // Field order is memory layout: V8 lays an instance's fields out in declaration order. At 10^6
  // nodes every delivery lands on a node whose object is not in any cache, so the fields a rumor,
  // a feedback and a gossip round read come first (the first few cache lines), the rare ones last.
  readonly config: GossipConfig;
  private readonly rumors: RumorList;
  /** The replica's store (read it; write through put/delete). */
  readonly store: Store;
  /**
   * The largest timestamp received since the clock last saw one (-1: none), HLC only. Receiving
   * raises this field, not the clock's: the clock is another object, one more cache miss per rumor
   * at 10^6 nodes. It is folded into the clock ({@link syncClock}) before anything reads the
   * clock's last timestamp, which is then exactly what observing each timestamp at once gives.
   */
  private observedTs = -1;
  /** The clock reads true time unchanged (no offset, no drift, ns units, no epoch): its physical time is `now`. */
  private readonly clockIsTrue: boolean;
  private readonly clk: SkewedClock;
  private readonly observer: GossipObserver | undefined;
  /** Where actions go at once, when the driver connected a sink (see {@link GossipNode.connect}). */
  private sink: ActionSink<GossipMessage> | undefined;
  private readonly rng: Random;
  private peers: readonly NodeId[];
  /** `peers[i] === i` for every i (every node of a simulated cluster): a peer is drawn without reading the list. */
  private peersAreIndices: boolean;
  readonly id: NodeId;
  /** Round index (floor((now - phase) / interval)) of `learnedOne` and `learnedMore`. */
  private learnedRound = -1;
  /** The first version this node learned by rumor during round `learnedRound` (most nodes learn one: no array). */
  private learnedOne: Entry | undefined;
  /** The versions after the first it learned by rumor in that round (created at the second). */
  private learnedMore: Entry[] | undefined;
  /**
   * The version this node stored last (written or received) since it started. The store holds it or
   * a newer version of its key for as long as no tombstone was ever tracked here: versions only grow,
   * and only tombstone collection and the purge at start take a key away. So a copy of it received
   * again is known without asking the store, another object (a cache miss per rumor at 10^6 nodes,
   * where most rumors bring what the node holds).
   */
  private lastStored: Entry | undefined;
  /** Tombstones held, with their confirmations (created at the first tombstone). */
  private tombstoneAcks: Map<string, TombstoneAcks> | undefined;
  /** Collected tombstones still remembered. */
  private ghosts: Map<string, Ghost> | undefined;
  /** Versions the ghosts refused while handling the current message (answered with feedback). */
  private ghostRefused: Entry[] | undefined;
  private readonly gossipPhaseNs: number;
  /** The bound of received timestamps, in timestamp units. */
  private readonly maxAheadUnits: number;
  // Send counters live in the node itself (one object to touch per event at 10^6 nodes).
  private sentMessages = 0;
  private sentBytes = 0;
  private sentRumor = 0;
  private sentFeedback = 0;
  private running = false;
  /** A gossip timer is set (a flag, not its time: a time past 2^31 ns would be a boxed number, one more object per node). */
  private gossipArmed = false;
  private gcTimerSet = false;
  /** Round index of `connections`. */
  private connectionRound = -1;
  /** Rumor connections (pushes and pull requests) accepted in round `connectionRound`. */
  private connections = 0;
  // The rarely used rest.
  /** The origin id of this node's writes (see {@link GossipNodeOptions.originId}). */
  readonly originId: number;
  private readonly aePhaseNs: number;
  private readonly maxEntryBytes: number;
  private sentDigest = 0;
  private sentSummary = 0;
  private sentDelta = 0;
  private sentRequest = 0;
  private sentClientReply = 0;
  private droppedBy: Record<DropReason, number> | undefined;
  /** Queued actions (created at the first one; never while a sink is connected) and the spare queue pollActions swaps in. */
  private actions: Action<GossipMessage>[] | undefined;
  private spareActions: Action<GossipMessage>[] | undefined;
  /** Each peer's position in `peers`, once {@link setPeers} replaced the static list (undefined before). */
  private peerIndex: Map<NodeId, number> | undefined;
  private futureTotal = 0;
  private futureLastFrom = -1;
  private futureBySender: Map<NodeId, number> | undefined;
  private futureResets = 0;
  /** Distinct peers other than this node (computed at the first tombstone, or by {@link setPeers}). */
  private otherPeerCount = -1;

  constructor(options: GossipNodeOptions) {
    const given = options.config;
    // A complete configuration object is shared as is (100,000 nodes need not copy it).
    const c: GossipConfig = given !== undefined && isComplete(given) ? given : { ...DEFAULT_CONFIG, ...given };
    if (!(c.fanout >= 1) || !Number.isInteger(c.fanout)) throw new RangeError(`gossip: fanout ${c.fanout} must be an integer >= 1`);
    if (!(c.intervalNs > 0)) throw new RangeError(`gossip: interval ${c.intervalNs} ns must be > 0`);
    if (!(c.k >= 1)) throw new RangeError(`gossip: k ${c.k} must be >= 1`);
    if (!(c.mtuBytes >= MIN_MTU_BYTES)) throw new RangeError(`gossip: mtu ${c.mtuBytes} bytes must be >= ${MIN_MTU_BYTES}`);
    if (!(c.digestBuckets >= 1 && c.digestBuckets <= 0xffff)) throw new RangeError(`gossip: digest buckets ${c.digestBuckets} not in [1, 65535]`);
    if (!(c.maxAheadNs > 0)) throw new RangeError(`gossip: max ahead ${c.maxAheadNs} ns must be > 0`);
    this.config = c;
    this.id = options.id;
    this.originId = options.originId ?? options.id;
    if (!(Number.isInteger(this.originId) && this.originId >= 0 && this.originId <= 0xffffffff))
      throw new RangeError(`gossip: origin id ${this.originId} must be an integer in [0, 4294967295]`);
    this.peers = options.peers;
    this.peersAreIndices = isIndexList(options.peers);
    this.rng = options.rng;
    this.observer = options.observer;
    this.store = new Store(c.digestBuckets);
    this.clk = new SkewedClock({
      kind: c.clock,
      offsetNs: options.clockOffsetNs ?? 0,
      driftPpm: options.clockDriftPpm ?? 0,
      unitNs: options.timestampUnitNs ?? 1,
      epoch: options.timestampEpoch ?? 0,
    });
    this.clockIsTrue = this.clk.offsetNs === 0 && this.clk.driftPpm === 0 && this.clk.unitNs === 1 && this.clk.epoch === 0;
    if (!(c.connectionLimit >= 1)) throw new RangeError(`gossip: connection limit ${c.connectionLimit} must be >= 1`);
    if (!(c.rumorBudget === Infinity || (Number.isInteger(c.rumorBudget) && c.rumorBudget >= 1))) {
      throw new RangeError(`gossip: rumor budget ${c.rumorBudget} must be an integer >= 1 or Infinity`);
    }
    this.rumors = new RumorList(c.feedback, c.stop, c.k, c.counterReset);
    this.gossipPhaseNs = c.phase === 'aligned' ? 0 : Math.floor(this.rng.uniform() * c.intervalNs);
    this.aePhaseNs = c.antiEntropyIntervalNs > 0 && c.antiEntropyPhase === 'random' ? Math.floor(this.rng.uniform() * c.antiEntropyIntervalNs) : 0;
    this.maxEntryBytes = c.mtuBytes - LIST_OVERHEAD_RUMOR;
    this.maxAheadUnits = this.clk.units(c.maxAheadNs);
    if (options.snapshot !== undefined) this.restore(options.snapshot);
  }

  // ---- ProtocolNode ----

  start(now: Time): void {
    this.running = true;
    this.lastStored = undefined;
    this.checkRestoredClock(now);
    this.gossipArmed = false;
    this.gcTimerSet = false;
    const c = this.config;
    if (this.ticksAlways()) this.armGossip(now);
    else if (this.rumors.size > 0) this.armGossip(now);
    if (c.antiEntropyIntervalNs > 0) this.setTimer(TIMER_AE, nextTick(now, c.antiEntropyIntervalNs, this.aePhaseNs));
    this.armGc(now);
  }

  handleTimer(timer: string, now: Time): void {
    if (timer === TIMER_GOSSIP) {
      this.gossipArmed = false;
      this.gossipRound(now);
      if (this.rumors.size > 0 || this.ticksAlways()) this.armGossip(now);
    } else if (timer === TIMER_AE) {
      this.antiEntropyRound();
      this.setTimer(TIMER_AE, nextTick(now, this.config.antiEntropyIntervalNs, this.aePhaseNs));
    } else if (timer === TIMER_GC) {
      this.gcTimerSet = false;
      this.collectTombstones(now);
      this.armGc(now);
    }
  }

  /**
   * {@link ProtocolNode.warm}: the heads of the rumor list and the store, and the line of the send
   * counters and the connection count, which a rumor, a feedback and a round read.
   */
  warm(): number {
    return this.rumors.size + this.store.size + this.sentMessages + this.connectionRound;
  }

  handleMessage(from: NodeId, msg: GossipMessage, now: Time): void {
    try {
      if (typeof msg !== 'object' || msg === null) return this.drop('malformed');
      switch (msg.type) {
        case 'rumor':
          return this.onRumor(from, msg, now);
        case 'feedback':
          if (!Array.isArray(msg.known) || !msg.known.every(isValidRef)) return this.drop('malformed');
          for (const r of msg.known) {
            this.rumors.unnecessary(r.key, r.ts, r.origin, this.rng);
            this.confirm(from, r.key, r.ts, r.origin);
          }
          return;
        case 'learned':
          if (!Array.isArray(msg.learned) || !msg.learned.every(isValidRef)) return this.drop('malformed');
          for (const r of msg.learned) this.rumors.necessary(r.key, r.ts, r.origin);
          return;
        case 'digest':
          if (!isValidDigest(msg)) return this.drop('malformed');
          if (msg.buckets !== this.store.buckets) return this.drop('bucket_mismatch');
          if (this.tombstoneAcks !== undefined && this.tombstoneAcks.size > 0) this.confirmByDigest(from, msg);
          for (const m of answerDigest(this.store, msg, this.config.mtuBytes)) this.send(from, m);
          return;
        case 'summary':
          if (!Array.isArray(msg.items) || !msg.items.every((r) => isValidRef(r) && (!isInline(r) || isValidEntry(r)))) return this.drop('malformed');
          if (msg.buckets !== this.store.buckets) return this.drop('bucket_mismatch');
          for (const r of msg.items) this.confirm(from, r.key, r.ts, r.origin);
          // Inline values first: then the comparison below finds them equal and asks only for the rest.
          if (this.config.antiEntropyMode !== 'push') {
            for (const r of msg.items) if (isInline(r) && !this.refuseFuture(r, from, now)) this.learnByAntiEntropy(r, now);
          }
          this.answerGhostRefusals(from);
          for (const m of answerSummary(this.store, msg, this.config.mtuBytes, this.config.antiEntropyMode)) this.send(from, m);
          this.armGc(now);
          return;
        case 'request':
          if (!Array.isArray(msg.keys) || !msg.keys.every((k) => typeof k === 'string')) return this.drop('malformed');
          for (const m of answerRequest(this.store, msg.keys, this.config.mtuBytes)) this.send(from, m);
          return;
        case 'delta':
          if (!Array.isArray(msg.entries) || !msg.entries.every(isValidEntry)) return this.drop('malformed');
          for (const e of msg.entries) {
            this.confirm(from, e.key, e.ts, e.origin);
            if (!this.refuseFuture(e, from, now)) this.learnByAntiEntropy(e, now);
          }
          this.answerGhostRefusals(from);
          this.armGc(now);
          return;
        case 'client-request': {
          const reply = this.handleCall(msg.call, now);
          this.send(from, { type: 'client-reply', id: msg.id, reply });
          return;
        }
        case 'client-reply':
          return this.drop('unexpected');
        default:
          return this.drop('unknown_type');
      }
    } catch {
      this.drop('error');
    }
  }

  handleCall(call: KvCall, now: Time): KvReply {
    switch (call?.op) {
      case 'put':
        return this.write(call.key, call.value, false, now);
      case 'delete':
        return this.write(call.key, null, true, now);
      case 'get': {
        const e = typeof call.key === 'string' ? this.store.entry(call.key) : undefined;
        if (e === undefined || e.deleted) return { op: 'get', ok: true, found: false, value: null, ts: -1, origin: -1 };
        return { op: 'get', ok: true, found: true, value: e.value, ts: e.ts, origin: e.origin };
      }
      case 'stats':
        return { op: 'stats', ok: true, stats: this.stats() };
      default:
        return { op: 'stats', ok: false, error: 'unknown operation' };
    }
  }

  /**
   * The actions queued since the last poll. Double-buffered so polling
   * allocates nothing: the returned array stays valid until the next-but-one
   * poll (drivers consume it at once).
   */
  pollActions(): readonly Action<GossipMessage>[] {
    const q = this.actions;
    if (q === undefined || q.length === 0) return NO_ACTIONS;
    const spare = this.spareActions ?? [];
    while (spare.length > 0) spare.pop(); // cheaper than `length = 0` for short arrays
    this.actions = spare;
    this.spareActions = q;
    return q;
  }

  /**
   * From now on hands every action to `sink` as it is made, in the order made, instead of queuing
   * it for {@link pollActions} (which then returns nothing): no object per send. The driver must
   * carry out actions as a poll right after the input would (the simulator's host does: its shared
   * sink knows which node's input it is handling). Throws if actions are queued.
   */
  connect(sink: ActionSink<GossipMessage>): void {
    if (this.actions !== undefined && this.actions.length > 0) throw new Error('GossipNode: connect with actions queued');
    this.sink = sink;
  }

  /**
   * Replaces the peers the node gossips with and runs anti-entropy with, from now on: a membership
   * protocol's view of the live members (see `src/protocols/swim-store`). The array is copied and
   * duplicates dropped; it may hold this node's id (skipped) and may be empty (the node then sends
   * nothing). A node never given new peers keeps its static list, and its behaviour and draws are
   * exactly those of a node without this method.
   *
   * Tombstone confirmations follow the peers by id: a peer still in the set keeps its confirmation, a
   * new peer starts unconfirmed, and a removed peer's confirmation is no longer needed. So a tombstone
   * is collected once it is old enough and every *current* peer has confirmed it (see "Tombstone
   * collection" below and the package README for what that rule cannot promise).
   */
  setPeers(peers: readonly NodeId[]): void {
    const next: NodeId[] = [];
    const index = new Map<NodeId, number>();
    for (const p of peers) {
      if (index.has(p)) continue;
      index.set(p, next.length);
      next.push(p);
    }
    const acks = this.tombstoneAcks;
    if (acks !== undefined && acks.size > 0) {
      // Positions in the old list, read before it is replaced.
      const oldPos = next.map((p) => (p === this.id ? -1 : this.positionOf(p)));
      for (const a of acks.values()) {
        const bits = new Uint32Array((next.length + 31) >>> 5);
        let count = 0;
        for (let j = 0; j < next.length; j++) {
          const i = oldPos[j] as number;
          if (i < 0 || ((a.bits[i >>> 5] as number) & (1 << (i & 31))) === 0) continue;
          bits[j >>> 5] = (bits[j >>> 5] as number) | (1 << (j & 31));
          count++;
        }
        a.bits = bits;
        a.count = count;
      }
    }
    this.peers = next;
    this.peersAreIndices = isIndexList(next);
    this.peerIndex = index;
    this.otherPeerCount = next.length - (index.has(this.id) ? 1 : 0);
  }

  /** The peers the node gossips with now (the static list, or the last {@link setPeers}). */
  get currentPeers(): readonly NodeId[] {
    return this.peers;
  }

  // ---- Direct API ----

  /** Writes `key = value` now; returns the version written (or an error reply). */
  put(key: string, value: Value, now: Time): KvReply {
    return this.write(key, value, false, now);
  }

  /** Deletes `key` now (writes a tombstone). */
  delete(key: string, now: Time): KvReply {
    return this.write(key, null, true, now);
  }

  /** The value of `key`, or undefined when absent or deleted. */
  get(key: string): Value | undefined {
    const e = this.store.entry(key);
    return e === undefined || e.deleted ? undefined : e.value;
  }

  /** Number of hot rumors. */
  get hotRumors(): number {
    return this.rumors.size;
  }

  /** Counters as a flat record (also the `stats` call's reply). */
  stats(): Record<string, number> {
    return {
      keys: this.store.size - this.store.tombstoneCount,
      tombstones: this.store.tombstoneCount,
      hot_rumors: this.rumors.size,
      messages_sent: this.sentMessages,
      bytes_sent: this.sentBytes,
      dropped_malformed: this.dropped.malformed,
      dropped_unknown_type: this.dropped.unknown_type,
      dropped_bucket_mismatch: this.dropped.bucket_mismatch,
      dropped_unexpected: this.dropped.unexpected,
      dropped_error: this.dropped.error,
      future_timestamp: this.futureTotal,
      future_timestamp_last_from: this.futureLastFrom,
      future_clock_resets: this.futureResets,
    };
  }

  /** Versions dropped for a timestamp too far ahead, by the peer that sent them (see `maxAheadNs`). */
  get futureTimestampsBySender(): ReadonlyMap<NodeId, number> {
    return this.futureBySender ?? new Map<NodeId, number>();
  }

  /** The node's persistent state. */
  snapshot(): GossipNodeSnapshot {
    return { format: 1, id: this.id, entries: [...this.store.entries()], clockLastTs: this.clock.lastTs };
  }

  /** The node's clock, with every timestamp received so far observed (read it again after later receives: it is brought up to date here). */
  get clock(): SkewedClock {
    this.syncClock();
    return this.clk;
  }

  /** Folds the timestamps received since the last call into the clock (see `observedTs`). */
  private syncClock(): void {
    if (this.observedTs < 0) return;
    this.clk.observe(this.observedTs);
    this.observedTs = -1;
  }

  /** Loads a snapshot's entries (merging with what the store holds) and clock. Invalid entries are skipped. */
  restore(s: GossipNodeSnapshot): void {
    for (const e of s.entries) {
      if (!isValidEntry(e) || this.store.merge(e) !== MergeResult.Stored) continue;
      if (this.rumors.size > 0) this.rumors.retireUnless(e.key, e);
      this.track(e);
    }
    if (Number.isSafeInteger(s.clockLastTs) && s.clockLastTs > this.clock.lastTs) this.clock.lastTs = s.clockLastTs;
  }

  // ---- Internals ----

  /** True (and counted) when `e` is stamped more than `maxAheadNs` ahead of this node's physical clock. */
  private refuseFuture(e: Entry, from: NodeId, now: Time): boolean {
    if (e.ts <= (this.clockIsTrue ? now : this.clk.physical(now)) + this.maxAheadUnits) return false;
    this.futureTotal++;
    this.futureLastFrom = from;
    const by = (this.futureBySender ??= new Map<NodeId, number>());
    by.set(from, (by.get(from) ?? 0) + 1);
    return true;
  }

  /**
   * A restored clock or entries beyond the bound (a snapshot saved by a node
   * that had adopted a forged timestamp) are reset to the physical clock and
   * purged, so the node does not start out poisoned.
   */
  private checkRestoredClock(now: Time): void {
    const limit = this.clock.physical(now) + this.maxAheadUnits;
    if (this.clock.lastTs > limit) {
      this.clock.lastTs = this.clock.physical(now);
      this.futureResets++;
    }
    let purge: Entry[] | undefined;
    if (this.store.size > 0) for (const e of this.store.entries()) if (e.ts > limit) (purge ??= []).push(e);
    if (purge === undefined) return;
    for (const e of purge) {
      this.store.remove(e.key);
      if (this.rumors.size > 0) this.rumors.retireUnless(e.key, undefined);
      this.futureTotal++;
    }
  }

  private drop(reason: DropReason): void {
    this.droppedBy ??= { malformed: 0, unknown_type: 0, bucket_mismatch: 0, unexpected: 0, error: 0 };
    this.droppedBy[reason]++;
  }

  /** Messages this node dropped, by reason. */
  get dropped(): Readonly<Record<DropReason, number>> {
    return this.droppedBy ?? NO_DROPS;
  }

  private send(to: NodeId, msg: GossipMessage, size = encodedSize(msg)): void {
    this.sentMessages++;
    this.sentBytes += size;
    switch (msg.type) {
      case 'rumor':
        this.sentRumor++;
        break;
      case 'feedback':
      case 'learned':
        this.sentFeedback++;
        break;
      case 'digest':
        this.sentDigest++;
        break;
      case 'summary':
        this.sentSummary++;
        break;
      case 'delta':
        this.sentDelta++;
        break;
      case 'request':
        this.sentRequest++;
        break;
      case 'client-reply':
        this.sentClientReply++;
        break;
      default:
        break;
    }
    if (this.sink !== undefined) this.sink.send(to, msg, size);
    else (this.actions ??= []).push({ type: 'send', to, msg, sizeBytes: size });
  }

  private setTimer(timer: string, atNs: Time): void {
    if (this.sink !== undefined) this.sink.setTimer(timer, atNs);
    else (this.actions ??= []).push({ type: 'set-timer', timer, atNs });
  }

  /** Messages this node sent, by type, and their bytes. */
  get sent(): SendCounters {
    return {
      messages: this.sentMessages,
      bytes: this.sentBytes,
      rumor: this.sentRumor,
      feedback: this.sentFeedback,
      digest: this.sentDigest,
      summary: this.sentSummary,
      delta: this.sentDelta,
      request: this.sentRequest,
      clientReply: this.sentClientReply,
    };
  }

  private write(key: string, value: Value, deleted: boolean, now: Time): KvReply {
    const op = deleted ? 'delete' : 'put';
    if (typeof key !== 'string' || utf8Length(key) > MAX_KEY_BYTES)
      return { op, ok: false, error: `key must be a string of at most ${MAX_KEY_BYTES} UTF-8 bytes` };
    if (!isValue(value)) return { op, ok: false, error: 'value must be a string, a finite number, a boolean or null' };
    const e: Entry = { key, value, ts: this.clock.stamp(now), origin: this.originId, deleted };
    if (entrySize(e) > this.maxEntryBytes)
      return { op, ok: false, error: `entry of ${entrySize(e)} bytes does not fit the ${this.config.mtuBytes}-byte MTU` };
    this.store.put(e);
    this.lastStored = e;
    this.ghosts?.delete(key);
    this.track(e);
    this.observer?.stored(this.id, e, 'local', now);
    this.infect(e, true, now);
    if (deleted) this.armGc(now);
    return { op, ok: true, ts: e.ts, origin: e.origin };
  }

  /**
   * Merges a received entry; returns true when it was new. A tombstone is
   * accepted whatever its age (a replica that missed the delete must drop
   * its old value); a version no newer than a remembered collected tombstone
   * is refused (and answered with feedback by the anti-entropy handlers).
   */
  private receive(e: Entry, via: Via, now: Time): boolean {
    if (this.config.clock === 'hlc' && e.ts > this.observedTs) this.observedTs = e.ts;
    const ghost = this.ghosts?.get(e.key);
    if (ghost !== undefined) {
      if (compareVersion(e.ts, e.origin, ghost.e.ts, ghost.e.origin) <= 0) {
        (this.ghostRefused ??= []).push(e);
        return false;
      }
      this.ghosts?.delete(e.key);
    }
    if (e === this.lastStored && this.tombstoneAcks === undefined) return false;
    if (this.store.merge(e) !== MergeResult.Stored) return false;
    this.lastStored = e;
    // A hot rumor of an older version of the key is superseded: retire it (the caller may make `e` hot).
    if (this.rumors.size > 0) this.rumors.retireUnless(e.key, e);
    this.track(e);
    this.observer?.stored(this.id, e, via, now);
    return true;
  }

  // ---- Tombstone collection ----
  //
  // A tombstone is collected once it is older than `tombstoneGcNs` (by this
  // node's clock) AND every peer has shown that it holds that tombstone or a
  // newer version of the key: an equal digest bucket, a summary item, a delta
  // or rumor entry, or a feedback reference naming such a version. A store
  // never goes back to an older version, so from then on no replica holds a
  // value older than the delete, and none can bring it back, however long it
  // was cut off (partitioned, held, or crashed with its state): a cut-off
  // peer only delays collection. The collected tombstone is remembered
  // without its value for another `tombstoneGcNs` (a "ghost"): re-deliveries
  // of it, or of older versions still in flight, are refused and answered
  // with feedback, which counts as the confirmation the sender still waits
  // for. Limits: without anti-entropy nothing confirms and tombstones stay; a
  // peer that never comes back keeps them forever (unless `setPeers` drops it:
  // then only current peers must confirm); a replica restarted without state
  // forgets that it confirmed (see the package README).

  /** Keeps the tombstone bookkeeping in step with a version just stored. */
  private track(e: Entry): void {
    if (this.config.tombstoneGcNs === Infinity) return;
    if (!e.deleted) {
      this.tombstoneAcks?.delete(e.key);
      return;
    }
    if (this.otherPeerCount < 0) {
      const p = this.peers;
      this.otherPeerCount = p.length - (p[this.id] === this.id || p.includes(this.id) ? 1 : 0);
    }
    (this.tombstoneAcks ??= new Map()).set(e.key, {
      e,
      bucket: bucketOf(e.key, this.store.buckets),
      bits: new Uint32Array((this.peers.length + 31) >>> 5),
      count: 0,
    });
  }

  /** Records that peer `from` holds version (ts, origin) of `key`; a confirmation if it is at least our tombstone's. */
  private confirm(from: NodeId, key: string, ts: number, origin: number): void {
    const a = this.tombstoneAcks?.get(key);
    if (a === undefined || compareVersion(ts, origin, a.e.ts, a.e.origin) < 0) return;
    this.ack(a, from);
  }

  private ack(a: TombstoneAcks, from: NodeId): void {
    if (from === this.id) return;
    const i = this.positionOf(from);
    if (i < 0) return;
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    const word = a.bits[w] as number;
    if ((word & bit) !== 0) return;
    a.bits[w] = word | bit;
    a.count++;
  }

  /** `peer`'s position in `peers`, or -1. */
  private positionOf(peer: NodeId): number {
    const index = this.peerIndex;
    if (index !== undefined) return index.get(peer) ?? -1;
    const p = this.peers;
    return p[peer] === peer ? peer : p.indexOf(peer);
  }

  /** A digest page from `from`: every tombstone whose bucket hashes equal ours is held there too. */
  private confirmByDigest(from: NodeId, msg: Extract<GossipMessage, { type: 'digest' }>): void {
    for (const a of (this.tombstoneAcks as Map<string, TombstoneAcks>).values()) {
      const theirs = digestHashOf(msg, a.bucket);
      if (theirs !== undefined && theirs === this.store.bucketHash(a.bucket)) this.ack(a, from);
    }
  }

  /** Tells `from` that this node already had the versions its ghosts refused (the sender counts it as a confirmation). */
  private answerGhostRefusals(from: NodeId): void {
    const r = this.ghostRefused;
    if (r === undefined || r.length === 0) return;
    this.ghostRefused = undefined;
    for (const page of paginate(r, (x) => refSize(x.key), LIST_OVERHEAD_FEEDBACK, this.config.mtuBytes)) {
      this.send(from, { type: 'feedback', known: page.map((e) => ({ key: e.key, ts: e.ts, origin: e.origin })) });
    }
  }

  /** Merges a version received in anti-entropy; with `regossipAntiEntropy`, a new one becomes a rumor. */
  private learnByAntiEntropy(e: Entry, now: Time): void {
    if (this.receive(e, 'anti_entropy', now) && this.config.regossipAntiEntropy) this.infect(e, false, now);
  }

  /** A new version at this node: spread it according to the rumor settings. */
  private infect(e: Entry, local: boolean, now: Time): void {
    const c = this.config;
    if (c.mode === 'off') return;
    if (c.timing === 'immediate') {
      if (local || this.rng.bernoulli(c.forwardProbability)) this.pushTo(this.pickPeers(c.fanout), [e], false, false);
      return;
    }
    if (c.stop === 'once' && !local && !this.rng.bernoulli(c.forwardProbability)) return;
    this.rumors.add(e, this.roundOf(now));
    this.armGossip(now);
  }

  private onRumor(from: NodeId, msg: Extract<GossipMessage, { type: 'rumor' }>, now: Time): void {
    if (!Array.isArray(msg.rumors) || !msg.rumors.every(isValidEntry)) return this.drop('malformed');
    // Past the connection limit: refused unread, unanswered (the sender counts it as no contact).
    if (!msg.reply && !this.acceptConnection(now)) return;
    let firstKnown: Entry | undefined;
    let known: Entry[] | undefined;
    let firstNew: Entry | undefined;
    let news: Entry[] | undefined;
    let learned = false;
    const obs = this.observer;
    for (const e of msg.rumors) {
      if (this.refuseFuture(e, from, now)) continue;
      if (obs?.rumorReceived !== undefined) obs.rumorReceived(this.id, e);
      if (this.tombstoneAcks !== undefined) this.confirm(from, e.key, e.ts, e.origin);
      if (this.receive(e, 'rumor', now)) {
        learned = true;
        this.noteLearned(e, now);
        this.infect(e, false, now);
      } else if (!this.learnedInRound(e, now)) {
        if (firstKnown === undefined) firstKnown = e;
        else (known ??= [firstKnown]).push(e);
        continue;
      }
      if (firstNew === undefined) firstNew = e;
      else (news ??= [firstNew]).push(e);
    }
    const c = this.config;
    if (firstKnown !== undefined && c.feedback === 'feedback') {
      // An entry is a valid VersionRef: the feedback carries its (key, ts, origin) only.
      if (known === undefined) this.send(from, feedbackFor(firstKnown));
      else {
        for (const page of paginate(known, (r) => refSize(r.key), LIST_OVERHEAD_FEEDBACK, c.mtuBytes)) {
          this.send(from, { type: 'feedback', known: page });
        }
      }
    }
    if (firstNew !== undefined && c.feedback === 'feedback' && c.stop === 'counter' && c.counterReset) {
      // Necessary contacts, so the sender can reset its counter (a silent contact may have been lost).
      if (news === undefined) this.send(from, learnedFor(firstNew));
      else {
        for (const page of paginate(news, (r) => refSize(r.key), LIST_OVERHEAD_FEEDBACK, c.mtuBytes)) {
          this.send(from, { type: 'learned', learned: page });
        }
      }
    }
    if (msg.pull) {
      // Synchronous rounds: serve only what this node held when its round began.
      const round = this.config.roundSemantics === 'synchronous' ? this.roundOf(now) : Infinity;
      const mine: Entry[] = [];
      const theirs = msg.rumors;
      // A long push-pull request is indexed, so the answer costs O(hot + request), not their product.
      const index = theirs.length > 8 ? new Set(theirs.map(versionId)) : undefined;
      for (const h of this.rumors.hot()) {
        const e = h.entry;
        if (h.sinceRound >= round) continue;
        if (index !== undefined ? !index.has(versionId(e)) : !theirs.some((r) => r.key === e.key && r.ts === e.ts && r.origin === e.origin))
          mine.push(e);
      }
      if (mine.length > 0) {
        scratchTarget[0] = from;
        this.rumors.sent(this.sendRumors(scratchTarget, mine, false, true));
      }
    }
    this.ghostRefused = undefined; // answered by the feedback above when the stop rule uses feedback
    if (learned) this.armGc(now);
  }

  /**
   * Synchronous-round semantics of feedback (as in Demers et al.'s
   * simulations): a node that was susceptible at the start of the round counts
   * every contact of that round as necessary, even when another sender's copy
   * arrived first. So a copy of a version learned in the current round earns
   * no feedback.
   */
  private learnedInRound(e: Entry, now: Time): boolean {
    if (this.roundOf(now) !== this.learnedRound) return false;
    const one = this.learnedOne;
    if (one === undefined) return false;
    if (one.key === e.key && one.ts === e.ts && one.origin === e.origin) return true;
    const l = this.learnedMore;
    if (l === undefined) return false;
    for (let i = 0; i < l.length; i++) {
      const x = l[i] as Entry;
      if (x.key === e.key && x.ts === e.ts && x.origin === e.origin) return true;
    }
    return false;
  }

  /** This node's round index at `now`: floor((now - phase) / interval). */
  private roundOf(now: Time): number {
    return Math.floor((now - this.gossipPhaseNs) / this.config.intervalNs);
  }

  /** Whether the gossip timer runs without hot rumors (pull requests go out every round). */
  private ticksAlways(): boolean {
    return this.config.timing === 'rounds' && (this.config.mode === 'push-pull' || this.config.mode === 'pull');
  }

  /** Counts an incoming rumor connection; false when this round's `connectionLimit` is already reached. */
  private acceptConnection(now: Time): boolean {
    const limit = this.config.connectionLimit;
    if (limit === Infinity) return true;
    const round = this.roundOf(now);
    if (round !== this.connectionRound) {
      this.connectionRound = round;
      this.connections = 0;
    }
    if (this.connections >= limit) return false;
    this.connections++;
    return true;
  }

  private noteLearned(e: Entry, now: Time): void {
    const round = this.roundOf(now);
    if (round !== this.learnedRound || this.learnedOne === undefined) {
      this.learnedRound = round;
      this.learnedOne = e;
      const l = this.learnedMore;
      if (l !== undefined) while (l.length > 0) l.pop();
      return;
    }
    (this.learnedMore ??= []).push(e);
  }

  private gossipRound(now: Time): void {
    const c = this.config;
    const rumors = this.rumors;
    rumors.settle(this.rng);
    if (c.mode === 'pull') {
      this.pushTo(this.pickPeers(c.fanout), NO_ENTRIES, true, false);
      return;
    }
    if (rumors.size === 0 && c.mode !== 'push-pull') return;
    // Every hot rumor is the version the store holds: one superseded or collected is retired at once (see `receive`).
    const current = rumors.entries();
    if (current.length === 0 && c.mode !== 'push-pull') return;
    const targets = this.pickPeers(c.fanout);
    const sent = this.sendRumors(targets, current, c.mode === 'push-pull', false);
    if (sent === current) rumors.sentAll(targets.length);
    else rumors.sent(sent, targets.length);
    void now;
  }

  /**
   * Sends hot rumors `entries` to `targets`, within the rumor budget: all of
   * them when they fit (in list order, as without a budget), else the first
   * `rumorBudget` pages in transmit order. Returns the entries sent
   * (`entries` itself when all were).
   */
  private sendRumors(targets: readonly NodeId[], entries: readonly Entry[], pull: boolean, reply: boolean): readonly Entry[] {
    const budget = this.config.rumorBudget;
    // Every entry fits a page alone, so n entries never need more than n pages.
    if (entries.length <= budget) {
      this.pushTo(targets, entries, pull, reply);
      return entries;
    }
    // Pages filled in transmit order (as `paginate` would), stopping at the budget: a node with
    // thousands of hot rumors sizes only the ones it sends.
    const mtu = this.config.mtuBytes;
    const sent: Entry[] = [];
    let page: Entry[] = [];
    let size = LIST_OVERHEAD_RUMOR;
    let pages = 0;
    for (const e of this.rumors.transmitOrder(entries)) {
      const s = entrySize(e);
      if (page.length > 0 && (size + s > mtu || page.length >= 0xffff)) {
        this.pushPage(targets, page, pull, reply);
        if (++pages === budget) return sent;
        page = [];
        size = LIST_OVERHEAD_RUMOR;
      }
      page.push(e);
      sent.push(e);
      size += s;
    }
    this.pushPage(targets, page, pull, reply);
    return entries; // all fitted
  }

  private pushTo(targets: readonly NodeId[], entries: readonly Entry[], pull: boolean, reply: boolean): void {
    if (entries.length <= 1) return this.pushPage(targets, entries, pull, reply);
    for (const page of paginate(entries, entrySize, LIST_OVERHEAD_RUMOR, this.config.mtuBytes)) this.pushPage(targets, page, pull, reply);
  }

  private pushPage(targets: readonly NodeId[], page: readonly Entry[], pull: boolean, reply: boolean): void {
    const single = page.length === 1 && !pull && !reply;
    const msg: GossipMessage = single ? rumorFor(page[0] as Entry) : { type: 'rumor', rumors: page, pull, reply };
    const size = encodedSize(msg);
    for (const to of targets) {
      this.send(to, msg, size);
      if (this.observer?.rumorSent !== undefined && page.length > 0) this.observer.rumorSent(this.id, page, to, size);
    }
  }

  private antiEntropyRound(): void {
    const targets = this.pickPeers(1);
    const to = targets[0];
    if (to === undefined) return;
    for (const m of buildDigests(this.store, this.config.mtuBytes)) this.send(to, m);
  }

  /** Collects the tombstones that are old enough and confirmed by every peer; forgets expired ghosts. */
  private collectTombstones(now: Time): void {
    const gc = this.config.tombstoneGcNs;
    if (gc === Infinity) return;
    const ghosts = this.ghosts;
    if (ghosts !== undefined) for (const [k, g] of ghosts) if (g.untilNs <= now) ghosts.delete(k);
    const acks = this.tombstoneAcks;
    if (acks === undefined) return;
    const before = this.clk.physical(now) - this.clk.units(gc);
    for (const [key, a] of acks) {
      if (a.e.ts >= before || a.count < this.otherPeerCount) continue;
      acks.delete(key);
      if (this.store.entry(key) !== a.e) continue;
      this.store.remove(key);
      if (this.rumors.size > 0) this.rumors.retireUnless(key, undefined);
      (this.ghosts ??= new Map()).set(key, { e: a.e, untilNs: now + gc });
      if (this.observer?.collected !== undefined) this.observer.collected(this.id, key, now);
    }
  }

  private armGossip(now: Time): void {
    if (this.config.timing !== 'rounds' || this.gossipArmed || !this.running) return;
    this.gossipArmed = true;
    this.setTimer(TIMER_GOSSIP, nextTick(now, this.config.intervalNs, this.gossipPhaseNs));
  }

  private armGc(now: Time): void {
    if (this.gcTimerSet || !this.running || this.config.tombstoneGcNs === Infinity) return;
    if ((this.tombstoneAcks === undefined || this.tombstoneAcks.size === 0) && (this.ghosts === undefined || this.ghosts.size === 0)) return;
    this.gcTimerSet = true;
    this.setTimer(TIMER_GC, now + Math.max(1_000_000_000, Math.round(this.config.tombstoneGcNs / 8)));
  }

  /** Up to `k` distinct random peers other than this node (in a scratch array: use before the next call). */
  private pickPeers(k: number): NodeId[] {
    const peers = this.peers;
    const n = peers.length;
    const out = scratchPeers;
    while (out.length > 0) out.pop();
    // With n > k + 1 there are at least k others whether or not the list holds this node.
    if (n <= k + 1) {
      for (const p of peers) if (p !== this.id && !out.includes(p)) out.push(p);
      if (out.length <= k) return out;
      while (out.length > 0) out.pop();
    }
    while (out.length < k) {
      const i = Math.floor(this.rng.uniform() * n);
      // The same draw either way; a list of 10^6 ids is one more cache miss per pick to read.
      const p = this.peersAreIndices ? i : (peers[i] as NodeId);
      if (p === this.id || out.includes(p)) continue;
      out.push(p);
    }
    return out;
  }
}

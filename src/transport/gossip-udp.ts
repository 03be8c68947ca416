/**
 * A real gossip node: the simulator's very sans-I/O `SwimStoreNode` (the
 * gossip store on SWIM's view) on a UDP socket ({@link UdpHost}), driven by
 * {@link SwimDriver} (`swim-udp.ts`, SWIM's member ids to addresses), speaking
 * the gossip wire format (`wire.ts`) and SWIM's (`swim-wire.ts`) to its peers
 * and to `desim kv` clients, with its store optionally persisted to a file.
 *
 * Ids: the node and its peers get the {@link NodeId}s of their sorted
 * addresses (`buildMembership`), the same at every node started with the
 * same member set. Members SWIM learns beyond them take the next ids, in the
 * order this node learned them (`AddressBook`), so those ids are local to
 * the node; the origin ids of writes are not node ids (see below).
 *
 * Peers: the store gossips with, and runs anti-entropy with, its static
 * `--peers` plus every member SWIM holds alive or suspect: `SwimStoreNode`'s
 * rule, with the static peers as its `staticPeers`. A static peer stays a
 * peer whatever SWIM says of it (as before SWIM); a member that joined by
 * `--join` becomes a peer once SWIM admits it and stops being one when SWIM
 * declares it dead or left. Gossip from an address that is not a peer now is
 * counted in `swim_gossip_from_non_peer` and dropped.
 *
 * Time: the node's `now` (its timers) is a monotonic clock starting at 0
 * when the host starts. Its write timestamps come from its hybrid logical
 * clock over a physical clock in microseconds since 1970 (the wall clock at
 * start plus the monotonic time since), exact integers below 2^53 until the
 * year 2255, so nodes started at different moments, or restarted without a
 * data file, stamp writes in wall-clock order and a later write wins. (An
 * earlier scheme, nanoseconds modulo 2^51, wrapped every 26 days; with
 * bounded clocks a node started after a wrap would have refused every
 * version of the nodes started before it.) Versions stamped more than
 * `maxAheadNs` ahead of this clock are refused (`GossipNode`), so node clocks
 * must agree within that bound (500 ms by default: use NTP).
 *
 * The snapshot. The WAL and the snapshot file stay the source of truth: the
 * file holds the store's {@link GossipNodeSnapshot} (entries and clock, the
 * log replayed on top at start), which becomes the `store` of the node's
 * `SwimStoreSnapshot`; its `members` (to rejoin through) are left empty,
 * since member ids are local to a process: a restarted node rejoins through
 * `--join` and `--peers`, and SWIM's own state is never saved (the group
 * tells it where it stands, and its incarnation comes from the wall clock).
 *
 * Persistence (`--data FILE`, its directory created if needed; see
 * `persist.ts` and `wal.ts`): `FILE.lock` keeps a second process off the
 * data; every version the node stores (its own writes and those it learns)
 * is appended to the write-ahead log `FILE.wal`, and a put or delete is
 * answered only once its record is synced (group commit). The log is
 * compacted into the snapshot `FILE` every `saveIntervalMs` (30 s) and when it
 * grows past 4 MiB, and a last time by {@link RunningGossipNode.stop}. At
 * start the snapshot is loaded and the log replayed on top (a torn last
 * record is dropped; any other corruption stops the start with a clear
 * error, the files left as they are). A node that cannot persist refuses
 * puts and deletes with an error and keeps answering gets; `stop` rejects
 * when its last save failed.
 *
 * The data holds versions, not the member set: a node restarted with a
 * different peer list (so a different node id) keeps its data.
 *
 * Origin ids. The origin id of a node's writes (the last-writer-wins
 * tie-break after the timestamp, a u32 on the wire) is not its node id,
 * which is local to its member list (a node that joined by `--join` is id 0
 * in its own list, like another member in its own), but a random 32-bit
 * number drawn at the node's first start and kept in the data file (with
 * no `--data`, drawn again by each process), so two live writers share one
 * only by chance: among n writers, with probability about n^2 / 2^33
 * (1.2e-4 for 1,024), and even then only writes by that pair to one key in
 * one microsecond tie. A hash of the node's address would need no storage,
 * but an address is not one canonical string (a node listening on 0.0.0.0
 * is known to others by another one) and two nodes may use one address in
 * turn. An older data file, which holds none, gets a new id, saved with the
 * next snapshot; so does a node killed before its first snapshot. Neither
 * harms: its logged versions keep the origin they were written with, and
 * its clock resumes after them, so its new writes are newer anyway.
 *
 * Acknowledgements: a put or delete with `ack.replicas` = N > 1 is answered
 * when N nodes hold it (see `replication.ts`), or with an error saying how
 * many did after `ack.timeoutMs`.
 */
import { randomInt } from 'node:crypto';
import { RandomStreams } from '../kernel/random.js';
import { NS_PER_MS } from '../kernel/time.js';
import { REAL_NODE_RUMOR_BUDGET, type GossipConfig } from '../protocols/gossip/config.js';
import { resolveConfig, type PresetName } from '../protocols/gossip/presets.js';
import type { GossipNode, GossipNodeSnapshot } from '../protocols/gossip/node.js';
import type { Entry } from '../protocols/gossip/store.js';
import { decode, encode, WireError, type GossipMessage, type KvCall, type KvReply } from '../protocols/gossip/wire.js';
import type { NodeId, ProtocolNode } from '../protocols/sans-io.js';
import type { SwimConfig } from '../protocols/swim/config.js';
import { AddressError, buildMembership, formatAddress, type Membership, type UdpAddress } from './address.js';
import type { Keyring } from './envelope.js';
import { DurableStore, PersistError } from './persist.js';
import { AckTracker } from './replication.js';
import type { IoFault } from './wal.js';
import { UdpHost, type ClientService, type Codec, type DropReason, type HostLogEvent } from './udp-host.js';
import { AddressBook, DEFAULT_MAX_MEMBERS, SwimDriver, type SwimStorePacket } from './swim-udp.js';
import { decodeSwim, encodeSwim, isSwimPayload, SwimWireError, type SwimPacket } from './swim-wire.js';

/** The gossip wire as a host codec. */
export const gossipCodec: Codec<GossipMessage> = { encode, decode };

/** What a real node's socket carries: gossip messages and SWIM packets (told apart by their magic bytes). */
export type NodeMessage = SwimStorePacket;

/** True for the SWIM half of {@link NodeMessage}. */
export function isSwimPacket(m: NodeMessage): m is SwimPacket {
  return m.type === 'swim' || m.type === 'piggyback' || m.type === 'members-request' || m.type === 'members-reply';
}

/** The real node's codec: SWIM packets by `swim-wire.ts`, the rest by the gossip wire. */
export const nodeCodec: Codec<NodeMessage> = {
  encode: (m) => (isSwimPacket(m) ? encodeSwim(m) : encode(m)),
  decode: (b) => (isSwimPayload(b) ? decodeSwim(b) : decode(b)),
};

/** A gossip `WireError` or a `SwimWireError` with reason `version` is a foreign version; every other decode failure is malformed. */
export function classifyGossipError(err: unknown): DropReason {
  return (err instanceof WireError || err instanceof SwimWireError) && err.reason === 'version' ? 'foreign_version' : 'malformed';
}

/**
 * Rows of the member table per `kv members` reply: a full page takes 18 + 64 × 15 = 978 bytes
 * (`swim-wire.ts`), below the padded
 * request (no reply may be larger than its request); `kv members` asks page by page.
 */
export const MEMBER_ROWS_PER_REPLY = 64;

/** What a write waits for before it is answered (the UDP node's persistence and replication). */
export interface WriteGate {
  /** Why writes are refused now (the node cannot persist), or undefined. */
  refuse(): string | undefined;
  /** Resolves when the write the node just made (`handleCall` returned `reply`) may be acknowledged; rejects with the reason it may not. */
  settle(call: Extract<KvCall, { op: 'put' | 'delete' }>, reply: Extract<KvReply, { op: 'put' | 'delete'; ok: true }>): Promise<void> | undefined;
  /** Extra figures for `kv stats`. */
  stats(): Record<string, number>;
}

/** What {@link gossipClientService} calls: a {@link GossipNode}, or a node that holds one. */
export interface KvService {
  handleCall(call: KvCall, nowNs: number): KvReply;
  /** Versions dropped for a timestamp too far ahead, by sender. */
  readonly futureTimestampsBySender: ReadonlyMap<NodeId, number>;
}

/**
 * Answers `client-request` messages with the node's `handleCall`; stats merge
 * the host's figures and, given the membership, name the peers whose versions
 * were dropped for a timestamp too far ahead (`future_timestamp_from_HOST:PORT`).
 * With a `gate`, puts and deletes are refused while it says so, and answered
 * only once it settles.
 */
export function gossipClientService(node: KvService, membership?: Membership, gate?: WriteGate): ClientService<GossipMessage> {
  return {
    requestId: (m) => (m.type === 'client-request' ? m.id : undefined),
    answer: (m, nowNs, hostStats): GossipMessage | Promise<GossipMessage> => {
      if (m.type !== 'client-request') throw new Error('not a client request');
      const call = m.call;
      if (gate !== undefined && (call.op === 'put' || call.op === 'delete')) {
        const refused = gate.refuse();
        if (refused !== undefined)
          return { type: 'client-reply', id: m.id, reply: { op: call.op, ok: false, error: `write refused: ${refused} (reads still work)` } };
      }
      let reply: KvReply = node.handleCall(call, nowNs);
      if (reply.ok && reply.op === 'stats') {
        const stats = mergeStats(hostStats(), { ...reply.stats, ...gate?.stats() });
        for (const [id, n] of node.futureTimestampsBySender) {
          const a = membership?.members[id];
          stats[`future_timestamp_from_${a !== undefined ? formatAddress(a) : `node_${id}`}`] = n;
        }
        reply = { ...reply, stats };
      }
      if (gate === undefined || !reply.ok || (reply.op !== 'put' && reply.op !== 'delete') || (call.op !== 'put' && call.op !== 'delete')) {
        return { type: 'client-reply', id: m.id, reply };
      }
      const ok = reply;
      const settled = gate.settle(call, ok);
      if (settled === undefined) return { type: 'client-reply', id: m.id, reply };
      return settled.then(
        (): GossipMessage => ({ type: 'client-reply', id: m.id, reply: ok }),
        (err: unknown): GossipMessage => ({
          type: 'client-reply',
          id: m.id,
          reply: { op: ok.op, ok: false, error: err instanceof Error ? err.message : String(err) },
        }),
      );
    },
  };
}

/** Host figures first; the protocol's own drop counters (of messages that decoded) are renamed `protocol_dropped_*`. */
function mergeStats(host: Readonly<Record<string, number>>, node: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...host };
  for (const [k, v] of Object.entries(node)) out[k.startsWith('dropped_') ? `protocol_${k}` : k] = v;
  return out;
}

/** Unit of a real node's timestamps, ns: microseconds. */
export const TIMESTAMP_UNIT_NS = 1000;

/** The wall clock now in microseconds since 1970: the epoch of a real node's timestamps (its `now` = 0). */
export function wallClockEpochUs(): number {
  return Date.now() * 1000;
}

/** Options of {@link startGossipNode}. */
export interface GossipUdpOptions {
  /** The node's name (`--id`), for logs and the state file. */
  readonly name: string;
  readonly listen: UdpAddress;
  readonly peers: readonly UdpAddress[];
  /** Gossip configuration (ns fields); missing fields take the gossip defaults, except `rumorBudget` ({@link REAL_NODE_RUMOR_BUDGET}). */
  readonly config?: Partial<GossipConfig>;
  /** State file (`--data`); none = in memory only. */
  readonly dataFile?: string;
  /** Compaction period of the log into the state file, ms (default 30000; the log is also compacted whenever it passes 4 MiB). */
  readonly saveIntervalMs?: number;
  /** Timestamp at `now` = 0, µs since 1970 (default {@link wallClockEpochUs}). */
  readonly timestampEpochUs?: number;
  /** Physical clock offset added to the monotonic `now`, ns (default 0; tests use it to skew a node). */
  /** Test hook: throwing from it makes that file operation fail (see {@link DurableStore}). */
  readonly persistFault?: IoFault;
  readonly clockOffsetNs?: number;
  /** Seed of the node's random stream (peer choice, phases). */
  readonly seed: string;
  /** Host events (drops, errors, traces) and persistence errors. */
  readonly onLog?: (e: HostLogEvent) => void;
  /** Shared keys (`--key-file`): every datagram sealed, only sealed ones accepted. None = plain datagrams. */
  readonly keyring?: Keyring;
  /** Client requests per second accepted from one source address (default 1000; 0 = unlimited). */
  readonly clientRatePerSource?: number;
  /** SWIM configuration (ns fields); missing fields take the SWIM defaults (memberlist's LAN profile). */
  readonly swim?: Partial<SwimConfig>;
  /** Members to join SWIM through (`--join`), tried before the peers. */
  readonly join?: readonly UdpAddress[];
  /** Most addresses SWIM's address book holds, this node's included (default {@link DEFAULT_MAX_MEMBERS}). */
  readonly maxMembers?: number;
  /** SWIM incarnation at start (default: the wall clock in ms since 1970, so a restart comes back higher). */
  readonly incarnation?: number;
  /**
   * Origin id of this node's writes, 0..2^32 - 1, used when the data file holds none (a first start, an
   * older data file, or no `dataFile`). Default: a random one (see the module comment).
   */
  readonly originId?: number;
}

/** A started node. */
export interface RunningGossipNode {
  readonly node: GossipNode;
  /** The SWIM member running beside the store. */
  readonly swim: SwimDriver;
  /** Node ids to addresses: the static members, then those SWIM learned (the ids of the store's peers). */
  readonly book: AddressBook;
  readonly host: UdpHost<NodeMessage, KvCall, KvReply>;
  /** The static member set: this node and its `--peers` (the store also gossips with the members SWIM holds live; see the module comment). */
  readonly membership: Membership;
  /** The bound address. */
  readonly address: UdpAddress;
  /** Number of entries (tombstones included) in the store after loading the state file and replaying the log. */
  readonly loadedEntries: number;
  /** Log records replayed at start (versions newer than the snapshot). */
  readonly replayedRecords: number;
  /** Bytes of a torn last log record dropped at start. */
  readonly tornBytes: number;
  /** Orphaned temporary files removed at start. */
  readonly removedTemp: readonly string[];
  /** The origin id of this node's writes: the data file's, else `originId`, else a new random one. */
  readonly originId: number;
  /** The node id the data file was written under, when it differs from this node's (the member set changed). */
  readonly previousId: number | undefined;
  /** Why the node cannot persist (it refuses writes), or undefined. */
  persistFailure(): string | undefined;
  /**
   * Leaves the SWIM group gracefully (the others list this node `left`), stops the timers, closes the
   * socket once the leave is sent, and saves the store a last time.
   * Idempotent. Rejects with a `PersistError` when that last save failed.
   */
  stop(): Promise<void>;
}

/** True for an integer that fits the wire's u32 origin field. */
function isOriginId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

/** A random origin id (see the module comment). */
export function randomOriginId(): number {
  return randomInt(0, 0x1_0000_0000);
}

function isSnapshot(x: unknown): x is GossipNodeSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return s['format'] === 1 && typeof s['id'] === 'number' && Array.isArray(s['entries']) && typeof s['clockLastTs'] === 'number';
}

/**
 * Loads the state file (if any), binds the socket and starts gossiping.
 * Rejects with a `PersistError` (bad state file), an `AddressError` (bad
 * member list), a `RangeError` (bad configuration) or the bind error.
 */
export async function startGossipNode(opts: GossipUdpOptions): Promise<RunningGossipNode> {
  const membership = buildMembership(opts.listen, opts.peers);
  const book = new AddressBook(membership, opts.maxMembers ?? DEFAULT_MAX_MEMBERS);
  const seeds: number[] = [];
  for (const j of opts.join ?? []) {
    const key = formatAddress(j);
    if (j.port === 0) throw new AddressError(`--join ${key}: port must not be 0`);
    if (book.idOf(key) === book.self) throw new AddressError(`--join ${key} is this node's own address`);
    const id = book.add(key);
    if (id === undefined) throw new RangeError(`--max-members ${book.cap} leaves no room for --join ${key}`);
    if (!seeds.includes(id)) seeds.push(id);
  }
  for (const p of membership.peers) if (!seeds.includes(p)) seeds.push(p);
  let snapshot: GossipNodeSnapshot | undefined;
  let durable: DurableStore | undefined;
  let replayed: readonly Entry[] = [];
  let tornBytes = 0;
  let removedTemp: readonly string[] = [];
  let previousId: number | undefined;
  let savedOrigin: number | undefined;
  if (opts.dataFile !== undefined) {
    const { store, recovered } = await DurableStore.open({
      file: opts.dataFile,
      onFailure: (why) => opts.onLog?.({ kind: 'error', where: 'persist', detail: `${why}; refusing writes until a save succeeds` }),
      ...(opts.persistFault !== undefined ? { fault: opts.persistFault } : {}),
    });
    durable = store;
    try {
      if (recovered.state !== undefined) {
        const snap = (recovered.state as { snapshot?: unknown }).snapshot;
        if (!isSnapshot(snap)) throw new PersistError(`${opts.dataFile}: not a gossip node snapshot; left untouched`);
        const origin = (recovered.state as { origin?: unknown }).origin;
        if (origin !== undefined && !isOriginId(origin))
          throw new PersistError(`${opts.dataFile}: origin id ${JSON.stringify(origin)} is not an integer in [0, 4294967295]; left untouched`);
        savedOrigin = origin;
        if (snap.id !== membership.self) previousId = snap.id;
        snapshot = snap;
      }
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    replayed = recovered.records.map((r) => r.entry);
    tornBytes = recovered.tornBytes;
    removedTemp = recovered.removedTemp;
  }
  // Versions logged after the snapshot go on top of it; the clock resumes after the newest.
  if (replayed.length > 0 || (snapshot !== undefined && snapshot.id !== membership.self)) {
    const entries = [...(snapshot?.entries ?? []), ...replayed];
    let clockLastTs = snapshot?.clockLastTs ?? 0;
    for (const e of replayed) if (e.ts > clockLastTs) clockLastTs = e.ts; // a loop: a long log would overflow Math.max's arguments
    snapshot = { format: 1, id: membership.self, entries, clockLastTs };
  }
  if (opts.originId !== undefined && !isOriginId(opts.originId)) {
    await durable?.close().catch(() => undefined);
    throw new RangeError(`the origin id must be an integer in [0, 4294967295], got ${String(opts.originId)}`);
  }
  const originId = savedOrigin ?? opts.originId ?? randomOriginId();
  let lastLocal: Promise<void> | undefined;
  let swim: SwimDriver;
  try {
    swim = new SwimDriver({
      book,
      seeds,
      ...(opts.swim !== undefined ? { config: opts.swim } : {}),
      incarnation: opts.incarnation ?? Date.now(),
      rng: new RandomStreams(opts.seed).stream(`swim:${opts.name}`),
      // The store's own MTU, which the host enforces on every datagram (SWIM's syncs and piggybacks too).
      mtuBytes: opts.config?.mtuBytes ?? resolveConfig('default').mtuBytes,
      originId,
      staticPeers: membership.peers,
      // The WAL and the snapshot file are the store's source of truth; SWIM's member ids are local and not saved.
      ...(snapshot !== undefined ? { snapshot: { format: 1, store: snapshot, members: [] } } : {}),
      store: {
        rng: new RandomStreams(opts.seed).stream(`node:${opts.name}`),
        config: { rumorBudget: REAL_NODE_RUMOR_BUDGET, ...opts.config },
        clockOffsetNs: opts.clockOffsetNs ?? 0,
        timestampUnitNs: TIMESTAMP_UNIT_NS,
        timestampEpoch: opts.timestampEpochUs ?? wallClockEpochUs(),
        ...(durable !== undefined
          ? {
              observer: {
                stored: (_node, entry, via) => {
                  const p = durable.log(entry);
                  // Learned versions: if this fails, the next successful compaction saves them. A local
                  // write's promise is also awaited by its client's answer (which reports the failure).
                  p.catch(() => undefined);
                  if (via === 'local') lastLocal = p;
                },
              },
            }
          : {}),
      },
    });
  } catch (err) {
    await durable?.close().catch(() => undefined);
    throw err;
  }
  const node = swim.core.store;
  const tracker = new AckTracker(node.store);
  // The store's peers (the static --peers and the members SWIM holds alive or suspect: SwimStoreNode's rule).
  let peerArray: readonly NodeId[] | undefined;
  let peerSet: ReadonlySet<NodeId> = new Set();
  const gossipPeers = (): ReadonlySet<NodeId> => {
    const cur = node.currentPeers;
    if (cur !== peerArray) {
      peerArray = cur;
      peerSet = new Set(cur.filter((p) => p !== membership.self));
    }
    return peerSet;
  };
  let gossipFromNonPeer = 0;
  const gate: WriteGate = {
    refuse: () => durable?.failure,
    settle: (call, reply) => {
      const local = lastLocal;
      lastLocal = undefined;
      const replicas = call.ack?.replicas ?? 1;
      const peerCount = gossipPeers().size;
      if (replicas > peerCount + 1) {
        return Promise.reject(
          new Error(`ack replicated:${replicas} asks for more nodes than the cluster has (${peerCount + 1}); the write was taken by this node`),
        );
      }
      const confirmed = tracker.wait(call.key, reply.ts, reply.origin, replicas - 1, call.ack?.timeoutMs ?? 0);
      if (local === undefined && replicas <= 1) return undefined;
      return (async () => {
        if (local !== undefined) await local;
        const peers = await confirmed;
        if (peers < replicas - 1) {
          throw new Error(
            `ack timeout: ${peers + 1} of ${replicas} nodes confirmed holding the write within ${call.ack?.timeoutMs ?? 0} ms` +
              `${durable !== undefined ? ' (it is durable at this node)' : ''}; gossip keeps spreading it`,
          );
        }
      })();
    },
    stats: () => ({
      ...durable?.stats(),
      acks_pending: tracker.pending,
      ...swim.stats(),
      store_peers: gossipPeers().size,
      swim_gossip_from_non_peer: gossipFromNonPeer,
    }),
  };
  const watched: ProtocolNode<NodeMessage, KvCall, KvReply> = {
    start: (now) => swim.start(now),
    handleTimer: (t, now) => swim.handleTimer(t, now),
    handleCall: (c, now) => swim.handleCall(c, now),
    pollActions: () => swim.pollActions(),
    handleMessage: (from, msg, now) => {
      if (msg.type === 'swim') return swim.handleMessage(from, msg.msg, now);
      if (msg.type !== 'piggyback' && isSwimPacket(msg)) return; // a members request or reply from a peer: not a peer message
      if (msg.type === 'piggyback') {
        // SWIM's updates from a member in the book count, as on SWIM's own messages; the store part is
        // taken from peers only, checked once the updates are in (a joiner's alive makes it one).
        swim.handlePiggyback(from, msg, now, () => {
          if (!gossipPeers().has(from)) {
            gossipFromNonPeer++;
            return false;
          }
          tracker.observe(from, msg.store);
          return true;
        });
        return;
      }
      // Store gossip is taken from peers only.
      if (!gossipPeers().has(from)) {
        gossipFromNonPeer++;
        return;
      }
      tracker.observe(from, msg);
      swim.handleStoreMessage(from, msg, now);
    },
  };
  const kv: KvService = {
    handleCall: (c, now) => swim.handleCall(c, now),
    get futureTimestampsBySender() {
      return node.futureTimestampsBySender;
    },
  };
  const gossipService = gossipClientService(kv, book, gate);
  const client: ClientService<NodeMessage> = {
    requestId: (m) => (m.type === 'members-request' ? m.id : isSwimPacket(m) ? undefined : gossipService.requestId(m)),
    answer: (m, nowNs, hostStats) => {
      if (m.type === 'members-request') {
        const rows = swim.members();
        return {
          type: 'members-reply',
          id: m.id,
          total: rows.length,
          offset: m.offset,
          rows: rows.slice(m.offset, m.offset + MEMBER_ROWS_PER_REPLY),
        };
      }
      if (isSwimPacket(m)) throw new Error('not a client request');
      return gossipService.answer(m, nowNs, hostStats);
    },
  };
  const host = new UdpHost<NodeMessage, KvCall, KvReply>({
    name: opts.name,
    listen: opts.listen,
    membership: book,
    node: watched,
    codec: nodeCodec,
    classifyDecodeError: classifyGossipError,
    client,
    admit: (msg, from) => (msg.type === 'swim' ? swim.admit(from) : undefined),
    ...(opts.keyring !== undefined ? { keyring: opts.keyring } : {}),
    ...(opts.clientRatePerSource !== undefined ? { clientRatePerSource: opts.clientRatePerSource } : {}),
    maxDatagramBytes: node.config.mtuBytes,
    ...(opts.onLog !== undefined ? { onLog: opts.onLog } : {}),
  });
  const state = (): object => ({ node: opts.name, address: formatAddress(opts.listen), origin: originId, snapshot: node.snapshot() });
  let address: UdpAddress;
  try {
    address = await host.start();
  } catch (err) {
    await durable?.close().catch(() => undefined);
    throw err;
  }
  durable?.startAutoCompact(state, opts.saveIntervalMs ?? 30_000);
  let stopping: Promise<void> | undefined;
  return {
    node,
    swim,
    book,
    host,
    membership,
    address,
    loadedEntries: node.store.size,
    replayedRecords: replayed.length,
    tornBytes,
    removedTemp,
    originId,
    previousId,
    persistFailure: () => durable?.failure,
    stop: () => {
      stopping ??= (async () => {
        tracker.cancelAll();
        host.input((now) => swim.leave(now)); // the others list it `left`, not dead
        await host.close();
        await durable?.close();
      })();
      return stopping;
    },
  };
}

/** The node command's gossip options (milliseconds; absent = the preset's value). */
export interface GossipCliOptions {
  readonly preset?: PresetName | undefined;
  readonly intervalMs?: number | undefined;
  readonly antiEntropyMs?: number | undefined;
  readonly fanout?: number | undefined;
  readonly mode?: GossipConfig['mode'] | undefined;
  readonly timing?: GossipConfig['timing'] | undefined;
  /** Bound on received timestamps ahead of the node's clock, ms (default 500). */
  readonly maxAheadMs?: number | undefined;
  /** Rumor messages per peer and round (default {@link REAL_NODE_RUMOR_BUDGET}; Infinity = no budget). */
  readonly rumorBudget?: number | undefined;
}

/**
 * The full gossip configuration for the node command: the preset (default
 * `default`), then the options given; the rumor budget is bounded
 * ({@link REAL_NODE_RUMOR_BUDGET}) unless given, where the simulator's default is none. Changing the interval alone keeps the
 * preset's ratio of anti-entropy period to round length (10 for `default`).
 */
export function gossipConfigFromCli(o: GossipCliOptions): GossipConfig {
  const base = resolveConfig(o.preset ?? 'default');
  const intervalNs = o.intervalMs !== undefined ? Math.round(o.intervalMs * NS_PER_MS) : base.intervalNs;
  const antiEntropyIntervalNs =
    o.antiEntropyMs !== undefined ? Math.round(o.antiEntropyMs * NS_PER_MS) : Math.round((base.antiEntropyIntervalNs * intervalNs) / base.intervalNs);
  return {
    ...base,
    intervalNs,
    antiEntropyIntervalNs,
    ...(o.fanout !== undefined ? { fanout: o.fanout } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
    ...(o.timing !== undefined ? { timing: o.timing } : {}),
    ...(o.maxAheadMs !== undefined ? { maxAheadNs: Math.round(o.maxAheadMs * NS_PER_MS) } : {}),
    rumorBudget: o.rumorBudget ?? REAL_NODE_RUMOR_BUDGET,
  };
}

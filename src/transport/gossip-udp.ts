/**
 * A real gossip node: the simulator's very {@link GossipNode} on a UDP socket
 * ({@link UdpHost}), speaking the gossip wire format (`wire.ts`) to its peers
 * and to `desim kv` clients, with its store optionally persisted to a file.
 *
 * Ids: the node and its peers get the {@link NodeId}s of their sorted
 * addresses (`buildMembership`), the same at every node started with the
 * same member set, so origin ids (the last-writer-wins tie-break) agree.
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
 * Persistence (`--data FILE`, its directory created if needed): the node's snapshot (entries and clock) is
 * loaded at start (a corrupt file stops the start with a clear error and is
 * left as it is), saved atomically whenever it changed (every
 * `saveIntervalMs`), and flushed by {@link RunningGossipNode.stop}.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RandomStreams } from '../kernel/random.js';
import { NS_PER_MS } from '../kernel/time.js';
import type { GossipConfig } from '../protocols/gossip/config.js';
import { resolveConfig, type PresetName } from '../protocols/gossip/presets.js';
import { GossipNode, type GossipNodeSnapshot } from '../protocols/gossip/node.js';
import { decode, encode, WireError, type GossipMessage, type KvCall, type KvReply } from '../protocols/gossip/wire.js';
import { buildMembership, formatAddress, type Membership, type UdpAddress } from './address.js';
import type { Keyring } from './envelope.js';
import { loadState, PersistentStore, PersistError } from './persist.js';
import { UdpHost, type ClientService, type Codec, type DropReason, type HostLogEvent } from './udp-host.js';

/** The gossip wire as a host codec. */
export const gossipCodec: Codec<GossipMessage> = { encode, decode };

/** A gossip `WireError` with reason `version` is a foreign version; every other decode failure is malformed. */
export function classifyGossipError(err: unknown): DropReason {
  return err instanceof WireError && err.reason === 'version' ? 'foreign_version' : 'malformed';
}

/**
 * Answers `client-request` messages with the node's `handleCall`; stats merge
 * the host's figures and, given the membership, name the peers whose versions
 * were dropped for a timestamp too far ahead (`future_timestamp_from_HOST:PORT`).
 */
export function gossipClientService(node: GossipNode, membership?: Membership): ClientService<GossipMessage> {
  return {
    requestId: (m) => (m.type === 'client-request' ? m.id : undefined),
    answer: (m, nowNs, hostStats): GossipMessage => {
      if (m.type !== 'client-request') throw new Error('not a client request');
      let reply: KvReply = node.handleCall(m.call, nowNs);
      if (reply.ok && reply.op === 'stats') {
        const stats = mergeStats(hostStats(), reply.stats);
        for (const [id, n] of node.futureTimestampsBySender) {
          const a = membership?.members[id];
          stats[`future_timestamp_from_${a !== undefined ? formatAddress(a) : `node_${id}`}`] = n;
        }
        reply = { ...reply, stats };
      }
      return { type: 'client-reply', id: m.id, reply };
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
  /** Gossip configuration (ns fields); missing fields take the gossip defaults. */
  readonly config?: Partial<GossipConfig>;
  /** State file (`--data`); none = in memory only. */
  readonly dataFile?: string;
  /** Save period of the state file, ms (default 500). */
  readonly saveIntervalMs?: number;
  /** Timestamp at `now` = 0, µs since 1970 (default {@link wallClockEpochUs}). */
  readonly timestampEpochUs?: number;
  /** Physical clock offset added to the monotonic `now`, ns (default 0; tests use it to skew a node). */
  readonly clockOffsetNs?: number;
  /** Seed of the node's random stream (peer choice, phases). */
  readonly seed: string;
  /** Host events (drops, errors, traces) and persistence errors. */
  readonly onLog?: (e: HostLogEvent) => void;
  /** Shared keys (`--key-file`): every datagram sealed, only sealed ones accepted. None = plain datagrams. */
  readonly keyring?: Keyring;
  /** Client requests per second accepted from one source address (default 1000; 0 = unlimited). */
  readonly clientRatePerSource?: number;
}

/** A started node. */
export interface RunningGossipNode {
  readonly node: GossipNode;
  readonly host: UdpHost<GossipMessage, KvCall, KvReply>;
  readonly membership: Membership;
  /** The bound address. */
  readonly address: UdpAddress;
  /** Number of entries (tombstones included) loaded from the state file. */
  readonly loadedEntries: number;
  /** Stops the timers, closes the socket and saves the store a last time. Idempotent. */
  stop(): Promise<void>;
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
  let snapshot: GossipNodeSnapshot | undefined;
  if (opts.dataFile !== undefined) {
    await mkdir(path.dirname(path.resolve(opts.dataFile)), { recursive: true });
    const state = await loadState(opts.dataFile);
    if (state !== undefined) {
      const snap = (state as { snapshot?: unknown }).snapshot;
      if (!isSnapshot(snap)) throw new PersistError(`${opts.dataFile}: not a gossip node snapshot; left untouched`);
      if (snap.id !== membership.self) {
        throw new PersistError(
          `${opts.dataFile}: written by node id ${snap.id}, but this node is id ${membership.self} (${formatAddress(opts.listen)} among ${membership.members.length} members); ` +
            'give each node its own file and the same member set; left untouched',
        );
      }
      snapshot = snap;
    }
  }
  const node = new GossipNode({
    id: membership.self,
    peers: membership.peers,
    rng: new RandomStreams(opts.seed).stream(`node:${opts.name}`),
    config: { ...opts.config },
    clockOffsetNs: opts.clockOffsetNs ?? 0,
    timestampUnitNs: TIMESTAMP_UNIT_NS,
    timestampEpoch: opts.timestampEpochUs ?? wallClockEpochUs(),
    ...(snapshot !== undefined ? { snapshot } : {}),
  });
  const host = new UdpHost<GossipMessage, KvCall, KvReply>({
    name: opts.name,
    listen: opts.listen,
    membership,
    node,
    codec: gossipCodec,
    classifyDecodeError: classifyGossipError,
    client: gossipClientService(node, membership),
    ...(opts.keyring !== undefined ? { keyring: opts.keyring } : {}),
    ...(opts.clientRatePerSource !== undefined ? { clientRatePerSource: opts.clientRatePerSource } : {}),
    maxDatagramBytes: node.config.mtuBytes,
    ...(opts.onLog !== undefined ? { onLog: opts.onLog } : {}),
  });
  const store =
    opts.dataFile === undefined
      ? undefined
      : new PersistentStore(
          opts.dataFile,
          () => ({ node: opts.name, address: formatAddress(opts.listen), snapshot: node.snapshot() }),
          (err) => opts.onLog?.({ kind: 'error', where: 'persist', detail: err instanceof Error ? err.message : String(err) }),
        );
  const address = await host.start();
  store?.startAutoSave(opts.saveIntervalMs ?? 500);
  let stopping: Promise<void> | undefined;
  return {
    node,
    host,
    membership,
    address,
    loadedEntries: snapshot?.entries.length ?? 0,
    stop: () => {
      stopping ??= (async () => {
        await host.close();
        await store?.flush();
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
}

/**
 * The full gossip configuration for the node command: the preset (default
 * `default`), then the options given. Changing the interval alone keeps the
 * preset's ratio of anti-entropy period to round length (10 for `default`).
 */
export function gossipConfigFromCli(o: GossipCliOptions): GossipConfig {
  const base = resolveConfig(o.preset ?? 'default');
  const intervalNs = o.intervalMs !== undefined ? Math.round(o.intervalMs * NS_PER_MS) : base.intervalNs;
  const antiEntropyIntervalNs =
    o.antiEntropyMs !== undefined
      ? Math.round(o.antiEntropyMs * NS_PER_MS)
      : Math.round((base.antiEntropyIntervalNs * intervalNs) / base.intervalNs);
  return {
    ...base,
    intervalNs,
    antiEntropyIntervalNs,
    ...(o.fanout !== undefined ? { fanout: o.fanout } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
    ...(o.timing !== undefined ? { timing: o.timing } : {}),
    ...(o.maxAheadMs !== undefined ? { maxAheadNs: Math.round(o.maxAheadMs * NS_PER_MS) } : {}),
  };
}

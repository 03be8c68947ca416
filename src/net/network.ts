/**
 * The simulated network: data, not protocol (after turmoil's `top.rs`).
 *
 * Theory of operation. Nodes are dense integer ids. `send(from, to, payload,
 * sizeBytes)` moves an opaque payload along the directed link (from, to):
 *
 *   1. the sender must be up and the link not partitioned (else drop:
 *      `node_down` / `partition`);
 *   2. with a finite bandwidth the packet joins the link's FIFO: it waits for
 *      the packets ahead of it, then takes sizeBytes*8/bandwidth to serialize;
 *      a packet that finds `queuePackets` (or `queueBytes`) already waiting is
 *      dropped (`queue`, drop-tail);
 *   3. the loss model may drop it (`loss`; it still used the queue);
 *   4. it arrives after the propagation latency plus a uniform jitter draw
 *      (jitter reorders packets); with probability `duplicate` a copy is sent
 *      with its own delay draw.
 *
 * On arrival the packet is checked again: a partition that started while it
 * was in flight drops it, a `hold` parks it until `release`, a down receiver
 * drops it (`node_down`). Otherwise the receiver attached to the node is
 * called. Every step is emitted on `packets` (send / deliver / drop with its
 * cause) and counted per link and in total:
 *
 *   sent + duplicated = delivered + dropped(all causes) + inFlight
 *
 * where inFlight counts scheduled arrivals and parked packets.
 *
 * Random draws come, in send order, from stream `net` for links on the
 * default configuration and from a stream per configured link
 * (`net:<from>><to>`), so links with their own configuration are
 * independent of each other's traffic.
 *
 * A link with a queue discipline (`aqm` in its configuration, and a finite
 * bandwidth) takes another path, event-driven: its packets wait in a real
 * FIFO and a departure event takes the next one when the link frees, so
 * RED (on arrival) and CoDel (on departure, from the sojourn time) can drop
 * or, for packets the {@link Network.setEcnMarker} marker calls ECN-capable,
 * mark them (see aqm.ts). AQM drops are `queue` drops; the loss model is
 * still decided on arrival (the packet still uses the queue and the link).
 * `inFlight` then counts the packets in such a queue too. Drops and marks
 * are emitted on {@link Network.queueEvents}, sojourn times summed in
 * {@link Network.queueStats}. With `{ kind: 'droptail' }` the managed queue
 * drops and delays exactly as the fast path, given a link with its own stream
 * and a constant latency (its latency draws happen at departure), except that
 * an arrival is scheduled at departure rather than at the send, so events at
 * the same nanosecond may run in another order.
 *
 * Packets in flight are numbers into typed arrays (no object per packet),
 * and a kernel event delivers a packet and the packets batched behind it.
 * Between {@link Network.openBatch} and {@link Network.closeBatch} (the
 * simulator's host opens a batch around each message or timer it hands a
 * node), a send that arrives at the same instant as the delivery event the
 * network scheduled last joins that event, as long as the kernel has
 * scheduled nothing else at that instant since and that event has not fired:
 * the pushes and replies of all the nodes of an aligned gossip round to one
 * instant can share one event. Such a packet would have been the next event at that
 * instant anyway, so deliveries keep their order; only the number of kernel
 * events changes.
 *
 * On a link with its own configuration, packets usually arrive in the order
 * they were sent (a FIFO queue and a constant latency). Such packets wait in
 * the link's own arrival line, and only the first of them has a kernel event:
 * when it fires it schedules the next one, with the sequence number the kernel
 * reserved for that packet when it was sent ({@link Simulator.reserveSeq}),
 * so every packet is delivered at the same instant and in the same order
 * among that instant's events as with an event of its own, and the kernel's
 * queue holds a couple of events per link instead of every packet in flight
 * (a TCP flow's window). A packet that would arrive before the last one in
 * the line (jitter, a latency draw, a latency lowered by a fault) gets an
 * event of its own, as do the sends of a batch.
 *
 * Regions ({@link Network.setRegions}) describe a large network without a
 * record per pair of nodes: nodes are cut into consecutive id ranges, and the
 * links from region a to region b share one configuration (the default link
 * with that pair's fields over it) and one stream (`net:region:<a>><b>`).
 * Memory is one byte per node and one record per pair of regions. A link
 * given its own configuration (setLink, or a latency or loss fault) takes
 * precedence over its regions' pair.
 */
import type { Random } from '../kernel/random.js';
import type { Simulator } from '../kernel/simulator.js';
import { TraceSource } from '../kernel/trace.js';
import { MAX_TIME, type Time } from '../kernel/time.js';
import { DEFAULT_LINK, minDelay, sampleDelay, type DelaySpec, type LinkConfig, type LossSpec } from './link.js';
import { codelDequeue, newCodelState, newRedState, redArrive, Verdict, type CodelQueue, type CodelState, type RedState } from './aqm.js';

/** A node's identity on the network: a dense integer from 0. */
export type NodeId = number;

/** Why the network dropped a packet. */
export type DropCause = 'loss' | 'queue' | 'partition' | 'node_down';

/** The drop causes, in the order counters and CSV columns list them. */
export const DROP_CAUSES: readonly DropCause[] = ['loss', 'queue', 'partition', 'node_down'];

/** One packet event, as emitted on {@link Network.packets}. */
export interface PacketEvent {
  readonly kind: 'send' | 'deliver' | 'drop';
  readonly timeNs: Time;
  /** Unique per send (copies made by duplication share the original's id). */
  readonly packetId: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly sizeBytes: number;
  /** When the packet was sent (ns). */
  readonly sentNs: Time;
  readonly cause?: DropCause;
}

/** A node going down or coming back up. */
export interface NodeStatusEvent {
  readonly timeNs: Time;
  readonly node: NodeId;
  readonly up: boolean;
}

/** Packet counters of one directed link or of the whole network. */
export interface LinkCounters {
  sent: number;
  duplicated: number;
  delivered: number;
  dropLoss: number;
  dropQueue: number;
  dropPartition: number;
  dropNodeDown: number;
  bytesSent: number;
  bytesDelivered: number;
}

/** A drop or an ECN mark by a link's queue discipline, as emitted on {@link Network.queueEvents}. */
export interface QueueEvent {
  readonly timeNs: Time;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly action: 'drop' | 'mark';
  readonly discipline: 'red' | 'codel';
  /** RED: avg (packets) after this arrival; CoDel: NaN. */
  readonly avgPackets: number;
  /** Sojourn time of the packet (CoDel, ns), or -1 (RED decides on arrival). */
  readonly sojournNs: number;
  /** RED: packets since the last drop before this one; CoDel: its count at the drop (see aqm.ts). */
  readonly count: number;
  /** CoDel: drop_next when the drop was made (ns); RED: -1. */
  readonly dropNextNs: number;
  /** CoDel: whether it was in the dropping state before this drop (false: the drop that enters it). */
  readonly dropping: boolean;
}

/** Sojourn times and actions of one link's managed queue (links with an `aqm`). */
export interface QueueStats {
  /** Packets that left the queue onto the link (sent), with their sojourn times (ns): sum and maximum. */
  departed: number;
  sojournSumNs: number;
  sojournMaxNs: number;
  /** Drops by the discipline (RED early or forced, CoDel) and by the queue limit. */
  aqmDrops: number;
  overflowDrops: number;
  /** ECN CE marks. */
  marks: number;
}

/** The function that receives a node's packets. */
export type Receiver<P> = (from: NodeId, payload: P, sizeBytes: number) => void;

/** One function that receives the packets of many nodes (`to` says whose). */
export type Dispatcher<P> = (to: NodeId, from: NodeId, payload: P, sizeBytes: number) => void;

/** Options of the {@link Network} constructor. */
export interface NetworkOptions {
  /** Number of nodes created up front (ids 0..nodes-1). Default 0; see {@link Network.addNode}. */
  readonly nodes?: number;
  /** The link every pair uses unless overridden. Fields default to {@link DEFAULT_LINK}. */
  readonly defaultLink?: Partial<LinkConfig>;
  /**
   * One random stream for every link's latency, jitter, loss and duplication
   * draws. Default: stream `net` for the links on the default configuration,
   * and a stream of its own (`net:<from>><to>`) for each link given its own
   * configuration, so traffic on one configured link never shifts the draws of
   * another (a TCP data path's losses do not depend on its ACK path).
   */
  readonly rng?: Random;
  /** Keep counters per directed link (a map entry per link that carried traffic). Default true. */
  readonly perLinkCounters?: boolean;
  /**
   * Packets in flight the network makes room for up front: an integer in 1..{@link MAX_INITIAL_PACKETS},
   * default 64. It is a hint: the arrays still double whenever more packets are in flight. It changes
   * no result, only when memory is taken. At 10^6 nodes the doublings during a run (about 450 MB of
   * array buffers) each made V8 mark the whole heap ("external memory pressure"), a quarter of a second
   * apiece; arrays made before the nodes exist cost that mark next to nothing. Slots never used are
   * never touched, so they take address space, not resident memory.
   */
  readonly initialPackets?: number;
}

/** The largest {@link NetworkOptions.initialPackets}: 2^26 packets, 2.8 GiB of arrays. */
export const MAX_INITIAL_PACKETS = 2 ** 26;

/** No packet (end of a batch, an empty queue slot). */
const NO_PACKET = -1;
const PACKETS_START = 64;

interface LinkState {
  busyUntil: Time;
  /**
   * Transmission start times and sizes of the packets not yet started, FIFO: a ring of `waiting`
   * entries from `waitHead` (its length a power of two, doubled when full), so a send allocates nothing.
   */
  waitStart: Float64Array;
  waitBytes: Float64Array;
  waitHead: number;
  waiting: number;
  queuedBytes: number;
  geBad: boolean;
}

const RING_START = 16;

/** A link with a queue discipline: its FIFO (undefined: a packet the loss model took, still using the queue) and state. */
interface ManagedLink extends CodelQueue {
  readonly from: NodeId;
  readonly to: NodeId;
  cfg: LinkConfig;
  rng: Random;
  c: LinkCounters | undefined;
  /** Packet numbers, or NO_PACKET for one the loss model took. */
  readonly pkts: number[];
  readonly enqNs: number[];
  readonly sizes: number[];
  head: number;
  bytes: number;
  busyUntil: Time;
  geBad: boolean;
  readonly red: RedState;
  readonly codel: CodelState;
  readonly uniform: () => number;
  readonly stats: QueueStats;
  /** The packet last popped (NO_PACKET: none, or one the loss model took), its size and sojourn. */
  cur: number;
  curBytes: number;
  curSojournNs: number;
}

/** A link with its own configuration and random stream, and its state once it carried a packet (the same object as in `states`). */
interface Override {
  readonly cfg: LinkConfig;
  readonly rng: Random;
  state: LinkState | undefined;
  /** Its arrival line, once it carried a packet (kept when the configuration changes, as `state`). */
  line: ArrivalLine | undefined;
}

/**
 * Packets in flight on one link, in send order, whose arrival times never decrease: a ring of `n`
 * entries from `head` (its length a power of two, doubled when full) of packet number, arrival time
 * and the kernel sequence number reserved at the send. Only the first has a kernel event.
 */
interface ArrivalLine {
  pk: Int32Array<ArrayBuffer>;
  at: Float64Array<ArrayBuffer>;
  seq: Float64Array<ArrayBuffer>;
  head: number;
  n: number;
}

interface Rule {
  readonly id: number;
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  readonly oneWay: boolean;
}

/**
 * Receivers of a delivery batch whose objects the host's warm hook reads in one go (see
 * {@link Network.attachAll}): enough misses in flight at once to hide most of their latency, few
 * enough that the lines are still cached when their packets come. A receiver is warmed twice: its
 * object 16 to 24 packets ahead, then (`deep`) what the object points to 8 to 16 ahead.
 */
const WARM_GROUP = 8;
const KEY_SPAN = 0x4000000; // 2^26 nodes
/** Most regions {@link Network.setRegions} takes (a region id is one byte a node). */
const MAX_REGIONS = 255;

function newCounters(): LinkCounters {
  return {
    sent: 0,
    duplicated: 0,
    delivered: 0,
    dropLoss: 0,
    dropQueue: 0,
    dropPartition: 0,
    dropNodeDown: 0,
    bytesSent: 0,
    bytesDelivered: 0,
  };
}

/** Sum of every drop cause of a counter record. */
export function droppedTotal(c: LinkCounters): number {
  return c.dropLoss + c.dropQueue + c.dropPartition + c.dropNodeDown;
}

/** A simulated network of nodes joined by directed links, with turmoil's fault verbs. */
export class Network<P = unknown> {
  /** Every send, delivery and drop. */
  readonly packets = new TraceSource<PacketEvent>('net.packet');
  /** Every crash and restart. */
  readonly nodeStatus = new TraceSource<NodeStatusEvent>('net.node');
  /** Counters over all links. */
  readonly total: LinkCounters = newCounters();
  /** Every drop and mark of a queue discipline (links with an `aqm`). */
  readonly queueEvents = new TraceSource<QueueEvent>('net.queue');

  private readonly rng: Random;
  private readonly oneStream: boolean;
  private defaultLink: LinkConfig;
  private readonly overrides = new Map<number, Override>();
  private readonly states = new Map<number, LinkState>();
  private readonly perLink: Map<number, LinkCounters> | undefined;
  private receivers: (Receiver<P> | undefined)[] = [];
  /** Nodes with a receiver of their own: with none (a host runs every node) a delivery reads no `receivers` cell. */
  private attached = 0;
  private dispatcher: Dispatcher<P> | undefined;
  /**
   * Called with the receivers of a batch's packets, a group of them at a time, twice: 16 to 24 packets
   * ahead of their delivery, then `deep` 8 to 16 ahead (see {@link attachAll}), so that their cache
   * misses overlap one another instead of stalling one delivery each. It must change nothing.
   */
  private warm: ((to: NodeId, deep: boolean) => void) | undefined;
  private up = new Uint8Array(16);
  private count = 0;
  private partitions: Rule[] = [];
  private holds: Rule[] = [];
  private parked: number[] = [];
  /**
   * Packets in flight as struct-of-arrays, by packet number (no object per packet; the kernel event's
   * argument is the number): send id, ends, size, send time, the hold that parked it, the next packet
   * of its batch (NO_PACKET: last) and its payload (undefined while the number is free). Numbers whose
   * packet's fate is decided go on a free stack, so a send allocates nothing once the arrays have grown
   * to the most packets in flight.
   */
  private pkId = new Float64Array(PACKETS_START);
  private pkFrom = new Int32Array(PACKETS_START);
  private pkTo = new Int32Array(PACKETS_START);
  private pkSize = new Float64Array(PACKETS_START);
  private pkSent = new Float64Array(PACKETS_START);
  private pkHold = new Int32Array(PACKETS_START);
  private pkNext = new Int32Array(PACKETS_START);
  private readonly pkPayload: (P | undefined)[] = [];
  private pkFree = new Int32Array(PACKETS_START);
  private pkFreeCount = 0;
  /**
   * Sends batched into one delivery event (see {@link Network.openBatch}): the first and last packets
   * of the delivery event this network scheduled last (NO_PACKET: none, or it has fired), its arrival
   * time, and its kernel sequence number, which stays the last one at that instant
   * ({@link Simulator.lastScheduledAt}) until anything else is scheduled there.
   */
  private batchOpen = false;
  private batchHead = NO_PACKET;
  private batchTail = NO_PACKET;
  private batchAt = -1;
  private batchSeq = -1;
  private nextRuleId = 1;
  private nextPacketId = 0;
  private flying = 0;
  private readonly deliverFn = (p: number): void => this.arrive(p);
  private readonly lineFn = (line: ArrivalLine): void => this.arriveInLine(line);
  private readonly managed = new Map<number, ManagedLink>();
  private readonly serviceFn = (l: ManagedLink): void => this.service(l);
  private ecnMarker: ((payload: P) => P | undefined) | undefined;
  // Regions: the region of each node (ids below regionNodes), and per pair (a * regionCount + b) its patch, configuration and stream.
  private nodeRegion: Uint8Array | undefined;
  private regionNodes = 0;
  private regionCount = 0;
  private regionPatch: Partial<LinkConfig>[] = [];
  private regionCfg: LinkConfig[] = [];
  private regionRng: Random[] = [];

  constructor(
    private readonly sim: Simulator,
    options: NetworkOptions = {},
  ) {
    this.rng = options.rng ?? sim.rng.stream('net');
    this.oneStream = options.rng !== undefined;
    this.defaultLink = { ...DEFAULT_LINK, ...options.defaultLink };
    this.perLink = options.perLinkCounters === false ? undefined : new Map();
    const room = options.initialPackets;
    if (room !== undefined) {
      if (!Number.isInteger(room) || room < 1 || room > MAX_INITIAL_PACKETS) {
        throw new RangeError(`Network: initialPackets ${room} must be an integer in [1, ${MAX_INITIAL_PACKETS}]`);
      }
      if (room > PACKETS_START) this.growPackets(room);
    }
    for (let i = 0; i < (options.nodes ?? 0); i++) this.addNode();
  }

  /** Number of nodes. */
  get nodeCount(): number {
    return this.count;
  }

  /** Packets sent (or duplicated) whose fate is not yet decided: scheduled arrivals plus parked ones. */
  get inFlight(): number {
    return this.flying;
  }

  /** Adds a node (up) and returns its id. */
  addNode(receiver?: Receiver<P>): NodeId {
    const id = this.count++;
    if (id >= KEY_SPAN) throw new RangeError(`Network: at most ${KEY_SPAN} nodes`);
    if (id >= this.up.length) {
      const u = new Uint8Array(this.up.length * 2);
      u.set(this.up);
      this.up = u;
    }
    this.up[id] = 1;
    this.receivers[id] = receiver;
    if (receiver !== undefined) this.attached++;
    return id;
  }

  /**
   * Sets one function that receives the packets of every node without a
   * receiver of its own (see {@link attach}). A host running many nodes
   * uses this instead of a closure per node: one object fewer to touch per
   * delivery, which matters at 100,000 nodes. `warm`, if given, is called with
   * the receivers of the packets of a delivery event, twice: 16 to 24 packets
   * ahead of their delivery with `deep` false, then 8 to 16 ahead with `deep`
   * true (fewer near a batch's start; none for a batch of one packet). It must change nothing: a host reads
   * each node's object the first time and the fields the node's input reads the
   * second (by then the object is in cache, so the reads of a group overlap).
   */
  attachAll(dispatcher: Dispatcher<P>, warm?: (to: NodeId, deep: boolean) => void): void {
    this.dispatcher = dispatcher;
    this.warm = warm;
  }

  /** Removes `node`'s own receiver (its packets then go to the {@link attachAll} dispatcher, if any). */
  detach(node: NodeId): void {
    this.checkNode(node);
    if (this.receivers[node] !== undefined) this.attached--;
    this.receivers[node] = undefined;
  }

  /** Sets the function that receives `node`'s packets. */
  attach(node: NodeId, receiver: Receiver<P>): void {
    this.checkNode(node);
    if (this.receivers[node] === undefined) this.attached++;
    this.receivers[node] = receiver;
  }

  /** The configuration of the directed link (from, to). */
  link(from: NodeId, to: NodeId): LinkConfig {
    const o = this.overrides.get(from * KEY_SPAN + to);
    if (o !== undefined) return o.cfg;
    const pair = this.regionPair(from, to);
    return pair < 0 ? this.defaultLink : (this.regionCfg[pair] as LinkConfig);
  }

  /** Changes the default link (links with their own overrides keep them; region pairs keep their own fields over it). */
  setDefaultLink(patch: Partial<LinkConfig>): void {
    this.defaultLink = { ...this.defaultLink, ...patch };
    this.regionCfg = this.regionPatch.map((p) => ({ ...this.defaultLink, ...p }));
  }

  /**
   * Cuts the nodes into regions and gives each ordered pair of regions its
   * link fields, over the default link. Region r is the nodes with ids in
   * [starts[r], starts[r + 1]); `starts` begins at 0, strictly increases and
   * ends at the node count, with at most 255 regions.
   * `pairs[a * R + b]` (R regions) patches the links from region a to region
   * b. Nodes added later belong to no region (they use the default link).
   * Replaces earlier regions.
   */
  setRegions(starts: readonly number[], pairs: readonly Partial<LinkConfig>[]): void {
    const r = starts.length - 1;
    if (r < 1 || r > MAX_REGIONS) throw new RangeError(`setRegions: expected 1..${MAX_REGIONS} regions, got ${r}`);
    if (starts[0] !== 0 || starts[r] !== this.count) {
      throw new RangeError(`setRegions: starts must run from 0 to the node count ${this.count}, got ${starts[0]}..${starts[r]}`);
    }
    for (let i = 0; i < r; i++) {
      const a = starts[i] as number;
      const b = starts[i + 1] as number;
      if (!Number.isInteger(b) || b <= a) throw new RangeError(`setRegions: starts must be strictly increasing integers, got ${a} then ${b}`);
    }
    if (pairs.length !== r * r) throw new RangeError(`setRegions: expected ${r * r} pairs for ${r} regions, got ${pairs.length}`);
    const of = new Uint8Array(this.count);
    for (let i = 0; i < r; i++) of.fill(i, starts[i], starts[i + 1]);
    this.nodeRegion = of;
    this.regionNodes = this.count;
    this.regionCount = r;
    this.regionPatch = pairs.map((p) => ({ ...p }));
    this.regionCfg = this.regionPatch.map((p) => ({ ...this.defaultLink, ...p }));
    this.regionRng = this.regionPatch.map((_, i) => (this.oneStream ? this.rng : this.sim.rng.stream(`net:region:${Math.floor(i / r)}>${i % r}`)));
  }

  /** The region of a node, or undefined when no regions are set (or the node was added after them). */
  regionOf(node: NodeId): number | undefined {
    this.checkNode(node);
    return node < this.regionNodes ? this.nodeRegion?.[node] : undefined;
  }

  /** Index of the region pair of the link (from, to), or -1 when either end has no region. */
  private regionPair(from: NodeId, to: NodeId): number {
    const of = this.nodeRegion;
    if (of === undefined || from >= this.regionNodes || to >= this.regionNodes) return -1;
    return (of[from] as number) * this.regionCount + (of[to] as number);
  }

  /** Overrides fields of the directed link (from, to). */
  setLink(from: NodeId, to: NodeId, patch: Partial<LinkConfig>): void {
    this.checkNode(from);
    this.checkNode(to);
    const key = from * KEY_SPAN + to;
    const old = this.overrides.get(key);
    const rng = old?.rng ?? (this.oneStream ? this.rng : this.sim.rng.stream(`net:${from}>${to}`));
    this.overrides.set(key, { cfg: { ...this.link(from, to), ...patch }, rng, state: old?.state, line: old?.line });
  }

  /** Sets the latency of both directions between a and b (or only a→b with `oneWay`). */
  setLinkLatency(a: NodeId, b: NodeId, latency: DelaySpec, oneWay = false): void {
    this.setLink(a, b, { latency });
    if (!oneWay) this.setLink(b, a, { latency });
  }

  /** Sets the loss of both directions between a and b (or only a→b with `oneWay`). */
  setLossRate(a: NodeId, b: NodeId, loss: LossSpec, oneWay = false): void {
    this.setLink(a, b, { loss });
    if (!oneWay) this.setLink(b, a, { loss });
  }

  /** Cuts every link between group a and group b, both directions. Returns an id for {@link repair}. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): number {
    const rule = this.makeRule(a, b, false, 'partition');
    this.partitions.push(rule);
    return rule.id;
  }

  /** Cuts the links from every node of `from` to every node of `to` only. */
  partitionOneWay(from: readonly NodeId[], to: readonly NodeId[]): number {
    const rule = this.makeRule(from, to, true, 'partitionOneWay');
    this.partitions.push(rule);
    return rule.id;
  }

  /** Removes one partition (by id) or, without an id, every partition. */
  repair(id?: number): void {
    this.partitions = id === undefined ? [] : this.partitions.filter((r) => r.id !== id);
  }

  /** True when a packet from → to would be dropped by a partition now. */
  isPartitioned(from: NodeId, to: NodeId): boolean {
    return this.matches(this.partitions, from, to) !== undefined;
  }

  /** Parks packets arriving on links between a and b (both directions) until {@link release}. */
  hold(a: readonly NodeId[], b: readonly NodeId[], oneWay = false): number {
    const rule = this.makeRule(a, b, oneWay, 'hold');
    this.holds.push(rule);
    return rule.id;
  }

  /** Ends one hold (or every hold) and delivers its parked packets now, in arrival order. */
  release(id?: number): void {
    const released = id === undefined ? this.holds : this.holds.filter((r) => r.id === id);
    if (released.length === 0) return;
    const ids = new Set(released.map((r) => r.id));
    this.holds = this.holds.filter((r) => !ids.has(r.id));
    const keep: number[] = [];
    for (const p of this.parked) {
      if (ids.has(this.pkHold[p] as number)) {
        this.pkHold[p] = 0;
        this.pkNext[p] = NO_PACKET;
        this.sim.schedule(this.sim.now, this.deliverFn, p, 'net.release');
      } else keep.push(p);
    }
    this.parked = keep;
  }

  /** Takes a node down: it receives nothing until {@link restart}; packets to it are dropped on arrival. */
  crash(node: NodeId): void {
    this.checkNode(node);
    if (this.up[node] === 0) return;
    this.up[node] = 0;
    if (this.nodeStatus.active) this.nodeStatus.emit({ timeNs: this.sim.now, node, up: false });
  }

  /** Brings a node back up. */
  restart(node: NodeId): void {
    this.checkNode(node);
    if (this.up[node] === 1) return;
    this.up[node] = 1;
    if (this.nodeStatus.active) this.nodeStatus.emit({ timeNs: this.sim.now, node, up: true });
  }

  /** True when the node is up. */
  isUp(node: NodeId): boolean {
    return this.up[node] === 1;
  }

  /** Counters of the directed link (from, to) (all zero if it carried nothing, or per-link counters are off). */
  counters(from: NodeId, to: NodeId): Readonly<LinkCounters> {
    return this.perLink?.get(from * KEY_SPAN + to) ?? newCounters();
  }

  /** Every directed link that carried traffic, with its counters, in first-use order. */
  *linkCounters(): IterableIterator<{ from: NodeId; to: NodeId; counters: Readonly<LinkCounters> }> {
    if (this.perLink === undefined) return;
    for (const [key, counters] of this.perLink) {
      yield { from: Math.floor(key / KEY_SPAN), to: key % KEY_SPAN, counters };
    }
  }

  /** The earliest time a packet of `sizeBytes` sent now on an idle link (from, to) could arrive. */
  minTransitNs(from: NodeId, to: NodeId, sizeBytes: number): Time {
    const cfg = this.link(from, to);
    const ser = cfg.bandwidthBps === Infinity ? 0 : Math.round((sizeBytes * 8 * 1e9) / cfg.bandwidthBps);
    return ser + minDelay(cfg.latency);
  }

  /**
   * Sends `payload` (of `sizeBytes` on the wire) from `from` to `to`. Never
   * throws for network reasons (loss, queues, partitions, crashes are drops);
   * throws a RangeError for a node id that does not exist. Returns true when the
   * packet is on its way (it may still be dropped on arrival: partition, crashed
   * receiver), false when it was dropped at once (sender down, partition, queue, loss).
   */
  send(from: NodeId, to: NodeId, payload: P, sizeBytes: number): boolean {
    // A send to a node that does not exist is a protocol bug: fail loudly rather than count a drop.
    const toOk = (to | 0) === to && to >= 0 && to < this.count;
    if (!toOk || !((from | 0) === from && from >= 0 && from < this.count)) this.checkNode(toOk ? from : to);
    const now = this.sim.now;
    const key = from * KEY_SPAN + to;
    const c = this.linkCounter(key);
    const id = this.nextPacketId++;
    this.total.sent++;
    this.total.bytesSent += sizeBytes;
    if (c !== undefined) {
      c.sent++;
      c.bytesSent += sizeBytes;
    }
    if (this.packets.active) this.packets.emit({ kind: 'send', timeNs: now, packetId: id, from, to, sizeBytes, sentNs: now });
    if (this.up[from] !== 1) return this.drop(c, 'node_down', id, from, to, sizeBytes, now);
    if (this.partitions.length > 0 && this.matches(this.partitions, from, to) !== undefined) {
      return this.drop(c, 'partition', id, from, to, sizeBytes, now);
    }
    const o = this.overrides.size > 0 ? this.overrides.get(key) : undefined;
    let cfg = this.defaultLink;
    let rng = this.rng;
    if (o !== undefined) {
      cfg = o.cfg;
      rng = o.rng;
    } else if (this.nodeRegion !== undefined) {
      const pair = this.regionPair(from, to);
      if (pair >= 0) {
        cfg = this.regionCfg[pair] as LinkConfig;
        rng = this.regionRng[pair] as Random;
      }
    }
    if (cfg.aqm !== undefined && cfg.bandwidthBps !== Infinity) return this.enqueue(key, cfg, rng, c, id, from, to, payload, sizeBytes, now);
    let depart = now;
    let state: LinkState | undefined;
    if (cfg.bandwidthBps !== Infinity || typeof cfg.loss !== 'number') {
      if (o === undefined) state = this.linkState(key);
      else if ((state = o.state) === undefined) state = o.state = this.linkState(key);
    }
    if (cfg.bandwidthBps !== Infinity && state !== undefined) {
      // Packets whose transmission has started leave the waiting line.
      const mask = state.waitStart.length - 1;
      while (state.waiting > 0 && (state.waitStart[state.waitHead] as number) <= now) {
        state.queuedBytes -= state.waitBytes[state.waitHead] as number;
        state.waitHead = (state.waitHead + 1) & mask;
        state.waiting--;
      }
      const start = state.busyUntil > now ? state.busyUntil : now;
      if (start > now) {
        if (state.waiting >= cfg.queuePackets || state.queuedBytes + sizeBytes > cfg.queueBytes) {
          return this.drop(c, 'queue', id, from, to, sizeBytes, now);
        }
        if (state.waiting === state.waitStart.length) growRing(state);
        const tail = (state.waitHead + state.waiting) & (state.waitStart.length - 1);
        state.waitStart[tail] = start;
        state.waitBytes[tail] = sizeBytes;
        state.waiting++;
        state.queuedBytes += sizeBytes;
      }
      depart = start + Math.round((sizeBytes * 8 * 1e9) / cfg.bandwidthBps);
      state.busyUntil = depart;
    }
    if (this.lost(cfg.loss, state, rng)) return this.drop(c, 'loss', id, from, to, sizeBytes, now);
    const line = o === undefined ? undefined : (o.line ??= newArrivalLine());
    this.launch(this.packet(id, from, to, payload, sizeBytes, now), depart, cfg, rng, line);
    if (cfg.duplicate > 0 && rng.bernoulli(cfg.duplicate)) {
      this.total.duplicated++;
      if (c !== undefined) c.duplicated++;
      this.launch(this.packet(id, from, to, payload, sizeBytes, now), depart, cfg, rng, line);
    }
    return true;
  }

  /** A packet number for a new packet in flight (reused from the free stack when it can). */
  private packet(id: number, from: NodeId, to: NodeId, payload: P, sizeBytes: number, sentNs: Time): number {
    let p: number;
    if (this.pkFreeCount > 0) p = this.pkFree[--this.pkFreeCount] as number;
    else {
      p = this.pkPayload.length;
      if (p === this.pkId.length) this.growPackets();
      this.pkPayload.push(undefined);
    }
    this.pkId[p] = id;
    this.pkFrom[p] = from;
    this.pkTo[p] = to;
    this.pkPayload[p] = payload;
    this.pkSize[p] = sizeBytes;
    this.pkSent[p] = sentNs;
    this.pkHold[p] = 0;
    this.pkNext[p] = NO_PACKET;
    return p;
  }

  /** Makes room for `n` packets (default: twice as many as now). */
  private growPackets(n = 2 * this.pkId.length): void {
    const f64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.pkId = f64(this.pkId);
    this.pkFrom = i32(this.pkFrom);
    this.pkTo = i32(this.pkTo);
    this.pkSize = f64(this.pkSize);
    this.pkSent = f64(this.pkSent);
    this.pkHold = i32(this.pkHold);
    this.pkNext = i32(this.pkNext);
    this.pkFree = i32(this.pkFree);
  }

  /** Frees a packet whose fate is decided (its payload dropped, as it may be garbage now). */
  private recycle(p: number): void {
    this.pkPayload[p] = undefined;
    this.pkFree[this.pkFreeCount++] = p;
  }

  /**
   * Starts batching sends: until {@link closeBatch}, a packet that arrives at the same instant as the
   * delivery event this network scheduled last joins that event instead of getting another (its
   * packets are delivered in send order, one after the other, as their own events would have been),
   * provided the kernel has scheduled no other event at that instant since
   * ({@link Simulator.lastScheduledAt}) and that event has not fired yet; never while the packet trace
   * has listeners. The packet's own event would
   * then have been the next one at that instant, right behind the event it joins, so the order of
   * deliveries is exactly the one without batching: only the number of kernel events differs. The
   * event joined may have been scheduled while handling an earlier input (another node's message at
   * the same instant; events scheduled at other instants in between do not matter): the pushes and
   * replies of many nodes to one instant share one event.
   */
  openBatch(): void {
    this.batchOpen = true;
  }

  /** Ends batching (see {@link openBatch}): until the next {@link openBatch}, a send gets a delivery event of its own. */
  closeBatch(): void {
    this.batchOpen = false;
  }

  /** Schedules the arrival of packet `p`: in the link's arrival `line` (if it has one) when it arrives no earlier than the line's last packet, else with an event of its own. */
  private launch(p: number, depart: Time, cfg: LinkConfig, rng: Random, line?: ArrivalLine): void {
    let at = depart + sampleDelay(cfg.latency, rng);
    if (cfg.jitterNs > 0) at += Math.round(rng.range(0, cfg.jitterNs));
    this.flying++;
    // A heavy-tailed draw (pareto, lognormal) or a long queue on a slow link can land beyond the
    // last representable instant; such a packet arrives at MAX_TIME, after the end of any run.
    if (at >= MAX_TIME) at = MAX_TIME;
    if (this.batchOpen) {
      const tail = this.batchTail;
      if (tail !== NO_PACKET && at === this.batchAt && this.sim.lastScheduledAt(at) === this.batchSeq && !this.packets.active) {
        // Joins the event scheduled last at that instant (still pending): delivered right after its packets.
        this.pkNext[tail] = p;
        this.batchTail = p;
        return;
      }
      this.sim.recordInstants();
      this.sim.schedule(at, this.deliverFn, p, 'net.deliver');
      this.batchHead = p;
      this.batchTail = p;
      this.batchAt = at;
      this.batchSeq = this.sim.scheduled - 1;
      return;
    }
    if (line !== undefined) {
      const n = line.n;
      let mask = line.pk.length - 1;
      if (n === 0 || at >= (line.at[(line.head + n - 1) & mask] as number)) {
        const seq = this.sim.reserveSeq(at);
        if (n > mask) {
          growArrivalLine(line);
          mask = line.pk.length - 1;
        }
        const i = (line.head + n) & mask;
        line.pk[i] = p;
        line.at[i] = at;
        line.seq[i] = seq;
        line.n = n + 1;
        if (n === 0) this.sim.scheduleReserved(at, seq, this.lineFn, line, 'net.deliver');
        return;
      }
    }
    this.sim.schedule(at, this.deliverFn, p, 'net.deliver');
  }

  /** The first packet of an arrival line arrives: the next one gets its event (with its reserved number), then this one is delivered. */
  private arriveInLine(line: ArrivalLine): void {
    const mask = line.pk.length - 1;
    const p = line.pk[line.head] as number;
    line.head = (line.head + 1) & mask;
    if (--line.n > 0) this.sim.scheduleReserved(line.at[line.head] as number, line.seq[line.head] as number, this.lineFn, line, 'net.deliver');
    this.arriveOne(p);
  }

  /** A delivery event: packet `head` and the packets batched behind it, in send order. */
  private arrive(head: number): void {
    // The batch's event fires: nothing may join it any more (its packets are being delivered).
    if (head === this.batchHead) this.batchHead = this.batchTail = NO_PACKET;
    // Receivers are warmed in groups: objects 2 to 3 x WARM_GROUP packets ahead, then deep 1 to 2 x. A
    // lone packet's receiver is not (nothing would overlap its misses; most TCP events hold one packet).
    const warm = this.pkNext[head] === NO_PACKET ? undefined : this.warm;
    let ahead = head;
    let deepAhead = head;
    let untilWarm = 0;
    for (let p = head; p !== NO_PACKET;) {
      if (warm !== undefined && --untilWarm <= 0) {
        const first = p === head;
        ahead = this.warmAhead(warm, false, ahead, first ? 3 * WARM_GROUP : WARM_GROUP);
        deepAhead = this.warmAhead(warm, true, deepAhead, first ? 2 * WARM_GROUP : WARM_GROUP);
        untilWarm = WARM_GROUP;
      }
      const next = this.pkNext[p] as number;
      this.arriveOne(p);
      p = next;
    }
  }

  /**
   * Calls `warm` with the receivers of `count` packets of a batch from packet `from` on (fewer at its
   * end), and returns the packet after them. The calls come one after the other, so the cache misses
   * of their reads overlap one another (one stall for the group, where reading one receiver per
   * delivery stalled each delivery: 20-30% of the run phase of a 10^6-node gossip run).
   */
  private warmAhead(warm: (to: NodeId, deep: boolean) => void, deep: boolean, from: number, count: number): number {
    let q = from;
    for (let j = 0; j < count && q !== NO_PACKET; j++) {
      warm(this.pkTo[q] as number, deep);
      q = this.pkNext[q] as number;
    }
    return q;
  }

  private arriveOne(p: number): void {
    const from = this.pkFrom[p] as number;
    const to = this.pkTo[p] as number;
    const key = from * KEY_SPAN + to;
    if (this.partitions.length > 0 && this.matches(this.partitions, from, to) !== undefined) {
      this.flying--;
      this.drop(this.perLink?.get(key), 'partition', this.pkId[p] as number, from, to, this.pkSize[p] as number, this.pkSent[p] as number);
      return this.recycle(p);
    }
    if (this.holds.length > 0) {
      const rule = this.matches(this.holds, from, to);
      if (rule !== undefined) {
        this.pkHold[p] = rule.id;
        this.parked.push(p);
        return;
      }
    }
    this.flying--;
    const size = this.pkSize[p] as number;
    if (this.up[to] !== 1) {
      this.drop(this.perLink?.get(key), 'node_down', this.pkId[p] as number, from, to, size, this.pkSent[p] as number);
      return this.recycle(p);
    }
    this.total.delivered++;
    this.total.bytesDelivered += size;
    const c = this.perLink?.get(key);
    if (c !== undefined) {
      c.delivered++;
      c.bytesDelivered += size;
    }
    if (this.packets.active) {
      this.packets.emit({
        kind: 'deliver',
        timeNs: this.sim.now,
        packetId: this.pkId[p] as number,
        from,
        to,
        sizeBytes: size,
        sentNs: this.pkSent[p] as number,
      });
    }
    const payload = this.pkPayload[p] as P;
    this.recycle(p); // before the receiver runs: its sends may take it
    const r = this.attached > 0 ? this.receivers[to] : undefined;
    if (r !== undefined) r(from, payload, size);
    else if (this.dispatcher !== undefined) this.dispatcher(to, from, payload, size);
  }

  /** Counts and traces a drop; returns false (what {@link send} returns for a packet dropped at once). */
  private drop(c: LinkCounters | undefined, cause: DropCause, id: number, from: NodeId, to: NodeId, sizeBytes: number, sentNs: Time): false {
    bump(this.total, cause);
    if (c !== undefined) bump(c, cause);
    if (this.packets.active) {
      this.packets.emit({ kind: 'drop', timeNs: this.sim.now, packetId: id, from, to, sizeBytes, sentNs, cause });
    }
    return false;
  }

  private lost(loss: LossSpec, state: { geBad: boolean } | undefined, rng: Random): boolean {
    if (typeof loss === 'number') return loss > 0 && rng.bernoulli(loss);
    if (state === undefined) return false;
    // Gilbert-Elliott: step the chain, then lose with the state's probability.
    state.geBad = state.geBad ? !rng.bernoulli(loss.pBadToGood) : rng.bernoulli(loss.pGoodToBad);
    const p = state.geBad ? (loss.lossBad ?? 1) : (loss.lossGood ?? 0);
    return rng.bernoulli(p);
  }

  private linkCounter(key: number): LinkCounters | undefined {
    const m = this.perLink;
    if (m === undefined) return undefined;
    let c = m.get(key);
    if (c === undefined) {
      c = newCounters();
      m.set(key, c);
    }
    return c;
  }

  private linkState(key: number): LinkState {
    let s = this.states.get(key);
    if (s === undefined) {
      s = {
        busyUntil: 0,
        waitStart: new Float64Array(RING_START),
        waitBytes: new Float64Array(RING_START),
        waitHead: 0,
        waiting: 0,
        queuedBytes: 0,
        geBad: false,
      };
      this.states.set(key, s);
    }
    return s;
  }

  /**
   * Sets how an AQM marks a packet ECN CE (RFC 3168): returns the marked payload, or undefined when
   * the packet is not ECN-capable (then it is dropped). Without a marker every AQM action is a drop.
   */
  setEcnMarker(marker: ((payload: P) => P | undefined) | undefined): void {
    this.ecnMarker = marker;
  }

  /** Sojourn times and actions of the managed queue of link (from, to), or undefined when it has none (or carried nothing). */
  queueStats(from: NodeId, to: NodeId): Readonly<QueueStats> | undefined {
    return this.managed.get(from * KEY_SPAN + to)?.stats;
  }

  /** Every link with a managed queue that carried traffic, with its stats, in first-use order. */
  *managedQueues(): IterableIterator<{ from: NodeId; to: NodeId; stats: Readonly<QueueStats> }> {
    for (const l of this.managed.values()) yield { from: l.from, to: l.to, stats: l.stats };
  }

  /** A send on a link with a queue discipline: RED's arrival test, the queue limit, the loss model, then the FIFO. Returns as {@link send}. */
  private enqueue(
    key: number,
    cfg: LinkConfig,
    rng: Random,
    c: LinkCounters | undefined,
    id: number,
    from: NodeId,
    to: NodeId,
    payload: P,
    size: number,
    now: Time,
  ): boolean {
    const l = this.managedLink(key, from, to, cfg, rng);
    l.c = c;
    if (l.busyUntil <= now) this.service(l); // a departure due now goes first, as on the fast path
    const busy = l.busyUntil > now;
    const waiting = l.pkts.length - l.head;
    const spec = cfg.aqm;
    if (spec !== undefined && spec.kind === 'red') {
      const idleNs = busy || waiting > 0 ? 0 : now - l.busyUntil;
      const count = l.red.count;
      const v = redArrive(spec, l.red, waiting, idleNs, (spec.meanPacketBytes * 8e9) / cfg.bandwidthBps, l.uniform);
      if (v !== Verdict.Pass) {
        const marked = v === Verdict.Mark && this.ecnMarker !== undefined ? this.ecnMarker(payload) : undefined;
        const action = marked !== undefined ? 'mark' : 'drop';
        if (this.queueEvents.active) {
          this.queueEvents.emit({
            timeNs: now,
            from,
            to,
            action,
            discipline: 'red',
            avgPackets: l.red.avg,
            sojournNs: -1,
            count,
            dropNextNs: -1,
            dropping: false,
          });
        }
        if (marked === undefined) {
          l.stats.aqmDrops++;
          return this.drop(c, 'queue', id, from, to, size, now);
        }
        l.stats.marks++;
        payload = marked;
      }
    }
    if (busy && (waiting >= cfg.queuePackets || l.bytes + size > cfg.queueBytes)) {
      l.stats.overflowDrops++;
      return this.drop(c, 'queue', id, from, to, size, now);
    }
    let p = NO_PACKET;
    const lost = this.lost(cfg.loss, l, rng);
    if (lost) this.drop(c, 'loss', id, from, to, size, now);
    else {
      p = this.packet(id, from, to, payload, size, now);
      this.flying++;
    }
    l.pkts.push(p);
    l.enqNs.push(now);
    l.sizes.push(size);
    l.bytes += size;
    if (!busy) this.service(l);
    return !lost;
  }

  /** The link is free (or a packet arrived at an idle link): the discipline picks the next packet to send, if any. */
  private service(l: ManagedLink): void {
    const now = this.sim.now;
    if (l.busyUntil > now) return;
    const spec = l.cfg.aqm;
    const ok = spec !== undefined && spec.kind === 'codel' ? codelDequeue(spec, l.codel, l, now) : l.pop(now) >= 0;
    if (!ok) return;
    const st = l.stats;
    st.departed++;
    st.sojournSumNs += l.curSojournNs;
    if (l.curSojournNs > st.sojournMaxNs) st.sojournMaxNs = l.curSojournNs;
    const cfg = l.cfg;
    const depart = now + Math.round((l.curBytes * 8 * 1e9) / cfg.bandwidthBps);
    l.busyUntil = depart;
    this.sim.schedule(depart, this.serviceFn, l, 'net.queue');
    const p = l.cur;
    l.cur = NO_PACKET;
    if (p === NO_PACKET) return; // taken by the loss model on arrival: it used the link all the same
    this.flying--;
    const copy =
      cfg.duplicate > 0
        ? this.packet(
            this.pkId[p] as number,
            this.pkFrom[p] as number,
            this.pkTo[p] as number,
            this.pkPayload[p] as P,
            this.pkSize[p] as number,
            this.pkSent[p] as number,
          )
        : NO_PACKET;
    this.launch(p, depart, cfg, l.rng);
    if (copy !== NO_PACKET) {
      if (l.rng.bernoulli(cfg.duplicate)) {
        this.total.duplicated++;
        if (l.c !== undefined) l.c.duplicated++;
        this.launch(copy, depart, cfg, l.rng);
      } else this.recycle(copy);
    }
  }

  private managedLink(key: number, from: NodeId, to: NodeId, cfg: LinkConfig, rng: Random): ManagedLink {
    const l = this.managed.get(key);
    if (l !== undefined) {
      l.cfg = cfg;
      l.rng = rng;
      return l;
    }
    const aqmRng = this.oneStream ? this.rng : this.sim.rng.stream(`aqm:${from}>${to}`);
    const link: ManagedLink = {
      from,
      to,
      cfg,
      rng,
      c: undefined,
      pkts: [],
      enqNs: [],
      sizes: [],
      head: 0,
      bytes: 0,
      busyUntil: 0,
      geBad: false,
      red: newRedState(),
      codel: newCodelState(),
      uniform: () => aqmRng.uniform(),
      stats: { departed: 0, sojournSumNs: 0, sojournMaxNs: 0, aqmDrops: 0, overflowDrops: 0, marks: 0 },
      cur: NO_PACKET,
      curBytes: 0,
      curSojournNs: 0,
      get backlogBytes(): number {
        return link.bytes;
      },
      get lastBytes(): number {
        return link.curBytes;
      },
      pop(now: number): number {
        if (link.head >= link.pkts.length) return -1;
        const i = link.head++;
        link.cur = link.pkts[i] as number;
        link.curBytes = link.sizes[i] as number;
        link.curSojournNs = now - (link.enqNs[i] as number);
        link.pkts[i] = NO_PACKET;
        link.bytes -= link.curBytes;
        if (link.head > 1024 && 2 * link.head > link.pkts.length) {
          link.pkts.splice(0, link.head);
          link.enqNs.splice(0, link.head);
          link.sizes.splice(0, link.head);
          link.head = 0;
        }
        return link.curSojournNs;
      },
      drop: (): void => {
        this.codelEvent(link, 'drop');
        link.stats.aqmDrops++;
        const p = link.cur;
        link.cur = NO_PACKET;
        if (p === NO_PACKET) return;
        this.flying--;
        this.drop(
          link.c,
          'queue',
          this.pkId[p] as number,
          this.pkFrom[p] as number,
          this.pkTo[p] as number,
          this.pkSize[p] as number,
          this.pkSent[p] as number,
        );
        this.recycle(p);
      },
      mark: (): boolean => {
        const p = link.cur;
        const marked = p !== NO_PACKET && this.ecnMarker !== undefined ? this.ecnMarker(this.pkPayload[p] as P) : undefined;
        if (p === NO_PACKET || marked === undefined) return false;
        this.codelEvent(link, 'mark');
        link.stats.marks++;
        this.pkPayload[p] = marked;
        return true;
      },
    };
    this.managed.set(key, link);
    return link;
  }

  private codelEvent(l: ManagedLink, action: 'drop' | 'mark'): void {
    if (!this.queueEvents.active) return;
    const st = l.codel;
    this.queueEvents.emit({
      timeNs: this.sim.now,
      from: l.from,
      to: l.to,
      action,
      discipline: 'codel',
      avgPackets: NaN,
      sojournNs: l.curSojournNs,
      count: st.count,
      dropNextNs: st.dropNextNs,
      dropping: st.dropping,
    });
  }

  private makeRule(a: readonly NodeId[], b: readonly NodeId[], oneWay: boolean, verb: string): Rule {
    const sa = new Uint8Array(this.count);
    const sb = new Uint8Array(this.count);
    for (const n of a) {
      this.checkNode(n);
      sa[n] = 1;
    }
    for (const n of b) {
      this.checkNode(n);
      if (sa[n] === 1) throw new RangeError(`${verb}: node ${n} is in both groups`);
      sb[n] = 1;
    }
    return { id: this.nextRuleId++, a: sa, b: sb, oneWay };
  }

  private matches(rules: readonly Rule[], from: NodeId, to: NodeId): Rule | undefined {
    for (const r of rules) {
      if (r.a[from] === 1 && r.b[to] === 1) return r;
      if (!r.oneWay && r.b[from] === 1 && r.a[to] === 1) return r;
    }
    return undefined;
  }

  private checkNode(node: NodeId): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.count) {
      throw new RangeError(`Network: no node ${node} (nodes are 0..${this.count - 1})`);
    }
  }
}

const LINE_START = 64;

function newArrivalLine(): ArrivalLine {
  return { pk: new Int32Array(LINE_START), at: new Float64Array(LINE_START), seq: new Float64Array(LINE_START), head: 0, n: 0 };
}

/** Doubles a full arrival line, its entries moved to the front in order. */
function growArrivalLine(line: ArrivalLine): void {
  const n = line.pk.length;
  const pk = new Int32Array(2 * n);
  const at = new Float64Array(2 * n);
  const seq = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const j = (line.head + i) & (n - 1);
    pk[i] = line.pk[j] as number;
    at[i] = line.at[j] as number;
    seq[i] = line.seq[j] as number;
  }
  line.pk = pk;
  line.at = at;
  line.seq = seq;
  line.head = 0;
}

/** Doubles a full waiting-line ring, its entries moved to the front in FIFO order. */
function growRing(s: LinkState): void {
  const n = s.waitStart.length;
  const start = new Float64Array(2 * n);
  const bytes = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const j = (s.waitHead + i) & (n - 1);
    start[i] = s.waitStart[j] as number;
    bytes[i] = s.waitBytes[j] as number;
  }
  s.waitStart = start;
  s.waitBytes = bytes;
  s.waitHead = 0;
}

function bump(c: LinkCounters, cause: DropCause): void {
  switch (cause) {
    case 'loss':
      c.dropLoss++;
      break;
    case 'queue':
      c.dropQueue++;
      break;
    case 'partition':
      c.dropPartition++;
      break;
    case 'node_down':
      c.dropNodeDown++;
      break;
  }
}

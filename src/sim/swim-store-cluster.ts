/**
 * The gossip store on SWIM's membership, on the simulated network: one
 * {@link SwimStoreNode} per network node on a {@link SimHost}, with two random
 * streams per node (`swim.node:<id>` for SWIM, `gossip.node:<id>` for the
 * store, so either protocol's draws do not depend on the other's), SWIM's
 * {@link SwimMetrics} fed by the `member` traces and the store's
 * {@link GossipMetrics} fed by the store's observer hooks.
 *
 * Group as in {@link SwimCluster}: the `initial` nodes form the group at time
 * 0; every other node is dormant until {@link join}; a node restarted without
 * its state (or one that left and joins again) is a new life that joins
 * through the seeds. The store's metrics count a node as live exactly while
 * SWIM's ground truth does (a member, and up): a dormant or departed node's
 * store is not expected to converge.
 *
 * Counting: a store message that carries SWIM's updates (`piggyback`) is one
 * of the store's messages, of its own size; the header and updates it adds
 * are SWIM's bytes (no SWIM message), so {@link swimTotals} is what
 * membership costs whichever messages carry it.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { Network, NodeId } from '../net/network.js';
import type { GossipConfig } from '../protocols/gossip/config.js';
import type { SwimConfig } from '../protocols/swim/config.js';
import {
  isPiggybackMessage,
  isSwimMessage,
  piggybackBytes,
  SwimStoreNode,
  type SwimStoreCall,
  type SwimStoreMessage,
  type SwimStoreReply,
} from '../protocols/swim-store/node.js';
import { GossipMetrics, type GossipMetricsOptions } from './gossip-metrics.js';
import { SimHost } from './host.js';
import { initialMembers } from './swim-cluster.js';
import { SwimMetrics } from './swim-metrics.js';

/** Options of a {@link SwimStoreCluster}. */
export interface SwimStoreClusterOptions {
  readonly swim: SwimConfig;
  readonly store: GossipConfig;
  /** The members at time 0 (default: every node of the network). */
  readonly initial?: readonly NodeId[];
  /** Whom a joining or restarted member syncs with, in turn (default: the initial members). */
  readonly seeds?: readonly NodeId[];
  /** Per-node physical clock offset (ns) and drift (ppm) of the store. Default 0. */
  readonly clockOffsetNs?: (id: NodeId) => number;
  readonly clockDriftPpm?: (id: NodeId) => number;
  readonly metrics?: GossipMetricsOptions;
  /** SWIM's updates ride on the store's gossip too (see `SwimStoreNode`). Default true. */
  readonly piggybackOnStore?: boolean;
}

/** SWIM-backed store replicas on the nodes of a simulated network. */
export class SwimStoreCluster {
  readonly host: SimHost<SwimStoreMessage, SwimStoreCall, SwimStoreReply>;
  /** SWIM's measures: detections, false positives, who is a live member. */
  readonly membership: SwimMetrics;
  /** The store's measures: delivery, convergence, lost writes. */
  readonly metrics: GossipMetrics;
  /** Messages and bytes each network node sent (all its lives; both protocols). */
  readonly sent: Float64Array;
  readonly bytesSent: Float64Array;
  private readonly swimSent = { messages: 0, bytes: 0, carried: 0 };
  private readonly storeSent = { messages: 0, bytes: 0, rumor: 0 };
  private readonly initialSet: Uint8Array;
  private readonly seeds: readonly NodeId[];
  private readonly fresh: Uint8Array;
  /** 1 while the store's metrics count the node live. */
  private readonly storeLive: Uint8Array;

  constructor(
    readonly sim: Simulator,
    readonly net: Network<SwimStoreMessage>,
    readonly options: SwimStoreClusterOptions,
  ) {
    const n = net.nodeCount;
    const { initial, initialSet, seeds } = initialMembers('SwimStoreCluster', n, options);
    this.initialSet = initialSet;
    this.seeds = seeds;
    this.fresh = new Uint8Array(n);
    this.membership = new SwimMetrics(n);
    this.metrics = new GossipMetrics(n, options.metrics ?? {});
    this.storeLive = new Uint8Array(n).fill(1);
    this.sent = new Float64Array(n);
    this.bytesSent = new Float64Array(n);
    const sent = this.sent;
    const bytes = this.bytesSent;
    const swimSent = this.swimSent;
    const storeSent = this.storeSent;
    const offset = options.clockOffsetNs;
    const drift = options.clockDriftPpm;
    const factory = (id: NodeId): SwimStoreNode => {
      const start =
        this.fresh[id] === 1 ? { seeds: this.seedsFor(id) } : this.initialSet[id] === 1 ? { members: initial } : { dormant: true as const };
      return new SwimStoreNode({
        id,
        swim: { config: options.swim, rng: sim.rng.stream(`swim.node:${id}`), ...start },
        store: {
          rng: sim.rng.deferred('gossip.node:', id),
          config: options.store,
          clockOffsetNs: offset === undefined ? 0 : offset(id),
          clockDriftPpm: drift === undefined ? 0 : drift(id),
          observer: this.metrics,
        },
        ...(options.piggybackOnStore !== undefined ? { piggybackOnStore: options.piggybackOnStore } : {}),
      });
    };
    this.host = new SimHost<SwimStoreMessage, SwimStoreCall, SwimStoreReply>(sim, net, factory, undefined, {
      transmit: (from, to, msg, sizeBytes) => {
        sent[from] = (sent[from] as number) + 1;
        bytes[from] = (bytes[from] as number) + sizeBytes;
        if (isSwimMessage(msg)) {
          swimSent.messages++;
          swimSent.bytes += sizeBytes;
        } else if (isPiggybackMessage(msg)) {
          // A store message carrying SWIM's updates: the store's message and bytes, SWIM's bytes for the updates it adds.
          const swimBytes = piggybackBytes(0, msg.updates.length);
          swimSent.bytes += swimBytes;
          swimSent.carried += msg.updates.length;
          storeSent.messages++;
          storeSent.bytes += sizeBytes - swimBytes;
          if (msg.store.type === 'rumor') storeSent.rumor++;
        } else {
          storeSent.messages++;
          storeSent.bytes += sizeBytes;
          if (msg.type === 'rumor') storeSent.rumor++;
        }
        net.send(from, to, msg, sizeBytes);
      },
    });
    for (const id of initial) this.membership.initial(id);
    for (let id = 0; id < n; id++) if (this.initialSet[id] !== 1) this.storeDown(id);
    this.host.traces.connect((e) => {
      if (e.name !== 'member') return;
      const d = e.data;
      this.membership.observe(e.node, d['member'] as number, d['state'] as string, d['via'] as string, e.timeNs);
    });
  }

  /** The node on network node `id` (a fresh object after a restart without state). */
  node(id: NodeId): SwimStoreNode {
    return this.host.node(id) as SwimStoreNode;
  }

  /** Starts every node (dormant ones stay silent). */
  start(): void {
    this.host.startAll();
  }

  /** True while `id` is a member of the group and up (the ground truth). */
  isLive(id: NodeId): boolean {
    return this.membership.isLive(id);
  }

  /** A client call of the store (or of SWIM) at `id` now, or undefined when the node is down. */
  call(id: NodeId, call: SwimStoreCall): SwimStoreReply | undefined {
    if (!this.net.isUp(id)) return undefined;
    return this.host.call(id, call);
  }

  /** Crashes `id` (a failure of the group if it was a live member). */
  crash(id: NodeId): void {
    if (!this.net.isUp(id)) return;
    this.membership.change('fail', id, this.sim.now);
    this.host.crash(id);
    this.storeDown(id);
  }

  /** Restarts `id`, with its state or afresh; it rejoins through the seeds (a join of the group). */
  restart(id: NodeId, keepState: boolean): void {
    if (this.net.isUp(id)) return;
    const wasMember = this.fresh[id] === 1 || this.initialSet[id] === 1;
    const keep = keepState && wasMember;
    if (!keep) this.fresh[id] = 1;
    this.host.restart(id, keep);
    this.membership.change('join', id, this.sim.now);
    this.storeUp(id, keep);
  }

  /** A dormant (or departed) node joins through the seeds now; a crashed node is restarted afresh. */
  join(id: NodeId): void {
    if (!this.net.isUp(id)) {
      this.restart(id, false);
      return;
    }
    if (this.membership.isLive(id)) return;
    const node = this.node(id);
    if (node.hasLeft || !node.swim.isDormant) {
      // A member that left comes back as a new life of the node, its store empty.
      this.fresh[id] = 1;
      this.host.crash(id);
      this.host.restart(id, false);
      this.storeUp(id, false);
    } else {
      this.host.call(id, { op: 'join', seeds: this.seedsFor(id) });
      this.storeUp(id, true);
    }
    this.membership.change('join', id, this.sim.now);
  }

  /** Member `id` leaves gracefully now. */
  leave(id: NodeId): void {
    if (!this.membership.isLive(id) || !this.net.isUp(id)) return;
    this.membership.change('leave', id, this.sim.now);
    this.host.call(id, { op: 'leave' });
    this.storeDown(id);
  }

  /** The live members (ground truth), ascending. */
  liveMembers(): NodeId[] {
    const live: NodeId[] = [];
    for (let id = 0; id < this.net.nodeCount; id++) if (this.membership.isLive(id)) live.push(id);
    return live;
  }

  /** True when every live member's view holds exactly the live members. */
  viewsConverged(): boolean {
    const live = this.liveMembers();
    const want = live.join(',');
    return live.every((id) => this.node(id).view().join(',') === want);
  }

  /**
   * SWIM's messages and bytes sent by every node so far (all lives): its own messages, plus the bytes its
   * updates added to the store's messages that carried them (`carried`: how many updates rode so).
   */
  swimTotals(): { messages: number; bytes: number; carried: number } {
    return { ...this.swimSent };
  }

  /** The store's messages, bytes and rumor messages sent by every node so far (all lives). */
  storeTotals(): { messages: number; bytes: number; rumor: number } {
    return { ...this.storeSent };
  }

  /** Messages sent by every node so far (both protocols). */
  totalSent(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (let i = 0; i < this.sent.length; i++) {
      messages += this.sent[i] as number;
      bytes += this.bytesSent[i] as number;
    }
    return { messages, bytes };
  }

  private storeDown(id: NodeId): void {
    if (this.storeLive[id] === 0) return;
    this.storeLive[id] = 0;
    this.metrics.nodeDown(id, this.sim.now);
  }

  private storeUp(id: NodeId, keptState: boolean): void {
    if (this.storeLive[id] === 1) return;
    this.storeLive[id] = 1;
    this.metrics.nodeUp(id, keptState, this.sim.now);
  }

  private seedsFor(id: NodeId): NodeId[] {
    const s = this.seeds.filter((x) => x !== id);
    // Start at a node-dependent place so joiners do not all queue at the first seed.
    const k = s.length === 0 ? 0 : id % s.length;
    return [...s.slice(k), ...s.slice(0, k)];
  }
}

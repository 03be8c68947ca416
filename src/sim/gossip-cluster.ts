/**
 * A gossip cluster on the simulated network: one {@link GossipNode} per
 * network node on a {@link SimHost}, every node's peers = every other node,
 * one random stream per node (`gossip.node:<id>`), and {@link GossipMetrics}
 * kept informed of writes, deliveries, crashes and restarts. The scenario
 * driver, the benchmark, the validation tables and the tests all build their
 * clusters here.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { Network, NodeId } from '../net/network.js';
import { SimHost } from './host.js';
import type { GossipConfig } from '../protocols/gossip/config.js';
import { GossipMetrics, type GossipMetricsOptions } from './gossip-metrics.js';
import { GossipNode } from '../protocols/gossip/node.js';
import type { GossipMessage, KvCall, KvReply } from '../protocols/gossip/wire.js';

/** Options of {@link GossipCluster}. */
export interface GossipClusterOptions {
  readonly config: GossipConfig;
  /** Per-node physical clock offset (ns) and drift (ppm). Default 0. */
  readonly clockOffsetNs?: (id: NodeId) => number;
  readonly clockDriftPpm?: (id: NodeId) => number;
  readonly metrics?: GossipMetricsOptions;
  /**
   * Random streams: `per-node` (default; stream `gossip.node:<id>`, so a
   * node's draws do not depend on the others') or `shared` (one stream
   * `gossip.nodes` for all: less memory and setup for 100,000 nodes; still
   * deterministic, since events run in a fixed order).
   */
  readonly rng?: 'per-node' | 'shared';
}

/** Gossip nodes on every node of a simulated network. */
export class GossipCluster {
  readonly host: SimHost<GossipMessage, KvCall, KvReply>;
  readonly metrics: GossipMetrics;
  readonly peers: readonly NodeId[];

  constructor(
    readonly sim: Simulator,
    readonly net: Network<GossipMessage>,
    readonly options: GossipClusterOptions,
  ) {
    const n = net.nodeCount;
    this.metrics = new GossipMetrics(n, options.metrics ?? {});
    const peers: NodeId[] = new Array<NodeId>(n);
    for (let i = 0; i < n; i++) peers[i] = i;
    this.peers = peers;
    const offset = options.clockOffsetNs;
    const drift = options.clockDriftPpm;
    const shared = options.rng === 'shared' ? sim.rng.stream('gossip.nodes') : undefined;
    this.host = new SimHost<GossipMessage, KvCall, KvReply>(sim, net, (id) => {
      return new GossipNode({
        id,
        peers,
        rng: shared ?? sim.rng.stream(`gossip.node:${id}`),
        config: options.config,
        clockOffsetNs: offset === undefined ? 0 : offset(id),
        clockDriftPpm: drift === undefined ? 0 : drift(id),
        observer: this.metrics,
      });
    });
  }

  /** Number of nodes. */
  get size(): number {
    return this.peers.length;
  }

  /** Starts every node now. */
  start(): void {
    this.host.startAll();
  }

  /** The gossip node on network node `id` (a fresh object after a restart without state). */
  node(id: NodeId): GossipNode {
    return this.host.node(id) as GossipNode;
  }

  /** True when node `id` is up. */
  isUp(id: NodeId): boolean {
    return this.net.isUp(id);
  }

  /** A client call at node `id` now, or undefined if the node is down. */
  call(id: NodeId, call: KvCall): KvReply | undefined {
    if (!this.net.isUp(id)) return undefined;
    return this.host.call(id, call);
  }

  /** Crashes node `id` (network, timers, metrics). */
  crash(id: NodeId): void {
    if (!this.net.isUp(id)) return;
    this.host.crash(id);
    this.metrics.nodeDown(id, this.sim.now);
  }

  /** Restarts node `id`, with its state (as if persisted) or empty. */
  restart(id: NodeId, keepState: boolean): void {
    if (this.net.isUp(id)) return;
    this.metrics.nodeUp(id, keepState, this.sim.now);
    this.host.restart(id, keepState);
  }

  /** Total messages and bytes sent by the nodes (all types). */
  sentTotals(): { messages: number; bytes: number; rumor: number } {
    let messages = 0;
    let bytes = 0;
    let rumor = 0;
    for (let i = 0; i < this.peers.length; i++) {
      const s = this.node(i).sent;
      messages += s.messages;
      bytes += s.bytes;
      rumor += s.rumor;
    }
    return { messages, bytes, rumor };
  }
}

/**
 * A gossip cluster on the simulated network: one {@link GossipNode} per
 * network node on a {@link SimHost}, every node's peers = every other node,
 * one random stream per node (`gossip.node:<id>`, created at its first draw), and {@link GossipMetrics}
 * kept informed of writes, deliveries, crashes and restarts. The scenario
 * driver, the benchmark, the validation tables and the tests all build their
 * clusters here.
 *
 * Wrong keys. A real node (`desim node --key-file`) drops every datagram
 * that does not open with a key of its keyring and counts it
 * (`dropped_unauthenticated`). The cluster models a node given a wrong key
 * file (`wrongKey`): each such node seals with a key of its own, which no
 * other node holds, so the network still carries its datagrams (they are
 * sent, traced and delivered as usual) but the receiving host drops them
 * before the protocol sees them, and the wrong-key node drops everything it
 * receives the same way. Its client calls still work (a client with its
 * key), so its writes stay on it alone. The drops are counted per receiving
 * node ({@link GossipCluster.unauthenticated}). Without wrong keys the nodes
 * are bound to the host directly, as before.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { Network, NodeId } from '../net/network.js';
import { SimHost } from './host.js';
import type { GossipConfig } from '../protocols/gossip/config.js';
import { GossipMetrics, type GossipMetricsOptions } from './gossip-metrics.js';
import { GossipNode } from '../protocols/gossip/node.js';
import type { GossipMessage, KvCall, KvReply } from '../protocols/gossip/wire.js';
import type { ProtocolNode } from '../protocols/sans-io.js';

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
  /**
   * Nodes whose key no other node holds (default none): datagrams between
   * one of them and any other node are dropped and counted by the receiver.
   */
  readonly wrongKey?: readonly NodeId[];
  /**
   * Let sends to one instant share one kernel event, and timers due at one instant too (default
   * true; see `SimHostOptions.batchSends` and `batchTimers`): the same deliveries and timers in the
   * same order with fewer events. False gives one event per packet and per timer, for comparison.
   */
  readonly batchSends?: boolean;
}

/** Gossip nodes on every node of a simulated network. */
export class GossipCluster {
  readonly host: SimHost<GossipMessage, KvCall, KvReply>;
  readonly metrics: GossipMetrics;
  readonly peers: readonly NodeId[];
  /** Datagrams each node dropped because they were sealed with another key (all zero without wrong keys). */
  readonly unauthenticated: Float64Array;
  private readonly gossip: GossipNode[] = [];

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
    this.unauthenticated = new Float64Array(n);
    // The key each node seals with: 0 is the cluster's, a wrong-key node's is its own (id + 1).
    const keys = new Float64Array(n);
    for (const id of options.wrongKey ?? []) {
      if (!Number.isInteger(id) || id < 0 || id >= n) throw new RangeError(`GossipCluster: wrongKey node ${id} is not a node of the network`);
      keys[id] = id + 1;
    }
    const anyWrong = (options.wrongKey ?? []).length > 0;
    this.host = new SimHost<GossipMessage, KvCall, KvReply>(
      sim,
      net,
      (id) => {
        const g = new GossipNode({
          id,
          peers,
          // Created at the node's first draw: same draws, no generator for a node that never draws.
          rng: shared ?? sim.rng.deferred('gossip.node:', id),
          config: options.config,
          clockOffsetNs: offset === undefined ? 0 : offset(id),
          clockDriftPpm: drift === undefined ? 0 : drift(id),
          observer: this.metrics,
        });
        this.gossip[id] = g;
        // Restarts without state build nodes after the host exists; the first ones are connected below.
        if (this.host !== undefined) g.connect(this.host.activeSinkFor(id));
        return anyWrong ? this.authenticating(id, g, keys) : g;
      },
      undefined,
      // The nodes' only hook is the metrics, which schedule nothing: a node's sends to one instant may share a kernel event.
      { batchSends: options.batchSends ?? true, batchTimers: options.batchSends ?? true },
    );
    // Actions go straight to the host's shared sink: no action object per send or timer.
    for (const g of this.gossip) g.connect(this.host.activeSinkFor(g.id));
  }

  /** `g` behind the receiving host's key check: a datagram sealed with another key never reaches it. */
  private authenticating(id: NodeId, g: GossipNode, keys: Float64Array): ProtocolNode<GossipMessage, KvCall, KvReply> {
    const drops = this.unauthenticated;
    return {
      start: (now) => g.start(now),
      handleTimer: (timer, now) => g.handleTimer(timer, now),
      handleCall: (call, now) => g.handleCall(call, now),
      pollActions: () => g.pollActions(),
      warm: () => g.warm(),
      handleMessage: (from, msg, now) => {
        if (keys[from] !== keys[id]) {
          drops[id] = (drops[id] as number) + 1;
          return;
        }
        g.handleMessage(from, msg, now);
      },
    };
  }

  /** Datagrams dropped by all nodes because they were sealed with another key. */
  get unauthenticatedTotal(): number {
    let sum = 0;
    for (const d of this.unauthenticated) sum += d;
    return sum;
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
    this.host.node(id); // throws for a node the host does not run
    return this.gossip[id] as GossipNode;
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

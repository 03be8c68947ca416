/**
 * A SWIM group on the simulated network: one {@link SwimNode} per network
 * node on a {@link SimHost}, one random stream per node (`swim.node:<id>`),
 * and {@link SwimMetrics} told the ground truth (who is in the group and up)
 * and every member's `member` trace. The scenario driver, the validation
 * tables and the tests build their groups here.
 *
 * The `initial` nodes form the group at time 0, each knowing all of them
 * (a bootstrapped group). Every other node is dormant until {@link join}:
 * it then syncs with the seeds. A node restarted without its state is built
 * afresh with the seeds and joins the same way; one restarted with its state
 * syncs with a seed (or a member it knew) and refutes what it was declared.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { Network, NodeId } from '../net/network.js';
import type { SwimConfig } from '../protocols/swim/config.js';
import { SwimNode } from '../protocols/swim/node.js';
import type { SwimCall, SwimReply } from '../protocols/swim/node.js';
import type { SwimMessage } from '../protocols/swim/wire.js';
import { SimHost } from './host.js';
import { SwimMetrics } from './swim-metrics.js';

/**
 * The members a cluster of `n` nodes starts with (default: every node), also as one byte per node, and the
 * seeds a joining node contacts (default: those members). Throws a RangeError naming `who` for an
 * initial member that is not a node of the network.
 */
export function initialMembers(
  who: string,
  n: number,
  options: { readonly initial?: readonly NodeId[]; readonly seeds?: readonly NodeId[] },
): { initial: readonly NodeId[]; initialSet: Uint8Array; seeds: readonly NodeId[] } {
  const initial = options.initial ?? Array.from({ length: n }, (_, i) => i);
  const initialSet = new Uint8Array(n);
  for (const id of initial) {
    if (!Number.isInteger(id) || id < 0 || id >= n) throw new RangeError(`${who}: initial member ${id} is not a node of the network`);
    initialSet[id] = 1;
  }
  return { initial, initialSet, seeds: options.seeds ?? initial };
}

/** Options of a {@link SwimCluster}. */
export interface SwimClusterOptions {
  readonly config: SwimConfig;
  /** The members at time 0 (default: every node of the network). */
  readonly initial?: readonly NodeId[];
  /** Whom a joining or restarted member syncs with, in turn (default: the initial members). */
  readonly seeds?: readonly NodeId[];
}

/** SWIM members on the nodes of a simulated network. */
export class SwimCluster {
  readonly host: SimHost<SwimMessage, SwimCall, SwimReply>;
  readonly metrics: SwimMetrics;
  /** Messages and bytes each network node sent (all its lives). */
  readonly sent: Float64Array;
  readonly bytesSent: Float64Array;
  private readonly initialSet: Uint8Array;
  private readonly seeds: readonly NodeId[];
  private readonly fresh: Uint8Array;

  constructor(
    readonly sim: Simulator,
    readonly net: Network<SwimMessage>,
    readonly options: SwimClusterOptions,
  ) {
    const n = net.nodeCount;
    const { initial, initialSet, seeds } = initialMembers('SwimCluster', n, options);
    this.initialSet = initialSet;
    this.seeds = seeds;
    this.fresh = new Uint8Array(n);
    this.metrics = new SwimMetrics(n);
    this.sent = new Float64Array(n);
    this.bytesSent = new Float64Array(n);
    const sent = this.sent;
    const bytes = this.bytesSent;
    const factory = (id: NodeId): SwimNode => {
      const rng = sim.rng.stream(`swim.node:${id}`);
      if (this.fresh[id] === 1) return new SwimNode(id, options.config, rng, { seeds: this.seedsFor(id) });
      if (this.initialSet[id] === 1) return new SwimNode(id, options.config, rng, { members: initial });
      return new SwimNode(id, options.config, rng, { dormant: true });
    };
    this.host = new SimHost<SwimMessage, SwimCall, SwimReply>(sim, net, factory, undefined, {
      transmit: (from, to, msg, sizeBytes) => {
        sent[from] = (sent[from] as number) + 1;
        bytes[from] = (bytes[from] as number) + sizeBytes;
        net.send(from, to, msg, sizeBytes);
      },
    });
    for (const id of initial) this.metrics.initial(id);
    this.host.traces.connect((e) => {
      if (e.name !== 'member') return;
      const d = e.data;
      this.metrics.observe(e.node, d['member'] as number, d['state'] as string, d['via'] as string, e.timeNs, d['incarnation'] as number);
    });
  }

  /** The member on network node `id`. */
  node(id: NodeId): SwimNode {
    return this.host.node(id) as SwimNode;
  }

  /** Starts every member (dormant ones stay silent). */
  start(): void {
    this.host.startAll();
  }

  /** Crashes `id` (a failure of the group if it was a live member). */
  crash(id: NodeId): void {
    if (!this.net.isUp(id)) return;
    this.metrics.change('fail', id, this.sim.now);
    this.host.crash(id);
  }

  /** Restarts `id`, with its state or afresh; it rejoins through the seeds (a join of the group). */
  restart(id: NodeId, keepState: boolean): void {
    if (this.net.isUp(id)) return;
    const wasMember = this.fresh[id] === 1 || this.initialSet[id] === 1;
    if (!keepState || !wasMember) this.fresh[id] = 1;
    this.host.restart(id, keepState && wasMember);
    this.metrics.change('join', id, this.sim.now);
  }

  /** A dormant (or left) node joins through the seeds now; a crashed node is restarted afresh. */
  join(id: NodeId): void {
    if (!this.net.isUp(id)) {
      this.restart(id, false);
      return;
    }
    const node = this.node(id);
    if (this.metrics.isLive(id)) return;
    if (node.hasLeft || !node.isDormant) {
      // A member that left comes back as a new life of the node.
      this.fresh[id] = 1;
      this.host.crash(id);
      this.host.restart(id, false);
    } else this.host.call(id, { op: 'join', seeds: this.seedsFor(id) });
    this.metrics.change('join', id, this.sim.now);
  }

  /** Member `id` leaves gracefully now. */
  leave(id: NodeId): void {
    if (!this.metrics.isLive(id) || !this.net.isUp(id)) return;
    this.metrics.change('leave', id, this.sim.now);
    this.host.call(id, { op: 'leave' });
  }

  /** True when every live member's view holds exactly the live members. */
  converged(): boolean {
    const live: NodeId[] = [];
    for (let id = 0; id < this.net.nodeCount; id++) if (this.metrics.isLive(id)) live.push(id);
    const want = live.join(',');
    return live.every((id) => this.node(id).view().join(',') === want);
  }

  /** Messages sent by every node so far. */
  totalSent(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (let i = 0; i < this.sent.length; i++) {
      messages += this.sent[i] as number;
      bytes += this.bytesSent[i] as number;
    }
    return { messages, bytes };
  }

  private seedsFor(id: NodeId): NodeId[] {
    const s = this.seeds.filter((x) => x !== id);
    // Start at a node-dependent place so joiners do not all queue at the first seed.
    const k = s.length === 0 ? 0 : id % s.length;
    return [...s.slice(k), ...s.slice(0, k)];
  }
}

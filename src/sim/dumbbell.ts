/**
 * The dumbbell: TCP flows sharing one bottleneck, built as a network plus
 * {@link TcpFlows} (the binding every TCP scenario uses).
 *
 * Theory of operation. Nodes: a left router L (0), a right router R (1), and
 * per flow i a sender node S_i and a receiver node D_i. Data segments of
 * every flow go on the one directed link L → R: the bottleneck, with its
 * bandwidth, propagation delay, drop-tail queue (in packets), random loss
 * (Bernoulli or Gilbert-Elliott) and optional jitter (which reorders).
 * Senders sit behind L on zero-delay access links, collapsed: flow i's sender
 * runs on S_i and its segments join the bottleneck queue when they are sent.
 * R hands each segment to its flow's receiver (all receivers run on R, in one
 * TCP stack). ACKs go back on each flow's own return link D_i → S_i, with the
 * return path's delay plus the flow's extra RTT, the return path's loss and
 * jitter, and, when the return path has a bandwidth, its serialization and
 * drop-tail queue. The return links are per flow on purpose: the extra RTT
 * lives there, and each models the receiver's own uplink (an asymmetric
 * access link, as in RFC 3449), so the flows' ACKs do not compete with one
 * another for it. A flow's ACKs queue behind one another there and leave
 * spaced by the ACK's serialization time whenever they arrive faster than the
 * link drains them: ACK compression (the sender then sends in bursts).
 * So flow i's base RTT is bottleneck delay + serialization + return delay +
 * extra RTT; flows with different RTTs share the queue, and the extra delay is
 * modelled on the flow's own return link.
 *
 * The bottleneck may have a queue discipline (`aqm`: RED or CoDel, which
 * can mark ECN-capable segments of flows with `ecn` instead of dropping).
 *
 * Drops at the bottleneck (queue overflow or loss) are seen synchronously
 * (the network decides them inside `send`) and traced as `drop` events of
 * the flow. For tests, `dropData` / `dropAck` predicates drop chosen
 * segments and ACKs before they reach the network.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { AqmSpec } from '../net/aqm.js';
import type { LossSpec } from '../net/link.js';
import { Network, type NodeId } from '../net/network.js';
import type { Variant } from '../protocols/tcp/congestion/index.js';
import type { CongestionOps } from '../protocols/tcp/congestion/ops.js';
import type { TcpPacket } from '../protocols/tcp/packet.js';
import type { TcpReceiver } from '../protocols/tcp/receiver.js';
import type { TcpSender, TcpTraceRecord } from '../protocols/tcp/sender.js';
import { TcpFlows, type FlowSummary, type TcpFlowsConfig } from './tcp-flows.js';

export type { TcpPacket } from '../protocols/tcp/packet.js';
export type { FlowSummary } from './tcp-flows.js';

/** The shared bottleneck link L → R. */
export interface BottleneckConfig {
  /** Bandwidth (bits per second; Infinity for none). */
  readonly bandwidthBps: number;
  /** One-way propagation delay (ns). */
  readonly delayNs: Time;
  /** Drop-tail queue capacity (packets waiting, not counting the one being sent). */
  readonly queuePackets: number;
  /** Random loss of data segments. Default 0. */
  readonly loss?: LossSpec;
  /** Extra delay drawn uniformly in [0, jitterNs] per packet (reorders). Default 0. */
  readonly jitterNs?: Time;
  /** Queue discipline (RED, CoDel, or drop-tail through the managed queue). Default none: drop-tail on the fast path. */
  readonly aqm?: AqmSpec;
}

/** The ACK path (each flow has its own return link). */
export interface ReturnPathConfig {
  /** One-way propagation delay (ns). */
  readonly delayNs: Time;
  /** Random loss of ACKs. Default 0. */
  readonly loss?: LossSpec;
  /** Jitter (ns). Default 0. */
  readonly jitterNs?: Time;
  /** Bandwidth of each flow's return link (bits per second). Default Infinity: no serialization, no queue. */
  readonly bandwidthBps?: number;
  /** Drop-tail queue of each flow's return link (ACKs waiting, not counting the one being sent). Default Infinity. */
  readonly queuePackets?: number;
}

/** One flow. */
export interface FlowConfig {
  /** Congestion control: a variant name or an algorithm. */
  readonly variant: Variant | CongestionOps;
  /** When the application starts sending (ns). Default 0. */
  readonly startNs?: Time;
  /** Bytes to send (Infinity: unlimited). Default Infinity. */
  readonly totalBytes?: number;
  /** Delay added to this flow's RTT, on its return link (ns). Default 0. */
  readonly extraRttNs?: Time;
  /** SACK for this flow (overrides the config's `sack`). */
  readonly sack?: boolean;
  /** With SACK: RACK-TLP for this flow (overrides the config's `rack`). */
  readonly rack?: boolean;
  /** Initial ssthresh of this flow (segments; overrides the config's). */
  readonly initialSsthreshSegments?: number;
  /** Receive window of this flow (bytes; overrides the config's). */
  readonly rwndBytes?: number;
  /** ECN for this flow (overrides the config's `ecn`). */
  readonly ecn?: boolean;
}

/** Configuration of a {@link Dumbbell}: the path, its flows, and the settings every {@link TcpFlows} takes. */
export interface DumbbellConfig extends Omit<TcpFlowsConfig, 'flows'> {
  readonly bottleneck: BottleneckConfig;
  readonly returnPath: ReturnPathConfig;
  readonly flows: readonly FlowConfig[];
  /** Per-link counters in the network (costs a map lookup per packet). Default false. Ignored with {@link net}. */
  readonly perLinkCounters?: boolean;
  /**
   * An empty network (no nodes yet) to build the dumbbell on, such as the one
   * a scenario pipeline's world holds; default a new one on `sim`.
   */
  readonly net?: Network<TcpPacket>;
}

const LEFT: NodeId = 0;
const RIGHT: NodeId = 1;

/** TCP flows over a shared bottleneck on a simulated network. */
export class Dumbbell {
  readonly net: Network<TcpPacket>;
  /** The flows, on the dumbbell's network. */
  readonly flows: TcpFlows;
  readonly mssBytes: number;
  readonly headerBytes: number;

  constructor(
    readonly sim: Simulator,
    readonly config: DumbbellConfig,
  ) {
    const b = config.bottleneck;
    const r = config.returnPath;
    if (config.net !== undefined && config.net.nodeCount !== 0)
      throw new RangeError(`Dumbbell: the network given has ${config.net.nodeCount} nodes, expected none`);
    this.net = config.net ?? new Network<TcpPacket>(sim, { perLinkCounters: config.perLinkCounters ?? false });
    this.net.addNode(); // LEFT
    this.net.addNode(); // RIGHT
    this.net.setLink(LEFT, RIGHT, {
      latency: b.delayNs,
      bandwidthBps: b.bandwidthBps,
      queuePackets: b.queuePackets,
      loss: b.loss ?? 0,
      jitterNs: b.jitterNs ?? 0,
      ...(b.aqm !== undefined ? { aqm: b.aqm } : {}),
    });
    const flows = config.flows.map((fc) => {
      const s = this.net.addNode();
      const d = this.net.addNode();
      this.net.setLink(d, s, {
        latency: r.delayNs + (fc.extraRttNs ?? 0),
        loss: r.loss ?? 0,
        jitterNs: r.jitterNs ?? 0,
        ...(r.bandwidthBps !== undefined ? { bandwidthBps: r.bandwidthBps } : {}),
        ...(r.queuePackets !== undefined ? { queuePackets: r.queuePackets } : {}),
      });
      return {
        variant: fc.variant,
        sender: s,
        receiver: RIGHT,
        ...(fc.startNs !== undefined ? { startNs: fc.startNs } : {}),
        ...(fc.totalBytes !== undefined ? { totalBytes: fc.totalBytes } : {}),
        ...(fc.sack !== undefined ? { sack: fc.sack } : {}),
        ...(fc.rack !== undefined ? { rack: fc.rack } : {}),
        ...(fc.initialSsthreshSegments !== undefined ? { initialSsthreshSegments: fc.initialSsthreshSegments } : {}),
        ...(fc.rwndBytes !== undefined ? { rwndBytes: fc.rwndBytes } : {}),
        ...(fc.ecn !== undefined ? { ecn: fc.ecn } : {}),
        dataLink: [LEFT, RIGHT] as const,
        ackLink: [d, s] as const,
      };
    });
    const shared: Omit<TcpFlowsConfig, 'flows'> = { ...config };
    for (const k of ['bottleneck', 'returnPath', 'flows', 'perLinkCounters', 'net']) delete (shared as Record<string, unknown>)[k];
    this.flows = new TcpFlows(sim, this.net, { ...shared, flows });
    this.mssBytes = this.flows.mssBytes;
    this.headerBytes = this.flows.headerBytes;
  }

  /** One record per ACK and per event of every flow (connect before {@link start}). */
  get trace(): TraceSource<TcpTraceRecord> {
    return this.flows.trace;
  }

  /** Number of flows. */
  get flowCount(): number {
    return this.flows.flowCount;
  }

  /** The sender of flow `i`. */
  sender(i: number): TcpSender {
    return this.flows.sender(i);
  }

  /** The receiver of flow `i`. */
  receiver(i: number): TcpReceiver {
    return this.flows.receiver(i);
  }

  /** Base RTT of flow `i` (ns): propagation both ways plus the extra RTT and the bottleneck serialization of a segment. */
  baseRttNs(i: number): Time {
    return this.flows.baseRttNs(i);
  }

  /** Starts the flows. Call once, then run the simulator. */
  start(): void {
    this.flows.start();
  }

  /** True when every flow has a finite transfer and it completed. */
  get allDone(): boolean {
    return this.flows.allDone;
  }

  /** Per-flow results for a run that ended at `endNs`. */
  summary(endNs: Time): FlowSummary[] {
    return this.flows.summary(endNs);
  }
}

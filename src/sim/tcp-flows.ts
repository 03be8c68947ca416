/**
 * TCP flows on a simulated {@link Network}: the binding of the sans-I/O TCP
 * senders and receivers to the kernel, through {@link SimHost}.
 *
 * Theory of operation. Each flow has a sender on one network node and a
 * receiver on another. A node with one TCP end runs that state machine as
 * its protocol node; a node with several runs a {@link TcpStack}, which
 * demultiplexes by flow id. Data segments travel the flow's data link
 * (default: sender → receiver) and ACKs its ACK link (default: receiver →
 * sender); a topology may route a flow over other links (the dumbbell sends
 * every flow's data over its one bottleneck). The host's lazy timers make
 * the retransmission timer, restarted on every ACK, cost no kernel work.
 *
 * The binding counts data segments the network dropped when they were sent
 * (queue overflow, random loss, a partition, a down node) and, while the cwnd
 * trace has a listener, turns them into `drop` rows: each segment the sender
 * sends is followed by a `tx` trace action with the sender's state right after
 * it, which is emitted as the drop row when that segment was dropped. Segments
 * lost later (a partition that starts while they fly, a receiver that is down
 * when they arrive) are not drop rows; the sender sees them as losses. The
 * same `tx` actions feed the segment trace ({@link TcpFlows.segments}, one
 * record per data segment sent, with whether the network dropped it at once)
 * while it has a listener, and SACK senders with PRR emit a `prr` record per
 * ACK in recovery ({@link TcpFlows.prr}).
 *
 * ECN (RFC 3168): flows with `ecn` send ECN-capable segments and react to
 * ECE; the binding gives the network the marker its queue disciplines use
 * (a TCP segment that is ECN-capable comes back as a copy with CE set).
 */
import type { Simulator } from '../kernel/simulator.js';
import { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { Network, NodeId } from '../net/network.js';
import { ActionBuffer } from '../protocols/tcp/action-buffer.js';
import { congestionOps, type Variant } from '../protocols/tcp/congestion/index.js';
import type { CongestionOps } from '../protocols/tcp/congestion/ops.js';
import type { TcpPacket } from '../protocols/tcp/packet.js';
import { TcpReceiver } from '../protocols/tcp/receiver.js';
import { TcpSender, type PrrRecord, type TcpTraceRecord, type TcpTxRecord } from '../protocols/tcp/sender.js';
import { TcpStack } from '../protocols/tcp/stack.js';
import type { ProtocolNode } from '../protocols/sans-io.js';
import { SimHost, type NodeTraceEvent } from './host.js';

/** One flow and where it runs. */
export interface TcpFlowSpec {
  /** Congestion control: a variant name or an algorithm. */
  readonly variant: Variant | CongestionOps;
  /** The sender's network node. */
  readonly sender: NodeId;
  /** The receiver's network node. */
  readonly receiver: NodeId;
  /** When the application starts sending (ns). Default 0. */
  readonly startNs?: Time;
  /** Bytes to send (Infinity: unlimited). Default Infinity. */
  readonly totalBytes?: number;
  /** The directed link data segments take. Default [sender, receiver]. */
  readonly dataLink?: readonly [NodeId, NodeId];
  /** The directed link ACKs take. Default [receiver, sender]. */
  readonly ackLink?: readonly [NodeId, NodeId];
  /** SACK for this flow (overrides {@link TcpFlowsConfig.sack}). */
  readonly sack?: boolean;
  /** With SACK: RFC 8985 RACK-TLP for this flow (overrides {@link TcpFlowsConfig.rack}). */
  readonly rack?: boolean;
  /** Initial ssthresh of this flow (segments; overrides {@link TcpFlowsConfig.initialSsthreshSegments}). */
  readonly initialSsthreshSegments?: number;
  /** Receive window of this flow (bytes; overrides {@link TcpFlowsConfig.rwndBytes}). */
  readonly rwndBytes?: number;
  /** ECN for this flow (overrides {@link TcpFlowsConfig.ecn}). */
  readonly ecn?: boolean;
}

/** A record of the segment trace: a data segment sent, and whether the network dropped it at once. */
export type TcpSegmentRecord = TcpTxRecord & { readonly dropped: boolean };

/** Settings shared by every flow of a {@link TcpFlows}. */
export interface TcpFlowsConfig {
  readonly flows: readonly TcpFlowSpec[];
  /** SMSS, payload bytes per segment. Default 1460. */
  readonly mssBytes?: number;
  /** TCP/IP header bytes added to every segment on the wire; an ACK is this size. Default 40. */
  readonly headerBytes?: number;
  /** Initial window (segments). Default 3 (RFC 5681 for MSS 1460). */
  readonly initialWindowSegments?: number;
  /** Minimum RTO (ns). Default 1 s. */
  readonly minRtoNs?: Time;
  /** Delayed ACKs at the receivers. Default false. */
  readonly delayedAck?: boolean;
  /** Delayed-ACK timeout (ns). Default 200 ms. */
  readonly delayedAckNs?: Time;
  /** SACK (RFC 2018 blocks, RFC 6675 recovery) for every flow that does not say otherwise. Default false. */
  readonly sack?: boolean;
  /** With SACK: RFC 3042 limited transmit. Default true. */
  readonly limitedTransmit?: boolean;
  /** With SACK: RFC 6937 Proportional Rate Reduction. Default true. */
  readonly prr?: boolean;
  /** With SACK: RFC 8985 RACK-TLP for every flow that does not say otherwise. Default false. */
  readonly rack?: boolean;
  /** Initial ssthresh (segments). Default Infinity (RFC 5681 3.1: arbitrarily high). */
  readonly initialSsthreshSegments?: number;
  /** The window every receiver advertises (bytes). Default Infinity: none, the sender is bound by cwnd alone. */
  readonly rwndBytes?: number;
  /** Whether the ACK that ends fast recovery also counts toward window growth (`linux`) or not (`rfc`). Default `rfc`. */
  readonly recoveryExit?: 'rfc' | 'linux';
  /** ECN (RFC 3168) for every flow that does not say otherwise. Default false. */
  readonly ecn?: boolean;
  /** Drops a data segment before the network sees it: (flow, seq, transmission number from 1). */
  readonly dropData?: (flow: number, seq: number, transmission: number) => boolean;
  /** Drops an ACK before the network sees it: (flow, ack number, index of the ACK of this flow from 1). */
  readonly dropAck?: (flow: number, ack: number, index: number) => boolean;
  /** The receiving application of each flow: bytes [start, end) in order. */
  readonly deliver?: (flow: number, start: number, end: number) => void;
}

/** The results of one flow. */
export interface FlowSummary {
  readonly flow: number;
  readonly variant: string;
  /** Propagation plus serialization of a full segment on the data link and of an ACK on the ACK link (ns). */
  readonly baseRttNs: Time;
  readonly startNs: Time;
  /** End of the measured interval: completion of a finite transfer, else the end of the run (ns). */
  readonly endNs: Time;
  /** Bytes delivered in order to the application. */
  readonly bytesDelivered: number;
  /** bytesDelivered * 8 over [startNs, endNs] (bits per second). */
  readonly goodputBps: number;
  /** Payload bits that reached the receiver (duplicates included) over [startNs, endNs]. */
  readonly throughputBps: number;
  readonly segmentsSent: number;
  readonly retransmits: number;
  readonly fastRetransmits: number;
  readonly timeouts: number;
  /** Fast retransmits plus first timeouts (window reductions). */
  readonly lossEvents: number;
  /** Data segments the network dropped when they were sent (queue, loss, partition, down node) or `dropData` dropped. */
  readonly dataDrops: number;
  /** Mean of the Karn-valid RTT samples (ns), or NaN. */
  readonly meanRttNs: number;
  /** Mean RTO that expired at first timeouts (ns), or the final RTO if none expired. */
  readonly meanTimeoutRtoNs: number;
  /** Completion time of a finite transfer (ns), or -1. */
  readonly completedNs: Time;
  /** Window reductions for ECN-Echo (RFC 3168). */
  readonly ecnReductions: number;
}

class Flow {
  dataDrops = 0;
  acks = 0;
  /** Whether the last data segment sent was dropped at once (read by the `tx` trace that follows it). */
  lastDropped = false;
  readonly txCount: Map<number, number> | undefined;

  constructor(
    readonly id: number,
    readonly ops: CongestionOps,
    readonly startNs: Time,
    readonly sender: TcpSender,
    readonly receiver: TcpReceiver,
    readonly dataFrom: NodeId,
    readonly dataTo: NodeId,
    readonly ackFrom: NodeId,
    readonly ackTo: NodeId,
    readonly baseRttNs: Time,
    countTx: boolean,
  ) {
    this.txCount = countTx ? new Map() : undefined;
  }
}

/** RFC 3168 CE marking of a TCP segment: a marked copy of an ECN-capable one, undefined for any other message. */
function markCe(p: TcpPacket): TcpPacket | undefined {
  if (typeof p !== 'object' || p === null || p.ect !== true) return undefined;
  return p.ce === true ? p : { ...p, ce: true };
}

/** TCP flows between nodes of a simulated network. */
export class TcpFlows {
  /** One record per ACK and per event of every flow, and a `drop` record per data segment dropped when sent. */
  readonly trace = new TraceSource<TcpTraceRecord>('tcp.cwnd');
  /** Bytes [start, end) of a flow delivered in order to its application. */
  readonly deliveries = new TraceSource<{ readonly flow: number; readonly start: number; readonly end: number }>('tcp.deliver');
  /** One record per data segment sent (connect before {@link start}). */
  readonly segments = new TraceSource<TcpSegmentRecord>('tcp.segments');
  /** RFC 6937 state per ACK in recovery of SACK flows with PRR (connect before {@link start}). */
  readonly prr = new TraceSource<PrrRecord>('tcp.prr');
  /** The host running the TCP nodes. */
  readonly host: SimHost<TcpPacket>;
  readonly mssBytes: number;
  readonly headerBytes: number;
  private readonly flowList: Flow[] = [];
  private readonly dropData: TcpFlowsConfig['dropData'];
  private readonly dropAck: TcpFlowsConfig['dropAck'];
  private started = false;

  constructor(
    readonly sim: Simulator,
    readonly net: Network<TcpPacket>,
    config: TcpFlowsConfig,
  ) {
    this.mssBytes = config.mssBytes ?? 1460;
    this.headerBytes = config.headerBytes ?? 40;
    this.dropData = config.dropData;
    this.dropAck = config.dropAck;
    const deliver = config.deliver;
    if (deliver !== undefined) this.deliveries.connect((d) => deliver(d.flow, d.start, d.end));
    // Which nodes hold how many TCP ends: a node with several runs a stack, with per-flow timer names.
    const ends = new Map<NodeId, number>();
    for (const f of config.flows) {
      if (f.sender === f.receiver) throw new RangeError(`TcpFlows: a flow's sender and receiver are both node ${f.sender}`);
      ends.set(f.sender, (ends.get(f.sender) ?? 0) + 1);
      ends.set(f.receiver, (ends.get(f.receiver) ?? 0) + 1);
    }
    const buffers = new Map<NodeId, ActionBuffer<TcpPacket>>();
    const bufferAt = (n: NodeId): ActionBuffer<TcpPacket> => {
      let b = buffers.get(n);
      if (b === undefined) buffers.set(n, (b = new ActionBuffer<TcpPacket>()));
      return b;
    };
    const machines = new Map<NodeId, (TcpSender | TcpReceiver)[]>();
    const add = (n: NodeId, m: TcpSender | TcpReceiver): void => {
      const list = machines.get(n);
      if (list === undefined) machines.set(n, [m]);
      else list.push(m);
    };
    config.flows.forEach((fc, i) => {
      const ops = typeof fc.variant === 'string' ? congestionOps(fc.variant) : fc.variant;
      const shared = (n: NodeId): boolean => (ends.get(n) as number) > 1;
      const sack = fc.sack ?? config.sack ?? false;
      const rwndBytes = fc.rwndBytes ?? config.rwndBytes ?? Infinity;
      const ssthreshSegments = fc.initialSsthreshSegments ?? config.initialSsthreshSegments ?? Infinity;
      const ecn = fc.ecn ?? config.ecn ?? false;
      const sender = new TcpSender({
        mssBytes: this.mssBytes,
        initialWindowSegments: config.initialWindowSegments ?? 3,
        totalBytes: fc.totalBytes ?? Infinity,
        ops,
        rtt: { minRtoNs: config.minRtoNs ?? 1_000_000_000 },
        flow: i,
        peer: fc.receiver,
        headerBytes: this.headerBytes,
        startNs: fc.startNs ?? 0,
        actions: bufferAt(fc.sender),
        trace: this.trace,
        segmentTrace: this.segments,
        prrTrace: this.prr,
        ...(sack
          ? { sack: { limitedTransmit: config.limitedTransmit ?? true, prr: config.prr ?? true, rack: fc.rack ?? config.rack ?? false } }
          : {}),
        ...(ssthreshSegments !== Infinity ? { initialSsthreshBytes: ssthreshSegments * this.mssBytes } : {}),
        ...(rwndBytes !== Infinity ? { rwndBytes } : {}),
        ...(config.recoveryExit !== undefined ? { recoveryExit: config.recoveryExit } : {}),
        ...(ecn ? { ecn } : {}),
        ...(shared(fc.sender) ? { timers: { open: `open:${i}`, rto: `rto:${i}` } } : {}),
      });
      const receiver = new TcpReceiver({
        delayedAck: config.delayedAck ?? false,
        delayedAckNs: config.delayedAckNs ?? 200_000_000,
        flow: i,
        peer: fc.sender,
        headerBytes: this.headerBytes,
        actions: bufferAt(fc.receiver),
        trace: this.deliveries,
        sack,
        ...(rwndBytes !== Infinity ? { rwndBytes } : {}),
        ...(ecn ? { ecn } : {}),
        ...(shared(fc.receiver) ? { timer: `delack:${i}` } : {}),
      });
      add(fc.sender, sender);
      add(fc.receiver, receiver);
      const [df, dt] = fc.dataLink ?? [fc.sender, fc.receiver];
      const [af, at] = fc.ackLink ?? [fc.receiver, fc.sender];
      const baseRtt = net.minTransitNs(df, dt, this.mssBytes + this.headerBytes) + net.minTransitNs(af, at, this.headerBytes);
      this.flowList.push(new Flow(i, ops, fc.startNs ?? 0, sender, receiver, df, dt, af, at, baseRtt, config.dropData !== undefined));
    });
    const nodes = new Map<NodeId, ProtocolNode<TcpPacket>>();
    for (const [n, list] of machines) nodes.set(n, list.length === 1 ? (list[0] as TcpSender | TcpReceiver) : new TcpStack(bufferAt(n), list));
    const ids = [...nodes.keys()].sort((a, b) => a - b);
    this.host = new SimHost<TcpPacket>(
      sim,
      net,
      (id) => {
        const n = nodes.get(id);
        if (n === undefined) throw new RangeError(`TcpFlows: no TCP end on node ${id}`);
        return n;
      },
      ids,
      { transmit: this.transmit },
    );
    this.host.traces.connect((e) => this.onTrace(e));
    net.setEcnMarker(markCe);
    // Actions go to the host as they are made: no queue, poll or dispatch per segment and per ACK;
    // sends go straight to sendPacket (the host's sink would call it through its transmit option).
    for (const [n, b] of buffers) b.connect({ ...this.host.sink(n), send: this.sendPacket });
  }

  /** Number of flows. */
  get flowCount(): number {
    return this.flowList.length;
  }

  /** The sender of flow `i`. */
  sender(i: number): TcpSender {
    return this.flowAt(i).sender;
  }

  /** The receiver of flow `i`. */
  receiver(i: number): TcpReceiver {
    return this.flowAt(i).receiver;
  }

  /** Base RTT of flow `i` (ns): propagation both ways plus the serialization of a segment and of an ACK. */
  baseRttNs(i: number): Time {
    return this.flowAt(i).baseRttNs;
  }

  /** Starts every TCP node (each sender sets its timer for its flow's start). Call once, then run the simulator. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.host.startAll();
  }

  /** Crashes network node `id` and the TCP ends on it (their timers stop; packets to it are dropped). */
  crash(id: NodeId): void {
    if (this.host.nodes[id] !== undefined) this.host.crash(id);
    else this.net.crash(id);
  }

  /**
   * Restarts network node `id`. TCP ends keep their state (as a host whose connections survive a
   * reboot would not: desim models no connection reset), so `keepState` false is refused for them.
   */
  restart(id: NodeId, keepState = true): void {
    if (this.host.nodes[id] === undefined) return this.net.restart(id);
    if (!keepState) throw new RangeError(`TcpFlows: node ${id} runs TCP and cannot restart without its state`);
    this.host.restart(id, true);
  }

  /** True when every flow has a finite transfer and it completed. */
  get allDone(): boolean {
    return this.flowList.every((f) => f.sender.done);
  }

  /** Per-flow results for a run that ended at `endNs`. */
  summary(endNs: Time): FlowSummary[] {
    return this.flowList.map((f) => {
      const st = f.sender.stats;
      const end = st.completedNs >= 0 ? st.completedNs : endNs;
      const span = Math.max(end - f.startNs, 0);
      const perS = span > 0 ? 8e9 / span : NaN;
      return {
        flow: f.id,
        variant: f.ops.name,
        baseRttNs: f.baseRttNs,
        startNs: f.startNs,
        endNs: end,
        bytesDelivered: f.receiver.rcvNxt,
        goodputBps: f.receiver.rcvNxt * perS,
        throughputBps: f.receiver.bytesReceived * perS,
        segmentsSent: st.segmentsSent,
        retransmits: st.retransmits,
        fastRetransmits: st.fastRetransmits,
        timeouts: st.timeouts,
        lossEvents: st.fastRetransmits + st.firstTimeouts,
        dataDrops: f.dataDrops,
        meanRttNs: st.rttSamples > 0 ? st.rttSumNs / st.rttSamples : NaN,
        meanTimeoutRtoNs: st.firstTimeouts > 0 ? st.firstTimeoutRtoSumNs / st.firstTimeouts : f.sender.rtt.rtoNs,
        completedNs: st.completedNs,
        ecnReductions: st.ecnReductions,
      };
    });
  }

  /** The host's `transmit` option: {@link sendPacket}. */
  private readonly transmit = (_from: NodeId, to: NodeId, p: TcpPacket, sizeBytes: number): void => this.sendPacket(to, p, sizeBytes);

  /** Carries out a send action: on the flow's data or ACK link, counting what the network drops at once. */
  private readonly sendPacket = (_to: NodeId, p: TcpPacket, sizeBytes: number): void => {
    const f = this.flowList[p.flow] as Flow;
    if (p.len === 0) {
      f.acks++;
      if (this.dropAck !== undefined && this.dropAck(f.id, p.seq, f.acks)) return;
      this.net.send(f.ackFrom, f.ackTo, p, sizeBytes);
      return;
    }
    if (this.dropData !== undefined && f.txCount !== undefined) {
      const n = (f.txCount.get(p.seq) ?? 0) + 1;
      f.txCount.set(p.seq, n);
      if (this.dropData(f.id, p.seq, n)) {
        f.dataDrops++;
        f.lastDropped = true;
        return;
      }
    }
    // The network says whether it dropped the segment at once.
    const dropped = !this.net.send(f.dataFrom, f.dataTo, p, sizeBytes);
    f.lastDropped = dropped;
    if (dropped) f.dataDrops++;
  };

  private onTrace(e: NodeTraceEvent): void {
    switch (e.name) {
      case 'cwnd':
        this.trace.emit(e.data as TcpTraceRecord);
        break;
      case 'tx': {
        const r = e.data as TcpTxRecord;
        const f = this.flowList[r.flow] as Flow;
        const dropped = f.lastDropped;
        if (dropped) {
          f.lastDropped = false;
          this.trace.emit(r);
        }
        if (this.segments.active) this.segments.emit({ ...r, dropped });
        break;
      }
      case 'prr':
        this.prr.emit(e.data as PrrRecord);
        break;
      case 'deliver': {
        const d = e.data as { flow: number; start: number; end: number };
        this.deliveries.emit(d);
        break;
      }
    }
  }

  private flowAt(i: number): Flow {
    const f = this.flowList[i];
    if (f === undefined) throw new RangeError(`TcpFlows: no flow ${i}`);
    return f;
  }
}

/**
 * The path: TCP flows on the simulated {@link Network}, sharing one
 * bottleneck (a dumbbell). This is the driver that binds the sans-I/O
 * sender and receiver to the kernel: it moves segments and ACKs, arms
 * timers and counts.
 *
 * Theory of operation. Nodes: a left router L (0), a right router R (1), and
 * per flow i a sender node S_i and a receiver node D_i. Data segments of
 * every flow go on the one directed link L → R: the bottleneck, with its
 * bandwidth, propagation delay, drop-tail queue (in packets), random loss
 * (Bernoulli or Gilbert-Elliott) and optional jitter (which reorders).
 * Senders sit at L (zero-delay access), so a segment joins the bottleneck
 * queue when it is sent. R hands each segment to its flow's receiver. ACKs
 * go back on each flow's own return link D_i → S_i, with the return path's
 * delay plus the flow's extra RTT, and the return path's loss. So flow i's
 * base RTT is bottleneck delay + serialization + return delay + extra RTT;
 * flows with different RTTs share the queue, and the extra delay is
 * modelled on the flow's own return link.
 *
 * Timers are re-armed lazily: one kernel event per flow for the RTO and one
 * for the delayed ACK; when the state machine moves a deadline later the
 * pending event stays, and on firing early it re-schedules itself at the
 * deadline. An event is cancelled only when a deadline moves earlier.
 *
 * Drops at the bottleneck (queue overflow or loss) are seen synchronously
 * (the network decides them inside `send`) and traced as `drop` events of
 * the flow. For tests, `dropData` / `dropAck` predicates drop chosen
 * segments and ACKs before they reach the network.
 */
import type { Simulator } from '../kernel/simulator.js';
import { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { LossSpec } from '../net/link.js';
import { Network, type NodeId } from '../net/network.js';
import { congestionOps, type Variant } from '../protocols/tcp/congestion/index.js';
import type { CongestionOps } from '../protocols/tcp/congestion/ops.js';
import { TcpReceiver } from '../protocols/tcp/receiver.js';
import { TcpSender, type TcpTraceRecord } from '../protocols/tcp/sender.js';

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
}

/** The ACK path (each flow has its own return link). */
export interface ReturnPathConfig {
  /** One-way propagation delay (ns). */
  readonly delayNs: Time;
  /** Random loss of ACKs. Default 0. */
  readonly loss?: LossSpec;
  /** Jitter (ns). Default 0. */
  readonly jitterNs?: Time;
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
}

/** Configuration of a {@link Dumbbell}. */
export interface DumbbellConfig {
  readonly bottleneck: BottleneckConfig;
  readonly returnPath: ReturnPathConfig;
  readonly flows: readonly FlowConfig[];
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
  /** Drops a data segment before the network sees it: (flow, seq, transmission number from 1). */
  readonly dropData?: (flow: number, seq: number, transmission: number) => boolean;
  /** Drops an ACK before the network sees it: (flow, ack number, index of the ACK of this flow from 1). */
  readonly dropAck?: (flow: number, ack: number, index: number) => boolean;
  /** The receiving application of each flow: bytes [start, end) in order. */
  readonly deliver?: (flow: number, start: number, end: number) => void;
  /** Per-link counters in the network (costs a map lookup per packet). Default false. */
  readonly perLinkCounters?: boolean;
}

/** What travels on the network: a data segment (len > 0) or an ACK (len = 0, seq = the ACK number). */
export interface TcpPacket {
  readonly flow: number;
  readonly seq: number;
  readonly len: number;
}

/** The results of one flow. */
export interface FlowSummary {
  readonly flow: number;
  readonly variant: string;
  /** Propagation plus bottleneck serialization of a full segment (ns). */
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
  /** Data segments the network dropped (queue or loss) or `dropData` dropped. */
  readonly dataDrops: number;
  /** Mean of the Karn-valid RTT samples (ns), or NaN. */
  readonly meanRttNs: number;
  /** Mean RTO that expired at first timeouts (ns), or the final RTO if none expired. */
  readonly meanTimeoutRtoNs: number;
  /** Completion time of a finite transfer (ns), or -1. */
  readonly completedNs: Time;
}

const LEFT: NodeId = 0;
const RIGHT: NodeId = 1;

class Flow {
  readonly sender: TcpSender;
  readonly receiver: TcpReceiver;
  readonly senderNode: NodeId;
  readonly receiverNode: NodeId;
  rtoAt: Time = -1;
  rtoId = -1;
  delackAt: Time = -1;
  delackId = -1;
  dataDrops = 0;
  acks = 0;
  readonly txCount: Map<number, number> | undefined;

  constructor(
    readonly id: number,
    readonly bed: Dumbbell,
    readonly ops: CongestionOps,
    readonly startNs: Time,
    readonly baseRttNs: Time,
    cfg: DumbbellConfig,
    totalBytes: number,
    senderNode: NodeId,
    receiverNode: NodeId,
  ) {
    this.senderNode = senderNode;
    this.receiverNode = receiverNode;
    this.txCount = cfg.dropData !== undefined ? new Map() : undefined;
    const deliver = cfg.deliver;
    this.sender = new TcpSender(
      {
        mssBytes: bed.mssBytes,
        initialWindowSegments: cfg.initialWindowSegments ?? 3,
        totalBytes,
        ops,
        rtt: { minRtoNs: cfg.minRtoNs ?? 1_000_000_000 },
        flow: id,
        trace: bed.trace,
      },
      { transmit: (seq, len) => bed.sendData(this, seq, len) },
    );
    this.receiver = new TcpReceiver({
      delayedAck: cfg.delayedAck ?? false,
      delayedAckNs: cfg.delayedAckNs ?? 200_000_000,
      ...(deliver !== undefined ? { deliver: (s: number, e: number) => deliver(id, s, e) } : {}),
    });
  }
}

function fireStart(f: Flow): void {
  f.sender.start(f.bed.sim.now);
  f.bed.armRto(f);
}

function fireRto(f: Flow): void {
  f.rtoAt = -1;
  const d = f.sender.rtoDeadlineNs;
  if (d < 0) return;
  const now = f.bed.sim.now;
  if (now >= d) f.sender.onTimeout(now);
  f.bed.armRto(f);
}

function fireDelack(f: Flow): void {
  f.delackAt = -1;
  const d = f.receiver.delackDeadlineNs;
  if (d < 0) return;
  const now = f.bed.sim.now;
  if (now >= d) {
    const ack = f.receiver.onDelayedAckTimer(now);
    if (ack >= 0) f.bed.sendAck(f, ack);
  }
  f.bed.armDelack(f);
}

/** TCP flows over a shared bottleneck on a simulated network. */
export class Dumbbell {
  /** One record per ACK and per event of every flow (connect before {@link start}). */
  readonly trace = new TraceSource<TcpTraceRecord>('tcp.cwnd');
  readonly net: Network<TcpPacket>;
  readonly mssBytes: number;
  readonly headerBytes: number;
  private readonly flowList: Flow[] = [];
  private readonly dropData: DumbbellConfig['dropData'];
  private readonly dropAck: DumbbellConfig['dropAck'];
  private started = false;

  constructor(
    readonly sim: Simulator,
    readonly config: DumbbellConfig,
  ) {
    this.mssBytes = config.mssBytes ?? 1460;
    this.headerBytes = config.headerBytes ?? 40;
    this.dropData = config.dropData;
    this.dropAck = config.dropAck;
    const b = config.bottleneck;
    const r = config.returnPath;
    this.net = new Network<TcpPacket>(sim, { nodes: 2, perLinkCounters: config.perLinkCounters ?? false });
    this.net.setLink(LEFT, RIGHT, {
      latency: b.delayNs,
      bandwidthBps: b.bandwidthBps,
      queuePackets: b.queuePackets,
      loss: b.loss ?? 0,
      jitterNs: b.jitterNs ?? 0,
    });
    this.net.attach(RIGHT, (_from, p) => this.onData(p));
    const serNs = b.bandwidthBps === Infinity ? 0 : Math.round(((this.mssBytes + this.headerBytes) * 8 * 1e9) / b.bandwidthBps);
    config.flows.forEach((fc, i) => {
      const ops = typeof fc.variant === 'string' ? congestionOps(fc.variant) : fc.variant;
      const extra = fc.extraRttNs ?? 0;
      const s = this.net.addNode();
      const d = this.net.addNode();
      this.net.setLink(d, s, { latency: r.delayNs + extra, loss: r.loss ?? 0, jitterNs: r.jitterNs ?? 0 });
      const flow = new Flow(i, this, ops, fc.startNs ?? 0, b.delayNs + serNs + r.delayNs + extra, config, fc.totalBytes ?? Infinity, s, d);
      this.net.attach(s, (_from, p) => this.onAck(flow, p.seq));
      this.flowList.push(flow);
    });
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

  /** Base RTT of flow `i` (ns): propagation both ways plus the extra RTT and the bottleneck serialization of a segment. */
  baseRttNs(i: number): Time {
    return this.flowAt(i).baseRttNs;
  }

  /** Schedules each flow's start. Call once, then run the simulator. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const f of this.flowList) this.sim.schedule(Math.max(f.startNs, this.sim.now), fireStart, f, 'tcp.start');
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
      };
    });
  }

  /** @internal Sends a data segment of flow `f` onto the bottleneck. */
  sendData(f: Flow, seq: number, len: number): void {
    if (this.dropData !== undefined && f.txCount !== undefined) {
      const n = (f.txCount.get(seq) ?? 0) + 1;
      f.txCount.set(seq, n);
      if (this.dropData(f.id, seq, n)) {
        f.dataDrops++;
        f.sender.emit(this.sim.now, 'drop');
        return;
      }
    }
    const t = this.net.total;
    const before = t.dropQueue + t.dropLoss;
    this.net.send(LEFT, RIGHT, { flow: f.id, seq, len }, len + this.headerBytes);
    if (t.dropQueue + t.dropLoss !== before) {
      f.dataDrops++;
      f.sender.emit(this.sim.now, 'drop');
    }
  }

  /** @internal Sends an ACK of flow `f` on its return link. */
  sendAck(f: Flow, ack: number): void {
    f.acks++;
    if (this.dropAck !== undefined && this.dropAck(f.id, ack, f.acks)) return;
    this.net.send(f.receiverNode, f.senderNode, { flow: f.id, seq: ack, len: 0 }, this.headerBytes);
  }

  /** @internal Moves the flow's RTO event earlier if its deadline is earlier (lazy re-arm). */
  armRto(f: Flow): void {
    const d = f.sender.rtoDeadlineNs;
    if (d < 0 || (f.rtoAt >= 0 && f.rtoAt <= d)) return;
    if (f.rtoAt >= 0) this.sim.cancel(f.rtoId);
    f.rtoAt = d;
    f.rtoId = this.sim.schedule(d, fireRto, f, 'tcp.rto');
  }

  /** @internal Same for the delayed-ACK timer. */
  armDelack(f: Flow): void {
    const d = f.receiver.delackDeadlineNs;
    if (d < 0 || (f.delackAt >= 0 && f.delackAt <= d)) return;
    if (f.delackAt >= 0) this.sim.cancel(f.delackId);
    f.delackAt = d;
    f.delackId = this.sim.schedule(d, fireDelack, f, 'tcp.delack');
  }

  private onData(p: TcpPacket): void {
    const f = this.flowList[p.flow] as Flow;
    const ack = f.receiver.onSegment(p.seq, p.len, this.sim.now);
    if (ack >= 0) this.sendAck(f, ack);
    else this.armDelack(f);
  }

  private onAck(f: Flow, ack: number): void {
    f.sender.onAck(ack, this.sim.now);
    this.armRto(f);
  }

  private flowAt(i: number): Flow {
    const f = this.flowList[i];
    if (f === undefined) throw new RangeError(`Dumbbell: no flow ${i}`);
    return f;
  }
}

/**
 * The simulator's driver for sans-I/O nodes: binds each {@link ProtocolNode}
 * to a network node and the kernel's clock. It delivers messages, runs timers,
 * carries out `send` actions on the {@link Network} (or through the
 * `transmit` option, for a binding that routes or counts), forwards `trace` actions
 * to {@link SimHost.traces}, and implements crash and restart: a crashed node
 * receives nothing and its timers are cancelled; a restart either keeps the
 * node's state (`keepState`, as if persisted to disk) or builds a fresh node
 * from the factory, then calls `start` again.
 *
 * Timers are lazy deadlines: one kernel event at most per (node, timer name),
 * and a deadline. Setting a timer to a time at or after its pending event only
 * records the new deadline (no kernel work: TCP restarts its retransmission
 * timer on every ACK); when the event fires before the deadline it is
 * scheduled again for the deadline; setting a timer earlier than its pending
 * event cancels that event and schedules a new one; cancelling only clears the
 * deadline (the event, if pending, fires and does nothing). A timer fires
 * once, at its last deadline, whatever the moves before.
 */
import type { Simulator, EventId } from '../kernel/simulator.js';
import { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { Network, NodeId } from '../net/network.js';
import type { Action, ActionSink, ProtocolNode } from '../protocols/sans-io.js';

/** Builds the protocol node for network node `id`. Called at start and at each restart without state. */
export type NodeFactory<M, C, R> = (id: NodeId) => ProtocolNode<M, C, R>;

/** A `trace` action, stamped with time and node. */
export interface NodeTraceEvent {
  readonly timeNs: Time;
  readonly node: NodeId;
  readonly name: string;
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

/** One timer of one node: its pending kernel event (if any) and its deadline. */
interface TimerState {
  readonly node: NodeId;
  readonly timer: string;
  /** The node's epoch when the timer was created (a crash starts a new epoch). */
  readonly epoch: number;
  /** Time of the pending kernel event, or -1 when none is pending. */
  eventAt: Time;
  eventId: EventId;
  /** When the timer is due, or -1 when it is off. */
  deadline: Time;
}

/** Options of a {@link SimHost}. */
export interface SimHostOptions<M> {
  /**
   * Carries out a `send` action of node `from` instead of `net.send(from, to, msg, sizeBytes)`:
   * a binding that routes a flow over another link, or counts what the network dropped, does it here.
   */
  readonly transmit?: (from: NodeId, to: NodeId, msg: M, sizeBytes: number) => void;
}

/** Runs a set of sans-I/O nodes on a simulated network. */
export class SimHost<M, C = never, R = unknown> {
  /** Every `trace` action of every node. */
  readonly traces = new TraceSource<NodeTraceEvent>('host.trace');
  readonly nodes: ProtocolNode<M, C, R>[] = [];
  private readonly timers: Map<string, TimerState>[] = [];
  /** Per node, the timer set last: TCP sets the same one (its RTO) on every ACK, so this skips the map. */
  private readonly lastTimer: (TimerState | undefined)[] = [];
  private readonly epochs: number[] = [];
  /** 1 for a node that has a {@link sink}: its actions go there as they are made, so a message needs no poll after it. */
  private readonly sunk: Uint8Array;
  private readonly fireTimer = (t: TimerState): void => this.onTimer(t);
  private readonly transmit: ((from: NodeId, to: NodeId, msg: M, sizeBytes: number) => void) | undefined;

  /**
   * @param nodeIds the network nodes to run a protocol node on (default: every node of the network)
   */
  constructor(
    readonly sim: Simulator,
    readonly net: Network<M>,
    private readonly factory: NodeFactory<M, C, R>,
    nodeIds?: readonly NodeId[],
    options: SimHostOptions<M> = {},
  ) {
    this.transmit = options.transmit;
    this.sunk = new Uint8Array(net.nodeCount);
    const ids = nodeIds ?? Array.from({ length: net.nodeCount }, (_, i) => i);
    for (const id of ids) {
      this.nodes[id] = factory(id);
      this.timers[id] = new Map();
      this.epochs[id] = 0;
    }
    if (nodeIds === undefined) {
      // Every node is ours: one dispatcher rather than a closure per node (see Network.attachAll).
      for (const id of ids) net.detach(id);
      net.attachAll((to, from, msg) => this.deliver(to, from, msg));
    } else {
      for (const id of ids) net.attach(id, (from, msg) => this.deliver(id, from, msg));
    }
  }

  /** Calls `start` on every node now (in id order). */
  startAll(): void {
    for (let id = 0; id < this.nodes.length; id++) if (this.nodes[id] !== undefined) this.startNode(id);
  }

  /** The protocol node running on network node `id`. */
  node(id: NodeId): ProtocolNode<M, C, R> {
    const n = this.nodes[id];
    if (n === undefined) throw new RangeError(`SimHost: no protocol node on network node ${id}`);
    return n;
  }

  /**
   * A sink that carries out node `id`'s actions at once, exactly as {@link SimHost} does with those
   * it polls after an input, for a node whose outbox can forward to one (TCP's ActionBuffer): the
   * same effects in the same order, without a queue, a poll and a dispatch per action. The node's
   * actions must then come only while it handles an input from this host, as polled ones do, and
   * all through the sink: the host no longer polls the node after a message.
   */
  sink(id: NodeId): ActionSink<M> {
    this.node(id);
    if (id < this.sunk.length) this.sunk[id] = 1;
    const transmit = this.transmit;
    const net = this.net;
    return {
      send:
        transmit !== undefined ? (to, msg, sizeBytes) => transmit(id, to, msg, sizeBytes) : (to, msg, sizeBytes) => net.send(id, to, msg, sizeBytes),
      setTimer: (timer, atNs) => this.setTimer(id, timer, atNs),
      cancelTimer: (timer) => {
        this.timerState(id, timer).deadline = -1;
      },
      trace: (name, data) => this.trace(id, name, data),
    };
  }

  /** Makes a client call on node `id` now and returns its reply. Throws if the node is down. */
  call(id: NodeId, call: C): R {
    const n = this.node(id);
    if (!this.net.isUp(id)) throw new Error(`SimHost: node ${id} is down`);
    if (n.handleCall === undefined) throw new Error(`SimHost: node ${id} accepts no calls`);
    const r = n.handleCall(call, this.sim.now);
    this.perform(id, n.pollActions());
    return r;
  }

  /**
   * Crashes node `id`: the network drops its traffic, its timers stop and queued actions are discarded.
   * Also cleans up a node the network alone crashed (`net.crash`, a fault schedule without host hooks).
   */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (this.net.isUp(id)) this.net.crash(id);
    this.cancelTimers(id);
    n.pollActions();
  }

  /**
   * Restarts node `id`; with `keepState` false a fresh node replaces the old one. Then calls `start`.
   * Timers set before the crash never fire after it, even if only the network crashed the node.
   */
  restart(id: NodeId, keepState = true): void {
    if (this.net.isUp(id)) return;
    this.cancelTimers(id);
    const old = this.node(id);
    old.pollActions();
    if (!keepState) this.nodes[id] = this.factory(id);
    this.net.restart(id);
    this.startNode(id);
  }

  private startNode(id: NodeId): void {
    const n = this.node(id);
    n.start(this.sim.now);
    this.perform(id, n.pollActions());
  }

  private deliver(id: NodeId, from: NodeId, msg: M): void {
    const n = this.nodes[id] as ProtocolNode<M, C, R>;
    n.handleMessage(from, msg, this.sim.now);
    if (this.sunk[id] === 1) return;
    const actions = n.pollActions();
    if (actions.length !== 0) this.perform(id, actions);
  }

  private onTimer(t: TimerState): void {
    t.eventAt = -1;
    if (this.epochs[t.node] !== t.epoch || !this.net.isUp(t.node) || t.deadline < 0) return;
    const now = this.sim.now;
    if (now < t.deadline) {
      // Moved later while pending: wait for the deadline.
      t.eventAt = t.deadline;
      t.eventId = this.sim.schedule(t.deadline, this.fireTimer, t, 'host.timer');
      return;
    }
    t.deadline = -1;
    const n = this.nodes[t.node] as ProtocolNode<M, C, R>;
    n.handleTimer(t.timer, now);
    this.perform(t.node, n.pollActions());
  }

  private cancelTimers(id: NodeId): void {
    const timers = this.timers[id] as Map<string, TimerState>;
    for (const t of timers.values()) if (t.eventAt >= 0) this.sim.cancel(t.eventId);
    timers.clear();
    this.lastTimer[id] = undefined;
    this.epochs[id] = (this.epochs[id] as number) + 1;
  }

  private timerState(id: NodeId, timer: string): TimerState {
    const last = this.lastTimer[id];
    if (last !== undefined && last.timer === timer) return last;
    const timers = this.timers[id] as Map<string, TimerState>;
    let t = timers.get(timer);
    if (t === undefined) {
      t = { node: id, timer, epoch: this.epochs[id] as number, eventAt: -1, eventId: -1, deadline: -1 };
      timers.set(timer, t);
    }
    this.lastTimer[id] = t;
    return t;
  }

  private setTimer(id: NodeId, timer: string, atNs: Time): void {
    const t = this.timerState(id, timer);
    const now = this.sim.now;
    const at = atNs < now ? now : atNs;
    t.deadline = at;
    if (t.eventAt >= 0) {
      if (t.eventAt <= at) return; // the pending event comes first and will wait for the deadline
      this.sim.cancel(t.eventId);
    }
    t.eventAt = at;
    t.eventId = this.sim.schedule(at, this.fireTimer, t, 'host.timer');
  }

  private trace(id: NodeId, name: string, data: Readonly<Record<string, string | number | boolean>>): void {
    if (this.traces.active) this.traces.emit({ timeNs: this.sim.now, node: id, name, data });
  }

  private perform(id: NodeId, actions: readonly Action<M>[]): void {
    const transmit = this.transmit;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i] as Action<M>;
      switch (a.type) {
        case 'send':
          if (transmit === undefined) this.net.send(id, a.to, a.msg, a.sizeBytes);
          else transmit(id, a.to, a.msg, a.sizeBytes);
          break;
        case 'set-timer':
          this.setTimer(id, a.timer, a.atNs);
          break;
        case 'cancel-timer':
          this.timerState(id, a.timer).deadline = -1;
          break;
        case 'trace':
          if (this.traces.active) this.traces.emit({ timeNs: this.sim.now, node: id, name: a.name, data: a.data });
          break;
      }
    }
  }
}

/**
 * The simulator's driver for sans-I/O nodes: binds each {@link ProtocolNode}
 * to a network node and the kernel's clock. It delivers messages, runs timers
 * (one pending event per (node, timer name); setting a timer again moves it),
 * carries out `send` actions on the {@link Network}, forwards `trace` actions
 * to {@link SimHost.traces}, and implements crash and restart: a crashed node
 * receives nothing and its timers are cancelled; a restart either keeps the
 * node's state (`keepState`, as if persisted to disk) or builds a fresh node
 * from the factory, then calls `start` again.
 */
import type { Simulator, EventId } from '../kernel/simulator.js';
import { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { Network, NodeId } from '../net/network.js';
import type { Action, ProtocolNode } from '../protocols/sans-io.js';

/** Builds the protocol node for network node `id`. Called at start and at each restart without state. */
export type NodeFactory<M, C, R> = (id: NodeId) => ProtocolNode<M, C, R>;

/** A `trace` action, stamped with time and node. */
export interface NodeTraceEvent {
  readonly timeNs: Time;
  readonly node: NodeId;
  readonly name: string;
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

interface TimerArg {
  readonly node: NodeId;
  readonly timer: string;
  readonly epoch: number;
}

/** Runs a set of sans-I/O nodes on a simulated network. */
export class SimHost<M, C = never, R = unknown> {
  /** Every `trace` action of every node. */
  readonly traces = new TraceSource<NodeTraceEvent>('host.trace');
  readonly nodes: ProtocolNode<M, C, R>[] = [];
  private readonly timers: Map<string, EventId>[] = [];
  private readonly epochs: number[] = [];
  private readonly fireTimer = (a: TimerArg): void => this.onTimer(a);

  /**
   * @param nodeIds the network nodes to run a protocol node on (default: every node of the network)
   */
  constructor(
    readonly sim: Simulator,
    readonly net: Network<M>,
    private readonly factory: NodeFactory<M, C, R>,
    nodeIds?: readonly NodeId[],
  ) {
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
    this.perform(id, n.pollActions());
  }

  private onTimer(a: TimerArg): void {
    if (this.epochs[a.node] !== a.epoch || !this.net.isUp(a.node)) return;
    const timers = this.timers[a.node] as Map<string, EventId>;
    timers.delete(a.timer);
    const n = this.nodes[a.node] as ProtocolNode<M, C, R>;
    n.handleTimer(a.timer, this.sim.now);
    this.perform(a.node, n.pollActions());
  }

  private cancelTimers(id: NodeId): void {
    const timers = this.timers[id] as Map<string, EventId>;
    for (const ev of timers.values()) this.sim.cancel(ev);
    timers.clear();
    this.epochs[id] = (this.epochs[id] as number) + 1;
  }

  private perform(id: NodeId, actions: readonly Action<M>[]): void {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i] as Action<M>;
      switch (a.type) {
        case 'send':
          this.net.send(id, a.to, a.msg, a.sizeBytes);
          break;
        case 'set-timer': {
          const timers = this.timers[id] as Map<string, EventId>;
          const old = timers.get(a.timer);
          if (old !== undefined) this.sim.cancel(old);
          const at = a.atNs < this.sim.now ? this.sim.now : a.atNs;
          const arg: TimerArg = { node: id, timer: a.timer, epoch: this.epochs[id] as number };
          timers.set(a.timer, this.sim.schedule(at, this.fireTimer, arg, 'host.timer'));
          break;
        }
        case 'cancel-timer': {
          const timers = this.timers[id] as Map<string, EventId>;
          const old = timers.get(a.timer);
          if (old !== undefined) {
            this.sim.cancel(old);
            timers.delete(a.timer);
          }
          break;
        }
        case 'trace':
          if (this.traces.active) this.traces.emit({ timeNs: this.sim.now, node: id, name: a.name, data: a.data });
          break;
      }
    }
  }
}

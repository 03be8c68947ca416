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
 *
 * With `batchSends` the host opens the network's batch around each message
 * and timer it hands a node ({@link Network.openBatch}): sends to one instant
 * share a kernel event (the pushes and replies of all nodes to one instant,
 * while nothing else is scheduled at that instant), delivered in the same
 * order as with an event each.
 *
 * With `batchTimers` timers due at one instant share a kernel event too (a timer group), for as
 * long as nothing else is scheduled at that instant: an aligned gossip round arms a million timers
 * for the same tick, which then cost one event instead of a million. A group is a run of timers
 * that would have had consecutive events at its instant, so they fire in the same order as with an
 * event each; a timer moved earlier or cancelled stays in its group's list and is skipped there.
 */
import type { Simulator } from '../kernel/simulator.js';
import { INSTANT_BITS, instantHash } from '../kernel/instants.js';
import { TraceSource } from '../kernel/trace.js';
import type { Time } from '../kernel/time.js';
import type { Network, NodeId } from '../net/network.js';
import type { Action, ActionSink, ProtocolNode } from '../protocols/sans-io.js';

/** Timers of a group whose records and nodes are read ahead in one go (see {@link SimHost.onGroup}). */
const WARM_GROUP = 8;

// Fields of a timer's record in SimHost.timers.
const T_AT = 0;
const T_EVENT = 1;
const T_DEADLINE = 2;

/** Timers due at one instant that share one kernel event (see `SimHostOptions.batchTimers`). */
interface TimerGroup {
  /** The instant (ns). */
  at: Time;
  /** Timer cells, in the order they joined; the first `n` count. */
  cells: Int32Array<ArrayBuffer>;
  /**
   * Each cell's entry number (unique in the host, > 0): the timer's record holds minus it in place of a
   * kernel event id, so a timer that left the group and joined it again fires at its new place only.
   */
  entries: Float64Array<ArrayBuffer>;
  n: number;
}

/** Builds the protocol node for network node `id`. Called at start and at each restart without state. */
export type NodeFactory<M, C, R> = (id: NodeId) => ProtocolNode<M, C, R>;

/** A `trace` action, stamped with time and node. */
export interface NodeTraceEvent {
  readonly timeNs: Time;
  readonly node: NodeId;
  readonly name: string;
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

/** Options of a {@link SimHost}. */
export interface SimHostOptions<M> {
  /**
   * Carries out a `send` action of node `from` instead of `net.send(from, to, msg, sizeBytes)`:
   * a binding that routes a flow over another link, or counts what the network dropped, does it here.
   */
  readonly transmit?: (from: NodeId, to: NodeId, msg: M, sizeBytes: number) => void;
  /**
   * Batch the sends the nodes make while handling messages and timers that arrive at the same instant
   * into one kernel event ({@link Network.openBatch}), a node's and, while the kernel schedules
   * nothing else at that instant, the next nodes' too: fewer events, the same order of deliveries. Never
   * while the host's trace source has listeners, nor with `transmit`. Default false.
   */
  readonly batchSends?: boolean;
  /**
   * Let timers due at one instant share one kernel event while nothing else is scheduled at that
   * instant (see {@link SimHost}): the same timers fire in the same order with fewer events. Default false.
   *
   * The nodes see exactly what they would with an event per timer; the kernel's own view differs.
   * Its event counts (`fired`, `step`, `maxEvents`, a handler's `stop`) are per group, not per timer.
   * A group whose timers were all cancelled or crashed still fires, doing nothing, so `peek` and
   * `pending` count it and a run to idle may end at its instant rather than earlier. And if a
   * timer's handler throws, the rest of its group is lost, where events of their own would stay
   * pending. Outputs that read none of these (every scenario output: runs end at a time) are the same.
   */
  readonly batchTimers?: boolean;
}

/** Runs a set of sans-I/O nodes on a simulated network. */
export class SimHost<M, C = never, R = unknown> {
  /** Every `trace` action of every node. */
  readonly traces = new TraceSource<NodeTraceEvent>('host.trace');
  readonly nodes: ProtocolNode<M, C, R>[] = [];
  /**
   * Timers as records in one typed array: timer name i of node id is cell `i * span + id` (span =
   * largest node id + 1), that cell also the kernel event's argument, so a timer costs no object and a
   * million nodes three numbers per name. Cell c keeps, side by side (`timers[3 * c + T_*]`, one cache
   * line where three arrays took three: a timer's fire and re-arm read and write all three), the time
   * of the pending kernel event (`T_AT`, -1: none), its handle (`T_EVENT`) and when the timer is due
   * (`T_DEADLINE`, -1: off).
   */
  private readonly span: number;
  /** Protocol nodes the host runs. */
  private readonly nodeTotal: number;
  private timerNames: string[] = [];
  private timers: Float64Array<ArrayBuffer> = new Float64Array(0);
  private readonly fireTimer = (cell: number): void => this.onTimer(cell);
  /** 1 for a node that has a {@link sink} or {@link activeSinkFor}: its actions go there as they are made, so a message or a timer needs no poll after it. */
  private readonly sunk: Uint8Array;
  /** Nodes marked in {@link sunk}, and whether that is every node (then no input reads `sunk`: one cache miss less per input at 10^6 nodes). */
  private sunkCount = 0;
  private allSunk = false;
  private readonly transmit: ((from: NodeId, to: NodeId, msg: M, sizeBytes: number) => void) | undefined;
  private readonly batchSends: boolean;
  private readonly batchTimers: boolean;
  /**
   * The last timer event scheduled at each of a few instants, in a table indexed by a hash of the time:
   * the instant (-1: none), the event's sequence number, and its group (undefined: a timer of its own).
   * A timer may join that event's group, or start one right after it, only while the kernel says
   * nothing else was scheduled at that instant since ({@link Simulator.lastScheduledAt}).
   */
  private readonly lastAt: Float64Array = new Float64Array(1 << INSTANT_BITS).fill(-1);
  private readonly lastSeq: Float64Array = new Float64Array(1 << INSTANT_BITS);
  private readonly lastGroup: (TimerGroup | undefined)[] = new Array<TimerGroup | undefined>(1 << INSTANT_BITS).fill(undefined);
  /** Entries ever made in timer groups (see `TimerGroup.entries`). */
  private groupEntries = 0;
  /** Fired groups, for reuse (their cell arrays are the large part). */
  private readonly spareGroups: TimerGroup[] = [];
  private readonly fireGroup = (g: TimerGroup): void => this.onGroup(g);
  /** Never counts anything: {@link warmNode}'s read has to go somewhere. */
  private warmed = 0;
  /** Timers that reached their node (see {@link timersFired}). */
  private fired = 0;
  /** The node whose input the host is handling now (-1: none), for {@link SimHost.activeSink}. */
  private active = -1;
  /**
   * One sink for every node: it carries out the actions of the node whose input (message, timer, call
   * or start) the host is handling now, at once and in order, exactly as the host carries out the
   * actions it polls after that input. A node with many peers (gossip at 10^6 nodes) connects to it
   * instead of queuing an action object per send; actions made outside an input throw.
   */
  readonly activeSink: ActionSink<M> = {
    send: (to, msg, sizeBytes) => {
      const id = this.activeNode();
      if (this.transmit === undefined) this.net.send(id, to, msg, sizeBytes);
      else this.transmit(id, to, msg, sizeBytes);
    },
    setTimer: (timer, atNs) => this.setTimer(this.activeNode(), timer, atNs),
    cancelTimer: (timer) => this.cancelTimer(this.activeNode(), timer),
    trace: (name, data) => this.trace(this.activeNode(), name, data),
  };

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
    this.batchSends = options.batchSends === true && options.transmit === undefined;
    this.batchTimers = options.batchTimers === true;
    if (this.batchTimers) sim.recordInstants();
    this.sunk = new Uint8Array(net.nodeCount);
    const ids = nodeIds ?? Array.from({ length: net.nodeCount }, (_, i) => i);
    let span = 0;
    for (const id of ids) {
      this.nodes[id] = factory(id);
      if (id + 1 > span) span = id + 1;
    }
    this.span = span;
    this.nodeTotal = ids.length;
    if (nodeIds === undefined) {
      // Every node is ours: one dispatcher rather than a closure per node (see Network.attachAll).
      for (const id of ids) net.detach(id);
      net.attachAll(
        (to, from, msg) => this.deliver(to, from, msg),
        (to, deep) => this.warmNode(to, deep),
      );
    } else {
      for (const id of ids) net.attach(id, (from, msg) => this.deliver(id, from, msg));
    }
  }

  /** Timers that reached their node (each timer of a group counts). */
  get timersFired(): number {
    return this.fired;
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
   * {@link activeSink}, for node `id` to connect to: the host then knows the node's actions all go
   * there, and no longer polls it after a message or a timer (a poll reads the node's queue, one more
   * cache line per input at 10^6 nodes, to find it empty).
   */
  activeSinkFor(id: NodeId): ActionSink<M> {
    this.markSunk(id);
    return this.activeSink;
  }

  /** Whether node `id`'s actions are polled after its inputs (it is not on a sink). */
  private polled(id: NodeId): boolean {
    return !this.allSunk && this.sunk[id] !== 1;
  }

  private markSunk(id: NodeId): void {
    this.node(id);
    if (this.sunk[id] === 1) return;
    this.sunk[id] = 1;
    this.sunkCount++;
    this.allSunk = this.sunkCount === this.nodeTotal;
  }

  /**
   * A sink that carries out node `id`'s actions at once, exactly as {@link SimHost} does with those
   * it polls after an input, for a node whose outbox can forward to one (TCP's ActionBuffer): the
   * same effects in the same order, without a queue, a poll and a dispatch per action. The node's
   * actions must then come only while it handles an input from this host, as polled ones do, and
   * all through the sink: the host no longer polls the node after a message.
   */
  sink(id: NodeId): ActionSink<M> {
    this.markSunk(id);
    const transmit = this.transmit;
    const net = this.net;
    return {
      send:
        transmit !== undefined ? (to, msg, sizeBytes) => transmit(id, to, msg, sizeBytes) : (to, msg, sizeBytes) => net.send(id, to, msg, sizeBytes),
      setTimer: (timer, atNs) => this.setTimer(id, timer, atNs),
      cancelTimer: (timer) => this.cancelTimer(id, timer),
      trace: (name, data) => this.trace(id, name, data),
    };
  }

  /** Makes a client call on node `id` now and returns its reply. Throws if the node is down. */
  call(id: NodeId, call: C): R {
    const n = this.node(id);
    if (!this.net.isUp(id)) throw new Error(`SimHost: node ${id} is down`);
    if (n.handleCall === undefined) throw new Error(`SimHost: node ${id} accepts no calls`);
    const prev = this.active;
    this.active = id;
    try {
      const r = n.handleCall(call, this.sim.now);
      this.perform(id, n.pollActions());
      return r;
    } finally {
      this.active = prev;
    }
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
    this.active = id;
    n.start(this.sim.now);
    this.perform(id, n.pollActions());
    this.active = -1;
  }

  /**
   * Reads node `id`'s object (its class), or with `deep` what its {@link ProtocolNode.warm} reads: the
   * network calls this a few deliveries ahead, first without `deep` and a group later with it (a timer
   * group does the same a few timers ahead), so the node is in cache when its input comes, and the
   * misses of a group overlap. Gossip at 10^6 nodes: the run phase takes 15-20% less than reading the
   * object alone.
   */
  private warmNode(id: NodeId, deep: boolean): void {
    const n = this.nodes[id];
    if (n === undefined) return;
    if (!deep) {
      if (n.handleMessage === undefined) this.warmed++;
    } else if (n.warm !== undefined && n.warm() === -Infinity) this.warmed++;
  }

  private deliver(id: NodeId, from: NodeId, msg: M): void {
    const n = this.nodes[id] as ProtocolNode<M, C, R>;
    this.active = id;
    if (this.openBatch()) {
      try {
        this.handleMessage(n, id, from, msg);
      } finally {
        this.closeBatch();
      }
    } else this.handleMessage(n, id, from, msg);
    this.active = -1;
  }

  private handleMessage(n: ProtocolNode<M, C, R>, id: NodeId, from: NodeId, msg: M): void {
    n.handleMessage(from, msg, this.sim.now);
    if (this.polled(id)) {
      const actions = n.pollActions();
      if (actions.length !== 0) this.perform(id, actions);
    }
  }

  /** Opens the network's batch for the input about to be handled, when this host batches sends; true if it did. */
  private openBatch(): boolean {
    if (!this.batchSends || this.traces.active) return false;
    this.net.openBatch();
    return true;
  }

  private closeBatch(): void {
    this.net.closeBatch();
  }

  private activeNode(): NodeId {
    const id = this.active;
    if (id < 0) throw new Error('SimHost: an action on the shared sink outside an input the host handles');
    return id;
  }

  private onTimer(cell: number): void {
    const t = this.timers;
    const r = 3 * cell;
    t[r + T_AT] = -1;
    const span = this.span;
    const node = cell % span;
    const deadline = t[r + T_DEADLINE] as number;
    if (deadline < 0 || !this.net.isUp(node)) return;
    const now = this.sim.now;
    if (now < deadline) {
      // Moved later while pending: wait for the deadline.
      t[r + T_AT] = deadline;
      t[r + T_EVENT] = this.scheduleTimer(cell, deadline);
      return;
    }
    t[r + T_DEADLINE] = -1;
    this.fired++;
    const n = this.nodes[node] as ProtocolNode<M, C, R>;
    this.active = node;
    const timer = this.timerNames[(cell - node) / span] as string;
    if (this.openBatch()) {
      try {
        n.handleTimer(timer, now);
        if (this.polled(node)) this.perform(node, n.pollActions());
      } finally {
        this.closeBatch();
      }
    } else {
      n.handleTimer(timer, now);
      if (this.polled(node)) this.perform(node, n.pollActions());
    }
    this.active = -1;
  }

  /** Cancels every timer of node `id` (its pending kernel events too): none set before fires after. */
  private cancelTimers(id: NodeId): void {
    const t = this.timers;
    for (let r = 3 * id; r < t.length; r += 3 * this.span) {
      if ((t[r + T_AT] as number) >= 0) this.unschedule(t[r + T_EVENT] as number);
      t[r + T_AT] = -1;
      t[r + T_DEADLINE] = -1;
    }
  }

  /** The cell of (node `id`, `timer`): a name seen for the first time gets a row of cells, all off. */
  private timerCell(id: NodeId, timer: string): number {
    const names = this.timerNames;
    let i = 0;
    while (i < names.length && names[i] !== timer) i++;
    if (i === names.length) {
      this.checkTimerNode(id);
      names.push(timer);
      this.timers = grown(this.timers, 3 * names.length * this.span);
    }
    return i * this.span + id;
  }

  private checkTimerNode(id: NodeId): void {
    if (this.nodes[id] === undefined) throw new RangeError(`SimHost: no protocol node on network node ${id}`);
  }

  private cancelTimer(id: NodeId, timer: string): void {
    this.timers[3 * this.timerCell(id, timer) + T_DEADLINE] = -1;
  }

  private setTimer(id: NodeId, timer: string, atNs: Time): void {
    const cell = this.timerCell(id, timer);
    const r = 3 * cell;
    const t = this.timers;
    const now = this.sim.now;
    const at = atNs < now ? now : atNs;
    t[r + T_DEADLINE] = at;
    const pending = t[r + T_AT] as number;
    if (pending >= 0) {
      if (pending <= at) return; // the pending event comes first and will wait for the deadline
      this.unschedule(t[r + T_EVENT] as number);
    }
    t[r + T_AT] = at;
    t[r + T_EVENT] = this.scheduleTimer(cell, at);
  }

  /**
   * Schedules timer `cell` for `at`; returns what its record keeps as its event: a kernel event id, or
   * with `batchTimers`, when the last event at `at` is a timer's and nothing else was scheduled there
   * since, minus its entry number in a group: the group of that event, or a new one scheduled right
   * after it. So the first timer at an instant costs an event of its own, the second one a group event,
   * the rest nothing: timers at distinct instants (random phases) make no groups.
   */
  private scheduleTimer(cell: number, at: Time): number {
    if (!this.batchTimers) return this.sim.schedule(at, this.fireTimer, cell, 'host.timer');
    const h = instantHash(at);
    if (this.lastAt[h] !== at || this.sim.lastScheduledAt(at) !== this.lastSeq[h]) {
      const id = this.sim.schedule(at, this.fireTimer, cell, 'host.timer');
      this.lastAt[h] = at;
      this.lastSeq[h] = this.sim.scheduled - 1;
      this.lastGroup[h] = undefined;
      return id;
    }
    let g = this.lastGroup[h];
    if (g === undefined) {
      g = this.spareGroups.pop() ?? { at, cells: new Int32Array(16), entries: new Float64Array(16), n: 0 };
      g.at = at;
      g.n = 0;
      this.sim.schedule(at, this.fireGroup, g, 'host.timer');
      this.lastSeq[h] = this.sim.scheduled - 1;
      this.lastGroup[h] = g;
    }
    if (g.n === g.cells.length) {
      const cells = new Int32Array(2 * g.n);
      cells.set(g.cells);
      g.cells = cells;
      const entries = new Float64Array(2 * g.n);
      entries.set(g.entries);
      g.entries = entries;
    }
    const entry = ++this.groupEntries;
    g.cells[g.n] = cell;
    g.entries[g.n++] = entry;
    return -entry;
  }

  /** Cancels a timer's pending event (a group's timer only leaves it: the group skips it when it fires). */
  private unschedule(event: number): void {
    if (event >= 0) this.sim.cancel(event);
  }

  /** A timer group's instant: its timers that are still due then, by this group, fire in the order they joined. */
  private onGroup(g: TimerGroup): void {
    // Nothing joins a group once it fires: a timer set for this instant now gets an event after it.
    const h = instantHash(g.at);
    if (this.lastGroup[h] === g) {
      this.lastGroup[h] = undefined;
      this.lastAt[h] = -1;
    }
    const at = g.at;
    const span = this.span;
    let warmedTo = 0;
    let deepTo = 0;
    for (let i = 0; i < g.n; i++) {
      const cell = g.cells[i] as number;
      if (i % WARM_GROUP === 0) {
        // The records and nodes of the timers 2 to 3 x WARM_GROUP ahead, then what the nodes of those 1 to
        // 2 x WARM_GROUP ahead point to, each read in one go so that their cache misses overlap one
        // another (as the network warms a delivery batch).
        const end = Math.min(g.n, i + 3 * WARM_GROUP);
        for (; warmedTo < end; warmedTo++) {
          const next = g.cells[warmedTo] as number;
          if ((this.timers[3 * next] as number) === -2) this.warmed++;
          this.warmNode(next % span, false);
        }
        const deepEnd = Math.min(g.n, i + 2 * WARM_GROUP);
        for (; deepTo < deepEnd; deepTo++) this.warmNode((g.cells[deepTo] as number) % span, true);
      }
      const r = 3 * cell;
      // Read anew each time: a timer name seen for the first time grows the array.
      const t = this.timers;
      // Moved, cancelled, fired, or joined the group again later (then it fires at that place): skipped.
      if (t[r + T_AT] !== at || t[r + T_EVENT] !== -(g.entries[i] as number)) continue;
      this.onTimer(cell);
    }
    g.n = 0;
    // Keep a few for reuse, large ones too: a million-node round's group doubled its arrays to 12 MB
    // each round, and every 64 MB of new array buffers made V8 mark the whole heap.
    if (this.spareGroups.length < 4) this.spareGroups.push(g);
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
          this.cancelTimer(id, a.timer);
          break;
        case 'trace':
          if (this.traces.active) this.traces.emit({ timeNs: this.sim.now, node: id, name: a.name, data: a.data });
          break;
      }
    }
  }
}

/** A copy of `a` with `cells` numbers, the new ones -1 (off). */
function grown(a: Float64Array<ArrayBuffer>, cells: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cells).fill(-1);
  b.set(a);
  return b;
}

/**
 * A reusable action queue for the hot path of the TCP state machines.
 *
 * {@link Outbox} allocates one action object per action and a fresh array per
 * drain. TCP emits an action per segment and a timer action per ACK, millions
 * per simulated second, so this queue keeps its action objects and its array
 * and reuses them: what {@link ActionBuffer.poll} returns is valid until the
 * next action is queued or the next poll. The sans-I/O drivers (SimHost, a
 * test) consume the actions of one input before giving the node the next, so
 * nothing changes for them.
 *
 * Several state machines may share one buffer: a {@link TcpStack} hands its
 * buffer to the senders and receivers it hosts, so their actions come out in
 * the order they were queued without copying.
 *
 * A driver that carries actions out as they come (SimHost's `sink(id)`) can
 * {@link ActionBuffer.connect} its sink: each action then goes straight to it,
 * in the same order, and nothing is queued. That saves the queue, the poll and
 * the driver's dispatch on the action's type, per segment and per ACK.
 */
import type { Action, ActionSink, NodeId, Time } from '../sans-io.js';

interface SendSlot<M> {
  readonly type: 'send';
  to: NodeId;
  msg: M;
  sizeBytes: number;
}

interface SetTimerSlot {
  readonly type: 'set-timer';
  timer: string;
  atNs: Time;
}

interface CancelTimerSlot {
  readonly type: 'cancel-timer';
  timer: string;
}

interface TraceSlot {
  readonly type: 'trace';
  name: string;
  data: Readonly<Record<string, string | number | boolean>>;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** A queue of actions whose objects are reused after each poll. */
export class ActionBuffer<M> implements ActionSink<M> {
  /** Where actions go at once, when a driver connected a sink. */
  private sink: ActionSink<M> | undefined = undefined;
  /** The queued actions are items[0 .. n). */
  private readonly items: Action<M>[] = [];
  private n = 0;
  /** views[k]: an array of length k that poll fills with the k queued actions (no push, no pop). */
  private readonly views: Action<M>[][] = [];
  private readonly sends: SendSlot<M>[] = [];
  private readonly sets: SetTimerSlot[] = [];
  private readonly cancels: CancelTimerSlot[] = [];
  private readonly traces: TraceSlot[] = [];
  private nSends = 0;
  private nSets = 0;
  private nCancels = 0;
  private nTraces = 0;

  /**
   * From now on hands every action to `sink` as it is made, instead of queuing it ({@link poll} then
   * returns nothing). Throws if actions are queued: they would come out after newer ones.
   */
  connect(sink: ActionSink<M>): void {
    if (this.n !== 0) throw new Error('ActionBuffer: connect with actions queued');
    this.sink = sink;
  }

  send(to: NodeId, msg: M, sizeBytes: number): void {
    const sink = this.sink;
    if (sink !== undefined) return sink.send(to, msg, sizeBytes);
    let s = this.sends[this.nSends];
    if (s === undefined) {
      s = { type: 'send', to, msg, sizeBytes };
      this.sends.push(s);
    } else {
      s.to = to;
      s.msg = msg;
      s.sizeBytes = sizeBytes;
    }
    this.nSends++;
    this.items[this.n++] = s;
  }

  setTimer(timer: string, atNs: Time): void {
    const sink = this.sink;
    if (sink !== undefined) return sink.setTimer(timer, atNs);
    let s = this.sets[this.nSets];
    if (s === undefined) {
      s = { type: 'set-timer', timer, atNs };
      this.sets.push(s);
    } else {
      s.timer = timer;
      s.atNs = atNs;
    }
    this.nSets++;
    this.items[this.n++] = s;
  }

  cancelTimer(timer: string): void {
    const sink = this.sink;
    if (sink !== undefined) return sink.cancelTimer(timer);
    let s = this.cancels[this.nCancels];
    if (s === undefined) {
      s = { type: 'cancel-timer', timer };
      this.cancels.push(s);
    } else s.timer = timer;
    this.nCancels++;
    this.items[this.n++] = s;
  }

  trace(name: string, data: Readonly<Record<string, string | number | boolean>>): void {
    const sink = this.sink;
    if (sink !== undefined) return sink.trace(name, data);
    let s = this.traces[this.nTraces];
    if (s === undefined) {
      s = { type: 'trace', name, data };
      this.traces.push(s);
    } else {
      s.name = name;
      s.data = data;
    }
    this.nTraces++;
    this.items[this.n++] = s;
  }

  /**
   * The actions queued since the last poll, and forgets them. The array and its action objects are
   * reused: valid until the next poll (and the objects until the next action is queued).
   */
  poll(): readonly Action<M>[] {
    const n = this.n;
    if (n === 0) return EMPTY;
    let v = this.views[n];
    if (v === undefined) {
      v = this.items.slice(0, n);
      this.views[n] = v;
    } else for (let i = 0; i < n; i++) v[i] = this.items[i] as Action<M>;
    this.n = 0;
    this.nSends = 0;
    this.nSets = 0;
    this.nCancels = 0;
    this.nTraces = 0;
    return v;
  }

  /** Forgets every queued action. */
  clear(): void {
    this.n = 0;
    this.nSends = 0;
    this.nSets = 0;
    this.nCancels = 0;
    this.nTraces = 0;
  }
}

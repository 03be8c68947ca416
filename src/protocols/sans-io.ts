/**
 * The sans-I/O contract (after h11 and quinn-proto): a protocol node is a
 * state machine that never touches a socket, a clock or a timer. Inputs are
 * method calls carrying `now`; outputs are {@link Action}s the node queues and
 * its driver drains with `pollActions()` after every input. The simulator
 * ({@link SimHost}) and the real UDP transport are two such drivers.
 */

/**
 * Time as a protocol sees it: an integer count of nanoseconds. The simulator
 * passes simulated time, the UDP transport a real clock's reading; the
 * protocol cannot tell which.
 */
export type Time = number;

/** Nanoseconds per millisecond. */
export const NS_PER_MS = 1_000_000;
/** Nanoseconds per second. */
export const NS_PER_S = 1_000_000_000;

/** A peer's address as a protocol sees it: a small integer the driver maps to a simulated node or a socket address. */
export type NodeId = number;

/**
 * The random draws a protocol may make. A node gets one at construction and
 * draws from nothing else; the simulator passes a named seeded stream, so a
 * run is reproducible.
 */
export interface Rng {
  /** A uniform draw in [0, 1). */
  uniform(): number;
  /** True with probability `p`. */
  bernoulli(p: number): boolean;
}

/** Where a protocol may report its state for tracing; the driver decides whether anything listens. */
export interface TraceSink<T> {
  /** False when nobody listens, so the protocol can skip building the record. */
  readonly active: boolean;
  emit(record: T): void;
}

/** What a node asks its driver to do. */
export type Action<M> =
  | { readonly type: 'send'; readonly to: NodeId; readonly msg: M; readonly sizeBytes: number }
  | { readonly type: 'set-timer'; readonly timer: string; readonly atNs: Time }
  | { readonly type: 'cancel-timer'; readonly timer: string }
  | { readonly type: 'trace'; readonly name: string; readonly data: Readonly<Record<string, string | number | boolean>> };

/**
 * A sans-I/O protocol node.
 * @typeParam M the message type it sends and receives
 * @typeParam C the client calls it accepts (e.g. put/get)
 * @typeParam R the reply to a client call
 */
export interface ProtocolNode<M, C = never, R = unknown> {
  /** Called once when the node starts (and again after a restart); typically sets its first timers. */
  start(now: Time): void;
  /** A message arrived from `from`. Must not throw on any input: count and drop bad messages. */
  handleMessage(from: NodeId, msg: M, now: Time): void;
  /** A timer set with `set-timer` fired. */
  handleTimer(timer: string, now: Time): void;
  /** A client call; the reply is returned at once (requests that need the network answer through later actions). */
  handleCall?(call: C, now: Time): R;
  /**
   * Returns the actions queued since the last poll, and forgets them. A node may reuse the array and
   * the action objects (TCP does, to allocate nothing per packet): a driver consumes them before
   * giving the node its next input or polling again, as SimHost does.
   */
  pollActions(): readonly Action<M>[];
  /**
   * Optional, for speed only: reads the fields the node's next input will likely read and returns any
   * number (the driver discards it). Must change nothing: a driver about to hand inputs to many nodes
   * calls it a few inputs ahead, any number of times, so the cache misses of several nodes overlap (at
   * 10^6 nodes each input lands on a node that no cache holds).
   */
  warm?(): number;
}

/**
 * Takes a node's actions, one call per action. {@link Outbox} queues them for `pollActions`; a driver
 * may also offer a sink that carries each out at once (SimHost's `sink(id)`), for a node whose
 * outbox can forward to one: the actions, their order and their effects are the same.
 */
export interface ActionSink<M> {
  /** A `send` action: `msg`, of `sizeBytes` on the wire, to node `to`. */
  send(to: NodeId, msg: M, sizeBytes: number): void;
  /** A `set-timer` action: `timer` fires at `atNs` (now if earlier), replacing its previous time. */
  setTimer(timer: string, atNs: Time): void;
  /** A `cancel-timer` action. */
  cancelTimer(timer: string): void;
  /** A `trace` action. */
  trace(name: string, data: Readonly<Record<string, string | number | boolean>>): void;
}

/** A small helper a node can own to queue its actions. */
export class Outbox<M> implements ActionSink<M> {
  private queue: Action<M>[] = [];

  send(to: NodeId, msg: M, sizeBytes: number): void {
    this.queue.push({ type: 'send', to, msg, sizeBytes });
  }

  setTimer(timer: string, atNs: Time): void {
    this.queue.push({ type: 'set-timer', timer, atNs });
  }

  cancelTimer(timer: string): void {
    this.queue.push({ type: 'cancel-timer', timer });
  }

  trace(name: string, data: Readonly<Record<string, string | number | boolean>>): void {
    this.queue.push({ type: 'trace', name, data });
  }

  /** Returns and clears the queued actions. */
  drain(): readonly Action<M>[] {
    const q = this.queue;
    if (q.length === 0) return EMPTY;
    this.queue = [];
    return q;
  }

  /** Drops every queued action (used when a node crashes). */
  clear(): void {
    this.queue = [];
  }
}

const EMPTY: readonly never[] = Object.freeze([]);

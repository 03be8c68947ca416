/**
 * The real-network driver for sans-I/O nodes: runs one {@link ProtocolNode}
 * on a `node:dgram` UDP socket, with real timers and the real clock. It is the
 * second driver beside the simulator's {@link SimHost}; the protocol module is
 * the same object in both, only the I/O around it differs.
 *
 * Theory of operation. The host owns a socket, a monotonic clock (`now` in
 * nanoseconds since the host was created, from `process.hrtime`: the
 * transport may read the clock, the protocol only ever sees `now` arguments)
 * and one `setTimeout` per pending timer name (setting a timer again moves
 * it, as in SimHost). Every input (datagram, timer, client call) is handed to
 * the node and the node's queued actions are carried out at once: `send`
 * encodes the message with the protocol codec and sends it to the peer's
 * address, timers are (re)armed or cleared, `trace` goes to the log callback.
 *
 * Inputs are never trusted. A datagram is, in order: dropped as `oversized`
 * if it exceeds the MTU; decoded by the codec, a failure being dropped as
 * `malformed` or `foreign_version` (the codec's error decides which); if the
 * {@link ClientService} recognises a client request it is answered, whatever
 * the source address (clients use ephemeral ports); otherwise it is dropped
 * as `unknown_peer` unless its source address is a cluster member, and
 * handed to the node. Handler exceptions are caught and counted
 * (`handler_errors`), so no input can stop the node. Client requests carry
 * ids; the last replies are cached per (client address, id) so a retried
 * request is answered again without being applied twice.
 */
import dgram from 'node:dgram';
import type { NodeId } from '../protocols/net/network.js';
import type { Action, ProtocolNode } from '../protocols/sans-io.js';
import { formatAddress, type Membership, type UdpAddress } from './address.js';

/** Largest datagram a node accepts by default, in bytes: a 1500-byte Ethernet MTU minus IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 1472;

/** Why a datagram was dropped (each reason has a counter). */
export type DropReason = 'malformed' | 'oversized' | 'foreign_version' | 'unknown_peer';

/** Turns protocol messages into datagrams and back. `decode` throws on anything invalid. */
export interface Codec<M> {
  encode(msg: M): Uint8Array;
  decode(bytes: Uint8Array): M;
}

/**
 * Client requests on the node's port. The host decodes every datagram with the
 * protocol codec; messages this service recognises as client requests are
 * answered by it (from any source address), the rest go to the node.
 */
export interface ClientService<M> {
  /** The request id of a client request, or undefined if `msg` is not one. */
  requestId(msg: M): number | undefined;
  /**
   * The reply to a client request (typically from the node's `handleCall`).
   * `hostStats` gives the host's counters, for a stats request.
   */
  answer(msg: M, nowNs: number, hostStats: () => Readonly<Record<string, number>>): M;
}

/** What the host reports to its owner (the CLI logs it on stderr). */
export type HostLogEvent =
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly from: string; readonly detail: string }
  | { readonly kind: 'error'; readonly where: string; readonly detail: string }
  | { readonly kind: 'trace'; readonly name: string; readonly data: Readonly<Record<string, string | number | boolean>> };

/** Options of a {@link UdpHost}. */
export interface UdpHostOptions<M, C, R> {
  /** The node's name (`--id`), for its owner's logs. */
  readonly name: string;
  /** Address to bind. */
  readonly listen: UdpAddress;
  /** Cluster members and their node ids (see `buildMembership`). */
  readonly membership: Membership;
  readonly node: ProtocolNode<M, C, R>;
  readonly codec: Codec<M>;
  /** Which counter a codec error goes to (default: `malformed`). */
  readonly classifyDecodeError?: (err: unknown) => DropReason;
  /** Recognises and answers client requests; without it every datagram is a peer message. */
  readonly client?: ClientService<M>;
  /** Largest datagram sent or accepted, bytes (default {@link MAX_DATAGRAM_BYTES}; use the protocol's MTU). */
  readonly maxDatagramBytes?: number;
  /** Called for drops, errors and the node's trace actions (default: ignore). */
  readonly onLog?: (e: HostLogEvent) => void;
  /** Monotonic clock in nanoseconds (default: `process.hrtime` since the host was built). */
  readonly clockNs?: () => number;
  /** Client replies remembered for retries (default 1024). */
  readonly replyCacheSize?: number;
  /** Socket receive buffer to ask for, bytes (default 1 MiB; the OS may cap it, e.g. at Linux's net.core.rmem_max). */
  readonly recvBufferBytes?: number;
}

/** The host's counters (all since start). */
export interface HostCounters {
  /** Protocol datagrams accepted and handed to the node. */
  messages_in: number;
  /** Protocol datagrams sent. */
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  /** Client requests answered (including retries answered from the cache). */
  client_requests: number;
  /** Retried client requests answered from the reply cache. */
  client_retries: number;
  dropped_malformed: number;
  dropped_oversized: number;
  dropped_foreign_version: number;
  dropped_unknown_peer: number;
  /** Outgoing messages not sent because their encoding exceeded the MTU. */
  send_oversized: number;
  /** Socket send failures. */
  send_errors: number;
  /** Exceptions thrown by the node or the codec while handling an input (caught). */
  handler_errors: number;
  timers_fired: number;
}

function zeroCounters(): HostCounters {
  return {
    messages_in: 0,
    messages_out: 0,
    bytes_in: 0,
    bytes_out: 0,
    client_requests: 0,
    client_retries: 0,
    dropped_malformed: 0,
    dropped_oversized: 0,
    dropped_foreign_version: 0,
    dropped_unknown_peer: 0,
    send_oversized: 0,
    send_errors: 0,
    handler_errors: 0,
    timers_fired: 0,
  };
}

/** A monotonic nanosecond clock starting at 0 now. */
export function monotonicClockNs(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one sans-I/O node on a UDP socket. Call {@link UdpHost.start}, later {@link UdpHost.close}. */
export class UdpHost<M, C = never, R = unknown> {
  readonly counters: HostCounters = zeroCounters();
  private readonly socket: dgram.Socket;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly replies = new Map<string, Uint8Array>();
  private readonly peersSeen = new Map<NodeId, number>();
  private readonly clock: () => number;
  private readonly maxBytes: number;
  private readonly log: (e: HostLogEvent) => void;
  private bound: UdpAddress | undefined;
  private closed = false;

  constructor(private readonly opts: UdpHostOptions<M, C, R>) {
    this.clock = opts.clockNs ?? monotonicClockNs();
    this.maxBytes = opts.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.log = opts.onLog ?? ((): void => {});
    this.socket = dgram.createSocket({ type: 'udp4' });
  }

  /** Nanoseconds since the host was built (the `now` the node sees). */
  get nowNs(): number {
    return this.clock();
  }

  /** The bound address (after {@link start}). */
  get address(): UdpAddress {
    if (this.bound === undefined) throw new Error('UdpHost: not started');
    return this.bound;
  }

  /** Binds the socket, then starts the node. Resolves with the bound address; rejects if the bind fails (e.g. port in use). */
  async start(): Promise<UdpAddress> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      this.socket.bind(this.opts.listen.port, this.opts.listen.host, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    this.socket.on('error', (err) => this.log({ kind: 'error', where: 'socket', detail: err.message }));
    this.socket.on('message', (buf, rinfo) => this.onDatagram(buf, `${rinfo.address}:${rinfo.port}`));
    try {
      this.socket.setRecvBufferSize(this.opts.recvBufferBytes ?? 1 << 20);
    } catch (err) {
      this.log({ kind: 'error', where: 'socket', detail: `cannot set the receive buffer: ${message(err)}` });
    }
    const a = this.socket.address();
    this.bound = { host: a.address, port: a.port };
    this.guard('start', () => this.opts.node.start(this.clock()));
    return this.bound;
  }

  /** Stops timers and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.bound === undefined) {
      this.socket.close();
      return;
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /**
   * The host's figures, all numbers: uptime, counters, drops by reason
   * (`dropped_<reason>`), peers heard from. `desim kv stats` prints them with the node's own.
   */
  stats(): Record<string, number> {
    const c = this.counters;
    const now = this.clock();
    return {
      node_id: this.opts.membership.self,
      uptime_s: Math.round(now / 1e6) / 1e3,
      messages_in: c.messages_in,
      messages_out: c.messages_out,
      bytes_in: c.bytes_in,
      bytes_out: c.bytes_out,
      client_requests: c.client_requests,
      client_retries: c.client_retries,
      dropped_malformed: c.dropped_malformed,
      dropped_oversized: c.dropped_oversized,
      dropped_foreign_version: c.dropped_foreign_version,
      dropped_unknown_peer: c.dropped_unknown_peer,
      send_oversized: c.send_oversized,
      send_errors: c.send_errors,
      handler_errors: c.handler_errors,
      timers_fired: c.timers_fired,
      peers_total: this.opts.membership.peers.length,
      peers_seen: this.peersSeen.size,
    };
  }

  /** Milliseconds since the last valid message from each peer heard from, by `host:port`. */
  peersLastHeardMs(): Record<string, number> {
    const now = this.clock();
    const out: Record<string, number> = {};
    for (const [id, at] of this.peersSeen) {
      const m = this.opts.membership.members[id];
      if (m !== undefined) out[formatAddress(m)] = Math.round((now - at) / 1e6);
    }
    return out;
  }

  private drop(reason: DropReason, from: string, detail: string): void {
    this.counters[`dropped_${reason}`]++;
    this.log({ kind: 'drop', reason, from, detail });
  }

  private onDatagram(bytes: Uint8Array, from: string): void {
    if (this.closed) return;
    if (bytes.length > this.maxBytes) return this.drop('oversized', from, `${bytes.length} bytes`);
    let msg: M;
    try {
      msg = this.opts.codec.decode(bytes);
    } catch (err) {
      return this.drop(this.opts.classifyDecodeError?.(err) ?? 'malformed', from, message(err));
    }
    let requestId: number | undefined;
    try {
      requestId = this.opts.client?.requestId(msg);
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'client', detail: message(err) });
      return;
    }
    if (requestId !== undefined) return this.onClient(msg, requestId, from);
    const peer = this.opts.membership.idOf(from);
    if (peer === undefined || peer === this.opts.membership.self) return this.drop('unknown_peer', from, 'not a cluster member');
    this.counters.messages_in++;
    this.counters.bytes_in += bytes.length;
    this.peersSeen.set(peer, this.clock());
    this.guard('message', () => this.opts.node.handleMessage(peer, msg, this.clock()));
  }

  private onClient(msg: M, requestId: number, from: string): void {
    const client = this.opts.client as ClientService<M>;
    this.counters.client_requests++;
    const cacheKey = `${from}/${requestId}`;
    let out = this.replies.get(cacheKey);
    if (out !== undefined) {
      this.counters.client_retries++;
      this.sendBytes(out, from);
      return;
    }
    let reply: M | undefined;
    this.guard('client', () => {
      reply = client.answer(msg, this.clock(), () => this.stats());
    });
    if (reply === undefined) return;
    try {
      out = this.opts.codec.encode(reply);
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'encode', detail: message(err) });
      return;
    }
    this.remember(cacheKey, out);
    this.sendBytes(out, from);
  }

  private remember(key: string, reply: Uint8Array): void {
    this.replies.set(key, reply);
    const cap = this.opts.replyCacheSize ?? 1024;
    if (this.replies.size > cap) {
      const oldest = this.replies.keys().next();
      if (oldest.done !== true) this.replies.delete(oldest.value);
    }
  }

  /** Runs a node handler, then performs the node's queued actions. Never throws. */
  private guard(where: string, fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where, detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
    let actions: readonly Action<M>[];
    try {
      actions = this.opts.node.pollActions();
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'pollActions', detail: message(err) });
      return;
    }
    this.perform(actions);
  }

  private perform(actions: readonly Action<M>[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.sendMessage(a.to, a.msg);
          break;
        case 'set-timer':
          this.setTimer(a.timer, a.atNs);
          break;
        case 'cancel-timer': {
          const t = this.timers.get(a.timer);
          if (t !== undefined) clearTimeout(t);
          this.timers.delete(a.timer);
          break;
        }
        case 'trace':
          this.log({ kind: 'trace', name: a.name, data: a.data });
          break;
      }
    }
  }

  private setTimer(name: string, atNs: number): void {
    if (this.closed) return;
    const old = this.timers.get(name);
    if (old !== undefined) clearTimeout(old);
    const delayMs = Math.max(0, Math.ceil((atNs - this.clock()) / 1e6));
    const t = setTimeout(() => {
      if (this.closed || this.timers.get(name) !== t) return;
      // Timers may fire a hair before the deadline on the hrtime clock: re-arm for the rest.
      if (this.clock() < atNs) return this.setTimer(name, atNs);
      this.timers.delete(name);
      this.counters.timers_fired++;
      this.guard('timer', () => this.opts.node.handleTimer(name, this.clock()));
    }, delayMs);
    this.timers.set(name, t);
  }

  private sendMessage(to: NodeId, msg: M): void {
    const addr = this.opts.membership.members[to];
    if (addr === undefined || to === this.opts.membership.self) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'send', detail: `no peer with node id ${to}` });
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = this.opts.codec.encode(msg);
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'encode', detail: message(err) });
      return;
    }
    if (bytes.length > this.maxBytes) {
      this.counters.send_oversized++;
      this.log({ kind: 'error', where: 'send', detail: `message of ${bytes.length} bytes exceeds the ${this.maxBytes}-byte MTU; not sent` });
      return;
    }
    this.counters.messages_out++;
    this.counters.bytes_out += bytes.length;
    this.sendBytes(bytes, formatAddress(addr));
  }

  private sendBytes(bytes: Uint8Array, to: string): void {
    if (this.closed) return;
    const i = to.lastIndexOf(':');
    this.socket.send(bytes, Number(to.slice(i + 1)), to.slice(0, i), (err) => {
      if (err !== null && err !== undefined) {
        this.counters.send_errors++;
        this.log({ kind: 'error', where: 'send', detail: err.message });
      }
    });
  }
}

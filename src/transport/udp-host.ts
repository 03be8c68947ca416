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
 * if it exceeds the MTU plus the envelope overhead; if it comes from a
 * non-member, dropped as `client_overload` when that source's request queue
 * is full or it is over its request rate, and otherwise queued as it is
 * (nothing more is done with it until its turn, below); opened
 * (`envelope.ts`): with a keyring only
 * sealed datagrams that authenticate with one of its keys are kept (the rest
 * are dropped as `unauthenticated`), and sealed datagrams stamped outside the
 * replay window are dropped as `replay`; without a keyring a padded plain
 * frame is unwrapped, a bare message taken as is, and a sealed one dropped
 * as `unauthenticated`. Then decoded by the codec, a failure being dropped as
 * `malformed` or `foreign_version` (the codec's error decides which); if the
 * {@link ClientService} recognises a client request it is queued (see
 * below), whatever the source address (clients use ephemeral ports);
 * otherwise it is dropped as `unknown_peer` unless its source address is a
 * cluster member (or the owner's `admit` makes it one: a SWIM join), and handed to the node at once. Handler exceptions are
 * caught and counted (`handler_errors`), so no input can stop the node.
 *
 * Client requests. Each source address has its own bounded queue
 * (`clientQueuePerSource`, and `clientQueueTotal` over all sources) of
 * datagrams not yet opened; the host serves the queues round-robin, one
 * datagram per source per pass, at most `clientBatch` per turn of the event
 * loop (opening, decoding and answering each), so the socket is read
 * between batches at little cost per datagram: a flood from one source
 * fills its own queue and the rest of it is dropped on arrival, before any
 * decryption, while a request from another source waits behind at most one
 * of the flood's per pass. Requests carry ids; the last replies are cached per
 * (client address, id) so a retried request is answered again without
 * being applied twice. A sealed request whose nonce was already seen within
 * the replay window is dropped as `replay` (a captured put cannot be
 * applied again). A reply is sent only if it is no larger than the
 * request datagram (clients pad their requests), so a spoofed source address
 * can never be sent more bytes than the spoofer sent; a reply withheld for
 * that is counted in `dropped_amplification`. A reply may be a promise (a
 * write answered once it is durable): a retry arriving while it is pending
 * is counted and left to the pending answer.
 */
import dgram from 'node:dgram';
import type { NodeId } from '../protocols/sans-io.js';
import type { Action, ProtocolNode } from '../protocols/sans-io.js';
import { formatAddress, type Membership, type UdpAddress } from './address.js';
import { framePlain, isEnvelope, isSealed, openPlain, SEALED_OVERHEAD, type Keyring } from './envelope.js';

/** Largest datagram a node accepts by default, in bytes: a 1500-byte Ethernet MTU minus IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 1472;

/** Why a datagram was dropped (each reason has a counter). */
export type DropReason =
  'malformed' | 'oversized' | 'foreign_version' | 'unknown_peer' | 'unauthenticated' | 'replay' | 'client_overload' | 'amplification';

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
   * `hostStats` gives the host's counters, for a stats request. A promise
   * delays the reply until it settles (a rejection is counted as a handler error, and no reply is sent).
   */
  answer(msg: M, nowNs: number, hostStats: () => Readonly<Record<string, number>>): M | Promise<M>;
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
  /**
   * A message from an address outside the membership, once it authenticated and decoded (and is not a
   * client request): the node id that address now has (the membership grew: a SWIM join), or undefined
   * to drop it as `unknown_peer`. Without it every such message is dropped.
   */
  readonly admit?: (msg: M, from: string) => NodeId | undefined;
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
  /** Socket receive buffer to ask for, bytes (default {@link RECV_BUFFER_BYTES}; the OS may cap it, e.g. at Linux's net.core.rmem_max). */
  readonly recvBufferBytes?: number;
  /** Shared keys: with them every datagram is sealed and only sealed datagrams are accepted (see {@link UdpHost.setKeyring}). */
  readonly keyring?: Keyring;
  /** Wall clock in ms since 1970, for the replay window of sealed datagrams (default `Date.now`). */
  readonly wallClockMs?: () => number;
  /** A sealed datagram stamped more than this far from the wall clock is a replay (ms, default 30,000). */
  readonly replayWindowMs?: number;
  /** Client requests queued per source address (default 64). */
  readonly clientQueuePerSource?: number;
  /** Client requests queued over all sources (default 4096). */
  readonly clientQueueTotal?: number;
  /** Client requests served per turn of the event loop (default 16). */
  readonly clientBatch?: number;
  /**
   * Client requests accepted per second from one source address (token
   * bucket, burst of one second's worth; default {@link CLIENT_RATE_PER_SOURCE};
   * 0 = unlimited). Checked before any decryption, so excess costs almost nothing.
   */
  readonly clientRatePerSource?: number;
}

/**
 * Default socket receive buffer, bytes: 128 KiB (Linux counts about twice that, some 100 full
 * datagrams). Enough for the bursts a node that keeps up sees; a larger buffer only lengthens the
 * queue a request waits in when a flood outruns the node (measured: gets under a flood were
 * answered 2-3 times sooner than with 1 MiB; see the README's Floods).
 */
export const RECV_BUFFER_BYTES = 128 * 1024;

/** Default client requests per second accepted from one source address. */
export const CLIENT_RATE_PER_SOURCE = 1000;
/** Source addresses whose token buckets are remembered (the oldest are forgotten beyond this). */
const BUCKETS_REMEMBERED = 10_000;

/** Default replay window of sealed datagrams, ms. */
export const REPLAY_WINDOW_MS = 30_000;
/** Nonces of sealed client requests remembered for replay detection. */
const NONCES_REMEMBERED = 200_000;

interface PendingRequest<M> {
  readonly msg: M;
  readonly id: number;
  readonly from: string;
  readonly requestBytes: number;
  readonly framed: boolean;
}

/**
 * A datagram in a client queue: a non-member's datagram as read (opened and
 * decoded only when its turn comes), or a member's request already decoded.
 */
type Queued<M> = { readonly from: string; readonly bytes: Uint8Array; readonly request?: PendingRequest<M> };

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
  /** Not sealed with a key of the keyring (or sealed, to a node without a key). */
  dropped_unauthenticated: number;
  /** Sealed datagrams outside the replay window, or client requests whose nonce was seen before. */
  dropped_replay: number;
  /** Client requests dropped because their source's queue (or all queues) was full. */
  dropped_client_overload: number;
  /** Client replies not sent because they were larger than the request (no amplification). */
  dropped_amplification: number;
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
    dropped_unauthenticated: 0,
    dropped_replay: 0,
    dropped_client_overload: 0,
    dropped_amplification: 0,
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
  private readonly clientQueues = new Map<string, Queued<M>[]>();
  private clientQueued = 0;
  private drainScheduled = false;
  private readonly nonces = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; atNs: number }>();
  private nonceFloorMs = -Infinity;
  private keyring: Keyring | undefined;
  private readonly wallMs: () => number;
  private readonly answering = new Set<string>();
  private readonly peersSeen = new Map<NodeId, number>();
  private readonly clock: () => number;
  private readonly maxBytes: number;
  private readonly log: (e: HostLogEvent) => void;
  private bound: UdpAddress | undefined;
  private closed = false;
  private sendsInFlight = 0;
  private sendsDone: (() => void) | undefined;

  constructor(private readonly opts: UdpHostOptions<M, C, R>) {
    this.clock = opts.clockNs ?? monotonicClockNs();
    this.maxBytes = opts.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.log = opts.onLog ?? ((): void => {});
    this.keyring = opts.keyring;
    this.wallMs = opts.wallClockMs ?? Date.now;
    this.socket = dgram.createSocket({ type: 'udp4' });
  }

  /**
   * Replaces the keyring (a reloaded key file), or removes it. Datagrams in
   * flight sealed with a key still in the new ring keep opening.
   */
  setKeyring(keyring: Keyring | undefined): void {
    this.keyring = keyring;
  }

  /** True when the host seals and authenticates its datagrams. */
  get authenticated(): boolean {
    return this.keyring !== undefined;
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
      this.socket.setRecvBufferSize(this.opts.recvBufferBytes ?? RECV_BUFFER_BYTES);
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
    // Datagrams already handed to the socket (a leave announced at shutdown) go out before it closes.
    if (this.sendsInFlight > 0) await new Promise<void>((resolve) => (this.sendsDone = resolve));
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /**
   * Runs `fn` as an input of the node from outside (e.g. a graceful leave before {@link close}) and
   * carries out the actions it queued, like any other input. Does nothing once closed.
   */
  input(fn: (nowNs: number) => void): void {
    this.guard('input', () => fn(this.clock()));
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
      dropped_unauthenticated: c.dropped_unauthenticated,
      dropped_replay: c.dropped_replay,
      dropped_client_overload: c.dropped_client_overload,
      dropped_amplification: c.dropped_amplification,
      client_queued: this.clientQueued,
      authenticated: this.keyring === undefined ? 0 : 1,
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
    if (bytes.length > this.maxBytes + SEALED_OVERHEAD) return this.drop('oversized', from, `${bytes.length} bytes`);
    const member = this.opts.membership.idOf(from);
    if (member === undefined && this.opts.client !== undefined) {
      // A non-member can only be a client: queue the datagram as it is, and open it in its turn
      // (drainClients). Reading stays cheap, so the socket buffer drains and a flood from one
      // source fills its own queue, not the buffer other clients and peers share.
      if (this.queueFull(from)) return this.drop('client_overload', from, 'request queue full');
      if (!this.takeToken(from)) return this.drop('client_overload', from, 'over the per-source request rate');
      return this.enqueue({ from, bytes });
    }
    this.handleDatagram(bytes, from, member);
  }

  /** Opens, decodes and routes one datagram: a client request is queued (a member's) or answered (in its turn), the rest go to the node. */
  private handleDatagram(bytes: Uint8Array, from: string, member: NodeId | undefined, inTurn = false): void {
    let payload: Uint8Array = bytes;
    let nonce: { id: string; sentAtMs: number } | undefined;
    const ring = this.keyring;
    if (ring !== undefined) {
      const r = ring.open(bytes);
      if (!r.ok)
        return this.drop(
          r.reason,
          from,
          r.reason === 'unauthenticated' ? (isSealed(bytes) ? 'sealed with an unknown key, or altered' : 'not sealed') : 'bad envelope',
        );
      const wall = this.wallMs();
      const window = this.opts.replayWindowMs ?? REPLAY_WINDOW_MS;
      if (!(Math.abs(wall - r.sentAtMs) <= window))
        return this.drop('replay', from, `stamped ${Math.round(wall - r.sentAtMs)} ms from this node's clock (window ${window} ms)`);
      payload = r.payload;
      nonce = { id: r.nonce, sentAtMs: r.sentAtMs };
    } else if (isEnvelope(bytes)) {
      if (isSealed(bytes)) return this.drop('unauthenticated', from, 'sealed, but this node has no key');
      const r = openPlain(bytes);
      if (!r.ok) return this.drop(r.reason === 'unauthenticated' ? 'malformed' : r.reason, from, 'bad envelope');
      payload = r.payload;
    }
    let msg: M;
    try {
      msg = this.opts.codec.decode(payload);
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
    if (requestId !== undefined) {
      if (nonce !== undefined && !this.freshNonce(nonce.id, nonce.sentAtMs)) return this.drop('replay', from, 'a sealed request seen before');
      const request: PendingRequest<M> = { msg, id: requestId, from, requestBytes: bytes.length, framed: isEnvelope(bytes) };
      if (inTurn) return this.onClient(request);
      return this.enqueue({ from, bytes, request });
    }
    let peer = member;
    if (peer === undefined && this.opts.admit !== undefined) {
      try {
        peer = this.opts.admit(msg, from);
      } catch (err) {
        this.counters.handler_errors++;
        this.log({ kind: 'error', where: 'admit', detail: message(err) });
        return;
      }
    }
    if (peer === undefined || peer === this.opts.membership.self) return this.drop('unknown_peer', from, 'not a cluster member');
    this.counters.messages_in++;
    this.counters.bytes_in += bytes.length;
    this.peersSeen.set(peer, this.clock());
    this.guard('message', () => this.opts.node.handleMessage(peer, msg, this.clock()));
  }

  /**
   * Remembers a sealed request's nonce; false if it was seen before. When the
   * memory is full the oldest nonces are forgotten and requests stamped no
   * later than the newest forgotten one are refused from then on, so a
   * forgotten nonce can never be replayed.
   */
  private freshNonce(nonce: string, sentAtMs: number): boolean {
    if (this.nonces.has(nonce) || sentAtMs <= this.nonceFloorMs) return false;
    const oldest = this.wallMs() - (this.opts.replayWindowMs ?? REPLAY_WINDOW_MS);
    // Map order is arrival order: forget from the front while a nonce is outside the window
    // (such a datagram is refused anyway) or the memory is full.
    for (const [n, at] of this.nonces) {
      if (at >= oldest && this.nonces.size < NONCES_REMEMBERED) break;
      this.nonces.delete(n);
      if (at >= oldest) this.nonceFloorMs = Math.max(this.nonceFloorMs, at);
    }
    this.nonces.set(nonce, sentAtMs);
    return true;
  }

  /** Token bucket per source address: false when `from` is over its request rate. */
  private takeToken(from: string): boolean {
    const rate = this.opts.clientRatePerSource ?? CLIENT_RATE_PER_SOURCE;
    if (rate <= 0) return true;
    const now = this.clock();
    let b = this.buckets.get(from);
    if (b === undefined) {
      b = { tokens: rate, atNs: now };
      this.buckets.set(from, b);
      if (this.buckets.size > BUCKETS_REMEMBERED) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.atNs) / 1e9) * rate);
      b.atNs = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private queueFull(from: string): boolean {
    const q = this.clientQueues.get(from);
    return (q !== undefined && q.length >= (this.opts.clientQueuePerSource ?? 64)) || this.clientQueued >= (this.opts.clientQueueTotal ?? 4096);
  }

  private enqueue(r: Queued<M>): void {
    if (this.queueFull(r.from)) return this.drop('client_overload', r.from, 'request queue full');
    let q = this.clientQueues.get(r.from);
    if (q === undefined) {
      q = [];
      this.clientQueues.set(r.from, q);
    }
    q.push(r);
    this.clientQueued++;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => this.drainClients());
    }
  }

  /** Serves queued client requests round-robin by source, at most `clientBatch` now; the rest after other I/O. */
  private drainClients(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    let budget = this.opts.clientBatch ?? 16;
    while (budget > 0 && this.clientQueued > 0) {
      for (const [from, q] of this.clientQueues) {
        const r = q.shift();
        if (q.length === 0) this.clientQueues.delete(from);
        if (r === undefined) continue;
        this.clientQueued--;
        if (r.request !== undefined) this.onClient(r.request);
        else this.handleDatagram(r.bytes, r.from, undefined, true);
        if (--budget === 0) break;
      }
    }
    if (this.clientQueued > 0 && !this.closed) {
      this.drainScheduled = true;
      setImmediate(() => this.drainClients());
    }
  }

  private onClient(r: PendingRequest<M>): void {
    const client = this.opts.client as ClientService<M>;
    this.counters.client_requests++;
    const cacheKey = `${r.from}/${r.id}`;
    const out = this.replies.get(cacheKey);
    if (out !== undefined || this.answering.has(cacheKey)) {
      this.counters.client_retries++;
      if (out !== undefined) this.sendReply(out, r);
      return;
    }
    let reply: M | Promise<M> | undefined;
    this.guard('client', () => {
      reply = client.answer(r.msg, this.clock(), () => this.stats());
    });
    if (reply === undefined) return;
    if (reply instanceof Promise) {
      this.answering.add(cacheKey);
      reply.then(
        (m) => {
          this.answering.delete(cacheKey);
          this.encodeReply(m, cacheKey, r);
        },
        (err: unknown) => {
          this.answering.delete(cacheKey);
          this.counters.handler_errors++;
          this.log({ kind: 'error', where: 'client', detail: message(err) });
        },
      );
      return;
    }
    this.encodeReply(reply, cacheKey, r);
  }

  private encodeReply(reply: M, cacheKey: string, r: PendingRequest<M>): void {
    if (this.closed) return;
    let out: Uint8Array;
    try {
      out = this.opts.codec.encode(reply);
    } catch (err) {
      this.counters.handler_errors++;
      this.log({ kind: 'error', where: 'encode', detail: message(err) });
      return;
    }
    this.remember(cacheKey, out);
    this.sendReply(out, r);
  }

  /** Wraps a reply like its request (sealed, framed or bare) and sends it, unless it would be larger than the request. */
  private sendReply(payload: Uint8Array, r: PendingRequest<M>): void {
    const ring = this.keyring;
    const out = ring !== undefined ? ring.seal(payload, this.wallMs()) : r.framed ? framePlain(payload) : payload;
    if (out.length > r.requestBytes) {
      return this.drop(
        'amplification',
        r.from,
        `reply of ${out.length} bytes withheld: larger than the ${r.requestBytes}-byte request (clients pad their requests)`,
      );
    }
    this.sendBytes(out, r.from);
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
    const ring = this.keyring;
    if (ring !== undefined) bytes = ring.seal(bytes, this.wallMs());
    this.counters.messages_out++;
    this.counters.bytes_out += bytes.length;
    this.sendBytes(bytes, formatAddress(addr));
  }

  private sendBytes(bytes: Uint8Array, to: string): void {
    if (this.closed) return;
    const i = to.lastIndexOf(':');
    this.sendsInFlight++;
    this.socket.send(bytes, Number(to.slice(i + 1)), to.slice(0, i), (err) => {
      if (--this.sendsInFlight === 0 && this.sendsDone !== undefined) this.sendsDone();
      if (err !== null && err !== undefined) {
        this.counters.send_errors++;
        this.log({ kind: 'error', where: 'send', detail: err.message });
      }
    });
  }
}

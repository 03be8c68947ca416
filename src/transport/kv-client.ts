/**
 * The client of a real gossip node: `client-request` / `client-reply`
 * messages of the gossip wire format (see `protocols/gossip/wire.ts`) over
 * UDP, with a request id, a per-attempt timeout and a bounded number of retries.
 *
 * Each request gets a fresh 32-bit id; an attempt sends the datagram and waits
 * for a `client-reply` carrying that id (replies with other ids, late
 * duplicates and garbage are ignored). On timeout the same datagram, same id,
 * is sent again; the node answers a retried id from its reply cache, so a put
 * is applied once even if its first reply was lost. After `1 + retries`
 * attempts the request fails with {@link KvTimeoutError}. `members` speaks the SWIM wire
 * (`swim-wire.ts`) the same way: a `members-request` per page of the table, a `members-reply` back.
 *
 * Envelopes (`envelope.ts`). With a keyring every attempt is sealed afresh
 * (a new nonce: the node drops a nonce it has seen as a replay) and only
 * replies that open with the keyring are taken. Without one, requests go as
 * padded plain frames. Either way a request is padded to the MTU, so the node,
 * which never answers with more bytes than it received, can always answer.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { DEFAULT_CONFIG } from '../protocols/gossip/config.js';
import type { Value } from '../protocols/gossip/store.js';
import { decode, encode, encodedSize, type KvAck, type KvCall, type KvReply } from '../protocols/gossip/wire.js';
import { formatAddress, type UdpAddress } from './address.js';
import { framePlain, isEnvelope, isSealed, openPlain, SEALED_OVERHEAD, type Keyring } from './envelope.js';
import { decodeSwim, encodeSwim, isSwimPayload, type MemberRow } from './swim-wire.js';

/** Most pages `members` asks for (64 rows each): a table of at most 65,536 members. */
const MAX_MEMBER_PAGES = 1024;

/** Options of a {@link KvClient}. */
export interface KvClientOptions {
  /** The node to talk to. */
  readonly node: UdpAddress;
  /** Wait for a reply per attempt, milliseconds (default 500). */
  readonly timeoutMs?: number;
  /** Attempts after the first (default 3). */
  readonly retries?: number;
  /** Largest request message, bytes (default: the gossip default MTU, 1400); requests are padded to it. */
  readonly mtuBytes?: number;
  /** Shared keys (`--key-file`): requests sealed with the primary key, replies must open. */
  readonly keyring?: Keyring;
}

/** No reply after every attempt. */
export class KvTimeoutError extends Error {
  override readonly name = 'KvTimeoutError';
}

/** The node answered with an error. */
export class KvRemoteError extends Error {
  override readonly name = 'KvRemoteError';
}

/** The request cannot be sent (key or value too large for one datagram). A usage error. */
export class KvRequestError extends Error {
  override readonly name = 'KvRequestError';
}

/** One page of a member table. */
interface MembersPage {
  readonly total: number;
  readonly rows: readonly MemberRow[];
}

/** A UDP client of one node. Close it when done (it holds a socket). */
export class KvClient {
  private readonly socket: dgram.Socket;
  private readonly pending = new Map<number, (r: KvReply | MembersPage) => void>();
  private nextId = randomInt(0, 0xffffffff);
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: KvClientOptions) {
    this.socket = dgram.createSocket({ type: 'udp4' });
    this.socket.on('message', (buf) => this.onReply(buf));
    this.socket.on('error', () => {
      // A send error shows up as a timeout of the request; nothing else to do.
    });
  }

  /**
   * Stores `value` under `key`; resolves with the version written (writer
   * timestamp, origin node id) once the node has it on disk, and with `ack`
   * once `ack.replicas` nodes hold it (a {@link KvRemoteError} saying how
   * many did after `ack.timeoutMs`).
   */
  async put(key: string, value: Value, ack?: KvAck): Promise<{ ts: number; origin: number }> {
    const r = this.expectOk(await this.call(ack === undefined ? { op: 'put', key, value } : { op: 'put', key, value, ack }));
    return r.op === 'put' ? { ts: r.ts, origin: r.origin } : { ts: -1, origin: -1 };
  }

  /** The value under `key`, or undefined if the node has none (never written, or deleted). */
  async get(key: string): Promise<Value | undefined> {
    const r = this.expectOk(await this.call({ op: 'get', key }));
    return r.op === 'get' && r.found ? r.value : undefined;
  }

  /** Deletes `key` (writes a tombstone, which gossip spreads like a put); acknowledged like {@link KvClient.put}. */
  async del(key: string, ack?: KvAck): Promise<void> {
    this.expectOk(await this.call(ack === undefined ? { op: 'delete', key } : { op: 'delete', key, ack }));
  }

  /** The node's figures: the protocol's and the UDP host's (`dropped_*`, `messages_in`, `peers_seen`, ...). */
  async stats(): Promise<Readonly<Record<string, number>>> {
    const r = this.expectOk(await this.call({ op: 'stats' }));
    return r.op === 'stats' ? r.stats : {};
  }

  /**
   * The node's SWIM member table (address, state, incarnation), in address order: asked page by
   * page, so a table of any size fits the datagrams. Rejects like {@link KvClient.call}.
   */
  async members(): Promise<MemberRow[]> {
    const rows: MemberRow[] = [];
    for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
      const id = this.takeId();
      const reply = await this.exchange(id, encodeSwim({ type: 'members-request', id, offset: rows.length }), 0);
      if (!('rows' in reply)) throw new KvRemoteError('the node answered a members request with a kv reply');
      rows.push(...reply.rows);
      if (reply.rows.length === 0 || rows.length >= reply.total) return rows;
    }
    return rows;
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
  }

  /**
   * Sends one call and resolves with the node's reply (ok or not). Rejects
   * with {@link KvTimeoutError} after all attempts, or {@link KvRequestError}
   * if the call does not fit in a datagram.
   */
  async call(call: KvCall): Promise<KvReply> {
    const id = this.takeId();
    const msg = { type: 'client-request', id, call } as const;
    const mtu = this.opts.mtuBytes ?? DEFAULT_CONFIG.mtuBytes;
    let bytes: Uint8Array;
    try {
      const size = encodedSize(msg);
      if (size > mtu) throw new RangeError(`the request takes ${size} bytes; at most ${mtu} fit in one datagram`);
      bytes = encode(msg);
    } catch (err) {
      throw new KvRequestError(err instanceof Error ? err.message : String(err));
    }
    // A replicated write is answered only after its ack wait: each attempt waits that much longer.
    const ackMs = (call.op === 'put' || call.op === 'delete') && call.ack !== undefined ? call.ack.timeoutMs : 0;
    const reply = await this.exchange(id, bytes, ackMs);
    if ('rows' in reply) throw new KvRemoteError('the node answered a kv request with a members reply');
    return reply;
  }

  /** Sends `bytes` (request `id`), padded and sealed afresh per attempt, until a reply with that id comes back. */
  private async exchange(id: number, bytes: Uint8Array, extraWaitMs: number): Promise<KvReply | MembersPage> {
    const mtu = this.opts.mtuBytes ?? DEFAULT_CONFIG.mtuBytes;
    await this.bind();
    const ring = this.opts.keyring;
    const wrap = (): Uint8Array =>
      ring !== undefined ? ring.seal(bytes, Date.now(), mtu + SEALED_OVERHEAD) : framePlain(bytes, mtu + SEALED_OVERHEAD);
    const timeoutMs = (this.opts.timeoutMs ?? 500) + extraWaitMs;
    const attempts = 1 + (this.opts.retries ?? 3);
    try {
      for (let i = 0; i < attempts; i++) {
        const reply = await new Promise<KvReply | MembersPage | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          this.pending.set(id, (r) => {
            clearTimeout(timer);
            resolve(r);
          });
          this.socket.send(wrap(), this.opts.node.port, this.opts.node.host);
        });
        if (reply !== undefined) return reply;
      }
    } finally {
      this.pending.delete(id);
    }
    throw new KvTimeoutError(`no reply from ${formatAddress(this.opts.node)} after ${attempts} attempts of ${timeoutMs} ms`);
  }

  /** Closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private bind(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, this.opts.node.host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0', () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    return this.ready;
  }

  private onReply(buf: Uint8Array): void {
    const ring = this.opts.keyring;
    let payload: Uint8Array = buf;
    if (ring !== undefined) {
      const r = ring.open(buf);
      if (!r.ok) return;
      payload = r.payload;
    } else if (isEnvelope(buf)) {
      if (isSealed(buf)) return;
      const r = openPlain(buf);
      if (!r.ok) return;
      payload = r.payload;
    }
    let id: number;
    let reply: KvReply | MembersPage;
    try {
      if (isSwimPayload(payload)) {
        const p = decodeSwim(payload);
        if (p.type !== 'members-reply') return;
        id = p.id;
        reply = p;
      } else {
        const msg = decode(payload);
        if (msg.type !== 'client-reply') return;
        id = msg.id;
        reply = msg.reply;
      }
    } catch {
      return;
    }
    const resolve = this.pending.get(id);
    if (resolve === undefined) return;
    this.pending.delete(id);
    resolve(reply);
  }

  private expectOk(r: KvReply): Exclude<KvReply, { ok: false }> {
    if (!r.ok) throw new KvRemoteError(r.error);
    return r;
  }
}

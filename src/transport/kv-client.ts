/**
 * The client side of the client wire: request/response over UDP with a
 * request id, a per-attempt timeout and a bounded number of retries.
 *
 * Each request gets a fresh 32-bit id; an attempt sends the datagram and waits
 * for a reply carrying that id (replies with other ids, late duplicates and
 * garbage are ignored). On timeout the same datagram, same id, is sent again;
 * the node answers a retried id from its reply cache, so a put is applied once
 * even if its first reply was lost. After `1 + retries` attempts the request
 * fails with {@link KvTimeoutError}.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { formatAddress, type UdpAddress } from './address.js';
import { decodeReply, encodeRequest, type ClientReply, type ClientRequest } from './client-wire.js';

/** Options of a {@link KvClient}. */
export interface KvClientOptions {
  /** The node to talk to. */
  readonly node: UdpAddress;
  /** Wait for a reply per attempt, milliseconds (default 500). */
  readonly timeoutMs?: number;
  /** Attempts after the first (default 3). */
  readonly retries?: number;
}

/** No reply after every attempt. */
export class KvTimeoutError extends Error {
  override readonly name = 'KvTimeoutError';
}

/** The node answered with an error. */
export class KvRemoteError extends Error {
  override readonly name = 'KvRemoteError';
}

interface Pending {
  readonly resolve: (r: ClientReply) => void;
}

/** A UDP client of one node. Close it when done (it holds a socket). */
export class KvClient {
  private readonly socket: dgram.Socket;
  private readonly pending = new Map<number, Pending>();
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

  /** Stores `value` under `key`. */
  async put(key: string, value: string): Promise<void> {
    this.expectOk(await this.call({ op: 'put', key, value }));
  }

  /** The value under `key`, or undefined if the node has none. */
  async get(key: string): Promise<string | undefined> {
    const r = await this.call({ op: 'get', key });
    if (r.status === 'not_found') return undefined;
    return this.expectOk(r);
  }

  /** Deletes `key`; resolves false if the node did not have it. */
  async del(key: string): Promise<boolean> {
    const r = await this.call({ op: 'del', key });
    if (r.status === 'not_found') return false;
    this.expectOk(r);
    return true;
  }

  /** The node's counters (see `UdpHost.stats`). */
  async stats(): Promise<Record<string, unknown>> {
    return JSON.parse(this.expectOk(await this.call({ op: 'stats' }))) as Record<string, unknown>;
  }

  /**
   * Sends one request and resolves with the node's reply (any status).
   * Rejects with {@link KvTimeoutError} after all attempts, or with a
   * `ClientWireError` if the request does not fit in a datagram.
   */
  async call(req: ClientRequest): Promise<ClientReply> {
    const requestId = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const bytes = encodeRequest(requestId, req);
    await this.bind();
    const timeoutMs = this.opts.timeoutMs ?? 500;
    const attempts = 1 + (this.opts.retries ?? 3);
    try {
      for (let i = 0; i < attempts; i++) {
        const reply = await new Promise<ClientReply | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          this.pending.set(requestId, {
            resolve: (r) => {
              clearTimeout(timer);
              resolve(r);
            },
          });
          this.socket.send(bytes, this.opts.node.port, this.opts.node.host);
        });
        if (reply !== undefined) return reply;
      }
    } finally {
      this.pending.delete(requestId);
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
    let decoded: ReturnType<typeof decodeReply>;
    try {
      decoded = decodeReply(buf);
    } catch {
      return;
    }
    const p = this.pending.get(decoded.requestId);
    if (p === undefined) return;
    this.pending.delete(decoded.requestId);
    p.resolve(decoded.reply);
  }

  private expectOk(r: ClientReply): string {
    if (r.status === 'ok') return r.value ?? '';
    if (r.status === 'error') throw new KvRemoteError(r.message);
    throw new KvRemoteError('not found');
  }
}

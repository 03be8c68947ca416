/**
 * The SWIM wire format of the real nodes: SWIM's messages (`protocols/swim/wire.ts`) with every member
 * named by its UDP address instead of a node id, and the `kv members` request and reply. They travel on
 * the gossip node's socket inside the same envelope (`envelope.ts`) as the gossip messages, told apart
 * by their magic bytes.
 *
 * Why addresses: the sans-I/O {@link SwimNode} names members by small integers, and a node that joins
 * through one seed cannot know the ids others gave to the rest. So ids stay local to each node (its
 * address book, `swim-udp.ts`) and the wire carries addresses.
 *
 * Layout (big-endian). Header: magic `0x53 0x57` ("SW"), format version (1), type code.
 * `addr` = IPv4 (4 bytes) + port (u16, not 0); `inc` = f64 holding an integer in [0, 2^53);
 * `seq` likewise; an update = u8 kind (1 alive, 2 suspect, 3 dead, 4 left), addr member, inc, addr from
 * (21 bytes); `updates` = u8 n, n × update.
 *
 * | code | type            | body                                                              |
 * |------|-----------------|-------------------------------------------------------------------|
 * | 1    | ping            | seq, updates                                                      |
 * | 2    | ping-req        | seq, addr target, updates                                         |
 * | 3    | ack             | seq, updates                                                      |
 * | 4    | nack            | seq, updates                                                      |
 * | 5    | sync            | u8 flags (1 reply), u16 m, m × update (the table), updates        |
 * | 6    | piggyback       | updates, then one store message in the gossip wire, to the end    |
 * | 32   | members-request | u32 id, u32 offset                                                |
 * | 33   | members-reply   | u32 id, u32 total, u32 offset, u16 n, n × (addr, u8 state, inc)    |
 *
 * `piggyback` is `SwimStoreNode`'s store message carrying SWIM's waiting updates (issue 17): the store
 * part is a peer message of the gossip wire (`protocols/gossip/wire.ts`, its own magic and version), never
 * a client request or reply.
 *
 * {@link decodeSwim} throws {@link SwimWireError} on anything malformed, including trailing bytes (a
 * store part the gossip wire refuses too, with that refusal's reason: `version` or `malformed`).
 */
import {
  decode as decodeGossip,
  encode as encodeGossip,
  encodedSize as gossipEncodedSize,
  WireError,
  type GossipMessage,
} from '../protocols/gossip/wire.js';
import type { SwimMessage, Update, UpdateKind } from '../protocols/swim/wire.js';

/** Magic bytes of a SWIM datagram ("SW"); gossip messages start with "GS". */
export const SWIM_MAGIC = [0x53, 0x57] as const;
/** Version of this format. */
export const SWIM_WIRE_VERSION = 1;
/** Bytes of the header (magic, version, type). */
export const SWIM_HEADER_BYTES = 4;
/** Bytes of one update on the wire. */
export const WIRE_UPDATE_BYTES = 21;
/** Bytes of one row of a members reply. */
export const MEMBER_ROW_BYTES = 15;
/** Bytes of a sync message before its records: header, flags, u16 table length, u8 update count. */
export const SYNC_HEADER_BYTES = SWIM_HEADER_BYTES + 4;
/** Bytes of a members reply before its rows. */
export const MEMBERS_REPLY_HEADER_BYTES = SWIM_HEADER_BYTES + 14;
/** Most updates one message may carry (u8 count). */
export const MAX_WIRE_UPDATES = 255;

/** A membership update with its member and its author named by address (`host:port`). */
export interface WireUpdate {
  readonly kind: UpdateKind;
  readonly node: string;
  readonly incarnation: number;
  readonly from: string;
}

/** One of SWIM's messages with its member ids (`target`, and every update's `node` and `from`) as addresses. */
type Addressed<M> = {
  readonly [K in keyof M]: K extends 'target' ? string : M[K] extends readonly Update[] ? readonly WireUpdate[] : M[K];
};

/**
 * A SWIM message as it travels between real nodes: each kind of the protocol's {@link SwimMessage},
 * member ids replaced by addresses (derived, so a new kind there is a new kind here, and
 * {@link MSG_CODES} and the encoder's switches do not compile until it has a code and a layout).
 */
export type SwimWireMessage = SwimMessage extends infer M ? (M extends SwimMessage ? Addressed<M> : never) : never;

/** A member's state as `kv members` shows it. */
export type MemberStateName = 'alive' | 'suspect' | 'dead' | 'left';

/** One row of `kv members`. */
export interface MemberRow {
  readonly address: string;
  readonly state: MemberStateName;
  readonly incarnation: number;
}

/** Everything with the SWIM magic: a peer's SWIM message, or a `kv members` request or reply. */
export type SwimPacket =
  | { readonly type: 'swim'; readonly msg: SwimWireMessage }
  /** A store message with SWIM's updates riding on it (members by address). */
  | { readonly type: 'piggyback'; readonly updates: readonly WireUpdate[]; readonly store: GossipMessage }
  /** Asks for the member table from row `offset` (a client request: any source address). */
  | { readonly type: 'members-request'; readonly id: number; readonly offset: number }
  /** Rows `offset` .. `offset + rows.length - 1` of a table of `total` rows. */
  | { readonly type: 'members-reply'; readonly id: number; readonly total: number; readonly offset: number; readonly rows: readonly MemberRow[] };

/** Why a datagram is not a SWIM packet: `version` for another format version, `malformed` otherwise. */
export class SwimWireError extends Error {
  override readonly name = 'SwimWireError';
  constructor(
    readonly reason: 'malformed' | 'version',
    message: string,
  ) {
    super(message);
  }
}

const KINDS: readonly UpdateKind[] = ['alive', 'suspect', 'dead', 'left'];
const STATES: readonly MemberStateName[] = ['alive', 'suspect', 'dead', 'left'];
/** The type code of each of SWIM's message kinds (typed by the protocol's union: every kind needs one). */
const MSG_CODES: Readonly<Record<SwimMessage['type'], number>> = { ping: 1, 'ping-req': 2, ack: 3, nack: 4, sync: 5 };
/** Kind by type code (the decoder's table). */
const MSG_KINDS: ReadonlyMap<number, SwimMessage['type']> = new Map((Object.keys(MSG_CODES) as SwimMessage['type'][]).map((t) => [MSG_CODES[t], t]));
/** Type codes of the `kv members` request and reply (not SWIM's). */
const MEMBERS_REQUEST_CODE = 32;
const MEMBERS_REPLY_CODE = 33;
/** Type code of a store message carrying SWIM's updates. */
const PIGGYBACK_CODE = 6;
/** Bytes of a piggyback message besides its updates and its store part: the header and the u8 count. */
export const PIGGYBACK_WIRE_OVERHEAD = SWIM_HEADER_BYTES + 1;

function unencoded(m: never): never {
  throw new RangeError(`no wire layout for SWIM message ${JSON.stringify(m)}`);
}

/** True when `bytes` starts with the SWIM magic (so it is not a gossip message). */
export function isSwimPayload(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === SWIM_MAGIC[0] && bytes[1] === SWIM_MAGIC[1];
}

/** The exact encoded size of `p`, bytes. */
export function swimEncodedSize(p: SwimPacket): number {
  switch (p.type) {
    case 'members-request':
      return SWIM_HEADER_BYTES + 8;
    case 'members-reply':
      return MEMBERS_REPLY_HEADER_BYTES + MEMBER_ROW_BYTES * p.rows.length;
    case 'piggyback':
      return PIGGYBACK_WIRE_OVERHEAD + WIRE_UPDATE_BYTES * p.updates.length + gossipEncodedSize(p.store);
    case 'swim': {
      const m = p.msg;
      const ups = 1 + WIRE_UPDATE_BYTES * m.updates.length;
      switch (m.type) {
        case 'sync':
          return SWIM_HEADER_BYTES + 3 + WIRE_UPDATE_BYTES * m.members.length + ups;
        case 'ping-req':
          return SWIM_HEADER_BYTES + 8 + 6 + ups;
        case 'ping':
        case 'ack':
        case 'nack':
          return SWIM_HEADER_BYTES + 8 + ups;
        default:
          return unencoded(m);
      }
    }
  }
}

class Writer {
  readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  u8(v: number): void {
    this.buf.writeUInt8(v, this.at);
    this.at += 1;
  }
  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.at);
    this.at += 2;
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.at);
    this.at += 4;
  }
  int(v: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be an integer in [0, 2^53), got ${v}`);
    this.buf.writeDoubleBE(v, this.at);
    this.at += 8;
  }
  addr(key: string): void {
    const i = key.lastIndexOf(':');
    const parts = key.slice(0, i).split('.').map(Number);
    const port = Number(key.slice(i + 1));
    if (
      i <= 0 ||
      parts.length !== 4 ||
      parts.some((b) => !Number.isInteger(b) || b < 0 || b > 255) ||
      !Number.isInteger(port) ||
      port < 1 ||
      port > 65535
    )
      throw new RangeError(`not an IPv4 HOST:PORT: ${key}`);
    for (const b of parts) this.u8(b);
    this.u16(port);
  }
  update(u: WireUpdate): void {
    this.u8(KINDS.indexOf(u.kind) + 1);
    this.addr(u.node);
    this.int(u.incarnation, 'an incarnation');
    this.addr(u.from);
  }
  updates(us: readonly WireUpdate[]): void {
    if (us.length > MAX_WIRE_UPDATES) throw new RangeError(`at most ${MAX_WIRE_UPDATES} updates ride on one message, got ${us.length}`);
    this.u8(us.length);
    for (const u of us) this.update(u);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

/**
 * Encodes a block of SWIM updates (`updates` in the layout above: u8 n, n × 21 bytes), members by
 * address (`SwimDriver.updatesOut` translates ids). The building block of any message that carries
 * updates, such as updates riding on the store's gossip. Throws a RangeError past
 * {@link MAX_WIRE_UPDATES} or on an address the format cannot carry.
 */
export function encodeUpdates(us: readonly WireUpdate[]): Uint8Array {
  const w = new Writer(1 + WIRE_UPDATE_BYTES * us.length);
  w.updates(us);
  return w.buf;
}

/**
 * Decodes the block of updates at the start of `bytes`: the updates and the bytes they took (the rest
 * is the caller's). Throws {@link SwimWireError} on a truncated or malformed block.
 */
export function decodeUpdates(bytes: Uint8Array): { readonly updates: WireUpdate[]; readonly bytes: number } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const r = new Reader(b);
  const updates = r.updates();
  return { updates, bytes: r.offset };
}

/** Encodes a SWIM packet. Throws a RangeError on a value the format cannot carry. */
export function encodeSwim(p: SwimPacket): Uint8Array {
  if (p.type === 'piggyback') return encodePiggyback(p.updates, p.store);
  const w = new Writer(swimEncodedSize(p));
  w.u8(SWIM_MAGIC[0]);
  w.u8(SWIM_MAGIC[1]);
  w.u8(SWIM_WIRE_VERSION);
  switch (p.type) {
    case 'members-request':
      w.u8(MEMBERS_REQUEST_CODE);
      w.u32(p.id);
      w.u32(p.offset);
      break;
    case 'members-reply':
      w.u8(MEMBERS_REPLY_CODE);
      w.u32(p.id);
      w.u32(p.total);
      w.u32(p.offset);
      w.u16(p.rows.length);
      for (const r of p.rows) {
        w.addr(r.address);
        w.u8(STATES.indexOf(r.state) + 1);
        w.int(r.incarnation, 'an incarnation');
      }
      break;
    case 'swim': {
      const m = p.msg;
      w.u8(MSG_CODES[m.type]);
      switch (m.type) {
        case 'sync':
          w.u8(m.reply ? 1 : 0);
          if (m.members.length > 0xffff) throw new RangeError(`a sync carries at most 65535 records, got ${m.members.length}`);
          w.u16(m.members.length);
          for (const u of m.members) w.update(u);
          break;
        case 'ping-req':
          w.int(m.seq, 'a sequence number');
          w.addr(m.target);
          break;
        case 'ping':
        case 'ack':
        case 'nack':
          w.int(m.seq, 'a sequence number');
          break;
        default:
          unencoded(m);
      }
      w.updates(m.updates);
      break;
    }
  }
  return w.buf;
}

/** A piggyback message: the SWIM header and code, the updates, then the store message's own bytes. */
function encodePiggyback(updates: readonly WireUpdate[], store: GossipMessage): Uint8Array {
  if (store.type === 'client-request' || store.type === 'client-reply')
    throw new RangeError('a piggyback message carries a peer message, not a client one');
  const inner = encodeGossip(store);
  const w = new Writer(PIGGYBACK_WIRE_OVERHEAD + WIRE_UPDATE_BYTES * updates.length + inner.length);
  w.u8(SWIM_MAGIC[0]);
  w.u8(SWIM_MAGIC[1]);
  w.u8(SWIM_WIRE_VERSION);
  w.u8(PIGGYBACK_CODE);
  w.updates(updates);
  w.bytes(inner);
  return w.buf;
}

class Reader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  /** Bytes read so far. */
  get offset(): number {
    return this.at;
  }
  need(n: number): void {
    if (this.at + n > this.b.length) throw new SwimWireError('malformed', `truncated at byte ${this.at}`);
  }
  u8(): number {
    this.need(1);
    return this.b.readUInt8(this.at++);
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int(what: string): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.at);
    this.at += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw new SwimWireError('malformed', `${what} is not an integer in [0, 2^53)`);
    return v;
  }
  addr(): string {
    this.need(6);
    const b = this.b;
    const a = this.at;
    const port = b.readUInt16BE(a + 4);
    if (port === 0) throw new SwimWireError('malformed', `port 0 at byte ${a + 4}`);
    this.at += 6;
    return `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}:${port}`;
  }
  update(): WireUpdate {
    const k = KINDS[this.u8() - 1];
    if (k === undefined) throw new SwimWireError('malformed', 'unknown update kind');
    return { kind: k, node: this.addr(), incarnation: this.int('an incarnation'), from: this.addr() };
  }
  updates(): WireUpdate[] {
    const n = this.u8();
    const out: WireUpdate[] = [];
    for (let i = 0; i < n; i++) out.push(this.update());
    return out;
  }
  end(): void {
    if (this.at !== this.b.length) throw new SwimWireError('malformed', `${this.b.length - this.at} trailing bytes`);
  }
}

/** Decodes a SWIM packet. Throws {@link SwimWireError} on anything malformed. */
export function decodeSwim(bytes: Uint8Array): SwimPacket {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length < SWIM_HEADER_BYTES || !isSwimPayload(b)) throw new SwimWireError('malformed', 'not a SWIM datagram');
  if (b[2] !== SWIM_WIRE_VERSION) throw new SwimWireError('version', `SWIM wire version ${b[2]}, expected ${SWIM_WIRE_VERSION}`);
  const r = new Reader(b.subarray(SWIM_HEADER_BYTES));
  const code = b[3] as number;
  let p: SwimPacket;
  const kind = MSG_KINDS.get(code);
  switch (kind) {
    case 'ping':
    case 'ack':
    case 'nack':
      p = { type: 'swim', msg: { type: kind, seq: r.int('a sequence number'), updates: r.updates() } };
      break;
    case 'ping-req': {
      const seq = r.int('a sequence number');
      const target = r.addr();
      p = { type: 'swim', msg: { type: 'ping-req', seq, target, updates: r.updates() } };
      break;
    }
    case 'sync': {
      const flags = r.u8();
      if (flags > 1) throw new SwimWireError('malformed', `unknown sync flags ${flags}`);
      const m = r.u16();
      const members: WireUpdate[] = [];
      for (let i = 0; i < m; i++) members.push(r.update());
      p = { type: 'swim', msg: { type: 'sync', reply: flags === 1, members, updates: r.updates() } };
      break;
    }
    case undefined:
      if (code === PIGGYBACK_CODE) {
        const updates = r.updates();
        let store: GossipMessage;
        try {
          store = decodeGossip(b.subarray(SWIM_HEADER_BYTES + r.offset));
        } catch (err) {
          if (err instanceof WireError) throw new SwimWireError(err.reason === 'version' ? 'version' : 'malformed', `its store part: ${err.message}`);
          throw err;
        }
        if (store.type === 'client-request' || store.type === 'client-reply')
          throw new SwimWireError('malformed', `a piggyback message carries a ${store.type}`);
        return { type: 'piggyback', updates, store };
      }
      p = decodeMembers(code, r);
      break;
    default:
      return unencoded(kind);
  }
  r.end();
  return p;
}

/** Decodes a `kv members` request or reply (the codes that are not SWIM's). */
function decodeMembers(code: number, r: Reader): SwimPacket {
  switch (code) {
    case MEMBERS_REQUEST_CODE:
      return { type: 'members-request', id: r.u32(), offset: r.u32() };
    case MEMBERS_REPLY_CODE: {
      const id = r.u32();
      const total = r.u32();
      const offset = r.u32();
      const n = r.u16();
      const rows: MemberRow[] = [];
      for (let i = 0; i < n; i++) {
        const address = r.addr();
        const state = STATES[r.u8() - 1];
        if (state === undefined) throw new SwimWireError('malformed', 'unknown member state');
        rows.push({ address, state, incarnation: r.int('an incarnation') });
      }
      return { type: 'members-reply', id, total, offset, rows };
    }
    default:
      throw new SwimWireError('malformed', `unknown SWIM message type ${code}`);
  }
}

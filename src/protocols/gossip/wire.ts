/**
 * The gossip wire format: every {@link GossipMessage} as compact, versioned
 * binary, shared by the simulator (for exact sizes) and the UDP driver.
 *
 * Layout (big-endian). Header: magic `0x47 0x53` ("GS"), format version
 * (1), type code. Strings: `str8` = u8 byte length + UTF-8 (keys, at most
 * 255 bytes), `str16` = u16 length + UTF-8 (string values, errors).
 * A version is `ts` (f64 holding an integer ns in [0, 2^53)) + `origin` (u32).
 * A value is a tag byte: 0 tombstone, 1 null, 2 false, 3 true, 4 number (f64,
 * finite), 5 string (str16).
 *
 * | code | type           | body                                                              |
 * |------|----------------|-------------------------------------------------------------------|
 * | 1    | rumor          | u8 flags (1 pull, 2 reply), u16 n, n × entry                       |
 * | 2    | feedback       | u16 n, n × ref                                                     |
 * | 3    | digest         | u16 buckets, u16 start, u16 count, u8 form: 0 dense: count × u32 hash; 1 sparse: u16 n, n × (u16 bucket, u32 hash) |
 * | 4    | summary        | u16 buckets, u16 bucket, u8 flags (1 first, 2 last, 4 inline), u16 n, n × ref [+ u8 has-value, value when flag 4] |
 * | 5    | delta          | u16 n, n × entry                                                   |
 * | 6    | request        | u16 n, n × str8 key                                                |
 * | 7    | learned        | u16 n, n × ref                                                     |
 * | 32   | client-request | u32 id, u8 op (1 put, 2 get, 3 delete, 4 stats; +0x80: an ack follows), [str8 key], [value], [u8 replicas, u32 timeout ms] |
 * | 33   | client-reply   | u32 id, u8 op, u8 ok, then error str16, or per op (see encode)     |
 *
 * entry = str8 key, ts, origin, value; ref = str8 key, ts, origin.
 * Codes 8..31 and 34..63 are reserved. {@link encodedSize} equals
 * `encode(m).length` exactly (tested), so simulated sends cost no encoding.
 * {@link decode} throws {@link WireError} on anything malformed, including
 * trailing bytes.
 */
import type { Entry, Value } from './store.js';

/** Magic bytes and format version. */
export const WIRE_MAGIC_0 = 0x47;
export const WIRE_MAGIC_1 = 0x53;
export const WIRE_VERSION = 1;
/** Bytes of the header (magic, version, type). */
export const HEADER_BYTES = 4;
/** Longest key (UTF-8 bytes). */
export const MAX_KEY_BYTES = 255;
/** Longest string value (UTF-8 bytes); an entry must also fit the MTU. */
export const MAX_STRING_BYTES = 65535;

/** A version of a key without its value. */
export interface VersionRef {
  readonly key: string;
  readonly ts: number;
  readonly origin: number;
}

/**
 * How many nodes must hold a write before the client is answered
 * (`replicas`, this node included, 1..255), and how long to wait for them,
 * ms (0..2^32-1). Absent: the node that took the write. The simulator's node
 * ignores it; the UDP driver waits (see `transport/replication.ts`).
 */
export interface KvAck {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** A client call (also what {@link GossipNode.handleCall} takes). */
export type KvCall =
  | { readonly op: 'put'; readonly key: string; readonly value: Value; readonly ack?: KvAck }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string; readonly ack?: KvAck }
  | { readonly op: 'stats' };

/** The reply to a {@link KvCall}. `ts`/`origin` are the version written or read (-1/-1 when not found). */
export type KvReply =
  | { readonly op: 'put' | 'delete'; readonly ok: true; readonly ts: number; readonly origin: number }
  | { readonly op: 'get'; readonly ok: true; readonly found: boolean; readonly value: Value; readonly ts: number; readonly origin: number }
  | { readonly op: 'stats'; readonly ok: true; readonly stats: Readonly<Record<string, number>> }
  | { readonly op: KvCall['op']; readonly ok: false; readonly error: string };

/** Every message gossip nodes (and their clients) exchange. */
export type GossipMessage =
  /** Hot rumors. `pull` asks the recipient to answer with its own hot rumors; `reply` marks that answer. */
  | { readonly type: 'rumor'; readonly rumors: readonly Entry[]; readonly pull: boolean; readonly reply: boolean }
  /** Feedback: the rumors (of a `rumor` message) the recipient already knew. */
  | { readonly type: 'feedback'; readonly known: readonly VersionRef[] }
  /** The rumors (of a `rumor` message) that were new to the recipient: necessary contacts (feedback + counter with reset). */
  | { readonly type: 'learned'; readonly learned: readonly VersionRef[] }
  /**
   * Anti-entropy step 1: bucket hashes (of `buckets` in all). Dense form (no
   * `indices`): `hashes[i]` is bucket `start + i`. Sparse form (small
   * stores): `hashes[i]` is bucket `indices[i]` (increasing, within
   * `start .. start + count - 1`) and every other bucket of that range is
   * empty (hash 0).
   */
  | {
      readonly type: 'digest';
      readonly buckets: number;
      readonly start: number;
      readonly hashes: readonly number[];
      readonly indices?: readonly number[];
      readonly count?: number;
    }
  /**
   * Anti-entropy step 2: the versions the sender holds in `bucket` for a range
   * of keys: from the first item's key (or the start, if `first`) to the last
   * item's key (or the end, if `last`), complete within that range. An item
   * may be a whole {@link Entry} (small values travel inline, so the receiver
   * need not ask for them).
   */
  | {
      readonly type: 'summary';
      readonly buckets: number;
      readonly bucket: number;
      readonly first: boolean;
      readonly last: boolean;
      readonly items: readonly (VersionRef | Entry)[];
    }
  /** Entries pushed or answered (anti-entropy step 3/4). */
  | { readonly type: 'delta'; readonly entries: readonly Entry[] }
  /** Asks for the entries of these keys (anti-entropy pull). */
  | { readonly type: 'request'; readonly keys: readonly string[] }
  /** A client's call to a node; the node answers with `client-reply` carrying the same id. */
  | { readonly type: 'client-request'; readonly id: number; readonly call: KvCall }
  | { readonly type: 'client-reply'; readonly id: number; readonly reply: KvReply };

/** Why bytes could not be decoded. */
export type WireErrorReason = 'truncated' | 'magic' | 'version' | 'type' | 'field' | 'utf8' | 'trailing';

/** Malformed bytes. `reason` is one of a few fixed codes (a node counts drops by it). */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly reason: WireErrorReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}

const TYPE_CODES = {
  rumor: 1,
  feedback: 2,
  digest: 3,
  summary: 4,
  delta: 5,
  request: 6,
  learned: 7,
  'client-request': 32,
  'client-reply': 33,
} as const;
const OP_CODES = { put: 1, get: 2, delete: 3, stats: 4 } as const;
/** Set in a put's or delete's op byte when an ack requirement follows. */
const ACK_FLAG = 0x80;
const OPS = ['', 'put', 'get', 'delete', 'stats'] as const;

/** UTF-8 byte length of a string (counts lone surrogates as 3 bytes, like TextEncoder's U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Encoded size of a value (tag included). */
export function valueSize(v: Value, deleted = false): number {
  if (deleted) return 1;
  if (typeof v === 'number') return 9;
  if (typeof v === 'string') return 3 + utf8Length(v);
  return 1;
}

/** Encoded size of a version ref (key, ts, origin). */
export function refSize(key: string): number {
  return 1 + utf8Length(key) + 12;
}

/** True when a summary item carries its value (is a whole entry). */
export function isInline(item: VersionRef | Entry): item is Entry {
  return typeof (item as Partial<Entry>).deleted === 'boolean';
}

/** Encoded size of a summary item (`inline`: the message carries per-item value flags). */
export function summaryItemSize(item: VersionRef | Entry, inline: boolean): number {
  if (!inline) return refSize(item.key);
  return refSize(item.key) + 1 + (isInline(item) ? valueSize(item.value, item.deleted) : 0);
}

/** Encoded size of an entry. */
export function entrySize(e: Entry): number {
  return refSize(e.key) + valueSize(e.value, e.deleted);
}

/** Bytes of a rumor or delta message before its entries. */
export const LIST_OVERHEAD_RUMOR = HEADER_BYTES + 3;
export const LIST_OVERHEAD_DELTA = HEADER_BYTES + 2;
export const LIST_OVERHEAD_FEEDBACK = HEADER_BYTES + 2;
export const LIST_OVERHEAD_SUMMARY = HEADER_BYTES + 7;
export const LIST_OVERHEAD_REQUEST = HEADER_BYTES + 2;
export const LIST_OVERHEAD_DIGEST = HEADER_BYTES + 7;
/** Bytes of a sparse digest before its (bucket, hash) pairs. */
export const LIST_OVERHEAD_SPARSE_DIGEST = HEADER_BYTES + 9;

function callSize(c: KvCall): number {
  switch (c.op) {
    case 'put':
      return 1 + 1 + utf8Length(c.key) + valueSize(c.value) + (c.ack !== undefined ? 5 : 0);
    case 'get':
      return 1 + 1 + utf8Length(c.key);
    case 'delete':
      return 1 + 1 + utf8Length(c.key) + (c.ack !== undefined ? 5 : 0);
    case 'stats':
      return 1;
  }
}

function replySize(r: KvReply): number {
  if (!r.ok) return 2 + 2 + utf8Length(r.error);
  switch (r.op) {
    case 'put':
    case 'delete':
      return 2 + 12;
    case 'get':
      return 2 + 1 + valueSize(r.value) + 12;
    case 'stats': {
      let n = 2 + 2;
      for (const k of Object.keys(r.stats)) n += 1 + utf8Length(k) + 8;
      return n;
    }
  }
}

/** The exact length of `encode(msg)`. */
export function encodedSize(msg: GossipMessage): number {
  switch (msg.type) {
    case 'rumor': {
      let n = LIST_OVERHEAD_RUMOR;
      for (const e of msg.rumors) n += entrySize(e);
      return n;
    }
    case 'delta': {
      let n = LIST_OVERHEAD_DELTA;
      for (const e of msg.entries) n += entrySize(e);
      return n;
    }
    case 'feedback': {
      let n = LIST_OVERHEAD_FEEDBACK;
      for (const r of msg.known) n += refSize(r.key);
      return n;
    }
    case 'learned': {
      let n = LIST_OVERHEAD_FEEDBACK;
      for (const r of msg.learned) n += refSize(r.key);
      return n;
    }
    case 'digest':
      return msg.indices === undefined ? LIST_OVERHEAD_DIGEST + 4 * msg.hashes.length : LIST_OVERHEAD_SPARSE_DIGEST + 6 * msg.hashes.length;
    case 'summary': {
      let n = LIST_OVERHEAD_SUMMARY;
      const inline = msg.items.some(isInline);
      for (const r of msg.items) n += summaryItemSize(r, inline);
      return n;
    }
    case 'request': {
      let n = LIST_OVERHEAD_REQUEST;
      for (const k of msg.keys) n += 1 + utf8Length(k);
      return n;
    }
    case 'client-request':
      return HEADER_BYTES + 4 + callSize(msg.call);
    case 'client-reply':
      return HEADER_BYTES + 4 + replySize(msg.reply);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(x: number): void {
    this.view.setUint8(this.pos, x);
    this.pos += 1;
  }
  u16(x: number): void {
    if (!(x >= 0 && x <= 0xffff)) throw new RangeError(`wire: ${x} does not fit 16 bits`);
    this.view.setUint16(this.pos, x);
    this.pos += 2;
  }
  u32(x: number): void {
    this.view.setUint32(this.pos, x >>> 0);
    this.pos += 4;
  }
  f64(x: number): void {
    this.view.setFloat64(this.pos, x);
    this.pos += 8;
  }
  str(s: string, lenBytes: 1 | 2): void {
    const len = utf8Length(s);
    if (lenBytes === 1) {
      if (len > MAX_KEY_BYTES) throw new RangeError(`wire: key of ${len} bytes exceeds ${MAX_KEY_BYTES}`);
      this.u8(len);
    } else this.u16(len);
    const r = encoder.encodeInto(s, this.bytes.subarray(this.pos, this.pos + len));
    this.pos += r.written;
  }
  value(v: Value, deleted: boolean): void {
    if (deleted) return this.u8(0);
    if (v === null) return this.u8(1);
    if (v === false) return this.u8(2);
    if (v === true) return this.u8(3);
    if (typeof v === 'number') {
      this.u8(4);
      return this.f64(v);
    }
    this.u8(5);
    this.str(v, 2);
  }
  ref(key: string, ts: number, origin: number): void {
    this.str(key, 1);
    this.f64(ts);
    this.u32(origin);
  }
  entry(e: Entry): void {
    this.ref(e.key, e.ts, e.origin);
    this.value(e.value, e.deleted);
  }
}

/** Encodes a message. Throws RangeError if a field cannot be represented (e.g. a key over 255 bytes). */
export function encode(msg: GossipMessage): Uint8Array {
  const w = new Writer(encodedSize(msg));
  w.u8(WIRE_MAGIC_0);
  w.u8(WIRE_MAGIC_1);
  w.u8(WIRE_VERSION);
  w.u8(TYPE_CODES[msg.type]);
  switch (msg.type) {
    case 'rumor':
      w.u8((msg.pull ? 1 : 0) | (msg.reply ? 2 : 0));
      w.u16(msg.rumors.length);
      for (const e of msg.rumors) w.entry(e);
      break;
    case 'delta':
      w.u16(msg.entries.length);
      for (const e of msg.entries) w.entry(e);
      break;
    case 'feedback':
      w.u16(msg.known.length);
      for (const r of msg.known) w.ref(r.key, r.ts, r.origin);
      break;
    case 'learned':
      w.u16(msg.learned.length);
      for (const r of msg.learned) w.ref(r.key, r.ts, r.origin);
      break;
    case 'digest':
      w.u16(msg.buckets);
      w.u16(msg.start);
      if (msg.indices === undefined) {
        w.u16(msg.hashes.length);
        w.u8(0);
        for (const h of msg.hashes) w.u32(h);
      } else {
        if (msg.indices.length !== msg.hashes.length) throw new RangeError('wire: sparse digest needs one index per hash');
        w.u16(msg.count ?? msg.buckets - msg.start);
        w.u8(1);
        w.u16(msg.hashes.length);
        for (let i = 0; i < msg.hashes.length; i++) {
          w.u16(msg.indices[i] as number);
          w.u32(msg.hashes[i] as number);
        }
      }
      break;
    case 'summary': {
      const inline = msg.items.some(isInline);
      w.u16(msg.buckets);
      w.u16(msg.bucket);
      w.u8((msg.first ? 1 : 0) | (msg.last ? 2 : 0) | (inline ? 4 : 0));
      w.u16(msg.items.length);
      for (const r of msg.items) {
        w.ref(r.key, r.ts, r.origin);
        if (!inline) continue;
        if (isInline(r)) {
          w.u8(1);
          w.value(r.value, r.deleted);
        } else w.u8(0);
      }
      break;
    }
    case 'request':
      w.u16(msg.keys.length);
      for (const k of msg.keys) w.str(k, 1);
      break;
    case 'client-request': {
      w.u32(msg.id);
      const c = msg.call;
      const ack = c.op === 'put' || c.op === 'delete' ? c.ack : undefined;
      w.u8(OP_CODES[c.op] | (ack !== undefined ? ACK_FLAG : 0));
      if (c.op !== 'stats') w.str(c.key, 1);
      if (c.op === 'put') w.value(c.value, false);
      if (ack !== undefined) {
        if (!(Number.isInteger(ack.replicas) && ack.replicas >= 1 && ack.replicas <= 255))
          throw new RangeError(`wire: ack replicas ${ack.replicas} not in 1..255`);
        if (!(Number.isInteger(ack.timeoutMs) && ack.timeoutMs >= 0 && ack.timeoutMs <= 0xffffffff))
          throw new RangeError(`wire: ack timeout ${ack.timeoutMs} ms not in 0..2^32-1`);
        w.u8(ack.replicas);
        w.u32(ack.timeoutMs);
      }
      break;
    }
    case 'client-reply': {
      w.u32(msg.id);
      const r = msg.reply;
      w.u8(OP_CODES[r.op]);
      w.u8(r.ok ? 1 : 0);
      if (!r.ok) {
        w.str(r.error, 2);
        break;
      }
      switch (r.op) {
        case 'put':
        case 'delete':
          w.f64(r.ts);
          w.u32(r.origin);
          break;
        case 'get':
          w.u8(r.found ? 1 : 0);
          w.value(r.value, false);
          w.f64(r.ts);
          w.u32(r.origin);
          break;
        case 'stats': {
          const keys = Object.keys(r.stats);
          w.u16(keys.length);
          for (const k of keys) {
            w.str(k, 1);
            w.f64(r.stats[k] as number);
          }
          break;
        }
      }
      break;
    }
  }
  if (w.pos !== w.bytes.length) throw new Error(`wire: size mismatch ${w.pos} != ${w.bytes.length}`);
  return w.bytes;
}

class Reader {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new WireError('truncated', `need ${n} bytes at offset ${this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const x = this.view.getUint16(this.pos);
    this.pos += 2;
    return x;
  }
  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.pos);
    this.pos += 4;
    return x;
  }
  f64(): number {
    this.need(8);
    const x = this.view.getFloat64(this.pos);
    this.pos += 8;
    return x;
  }
  str(lenBytes: 1 | 2): string {
    const len = lenBytes === 1 ? this.u8() : this.u16();
    this.need(len);
    try {
      const s = decoder.decode(this.bytes.subarray(this.pos, this.pos + len));
      this.pos += len;
      return s;
    } catch {
      throw new WireError('utf8', `invalid UTF-8 at offset ${this.pos}`);
    }
  }
  ts(): number {
    const t = this.f64();
    if (!Number.isSafeInteger(t) || t < 0) throw new WireError('field', `timestamp ${t} is not an integer in [0, 2^53)`);
    return t;
  }
  /** Returns [value, deleted]. */
  value(allowTombstone: boolean): [Value, boolean] {
    const tag = this.u8();
    switch (tag) {
      case 0:
        if (!allowTombstone) throw new WireError('field', 'tombstone tag where a value was expected');
        return [null, true];
      case 1:
        return [null, false];
      case 2:
        return [false, false];
      case 3:
        return [true, false];
      case 4: {
        const x = this.f64();
        if (!Number.isFinite(x)) throw new WireError('field', `number value ${x} is not finite`);
        return [x, false];
      }
      case 5:
        return [this.str(2), false];
      default:
        throw new WireError('field', `unknown value tag ${tag}`);
    }
  }
  ref(): VersionRef {
    const key = this.str(1);
    const ts = this.ts();
    const origin = this.u32();
    return { key, ts, origin };
  }
  entry(): Entry {
    const key = this.str(1);
    const ts = this.ts();
    const origin = this.u32();
    const [value, deleted] = this.value(true);
    return { key, value, ts, origin, deleted };
  }
  end(): void {
    if (this.pos !== this.bytes.length) throw new WireError('trailing', `${this.bytes.length - this.pos} bytes after the message`);
  }
}

function decodeAck(r: Reader): KvAck {
  const replicas = r.u8();
  if (replicas < 1) throw new WireError('field', 'ack replicas 0');
  return { replicas, timeoutMs: r.u32() };
}

function decodeCall(r: Reader): KvCall {
  const code = r.u8();
  const withAck = (code & ACK_FLAG) !== 0;
  const op = code & ~ACK_FLAG;
  if (withAck && op !== 1 && op !== 3) throw new WireError('field', `unknown client op ${code}`);
  switch (op) {
    case 1: {
      const key = r.str(1);
      const [value] = r.value(false);
      return withAck ? { op: 'put', key, value, ack: decodeAck(r) } : { op: 'put', key, value };
    }
    case 2:
      return { op: 'get', key: r.str(1) };
    case 3: {
      const key = r.str(1);
      return withAck ? { op: 'delete', key, ack: decodeAck(r) } : { op: 'delete', key };
    }
    case 4:
      return { op: 'stats' };
    default:
      throw new WireError('field', `unknown client op ${op}`);
  }
}

function decodeReply(r: Reader): KvReply {
  const code = r.u8();
  const op = OPS[code];
  if (op === undefined || op === '') throw new WireError('field', `unknown client op ${code}`);
  const okByte = r.u8();
  if (okByte > 1) throw new WireError('field', `ok flag ${okByte}`);
  if (okByte === 0) return { op, ok: false, error: r.str(2) };
  switch (op) {
    case 'put':
    case 'delete': {
      const ts = r.ts();
      return { op, ok: true, ts, origin: r.u32() };
    }
    case 'get': {
      const f = r.u8();
      if (f > 1) throw new WireError('field', `found flag ${f}`);
      const [value] = r.value(false);
      const ts = r.f64();
      const origin = r.u32();
      if (!Number.isInteger(ts) || ts < -1) throw new WireError('field', `timestamp ${ts}`);
      return { op, ok: true, found: f === 1, value, ts, origin: f === 1 ? origin : -1 };
    }
    case 'stats': {
      const n = r.u16();
      const stats: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const k = r.str(1);
        stats[k] = r.f64();
      }
      return { op, ok: true, stats };
    }
  }
}

/** Decodes one message. Throws {@link WireError} on anything malformed. */
export function decode(bytes: Uint8Array): GossipMessage {
  const r = new Reader(bytes);
  if (bytes.length < HEADER_BYTES) throw new WireError('truncated', `${bytes.length} bytes is shorter than the header`);
  if (r.u8() !== WIRE_MAGIC_0 || r.u8() !== WIRE_MAGIC_1) throw new WireError('magic', 'not a desim gossip message');
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new WireError('version', `format version ${version}, expected ${WIRE_VERSION}`);
  const code = r.u8();
  let msg: GossipMessage;
  switch (code) {
    case 1: {
      const flags = r.u8();
      if (flags > 3) throw new WireError('field', `rumor flags ${flags}`);
      const n = r.u16();
      const rumors: Entry[] = [];
      for (let i = 0; i < n; i++) rumors.push(r.entry());
      msg = { type: 'rumor', rumors, pull: (flags & 1) !== 0, reply: (flags & 2) !== 0 };
      break;
    }
    case 2: {
      const n = r.u16();
      const known: VersionRef[] = [];
      for (let i = 0; i < n; i++) known.push(r.ref());
      msg = { type: 'feedback', known };
      break;
    }
    case 7: {
      const n = r.u16();
      const learned: VersionRef[] = [];
      for (let i = 0; i < n; i++) learned.push(r.ref());
      msg = { type: 'learned', learned };
      break;
    }
    case 3: {
      const buckets = r.u16();
      const start = r.u16();
      const count = r.u16();
      if (buckets === 0 || start + count > buckets) throw new WireError('field', `digest range ${start}+${count} of ${buckets}`);
      const form = r.u8();
      const hashes: number[] = [];
      if (form === 0) {
        for (let i = 0; i < count; i++) hashes.push(r.u32());
        msg = { type: 'digest', buckets, start, hashes };
      } else if (form === 1) {
        const n = r.u16();
        const indices: number[] = [];
        let prev = start - 1;
        for (let i = 0; i < n; i++) {
          const b = r.u16();
          if (b <= prev || b >= start + count) throw new WireError('field', `sparse digest bucket ${b} out of order or range`);
          prev = b;
          indices.push(b);
          hashes.push(r.u32());
        }
        msg = { type: 'digest', buckets, start, count, indices, hashes };
      } else throw new WireError('field', `digest form ${form}`);
      break;
    }
    case 4: {
      const buckets = r.u16();
      const bucket = r.u16();
      const flags = r.u8();
      if (buckets === 0 || bucket >= buckets || flags > 7) throw new WireError('field', `summary bucket ${bucket} of ${buckets}, flags ${flags}`);
      const n = r.u16();
      const items: (VersionRef | Entry)[] = [];
      for (let i = 0; i < n; i++) {
        const ref = r.ref();
        if ((flags & 4) === 0) {
          items.push(ref);
          continue;
        }
        const has = r.u8();
        if (has > 1) throw new WireError('field', `summary item flag ${has}`);
        if (has === 0) items.push(ref);
        else {
          const [value, deleted] = r.value(true);
          items.push({ key: ref.key, value, ts: ref.ts, origin: ref.origin, deleted });
        }
      }
      if ((flags & 4) !== 0 && !items.some(isInline)) throw new WireError('field', 'inline summary without an inline item');
      msg = { type: 'summary', buckets, bucket, first: (flags & 1) !== 0, last: (flags & 2) !== 0, items };
      break;
    }
    case 5: {
      const n = r.u16();
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) entries.push(r.entry());
      msg = { type: 'delta', entries };
      break;
    }
    case 6: {
      const n = r.u16();
      const keys: string[] = [];
      for (let i = 0; i < n; i++) keys.push(r.str(1));
      msg = { type: 'request', keys };
      break;
    }
    case 32: {
      const id = r.u32();
      msg = { type: 'client-request', id, call: decodeCall(r) };
      break;
    }
    case 33: {
      const id = r.u32();
      msg = { type: 'client-reply', id, reply: decodeReply(r) };
      break;
    }
    default:
      throw new WireError('type', `unknown message type ${code}`);
  }
  r.end();
  return msg;
}

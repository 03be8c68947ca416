/**
 * Datagram envelopes of the real-network nodes: a keyring of shared keys,
 * AES-256-GCM sealing, and the padded plain frame used without a key.
 *
 * Theory of operation. A node or client started with `--key-file` seals every
 * datagram it sends and accepts only sealed datagrams that open with one of
 * its keys. The key file is a keyring: the first key seals (the primary), all
 * keys open, so keys rotate without downtime (add the new key everywhere,
 * make it primary everywhere, then remove the old one; `desim node` rereads
 * the file on SIGHUP). Each key has a 4-byte id (the start of its SHA-256),
 * carried in clear so the receiver tries one key, not all.
 *
 * Layout (big-endian). Both kinds start with magic `0x44 0x4B` ("DK"), a kind
 * byte and the gossip wire version ({@link WIRE_VERSION}):
 *
 * | kind | rest |
 * |------|------|
 * | 1 padded plain | u16 n, n payload bytes, any number of padding bytes |
 * | 2 sealed | u32 key id, f64 sent-at (ms since 1970, the sender's clock), 12-byte nonce, AES-256-GCM ciphertext of the kind-1 body (u16 n, payload, padding), 16-byte tag |
 *
 * The 28 header bytes of a sealed datagram (magic, kind, protocol version,
 * key id, sent-at, nonce) are the GCM associated data: a changed version or
 * timestamp fails authentication. Nonces are 96 random bits from the
 * system's CSPRNG per datagram: with one key, the GCM limit of 2^32 random
 * nonces (NIST SP 800-38D, section 8.3) is 4 billion datagrams, about a
 * day and a half at 30,000 datagrams per second: rotate keys well before.
 *
 * The payload is a gossip wire message (a client request or reply, or a
 * peer message). Padding lets a client make its request as large as any
 * reply, so a node never answers with more bytes than it received (no
 * amplification, whatever the source address claims).
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WIRE_VERSION } from '../protocols/gossip/wire.js';

/** Magic bytes of an envelope ("DK"); a bare gossip message starts with "GS". */
export const ENVELOPE_MAGIC = [0x44, 0x4b] as const;
/** Kind byte of a padded plain frame. */
export const KIND_PLAIN = 1;
/** Kind byte of a sealed datagram. */
export const KIND_SEALED = 2;
/** Bytes before the payload of a padded plain frame: magic, kind, version, u16 length. */
export const PLAIN_OVERHEAD = 6;
const SEALED_HEADER = 28;
const TAG_BYTES = 16;
/** Bytes a sealed datagram adds to its payload: header, length, tag. */
export const SEALED_OVERHEAD = SEALED_HEADER + 2 + TAG_BYTES;
/** Key length, bytes (AES-256). */
export const KEY_BYTES = 32;

/** A bad key file: the message names the file and the line (the CLI exits with code 2). */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/** True when `bytes` starts like an envelope (of any kind). */
export function isEnvelope(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === ENVELOPE_MAGIC[0] && bytes[1] === ENVELOPE_MAGIC[1];
}

/** True when `bytes` starts like a sealed envelope. */
export function isSealed(bytes: Uint8Array): boolean {
  return isEnvelope(bytes) && bytes[2] === KIND_SEALED;
}

function body(payload: Uint8Array, padTo: number): Buffer {
  const n = Math.max(2 + payload.length, padTo);
  const b = Buffer.alloc(n);
  b.writeUInt16BE(payload.length, 0);
  b.set(payload, 2);
  return b;
}

function unbody(b: Uint8Array): Uint8Array | undefined {
  if (b.length < 2) return undefined;
  const n = ((b[0] as number) << 8) | (b[1] as number);
  return 2 + n <= b.length ? b.subarray(2, 2 + n) : undefined;
}

/** A padded plain frame of `payload`, at least `padTo` bytes long in all. */
export function framePlain(payload: Uint8Array, padTo = 0): Uint8Array {
  const inner = body(payload, padTo - 4);
  const out = Buffer.alloc(4 + inner.length);
  out[0] = ENVELOPE_MAGIC[0];
  out[1] = ENVELOPE_MAGIC[1];
  out[2] = KIND_PLAIN;
  out[3] = WIRE_VERSION;
  out.set(inner, 4);
  return out;
}

/** Why an envelope did not open. */
export type OpenFailure = 'unauthenticated' | 'foreign_version' | 'malformed';

/** The payload of a padded plain frame, or why not. */
export function openPlain(bytes: Uint8Array): { ok: true; payload: Uint8Array } | { ok: false; reason: OpenFailure } {
  if (!isEnvelope(bytes) || bytes[2] !== KIND_PLAIN) return { ok: false, reason: 'malformed' };
  if (bytes[3] !== WIRE_VERSION) return { ok: false, reason: 'foreign_version' };
  const payload = unbody(bytes.subarray(4));
  return payload === undefined ? { ok: false, reason: 'malformed' } : { ok: true, payload };
}

/** An opened sealed datagram. `nonce` (hex) identifies it, for replay detection. */
export interface Opened {
  readonly ok: true;
  readonly payload: Uint8Array;
  readonly sentAtMs: number;
  readonly nonce: string;
  readonly keyId: number;
}

/** The id of a key: the first 4 bytes of its SHA-256, as an unsigned integer. */
export function keyId(key: Uint8Array): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0);
}

/** Shared keys: the first seals, all open. Immutable; reload by building a new one. */
export class Keyring {
  private readonly byId = new Map<number, Buffer>();
  private readonly primary: Buffer;
  /** Id of the primary key (the one that seals). */
  readonly primaryId: number;

  /** @param keys 32-byte keys, the primary first (at least one). */
  constructor(keys: readonly Uint8Array[]) {
    const first = keys[0];
    if (first === undefined) throw new KeyFileError('a keyring needs at least one key');
    for (const k of keys) {
      if (k.length !== KEY_BYTES) throw new KeyFileError(`a key must be ${KEY_BYTES} bytes, got ${k.length}`);
      const id = keyId(k);
      if (!this.byId.has(id)) this.byId.set(id, Buffer.from(k));
    }
    this.primary = Buffer.from(first);
    this.primaryId = keyId(first);
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.byId.size;
  }

  /** The key ids, primary first, as 8 hex digits (for logs: never the keys). */
  ids(): string[] {
    const hex = (id: number): string => id.toString(16).padStart(8, '0');
    return [hex(this.primaryId), ...[...this.byId.keys()].filter((id) => id !== this.primaryId).map(hex)];
  }

  /**
   * Parses a key file: one key per line, 32 bytes as 64 hex digits or 44
   * base64 characters; blank lines and lines starting with `#` are ignored;
   * the first key is the primary. Throws {@link KeyFileError} naming `file` and the line.
   */
  static parse(text: string, file: string): Keyring {
    const keys: Uint8Array[] = [];
    const seen = new Set<string>();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      let key: Buffer | undefined;
      if (/^[0-9a-fA-F]{64}$/.test(line)) key = Buffer.from(line, 'hex');
      else if (/^[A-Za-z0-9+/]{43}=$/.test(line)) key = Buffer.from(line, 'base64');
      if (key === undefined || key.length !== KEY_BYTES) {
        throw new KeyFileError(
          `${file}:${i + 1}: expected a ${KEY_BYTES}-byte key as 64 hex digits or 44 base64 characters (e.g. from: openssl rand -base64 32)`,
        );
      }
      const k = key.toString('hex');
      if (seen.has(k)) throw new KeyFileError(`${file}:${i + 1}: this key is already listed above`);
      seen.add(k);
      keys.push(key);
    });
    if (keys.length === 0) throw new KeyFileError(`${file}: no key found (one key per line; the first seals, all open)`);
    return new Keyring(keys);
  }

  /** Reads and parses a key file (see {@link Keyring.parse}). */
  static load(file: string): Keyring {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new KeyFileError(`${file}: cannot read the key file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return Keyring.parse(text, file);
  }

  /**
   * Seals `payload` with the primary key and a fresh random nonce; the body is
   * padded so the datagram is at least `padTo` bytes.
   */
  seal(payload: Uint8Array, sentAtMs: number, padTo = 0): Uint8Array {
    const plain = body(payload, padTo - SEALED_HEADER - TAG_BYTES);
    const out = Buffer.alloc(SEALED_HEADER + plain.length + TAG_BYTES);
    out[0] = ENVELOPE_MAGIC[0];
    out[1] = ENVELOPE_MAGIC[1];
    out[2] = KIND_SEALED;
    out[3] = WIRE_VERSION;
    out.writeUInt32BE(this.primaryId, 4);
    out.writeDoubleBE(sentAtMs, 8);
    randomFillSync(out, 16, 12);
    const cipher = createCipheriv('aes-256-gcm', this.primary, out.subarray(16, 28));
    cipher.setAAD(out.subarray(0, SEALED_HEADER));
    const ct = cipher.update(plain);
    out.set(ct, SEALED_HEADER);
    const fin = cipher.final();
    out.set(fin, SEALED_HEADER + ct.length);
    out.set(cipher.getAuthTag(), SEALED_HEADER + plain.length);
    return out;
  }

  /** Opens a sealed datagram with the key its id names, or says why not. */
  open(bytes: Uint8Array): Opened | { ok: false; reason: OpenFailure } {
    if (!isSealed(bytes)) return { ok: false, reason: 'unauthenticated' };
    if (bytes[3] !== WIRE_VERSION) return { ok: false, reason: 'foreign_version' };
    if (bytes.length < SEALED_HEADER + 2 + TAG_BYTES) return { ok: false, reason: 'unauthenticated' };
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const id = b.readUInt32BE(4);
    const key = this.byId.get(id);
    if (key === undefined) return { ok: false, reason: 'unauthenticated' };
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(16, 28));
      d.setAAD(b.subarray(0, SEALED_HEADER));
      d.setAuthTag(b.subarray(b.length - TAG_BYTES));
      plain = Buffer.concat([d.update(b.subarray(SEALED_HEADER, b.length - TAG_BYTES)), d.final()]);
    } catch {
      return { ok: false, reason: 'unauthenticated' };
    }
    const payload = unbody(plain);
    if (payload === undefined) return { ok: false, reason: 'malformed' };
    return { ok: true, payload, sentAtMs: b.readDoubleBE(8), nonce: b.subarray(16, 28).toString('hex'), keyId: id };
  }
}

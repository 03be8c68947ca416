/**
 * The client wire format: request/response datagrams between `desim kv` and a
 * node, on the node's own UDP port beside the gossip traffic.
 *
 * A node tells the two apart by the first two bytes: client datagrams start
 * with the magic `0xD5 0x4B` ("K"), which the gossip codec never produces
 * (its datagrams start with their own magic); everything else goes to the
 * protocol codec. Layout, big-endian:
 *
 * ```
 * offset size field
 *  0     2    magic 0xD5 0x4B
 *  2     1    version (1)
 *  3     1    kind: 1 = request, 2 = reply
 *  4     4    request id (u32, chosen by the client, echoed in the reply)
 *  8     1    request: op (1 put, 2 get, 3 del, 4 stats); reply: status (0 ok, 1 not found, 2 error)
 *  9     ...  body
 * ```
 *
 * Request bodies: put = u16 key length, key (UTF-8), value (UTF-8, the rest);
 * get / del = u16 key length, key; stats = empty. Reply bodies: get ok = the
 * value; stats ok = a JSON object (UTF-8); error = a message; otherwise empty.
 * Every datagram fits in {@link MAX_DATAGRAM_BYTES}; decoding validates every
 * length and throws {@link ClientWireError} with a drop reason.
 */

/** Largest datagram a node sends or accepts, in bytes: a 1500-byte Ethernet MTU minus IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 1472;
/** First byte of every client datagram. */
export const CLIENT_MAGIC_0 = 0xd5;
/** Second byte of every client datagram. */
export const CLIENT_MAGIC_1 = 0x4b;
/** The client wire version this build speaks. */
export const CLIENT_WIRE_VERSION = 1;
/** Bytes before the body. */
export const CLIENT_HEADER_BYTES = 9;
/** Largest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 255;
/** Largest value a put can carry, in UTF-8 bytes (for the longest key). */
export const MAX_VALUE_BYTES = MAX_DATAGRAM_BYTES - CLIENT_HEADER_BYTES - 2 - MAX_KEY_BYTES;

/** Why a datagram was dropped. */
export type DropReason = 'malformed' | 'oversized' | 'foreign_version' | 'unknown_peer';

/** A datagram that does not decode; `reason` is the counter it is dropped under. */
export class ClientWireError extends Error {
  override readonly name = 'ClientWireError';
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
  }
}

/** What a client asks a node. */
export type ClientRequest =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'stats' };

/** A node's answer. `value` is the stored value for get and the JSON counters for stats; `message` explains an error. */
export type ClientReply =
  | { readonly status: 'ok'; readonly value?: string }
  | { readonly status: 'not_found' }
  | { readonly status: 'error'; readonly message: string };

const KIND_REQUEST = 1;
const KIND_REPLY = 2;
const OPS = ['put', 'get', 'del', 'stats'] as const;
const STATUSES = ['ok', 'not_found', 'error'] as const;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** True if the datagram carries the client magic (whatever its version). */
export function isClientDatagram(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === CLIENT_MAGIC_0 && bytes[1] === CLIENT_MAGIC_1;
}

function header(kind: number, requestId: number, code: number, bodyBytes: number): Uint8Array {
  const out = new Uint8Array(CLIENT_HEADER_BYTES + bodyBytes);
  const dv = new DataView(out.buffer);
  out[0] = CLIENT_MAGIC_0;
  out[1] = CLIENT_MAGIC_1;
  out[2] = CLIENT_WIRE_VERSION;
  out[3] = kind;
  dv.setUint32(4, requestId >>> 0);
  out[8] = code;
  return out;
}

/**
 * Encodes a request. Throws {@link ClientWireError} (`oversized`) if the key
 * exceeds {@link MAX_KEY_BYTES} or the datagram would exceed {@link MAX_DATAGRAM_BYTES}.
 */
export function encodeRequest(requestId: number, req: ClientRequest): Uint8Array {
  const code = OPS.indexOf(req.op) + 1;
  if (req.op === 'stats') return header(KIND_REQUEST, requestId, code, 0);
  const key = utf8.encode(req.key);
  if (key.length > MAX_KEY_BYTES) throw new ClientWireError('oversized', `key is ${key.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  const value = req.op === 'put' ? utf8.encode(req.value) : new Uint8Array(0);
  const total = CLIENT_HEADER_BYTES + 2 + key.length + value.length;
  if (total > MAX_DATAGRAM_BYTES) {
    throw new ClientWireError(
      'oversized',
      `key and value take ${key.length + value.length} bytes; at most ${MAX_DATAGRAM_BYTES - CLIENT_HEADER_BYTES - 2} fit in one datagram`,
    );
  }
  const out = header(KIND_REQUEST, requestId, code, 2 + key.length + value.length);
  new DataView(out.buffer).setUint16(CLIENT_HEADER_BYTES, key.length);
  out.set(key, CLIENT_HEADER_BYTES + 2);
  out.set(value, CLIENT_HEADER_BYTES + 2 + key.length);
  return out;
}

/**
 * Encodes a reply. A body that would not fit is cut to fit (stats JSON is kept
 * small by the node; a get value always fits because the put that stored it did).
 */
export function encodeReply(requestId: number, reply: ClientReply): Uint8Array {
  const code = STATUSES.indexOf(reply.status);
  let body: Uint8Array;
  if (reply.status === 'ok') body = utf8.encode(reply.value ?? '');
  else if (reply.status === 'error') body = utf8.encode(reply.message);
  else body = new Uint8Array(0);
  if (body.length > MAX_DATAGRAM_BYTES - CLIENT_HEADER_BYTES) body = body.subarray(0, MAX_DATAGRAM_BYTES - CLIENT_HEADER_BYTES);
  const out = header(KIND_REPLY, requestId, code, body.length);
  out.set(body, CLIENT_HEADER_BYTES);
  return out;
}

function checkHeader(bytes: Uint8Array, kind: number): DataView {
  if (bytes.length > MAX_DATAGRAM_BYTES) throw new ClientWireError('oversized', `datagram of ${bytes.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  if (!isClientDatagram(bytes)) throw new ClientWireError('malformed', 'bad magic');
  if (bytes.length < 3) throw new ClientWireError('malformed', 'truncated header');
  if (bytes[2] !== CLIENT_WIRE_VERSION) throw new ClientWireError('foreign_version', `client wire version ${bytes[2]}, expected ${CLIENT_WIRE_VERSION}`);
  if (bytes.length < CLIENT_HEADER_BYTES) throw new ClientWireError('malformed', 'truncated header');
  if (bytes[3] !== kind) throw new ClientWireError('malformed', `unexpected kind ${bytes[3]}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function text(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new ClientWireError('malformed', 'invalid UTF-8');
  }
}

/** Decodes a request; throws {@link ClientWireError} on anything invalid. */
export function decodeRequest(bytes: Uint8Array): { requestId: number; request: ClientRequest } {
  const dv = checkHeader(bytes, KIND_REQUEST);
  const requestId = dv.getUint32(4);
  const op = OPS[(bytes[8] as number) - 1];
  if (op === undefined) throw new ClientWireError('malformed', `unknown op ${bytes[8]}`);
  if (op === 'stats') {
    if (bytes.length !== CLIENT_HEADER_BYTES) throw new ClientWireError('malformed', 'stats request has a body');
    return { requestId, request: { op } };
  }
  if (bytes.length < CLIENT_HEADER_BYTES + 2) throw new ClientWireError('malformed', 'truncated key length');
  const keyLen = dv.getUint16(CLIENT_HEADER_BYTES);
  const keyEnd = CLIENT_HEADER_BYTES + 2 + keyLen;
  if (keyLen > MAX_KEY_BYTES) throw new ClientWireError('malformed', `key length ${keyLen} exceeds ${MAX_KEY_BYTES}`);
  if (keyEnd > bytes.length) throw new ClientWireError('malformed', 'truncated key');
  const key = text(bytes.subarray(CLIENT_HEADER_BYTES + 2, keyEnd));
  if (op === 'put') return { requestId, request: { op, key, value: text(bytes.subarray(keyEnd)) } };
  if (keyEnd !== bytes.length) throw new ClientWireError('malformed', `${op} request has trailing bytes`);
  return { requestId, request: { op, key } };
}

/** Decodes a reply; throws {@link ClientWireError} on anything invalid. */
export function decodeReply(bytes: Uint8Array): { requestId: number; reply: ClientReply } {
  const dv = checkHeader(bytes, KIND_REPLY);
  const requestId = dv.getUint32(4);
  const status = STATUSES[bytes[8] as number];
  const body = text(bytes.subarray(CLIENT_HEADER_BYTES));
  switch (status) {
    case 'ok':
      return { requestId, reply: { status, value: body } };
    case 'not_found':
      return { requestId, reply: { status } };
    case 'error':
      return { requestId, reply: { status, message: body } };
    default:
      throw new ClientWireError('malformed', `unknown status ${bytes[8]}`);
  }
}

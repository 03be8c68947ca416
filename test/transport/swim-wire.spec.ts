/**
 * The SWIM wire of the real nodes: every packet survives a round trip, its size is exact, and anything
 * malformed (truncated, trailing bytes, bad kinds, port 0, fractional numbers, a foreign version) is
 * refused with the reason the host counts it under.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyGossipError, nodeCodec } from '../../src/transport/gossip-udp.js';
import {
  decodeSwim,
  decodeUpdates,
  encodeSwim,
  encodeUpdates,
  isSwimPayload,
  swimEncodedSize,
  SwimWireError,
  type MemberRow,
  type SwimPacket,
  type WireUpdate,
} from '../../src/transport/swim-wire.js';
import { fcParams } from '../fc.js';

const addr = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 1, max: 65535 }),
  )
  .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}:${p}`);
const int = fc.maxSafeNat();
const update: fc.Arbitrary<WireUpdate> = fc.record({
  kind: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
  node: addr,
  incarnation: int,
  from: addr,
});
const updates = fc.array(update, { maxLength: 12 });
const row: fc.Arbitrary<MemberRow> = fc.record({ address: addr, state: fc.constantFrom('alive', 'suspect', 'dead', 'left'), incarnation: int });
const packet: fc.Arbitrary<SwimPacket> = fc.oneof(
  fc.record({ type: fc.constantFrom('ping', 'ack', 'nack'), seq: int, updates }).map((msg) => ({ type: 'swim' as const, msg })),
  fc.record({ type: fc.constant('ping-req' as const), seq: int, target: addr, updates }).map((msg) => ({ type: 'swim' as const, msg })),
  fc
    .record({ type: fc.constant('sync' as const), reply: fc.boolean(), members: fc.array(update, { maxLength: 40 }), updates })
    .map((msg) => ({ type: 'swim' as const, msg })),
  fc.record({ type: fc.constant('members-request' as const), id: fc.nat({ max: 0xffffffff }), offset: fc.nat({ max: 0xffffffff }) }),
  // SWIM's updates riding on a store message (the store part in the gossip wire).
  fc.record({
    type: fc.constant('piggyback' as const),
    updates,
    store: fc.record({ type: fc.constant('request' as const), keys: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 }) }),
  }),
  fc.record({
    type: fc.constant('members-reply' as const),
    id: fc.nat({ max: 0xffffffff }),
    total: fc.nat({ max: 0xffffffff }),
    offset: fc.nat({ max: 0xffffffff }),
    rows: fc.array(row, { maxLength: 64 }),
  }),
);

function reason(bytes: Uint8Array): string {
  try {
    decodeSwim(bytes);
    return 'ok';
  } catch (err) {
    return err instanceof SwimWireError ? err.reason : `threw ${String(err)}`;
  }
}

describe('SWIM wire', () => {
  it('round-trips every packet, with the size swimEncodedSize says', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encodeSwim(p);
        expect(bytes.length).toBe(swimEncodedSize(p));
        expect(isSwimPayload(bytes)).toBe(true);
        expect(decodeSwim(bytes)).toEqual(p);
        expect(nodeCodec.decode(bytes)).toEqual(p);
      }),
      fcParams(),
    );
  });

  it('round-trips a block of updates, leaving the bytes after it to the caller; a truncated block is malformed', () => {
    fc.assert(
      fc.property(updates, fc.uint8Array({ maxLength: 8 }), (us, tail) => {
        const block = encodeUpdates(us);
        expect(block.length).toBe(1 + 21 * us.length);
        const got = decodeUpdates(Buffer.concat([block, tail]));
        expect(got).toEqual({ updates: us, bytes: block.length });
        if (us.length > 0) expect(() => decodeUpdates(block.subarray(0, block.length - 1))).toThrow(SwimWireError);
      }),
      fcParams(),
    );
  });

  it('refuses every truncation and any trailing byte as malformed', () => {
    fc.assert(
      fc.property(packet, fc.nat(), (p, cut) => {
        const bytes = encodeSwim(p);
        expect(reason(bytes.subarray(0, cut % bytes.length))).toBe('malformed');
        expect(reason(Buffer.concat([bytes, Buffer.from([0])]))).toBe('malformed');
      }),
      fcParams(),
    );
  });

  it('never throws anything but a SwimWireError on random bytes after the magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const r = reason(Buffer.concat([Buffer.from([0x53, 0x57, 1]), tail]));
        expect(['ok', 'malformed']).toContain(r);
      }),
      fcParams(),
    );
  });

  it('names the faults: another version, an unknown kind, port 0, a fractional incarnation', () => {
    const ping = encodeSwim({
      type: 'swim',
      msg: { type: 'ping', seq: 7, updates: [{ kind: 'alive', node: '127.0.0.1:5001', incarnation: 3, from: '127.0.0.1:5002' }] },
    });
    const v2 = Buffer.from(ping);
    v2[2] = 2;
    expect(reason(v2)).toBe('version');
    expect(classifyGossipError(new SwimWireError('version', 'x'))).toBe('foreign_version');
    expect(classifyGossipError(new SwimWireError('malformed', 'x'))).toBe('malformed');
    // header 4, seq 8, count 1, then the update: kind at 13, node at 14..19, incarnation at 20..27
    const kind = Buffer.from(ping);
    kind[13] = 9;
    expect(reason(kind)).toBe('malformed');
    const port0 = Buffer.from(ping);
    port0.writeUInt16BE(0, 18);
    expect(reason(port0)).toBe('malformed');
    const frac = Buffer.from(ping);
    frac.writeDoubleBE(1.5, 20);
    expect(reason(frac)).toBe('malformed');
    expect(reason(Buffer.from([0x53, 0x57, 1, 99]))).toBe('malformed');
  });

  it('a piggyback message carries a peer message of the store, never a client request or reply', () => {
    const request = { type: 'client-request' as const, id: 1, call: { op: 'get' as const, key: 'k' } };
    expect(() => encodeSwim({ type: 'piggyback', updates: [], store: request })).toThrow(RangeError);
    // Hand-made: the SWIM header, code 6, no updates, then a gossip client request.
    const inner = nodeCodec.encode(request);
    expect(reason(Buffer.concat([Buffer.from([0x53, 0x57, 1, 6, 0]), inner]))).toBe('malformed');
    // A store part of another gossip wire version is a foreign version, as a gossip datagram's would be.
    const ok = encodeSwim({ type: 'piggyback', updates: [], store: { type: 'request', keys: ['k'] } });
    const foreign = Buffer.from(ok);
    foreign[7] = 99; // the store part's version byte (after its two magic bytes)
    expect(reason(foreign)).toBe('version');
  });

  it('refuses to encode what the format cannot carry', () => {
    expect(() => encodeSwim({ type: 'swim', msg: { type: 'ping', seq: -1, updates: [] } })).toThrow(RangeError);
    expect(() => encodeSwim({ type: 'swim', msg: { type: 'ping-req', seq: 1, target: 'localhost:1', updates: [] } })).toThrow(RangeError);
  });
});

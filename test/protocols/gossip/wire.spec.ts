import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/protocols/gossip/store.js';
import { WireError, decode, encode, encodedSize, type GossipMessage, type KvCall, type KvReply } from '../../../src/protocols/gossip/wire.js';
import { fcParams } from '../../fc.js';

const key = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => new TextEncoder().encode(s).length <= 255);
const ts = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const origin = fc.integer({ min: 0, max: 0xffffffff });
const scalar = fc.oneof(fc.string({ maxLength: 30 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ key, value: scalar, ts, origin, deleted: fc.constant(false) }),
  fc.record({ key, value: fc.constant(null), ts, origin, deleted: fc.constant(true) }),
);
const ref = fc.record({ key, ts, origin });
const ack = fc.record({ replicas: fc.integer({ min: 1, max: 255 }), timeoutMs: fc.integer({ min: 0, max: 0xffffffff }) });
const call: fc.Arbitrary<KvCall> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key, value: scalar }),
  fc.record({ op: fc.constant('put' as const), key, value: scalar, ack }),
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key, ack }),
  fc.constant({ op: 'stats' as const }),
);
const reply: fc.Arbitrary<KvReply> = fc.oneof(
  fc.record({ op: fc.constantFrom('put' as const, 'delete' as const), ok: fc.constant(true as const), ts, origin }),
  fc.record({ op: fc.constant('get' as const), ok: fc.constant(true as const), found: fc.constant(true), value: scalar, ts, origin }),
  fc.constant({ op: 'get' as const, ok: true as const, found: false, value: null, ts: -1, origin: -1 }),
  fc.record({
    op: fc.constant('stats' as const),
    ok: fc.constant(true as const),
    stats: fc.dictionary(
      key.filter((k) => k !== '__proto__'),
      fc.double({ noNaN: true }),
      { maxKeys: 5 },
    ),
  }),
  fc.record({
    op: fc.constantFrom('put' as const, 'get' as const, 'delete' as const, 'stats' as const),
    ok: fc.constant(false as const),
    error: fc.string({ maxLength: 40 }),
  }),
);
const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({ type: fc.constant('rumor' as const), rumors: fc.array(entry, { maxLength: 5 }), pull: fc.boolean(), reply: fc.boolean() }),
  fc.record({ type: fc.constant('feedback' as const), known: fc.array(ref, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('learned' as const), learned: fc.array(ref, { maxLength: 5 }) }),
  fc.integer({ min: 1, max: 300 }).chain((buckets) =>
    fc.integer({ min: 0, max: buckets - 1 }).chain((start) =>
      fc.record({
        type: fc.constant('digest' as const),
        buckets: fc.constant(buckets),
        start: fc.constant(start),
        hashes: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: buckets - start }),
      }),
    ),
  ),
  fc.integer({ min: 1, max: 300 }).chain((buckets) =>
    fc.uniqueArray(fc.integer({ min: 0, max: buckets - 1 }), { maxLength: 20 }).chain((idx) => {
      const indices = [...idx].sort((a, b) => a - b);
      return fc.record({
        type: fc.constant('digest' as const),
        buckets: fc.constant(buckets),
        start: fc.constant(0),
        count: fc.constant(buckets),
        indices: fc.constant(indices),
        hashes: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: indices.length, maxLength: indices.length }),
      });
    }),
  ),
  fc.integer({ min: 1, max: 300 }).chain((buckets) =>
    fc.record({
      type: fc.constant('summary' as const),
      buckets: fc.constant(buckets),
      bucket: fc.integer({ min: 0, max: buckets - 1 }),
      first: fc.boolean(),
      last: fc.boolean(),
      items: fc.array(fc.oneof(ref, entry), { maxLength: 5 }),
    }),
  ),
  fc.record({ type: fc.constant('delta' as const), entries: fc.array(entry, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('request' as const), keys: fc.array(key, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('client-request' as const), id: fc.integer({ min: 0, max: 0xffffffff }), call }),
  fc.record({ type: fc.constant('client-reply' as const), id: fc.integer({ min: 0, max: 0xffffffff }), reply }),
);

describe('gossip wire format', () => {
  it('round-trips every message and encodedSize equals the encoded length', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encode(m);
        expect(bytes.length).toBe(encodedSize(m));
        expect(decode(bytes)).toEqual(m);
      }),
      fcParams({ numRuns: 500 }),
    );
  });

  it('starts with magic GS and version 1', () => {
    const b = encode({ type: 'request', keys: ['k'] });
    expect([...b.subarray(0, 4)]).toEqual([0x47, 0x53, 1, 6]);
  });

  it('throws only WireError on arbitrary bytes and on every truncation or extension', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, withHeader) => {
        const b = withHeader ? new Uint8Array([0x47, 0x53, 1, ...bytes]) : bytes;
        try {
          decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }),
      fcParams({ numRuns: 1000 }),
    );
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const b = encode(m);
        const n = cut % b.length;
        expect(() => decode(b.subarray(0, n))).toThrow(WireError);
        expect(() => decode(new Uint8Array([...b, 0]))).toThrow(WireError);
      }),
      fcParams({ numRuns: 300 }),
    );
  });

  it('names the reason: magic, version, type, field, utf8', () => {
    const reason = (b: number[]): string => {
      try {
        decode(new Uint8Array(b));
        return 'none';
      } catch (e) {
        return (e as WireError).reason;
      }
    };
    expect(reason([0x48, 0x53, 1, 1])).toBe('magic');
    expect(reason([0x47, 0x53, 2, 1])).toBe('version');
    expect(reason([0x47, 0x53, 1, 99])).toBe('type');
    expect(reason([0x47, 0x53, 1, 3, 0, 4, 0, 3, 0, 2])).toBe('field'); // digest range 3+2 of 4
    expect(reason([0x47, 0x53, 1, 6, 0, 1, 1, 0xff])).toBe('utf8');
    // An entry whose ts is not an integer.
    const bad = encode({ type: 'delta', entries: [{ key: 'k', value: 1, ts: 5, origin: 0, deleted: false }] });
    new DataView(bad.buffer).setFloat64(4 + 2 + 2, 1.5);
    expect(reason([...bad])).toBe('field');
  });

  it('refuses to encode a key longer than 255 bytes', () => {
    expect(() => encode({ type: 'request', keys: ['x'.repeat(256)] })).toThrow(RangeError);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParams } from '../fc.js';
import {
  ClientWireError,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  MAX_DATAGRAM_BYTES,
  MAX_KEY_BYTES,
  type ClientReply,
  type ClientRequest,
} from '../../src/transport/client-wire.js';

const key = fc.string({ maxLength: 40, unit: 'grapheme' });
const request: fc.Arbitrary<ClientRequest> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key, value: fc.string({ maxLength: 300, unit: 'grapheme' }) }),
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('del' as const), key }),
  fc.constant({ op: 'stats' as const }),
);
const reply: fc.Arbitrary<ClientReply> = fc.oneof(
  fc.record({ status: fc.constant('ok' as const), value: fc.string({ maxLength: 300, unit: 'grapheme' }) }),
  fc.constant({ status: 'not_found' as const }),
  fc.record({ status: fc.constant('error' as const), message: fc.string({ maxLength: 80 }) }),
);
const id = fc.integer({ min: 0, max: 0xffffffff });

describe('client wire', () => {
  it('round-trips every request and reply', () => {
    fc.assert(
      fc.property(id, request, (requestId, req) => {
        const bytes = encodeRequest(requestId, req);
        expect(bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
        expect(decodeRequest(bytes)).toEqual({ requestId, request: req });
      }),
      fcParams(),
    );
    fc.assert(
      fc.property(id, reply, (requestId, rep) => {
        expect(decodeReply(encodeReply(requestId, rep))).toEqual({ requestId, reply: rep });
      }),
      fcParams(),
    );
  });

  it('rejects arbitrary bytes, truncations and mutations only with ClientWireError', () => {
    const check = (bytes: Uint8Array): void => {
      for (const decode of [decodeRequest, decodeReply]) {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(ClientWireError);
        }
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => check(b)),
      fcParams(),
    );
    fc.assert(
      fc.property(id, request, fc.nat(), fc.nat(255), (requestId, req, at, byte) => {
        const bytes = encodeRequest(requestId, req);
        check(bytes.subarray(0, at % (bytes.length + 1)));
        const mutated = bytes.slice();
        mutated[at % bytes.length] = byte;
        check(mutated);
      }),
      fcParams(),
    );
  });

  it('classifies foreign versions, oversized datagrams and bad UTF-8', () => {
    const bytes = encodeRequest(1, { op: 'get', key: 'k' });
    const foreign = bytes.slice();
    foreign[2] = 2;
    expect(() => decodeRequest(foreign)).toThrow(expect.objectContaining({ reason: 'foreign_version' }) as Error);
    const big = new Uint8Array(MAX_DATAGRAM_BYTES + 1);
    big.set(bytes);
    expect(() => decodeRequest(big)).toThrow(expect.objectContaining({ reason: 'oversized' }) as Error);
    const badUtf8 = bytes.slice();
    badUtf8[badUtf8.length - 1] = 0xff;
    expect(() => decodeRequest(badUtf8)).toThrow(expect.objectContaining({ reason: 'malformed' }) as Error);
  });

  it('refuses to encode keys or values that do not fit', () => {
    expect(() => encodeRequest(1, { op: 'get', key: 'k'.repeat(MAX_KEY_BYTES + 1) })).toThrow(/limit is 255/);
    expect(() => encodeRequest(1, { op: 'put', key: 'k', value: 'v'.repeat(MAX_DATAGRAM_BYTES) })).toThrow(/fit in one datagram/);
    expect(encodeRequest(1, { op: 'put', key: 'k', value: 'v'.repeat(MAX_DATAGRAM_BYTES - 12) }).length).toBe(MAX_DATAGRAM_BYTES);
  });
});

import { describe, expect, it } from 'vitest';
import { AddressError, buildMembership, formatAddress, parseAddress, parseAddressList } from '../../src/transport/address.js';

describe('addresses', () => {
  it('parses and formats host:port', () => {
    expect(parseAddress('127.0.0.1:5001')).toEqual({ host: '127.0.0.1', port: 5001 });
    expect(formatAddress(parseAddress(' 10.0.0.2:0 '))).toBe('10.0.0.2:0');
    expect(parseAddressList('127.0.0.1:5002, 127.0.0.1:5003,')).toHaveLength(2);
    expect(parseAddressList('')).toEqual([]);
  });

  it('rejects bad addresses with a message naming them', () => {
    for (const bad of ['5001', 'localhost:5001', '127.0.0.1:', '127.0.0.1:70000', '127.0.0.1:-1', '300.0.0.1:1']) {
      expect(() => parseAddress(bad)).toThrow(AddressError);
    }
    expect(() => parseAddress('127.0.0.1:x')).toThrow(/127\.0\.0\.1:x/);
  });

  it('gives every member the same ids whichever member computes them', () => {
    const a = parseAddressList('127.0.0.1:10000,127.0.0.1:9000,127.0.0.2:1');
    const views = a.map((self, i) =>
      buildMembership(
        self,
        a.filter((_, j) => j !== i),
      ),
    );
    for (const v of views) expect(v.members.map(formatAddress)).toEqual(['127.0.0.1:9000', '127.0.0.1:10000', '127.0.0.2:1']);
    expect(views.map((v) => v.self)).toEqual([1, 0, 2]);
    expect(views[1]?.peers).toEqual([1, 2]);
    expect(views[0]?.idOf('127.0.0.2:1')).toBe(2);
    expect(views[0]?.idOf('127.0.0.1:1')).toBeUndefined();
  });

  it('rejects self among peers, duplicates and port 0', () => {
    const self = parseAddress('127.0.0.1:5001');
    expect(() => buildMembership(self, [self])).toThrow(/own address/);
    expect(() => buildMembership(self, parseAddressList('127.0.0.1:5002,127.0.0.1:5002'))).toThrow(/twice/);
    expect(() => buildMembership(parseAddress('127.0.0.1:0'), [])).toThrow(/must not be 0/);
  });
});

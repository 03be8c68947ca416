import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WIRE_VERSION } from '../../src/protocols/gossip/wire.js';
import { KeyFileError, Keyring, SEALED_OVERHEAD, framePlain, isSealed, keyId, openPlain } from '../../src/transport/envelope.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const payload = new TextEncoder().encode('GS hello');

describe('sealed envelopes (AES-256-GCM)', () => {
  it('round-trips, with a fresh nonce per datagram and the sent-at time', () => {
    const ring = new Keyring([k1]);
    const a = ring.seal(payload, 1_700_000_000_123);
    const b = ring.seal(payload, 1_700_000_000_123);
    expect(isSealed(a)).toBe(true);
    expect(a.length).toBe(payload.length + SEALED_OVERHEAD);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const r = ring.open(a);
    expect(r.ok && Buffer.from(r.payload).toString()).toBe('GS hello');
    expect(r.ok && r.sentAtMs).toBe(1_700_000_000_123);
    expect(r.ok && r.keyId).toBe(keyId(k1));
    const rb = ring.open(b);
    expect(r.ok && rb.ok && r.nonce !== rb.nonce).toBe(true);
  });

  it('refuses another key, and any altered byte: header (version, key id, time, nonce), ciphertext or tag', () => {
    const sealed = new Keyring([k1]).seal(payload, 1000, 100);
    expect(new Keyring([k2]).open(sealed)).toEqual({ ok: false, reason: 'unauthenticated' });
    const ring = new Keyring([k1]);
    for (let i = 4; i < sealed.length; i++) {
      const bad = Uint8Array.from(sealed);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(ring.open(bad).ok, `byte ${i}`).toBe(false);
    }
    const v = Uint8Array.from(sealed);
    v[3] = WIRE_VERSION + 1;
    expect(ring.open(v)).toEqual({ ok: false, reason: 'foreign_version' });
    expect(ring.open(framePlain(payload))).toEqual({ ok: false, reason: 'unauthenticated' });
    expect(ring.open(payload)).toEqual({ ok: false, reason: 'unauthenticated' });
  });

  it('a keyring seals with its first key and opens with every key (rotation)', () => {
    const old = new Keyring([k1]);
    const both = new Keyring([k2, k1]);
    const next = new Keyring([k2]);
    expect(both.open(old.seal(payload, 1)).ok).toBe(true);
    expect(old.open(both.seal(payload, 1)).ok).toBe(false);
    expect(next.open(both.seal(payload, 1)).ok).toBe(true);
    expect(both.ids()).toEqual([keyId(k2), keyId(k1)].map((id) => id.toString(16).padStart(8, '0')));
  });

  it('pads to a requested size, inside the authenticated body', () => {
    const ring = new Keyring([k1]);
    const s = ring.seal(payload, 1, 1446);
    expect(s.length).toBe(1446);
    const r = ring.open(s);
    expect(r.ok && Buffer.from(r.payload).toString()).toBe('GS hello');
    const p = framePlain(payload, 1446);
    expect(p.length).toBe(1446);
    const o = openPlain(p);
    expect(o.ok && Buffer.from(o.payload).toString()).toBe('GS hello');
  });
});

describe('key files', () => {
  it('reads hex and base64 keys, skipping comments and blank lines; the first is the primary', () => {
    const ring = Keyring.parse(`# rotated 2026-12-01\n${k2.toString('base64')}\n\n${k1.toString('hex')}\n`, 'cluster.key');
    expect(ring.size).toBe(2);
    expect(ring.primaryId).toBe(keyId(k2));
  });

  it('refuses bad lines, duplicates and empty files, naming the file and line', () => {
    expect(() => Keyring.parse('# only a comment\n', 'a.key')).toThrow(/a\.key: no key found/);
    expect(() => Keyring.parse(`${k1.toString('hex')}\nnot-a-key\n`, 'b.key')).toThrow(/b\.key:2: expected a 32-byte key/);
    expect(() => Keyring.parse(`${k1.toString('hex')}\n${k1.toString('base64')}\n`, 'c.key')).toThrow(/c\.key:2: this key is already listed/);
    expect(() => Keyring.parse(randomBytes(16).toString('hex'), 'd.key')).toThrow(KeyFileError);
    expect(() => Keyring.load('/nonexistent/dir/k.key')).toThrow(/cannot read the key file: ENOENT/);
  });
});

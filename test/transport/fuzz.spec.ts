/**
 * Fuzzing a live node process: random, truncated, oversized, mutated and
 * foreign-version datagrams, from a cluster member's address and from a
 * stranger's, interleaved with client checks. The node must stay up, count
 * the garbage as dropped, and keep answering correctly.
 */
import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encode, type GossipMessage } from '../../src/protocols/gossip/wire.js';
import type { Entry } from '../../src/protocols/gossip/store.js';
import { KvClient } from '../../src/transport/kv-client.js';
import { FC_SEED } from '../fc.js';
import { freeUdpPorts } from './helpers.js';
import { ensureBuilt, killAll, run, stop, waitListening } from './procs.js';

const TOTAL = 50_000;
const BATCH = 250;
const MTU = 1400;

const key = fc.string({ minLength: 1, maxLength: 12 }).map((s) => `f${s}`);
const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({
    key,
    value: fc.oneof(fc.string({ maxLength: 30 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
    ts: fc.nat({ max: 2 ** 40 }),
    origin: fc.nat({ max: 4 }),
    deleted: fc.constant(false),
  }),
  fc.record({ key, value: fc.constant(null), ts: fc.nat({ max: 2 ** 40 }), origin: fc.nat({ max: 4 }), deleted: fc.constant(true) }),
);
const ref = fc.record({ key, ts: fc.nat({ max: 2 ** 40 }), origin: fc.nat({ max: 4 }) });
const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({ type: fc.constant('rumor' as const), rumors: fc.array(entry, { maxLength: 5 }), pull: fc.boolean(), reply: fc.boolean() }),
  fc.record({ type: fc.constant('feedback' as const), known: fc.array(ref, { maxLength: 5 }) }),
  fc.record({
    type: fc.constant('digest' as const),
    buckets: fc.constantFrom(64, 32),
    start: fc.constant(0),
    hashes: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 32 }),
  }),
  fc.record({
    type: fc.constant('summary' as const),
    buckets: fc.constant(64),
    bucket: fc.nat({ max: 63 }),
    first: fc.boolean(),
    last: fc.boolean(),
    items: fc.array(ref, { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant('delta' as const), entries: fc.array(entry, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('request' as const), keys: fc.array(key, { maxLength: 5 }) }),
  fc.record({
    type: fc.constant('client-request' as const),
    id: fc.nat({ max: 0xffffffff }),
    call: fc.oneof(fc.record({ op: fc.constant('get' as const), key }), fc.constant({ op: 'stats' as const })),
  }),
  fc.record({
    type: fc.constant('client-reply' as const),
    id: fc.nat(),
    reply: fc.constant({ op: 'put' as const, ok: true as const, ts: 1, origin: 0 }),
  }),
);

type Kind = 'random' | 'truncated' | 'mutated' | 'oversized' | 'foreign' | 'valid';
const datagram: fc.Arbitrary<{ kind: Kind; bytes: Uint8Array; stranger: boolean }> = fc
  .tuple(
    fc.constantFrom<Kind>('random', 'truncated', 'mutated', 'oversized', 'foreign', 'valid'),
    message,
    fc.uint8Array({ maxLength: 200 }),
    fc.nat(),
    fc.nat({ max: 255 }),
    fc.boolean(),
  )
  .map(([kind, msg, noise, at, byte, stranger]) => {
    const valid = encode(msg);
    switch (kind) {
      case 'random':
        return { kind, bytes: noise, stranger };
      case 'truncated':
        return { kind, bytes: valid.subarray(0, at % valid.length), stranger };
      case 'mutated': {
        const b = valid.slice();
        b[at % b.length] = byte;
        return { kind, bytes: b, stranger };
      }
      case 'oversized': {
        const b = new Uint8Array(MTU + 1 + (at % 2000));
        b.set(valid.subarray(0, Math.min(valid.length, b.length)));
        return { kind, bytes: b, stranger };
      }
      case 'foreign': {
        const b = valid.slice();
        b[2] = 2 + (byte % 254);
        return { kind, bytes: b, stranger };
      }
      case 'valid':
        return { kind, bytes: valid, stranger };
    }
  });

afterAll(async () => {
  await killAll();
});

async function bound(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', () => resolve()));
  return s;
}

describe('a live node under fuzzed datagrams', () => {
  it('stays up, counts the garbage as dropped and keeps answering', async () => {
    ensureBuilt();
    const [nodePort, memberPort] = (await freeUdpPorts(2)) as [number, number];
    const proc = run([
      'node',
      '--id',
      'F',
      '--listen',
      `127.0.0.1:${nodePort}`,
      '--peers',
      `127.0.0.1:${memberPort}`,
      '--interval',
      '100',
      '--seed',
      'fuzz',
    ]);
    const member = await bound(memberPort);
    const stranger = await bound(0);
    // Short attempts, many retries: a request lost in a full socket buffer is simply sent again (same id).
    const client = new KvClient({ node: { host: '127.0.0.1', port: nodePort }, timeoutMs: 100, retries: 40 });
    try {
      await waitListening(proc);
      const samples = fc.sample(datagram, { seed: FC_SEED, numRuns: TOTAL });
      const sent: Record<Kind, number> = { random: 0, truncated: 0, mutated: 0, oversized: 0, foreign: 0, valid: 0 };
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < samples.length; i += BATCH) {
        await Promise.all(
          samples.slice(i, i + BATCH).map(
            (d) =>
              new Promise<void>((resolve) => {
                sent[d.kind]++;
                (d.stranger ? stranger : member).send(d.bytes, nodePort, '127.0.0.1', () => resolve());
              }),
          ),
        );
        const n = i / BATCH;
        await client.put(`check-${n}`, `value-${n}`);
        expect(await client.get(`check-${n}`)).toBe(`value-${n}`);
      }
      const s = await client.stats();
      const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
      const dropped = s['dropped_malformed']! + s['dropped_oversized']! + s['dropped_foreign_version']! + s['dropped_unknown_peer']!;
      const handled = dropped + s['messages_in']! + s['client_requests']!;
      console.log(
        `fuzz: sent ${TOTAL} datagrams ${JSON.stringify(sent)} in ${elapsedS.toFixed(2)} s; node handled ${handled} ` +
          `(${Math.round(handled / elapsedS)} datagrams/s incl. client checks), dropped ${dropped}: ` +
          `malformed ${s['dropped_malformed']}, oversized ${s['dropped_oversized']}, foreign_version ${s['dropped_foreign_version']}, unknown_peer ${s['dropped_unknown_peer']}`,
      );
      expect(proc.child.exitCode).toBeNull();
      expect(s['handler_errors']).toBe(0);
      expect(s['dropped_oversized']).toBeGreaterThan(0);
      expect(s['dropped_foreign_version']).toBeGreaterThan(0);
      expect(s['dropped_malformed']).toBeGreaterThan(0);
      expect(s['dropped_unknown_peer']).toBeGreaterThan(0);
      // Loopback may lose datagrams when the socket buffer is full, never invent them.
      expect(dropped).toBeLessThanOrEqual(TOTAL);
      expect(s['dropped_oversized']).toBeLessThanOrEqual(sent.oversized);
      // Every check written during the storm is still there.
      for (let n = 0; n < TOTAL / BATCH; n++) expect(await client.get(`check-${n}`)).toBe(`value-${n}`);
      expect(await stop(proc)).toBe(0);
    } finally {
      client.close();
      member.close();
      stranger.close();
    }
  });
});

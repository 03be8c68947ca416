/**
 * The attacker's side of real nodes on loopback: a forged future timestamp,
 * unauthenticated and replayed datagrams against a keyed cluster, key
 * rotation under writes, reply sizes (no amplification), a flood of puts
 * from one source, and the start-up refusals. Every loop is bounded in count
 * and time; no assertion is about wall-clock time (the flood's get latency is
 * measured and printed, not asserted).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACCEPTED_TS } from '../../src/protocols/gossip/node.js';
import { encode, type GossipMessage } from '../../src/protocols/gossip/wire.js';
import { Keyring } from '../../src/transport/envelope.js';
import { KvClient } from '../../src/transport/kv-client.js';
import { eventually, freeConsecutivePorts, freeUdpPorts, sendRaw } from './helpers.js';
import { ensureBuilt, killAll, run, runScript, runToEnd, stop, waitListening, type Proc } from './procs.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const INTERVAL_MS = 100;
const AE_MS = 300;
let dir: string;
const clients: KvClient[] = [];
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const K_WRONG = randomBytes(32);

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'desim-security-'));
});

afterAll(async () => {
  for (const c of clients) c.close();
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, keys: readonly Buffer[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, keys.map((k) => k.toString('base64')).join('\n') + '\n', { mode: 0o600 });
  return file;
}

function startNodes(
  ports: readonly number[],
  which: readonly number[],
  extra: readonly string[] = [],
  interval = INTERVAL_MS,
  antiEntropy: readonly string[] = ['--anti-entropy', String(AE_MS)],
): Proc[] {
  return which.map((i) => {
    const peers = ports
      .filter((_, j) => j !== i)
      .map((p) => `127.0.0.1:${p}`)
      .join(',');
    return run([
      'node',
      '--id',
      String.fromCharCode(65 + i),
      '--listen',
      `127.0.0.1:${ports[i]}`,
      '--peers',
      peers,
      '--interval',
      String(interval),
      ...antiEntropy,
      '--seed',
      `sec-${i}`,
      ...extra,
    ]);
  });
}

function client(port: number, keyring?: Keyring, timeoutMs = 300, retries = 10): KvClient {
  const c = new KvClient({ node: { host: '127.0.0.1', port }, timeoutMs, retries, ...(keyring !== undefined ? { keyring } : {}) });
  clients.push(c);
  return c;
}

/** Sends datagrams from one socket and collects every datagram it receives back. */
async function exchange(port: number, payloads: readonly Uint8Array[], settle: (got: readonly Buffer[]) => Promise<unknown>): Promise<Buffer[]> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (b) => got.push(b));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  for (const p of payloads) await new Promise<void>((resolve) => s.send(p, port, '127.0.0.1', () => resolve()));
  await settle(got);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return got;
}

const req = (id: number, call: Extract<GossipMessage, { type: 'client-request' }>['call']): Uint8Array =>
  encode({ type: 'client-request', id, call });

describe('bounded clocks on real nodes', () => {
  it('the forged-timestamp datagram of the issue no longer stops replication, and its sender is named', async () => {
    // A and C up, B down; "B" (any local process on B's port) sends one rumor stamped 2^53 - 2^32 - 1.
    const ports = await freeUdpPorts(3);
    const [a, c] = startNodes(ports, [0, 2]) as [Proc, Proc];
    await Promise.all([waitListening(a), waitListening(c)]);
    const forged = encode({
      type: 'rumor',
      rumors: [{ key: 'k', value: 'forged', ts: MAX_ACCEPTED_TS, origin: 1, deleted: false }],
      pull: false,
      reply: false,
    });
    await sendRaw(ports[0] as number, [forged], ports[1]);
    const ca = client(ports[0] as number);
    const cc = client(ports[2] as number);
    const sa = await eventually('A counts the forged version', async () => {
      const s = await ca.stats();
      return (s['future_timestamp'] ?? 0) >= 1 ? s : undefined;
    });
    expect(sa[`future_timestamp_from_127.0.0.1:${ports[1]}`]).toBe(1);
    expect(await ca.get('k')).toBeUndefined();
    // Later writes on A are stamped by A's own clock and replicate to C (and the other way).
    const w = await ca.put('k', 'after');
    expect(w.ts).toBeLessThan(MAX_ACCEPTED_TS);
    // Timestamps are µs since 1970 (no wrap-around): within a minute of this process's wall clock.
    expect(Math.abs(w.ts - Date.now() * 1000)).toBeLessThan(60_000_000);
    await eventually('the write after the forgery on C', async () => ((await cc.get('k')) === 'after' ? true : undefined));
    await cc.put('k2', 'from C');
    await eventually('C’s write on A', async () => ((await ca.get('k2')) === 'from C' ? true : undefined));
    expect((await cc.stats())['protocol_dropped_malformed']).toBe(0);
    await Promise.all([stop(a), stop(c)]);
  });
});

describe('a keyed cluster', () => {
  it('unauthenticated datagrams change nothing and are counted; replayed and stale sealed puts are refused', async () => {
    const file = await keyFile('k1.key', [K1]);
    const ring = new Keyring([K1]);
    const ports = await freeUdpPorts(3);
    const procs = startNodes(ports, [0, 1, 2], ['--key-file', file]);
    const ready = await Promise.all(procs.map((p) => waitListening(p)));
    expect(ready[0]?.['key_ids']).toEqual(ring.ids());
    for (const p of procs) expect(p.stderr.join('\n')).not.toMatch(/warning: no --key-file/);
    const c0 = client(ports[0] as number, ring);
    const c2 = client(ports[2] as number, ring);
    await c0.put('k', 'v1');
    await eventually('v1 on C', async () => ((await c2.get('k')) === 'v1' ? true : undefined));

    // Plain put, padded plain put, put sealed with a wrong key, a plain rumor from member B's port (B stopped).
    const evil = encode({
      type: 'rumor',
      rumors: [{ key: 'k', value: 'evil', ts: (Date.now() * 1e6) % 2 ** 51, origin: 1, deleted: false }],
      pull: false,
      reply: false,
    });
    const plainPut = req(1, { op: 'put', key: 'k', value: 'evil' });
    const wrong = new Keyring([K_WRONG]).seal(plainPut, Date.now(), 1446);
    const tampered = Uint8Array.from(ring.seal(plainPut, Date.now(), 1446));
    tampered[40] = (tampered[40] as number) ^ 0xff;
    const unauth = [plainPut, wrong, tampered, req(2, { op: 'stats' })];
    const replies = await exchange(ports[0] as number, unauth, () => c0.stats());
    expect(replies).toEqual([]);
    await stop(procs[1] as Proc);
    await sendRaw(ports[0] as number, [evil], ports[1]);
    const s0 = await eventually('A counts 5 unauthenticated datagrams', async () => {
      const s = await c0.stats();
      return (s['dropped_unauthenticated'] ?? 0) >= 5 ? s : undefined;
    });
    expect(s0['dropped_unauthenticated']).toBe(5);
    expect(await c0.get('k')).toBe('v1');
    // A client without the key gets no answer: `desim kv` exits 3 (no reply).
    const nokey = await runToEnd(['kv', 'get', '--node', `127.0.0.1:${ports[0]}`, '--timeout', '100', '--retries', '1', 'k']);
    expect(nokey.code).toBe(3);
    const withKey = await runToEnd(['kv', 'get', '--node', `127.0.0.1:${ports[0]}`, '--key-file', file, 'k']);
    expect(withKey).toMatchObject({ code: 0, stdout: 'v1' });

    // Replay: a captured sealed put, sent again from another address after a later write, is refused.
    const captured = ring.seal(req(77, { op: 'put', key: 'r', value: 'old' }), Date.now(), 1446);
    const first = await exchange(ports[0] as number, [captured], (got) =>
      eventually('the reply to the captured put', () => (got.length > 0 ? true : undefined)),
    );
    expect(first.length).toBe(1);
    expect(await c0.get('r')).toBe('old');
    await c0.put('r', 'new');
    const again = await exchange(ports[0] as number, [captured], () => c0.stats());
    expect(again).toEqual([]);
    const stale = ring.seal(req(78, { op: 'put', key: 'r', value: 'stale' }), Date.now() - 60_000, 1446);
    await exchange(ports[0] as number, [stale], () => c0.stats());
    const s1 = await eventually('two replays counted', async () => {
      const s = await c0.stats();
      return s['dropped_replay'] === 2 ? s : undefined;
    });
    expect(s1['dropped_replay']).toBe(2);
    expect(await c0.get('r')).toBe('new');
    await Promise.all(procs.map((p) => stop(p)));
  });

  it('key rotation across a running 3-node cluster loses no write', async () => {
    const file = await keyFile('rot.key', [K1]);
    const ports = await freeUdpPorts(3);
    const procs = startNodes(ports, [0, 1, 2], ['--key-file', file]);
    await Promise.all(procs.map((p) => waitListening(p)));
    let ring = Keyring.load(file);
    const acked: string[] = [];
    let writing = true;
    const writer = (async () => {
      // Sequential writes to the three nodes in turn, each retried by the client; bounded in count.
      for (let i = 0; writing && i < 5000; i++) {
        const c = new KvClient({ node: { host: '127.0.0.1', port: ports[i % 3] as number }, keyring: ring, timeoutMs: 300, retries: 10 });
        try {
          await c.put(`w${i}`, i);
          acked.push(`w${i}`);
        } finally {
          c.close();
        }
      }
    })();
    const step = async (keys: Buffer[], n: number): Promise<void> => {
      await writeFile(file, keys.map((k) => k.toString('hex')).join('\n') + '\n');
      for (const p of procs) p.child.kill('SIGHUP');
      await eventually(`every node reloaded (${n})`, () =>
        procs.every((p) => p.stderr.filter((l) => l.includes('SIGHUP: reloaded')).length >= n) ? true : undefined,
      );
      ring = Keyring.load(file);
      const before = acked.length;
      await eventually('writes go on', () => (acked.length >= before + 5 ? true : undefined));
    };
    await eventually('first writes', () => (acked.length >= 5 ? true : undefined));
    await step([K1, K2], 1); // accept the new key everywhere
    await step([K2, K1], 2); // seal with it everywhere
    await step([K2], 3); // retire the old key
    writing = false;
    await writer;
    const readers = ports.map((p) => client(p, ring));
    for (const [i, r] of readers.entries()) {
      await eventually(
        `all ${acked.length} acknowledged writes on node ${i}`,
        async () => {
          for (const k of acked) if ((await r.get(k)) === undefined) return undefined;
          return true;
        },
        100,
        200,
      );
    }
    const stats = await Promise.all(readers.map((r) => r.stats()));
    for (const s of stats) expect(s['dropped_unauthenticated']).toBe(0);
    expect(acked.length).toBeGreaterThan(15);
    // The old key is now refused.
    const old = client(ports[0] as number, new Keyring([K1]), 100, 1);
    await expect(old.get('w0')).rejects.toThrow(/no reply/);
    await Promise.all(procs.map((p) => stop(p)));
  });
});

describe('no amplification', () => {
  it('never answers with more bytes than the request; small unkeyed requests get no reply, padded ones do', async () => {
    const [port] = (await freeUdpPorts(1)) as [number];
    const p = run(['node', '--id', 'X', '--listen', `127.0.0.1:${port}`]);
    await waitListening(p);
    expect(p.stderr.join('\n')).toMatch(/warning: no --key-file: datagrams are not authenticated/);
    const c = client(port);
    await c.put('big', 'x'.repeat(1000));
    const small = [
      req(1, { op: 'stats' }),
      req(2, { op: 'get', key: 'big' }),
      req(3, { op: 'get', key: 'nope' }),
      req(4, { op: 'put', key: 'y', value: 1 }),
    ];
    const sizes = small.map((b) => b.length);
    expect(sizes[0]).toBe(9); // the 9-byte stats request
    const got = await exchange(port, small, () => c.stats());
    for (const g of got) expect(g.length).toBeLessThanOrEqual(Math.max(...sizes));
    const s = await c.stats();
    expect(s['dropped_amplification']).toBeGreaterThanOrEqual(2); // stats and the 1000-byte get at least
    expect(got.length + (s['dropped_amplification'] as number)).toBe(4);
    // The padded client is answered, its replies no larger than its requests.
    expect(await c.get('big')).toBe('x'.repeat(1000));
    await stop(p);
  });
});

describe('fair under floods', () => {
  it('after 20,000 puts in 10 s from one source, a get from another source is answered (latency measured, not asserted)', async () => {
    const file = await keyFile('flood.key', [K1]);
    const ring = new Keyring([K1]);
    const ports = await freeUdpPorts(3);
    // The setting: --interval 200 and the default anti-entropy period (10 rounds, 2 s). The
    // other tests' 300 ms anti-entropy would spend the nodes' CPU on digests of the flood's keys.
    const procs = startNodes(ports, [0, 1, 2], ['--key-file', file], 200, []);
    await Promise.all(procs.map((p) => waitListening(p)));
    const target = ports[0] as number;
    const getter = client(target, ring, 500, 100);
    await getter.put('probe', 'here');
    // A get from another source: resolves with its latency (ms) once answered (up to 100 attempts of 500 ms).
    const probe = async (): Promise<number> => {
      const t = performance.now();
      expect(await getter.get('probe')).toBe('here');
      return performance.now() - t;
    };
    // The flood comes from a process of its own, so sealing it does not slow this process's gets.
    const flooder = runScript(path.join(import.meta.dirname, 'flooder.mjs'), [ROOT, String(target), K1.toString('base64')]);
    const during: Promise<number>[] = [];
    // A get 1, 3, 5, 7 and 9 s into the flood (after bursts 10, 30, ...).
    const floodS = await eventually(
      'the flood sent',
      () => {
        while (during.length < 5 && flooder.stdout.includes(`burst ${10 + 20 * during.length}`)) during.push(probe());
        const done = flooder.stdout.find((l) => l.startsWith('done '));
        return done === undefined ? undefined : Number(done.slice(5));
      },
      30_000,
      20,
    ); // a hang detector: 10 minutes
    expect(await flooder.exited).toBe(0);
    const load = loadavg()[0] as number;
    const after: number[] = [];
    for (let k = 0; k < 3; k++) after.push(await probe());
    const latencies = await Promise.all(during);
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(
      `flood: 20000 sealed puts in ${floodS.toFixed(1)} s from one source (load average ${load.toFixed(1)}); get latency from another source, ms: during the flood [${fmt(latencies)}], right after [${fmt(after)}]`,
    );
    const s = await getter.stats();
    const gossip = await client(ports[1] as number, ring, 500, 100).stats();
    console.log(
      `flood: node A client_requests ${s['client_requests']}, dropped_client_overload ${s['dropped_client_overload']}, keys ${s['keys']}, messages_out ${s['messages_out']}; node B messages_in ${gossip['messages_in']}`,
    );
    expect(s['client_requests']).toBeGreaterThan(0);
    // Gossip was not starved: B keeps hearing from its peers and learns the flood's keys.
    expect(gossip['messages_in']).toBeGreaterThan(0);
    await Promise.all(procs.map((p) => stop(p)));
  }, 600_000); // generous: a busy machine slows the cluster down; the test asserts answers, not speed
});

describe('start-up refusals', () => {
  it('refuses a non-loopback --listen without a key (exit 2) unless --insecure; refuses a bad key file (exit 2)', async () => {
    const refused = await runToEnd(['node', '--id', 'A', '--listen', '0.0.0.0:5001']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a loopback address: give --key-file .* or --insecure/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    // 192.0.2.1 (TEST-NET-1) is on no interface: --insecure gets past the refusal, and the bind fails instead.
    const insecure = await runToEnd(['node', '--id', 'A', '--listen', '192.0.2.1:5001', '--insecure']);
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/cannot bind/);
    const bad = path.join(dir, 'bad.key');
    await writeFile(bad, `${K1.toString('hex')}\nnonsense\n`);
    const badKey = await runToEnd(['node', '--id', 'A', '--listen', '127.0.0.1:5001', '--key-file', bad]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain(`${bad}:2: expected a 32-byte key`);
    const kvBad = await runToEnd(['kv', 'get', '--node', '127.0.0.1:5001', '--key-file', bad, 'k']);
    expect(kvBad.code).toBe(2);
    for (const v of ['-1', '1.5']) {
      const budget = await runToEnd(['node', '--id', 'A', '--listen', '127.0.0.1:5001', '--rumor-budget', v]);
      expect(budget.code).toBe(2);
      expect(budget.stderr).toContain(`--rumor-budget must be an integer in [0, 1000000] (0 = no budget), got ${v}`);
    }
  });

  it('desim cluster exits with an error when a node cannot bind', async () => {
    const base = await freeConsecutivePorts(3);
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(base + 1, '127.0.0.1', () => resolve()));
    try {
      const res = await runToEnd(['cluster', '--nodes', '3', '--base-port', String(base), '--interval', String(INTERVAL_MS)]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/node B \(127\.0\.0\.1:\d+\) exited before it was listening \(code 1\); stopping every node/);
      expect(res.stderr).toMatch(/EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});

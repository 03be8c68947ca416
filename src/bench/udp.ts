/**
 * `desim bench udp`: client throughput and latency of a real 3-node cluster
 * on loopback. The nodes are `desim node` processes (each with its data in a
 * temporary folder: every put is in its write-ahead log before it is
 * answered); the client runs `concurrency` requests at a time from this
 * process, spread over the three nodes, for `durationS` seconds per phase:
 * puts with `--ack local`, gets of the keys written, puts with
 * `--ack replicated:2`. Every datagram is sealed with a fresh random key
 * (`--key-file`) unless `plain`; each request stream has its own socket, as
 * separate clients would (nodes limit requests per source address).
 * Wall-clock figures, like every bench.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Keyring } from '../transport/envelope.js';
import { KvClient } from '../transport/kv-client.js';

/** Options of {@link benchUdp}. */
export interface UdpBenchOptions {
  /** The desim CLI script that starts nodes (`process.argv[1]`). */
  readonly cliPath: string;
  /** Seconds per phase (default 3). */
  readonly durationS?: number;
  /** Requests in flight at once (default 64). */
  readonly concurrency?: number;
  /** Gossip round of the nodes, ms (default 100): replicated acks take about one or two rounds. */
  readonly intervalMs?: number;
  /** Plain datagrams: no `--key-file` (default false: a fresh random key seals every datagram). */
  readonly plain?: boolean;
  /** Run the nodes without `--data` (no log, nothing durable), for comparison (default false). */
  readonly memory?: boolean;
  /** Extra `desim node` arguments (e.g. a key file). */
  readonly nodeArgs?: readonly string[];
}

/** One phase's figures. */
export interface UdpPhaseResult {
  readonly name: 'put_local' | 'get' | 'put_replicated2';
  readonly ops: number;
  readonly errors: number;
  readonly opsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What {@link benchUdp} measured. */
export interface UdpBenchResult {
  readonly phases: readonly UdpPhaseResult[];
  /** Log records per fdatasync over the run, summed over the nodes (group commit at work). */
  readonly recordsPerSync: number;
}

/** Ports {@link freeUdpPorts} hands out: below Linux's default ephemeral range (32768–60999). */
const LISTEN_PORT_MIN = 20_000;
const LISTEN_PORT_MAX = 32_767;

/**
 * `n` distinct UDP ports on 127.0.0.1 that were free a moment ago, for nodes to listen on. They are
 * drawn below the ephemeral range, from which the OS gives every socket bound to port 0 (each KV
 * client's) its port: a port taken from there, checked and released, could be handed to a client of
 * another process before the node binds it (tests running side by side hit this).
 */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n; tries++) {
    if (tries >= 10_000) throw new Error(`freeUdpPorts: found ${ports.length} of ${n} free UDP ports in ${LISTEN_PORT_MIN}..${LISTEN_PORT_MAX}`);
    const port = randomInt(LISTEN_PORT_MIN, LISTEN_PORT_MAX + 1);
    if (!ports.includes(port) && (await udpPortFree(port))) ports.push(port);
  }
  return ports;
}

/** True when a UDP socket can bind `port` on 127.0.0.1 now (it is released again at once). */
function udpPortFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // never bound: nothing to close
      }
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

async function phase(
  name: UdpPhaseResult['name'],
  clients: readonly KvClient[],
  concurrency: number,
  durationMs: number,
  op: (c: KvClient, worker: number, n: number) => Promise<unknown>,
): Promise<UdpPhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(durationMs) * 1_000_000n;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const c = clients[w % clients.length] as KvClient;
      for (let n = 0; process.hrtime.bigint() < deadline; n++) {
        const s = process.hrtime.bigint();
        try {
          await op(c, w, n);
          latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    name,
    ops: latencies.length,
    errors,
    opsPerS: latencies.length / elapsedS,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Runs the three phases against a fresh 3-node cluster, then stops it and removes its data. */
export async function benchUdp(opts: UdpBenchOptions): Promise<UdpBenchResult> {
  const durationMs = Math.round((opts.durationS ?? 3) * 1000);
  const concurrency = opts.concurrency ?? 64;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'desim-bench-udp-'));
  const keyFile = path.join(dataDir, 'cluster.key');
  if (opts.plain !== true) await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const keyring = opts.plain === true ? undefined : Keyring.load(keyFile);
  const ports = await freeUdpPorts(3);
  const addrs = ports.map((port) => ({ host: '127.0.0.1', port }));
  const listening = new Set<string>();
  let failed = '';
  const children = addrs.map((a, i) => {
    const name = String.fromCharCode(65 + i);
    const peers = addrs
      .filter((_, j) => j !== i)
      .map((p) => `${p.host}:${p.port}`)
      .join(',');
    const args = ['node', '--id', name, '--listen', `${a.host}:${a.port}`, '--peers', peers];
    if (opts.memory !== true) args.push('--data', path.join(dataDir, `${name}.json`));
    args.push(
      '--interval',
      String(opts.intervalMs ?? 100),
      '--seed',
      `bench-${name}`,
      ...(keyring !== undefined ? ['--key-file', keyFile] : []),
      ...(opts.nodeArgs ?? []),
    );
    const child = spawn(process.execPath, [opts.cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.stdout !== null)
      createInterface({ input: child.stdout }).on('line', (line) => line.includes('"event":"listening"') && listening.add(name));
    const stderr: string[] = [];
    if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    child.once('exit', (code) => (failed ||= `node ${name} exited (${String(code)}): ${stderr.slice(-3).join(' / ')}`));
    return { child, exited };
  });
  // One client (socket) per request stream, stream w talking to node w mod 3.
  const clients = Array.from(
    { length: concurrency },
    (_, w) =>
      new KvClient({
        node: addrs[w % addrs.length] as (typeof addrs)[number],
        timeoutMs: 2000,
        retries: 2,
        ...(keyring !== undefined ? { keyring } : {}),
      }),
  );
  try {
    for (let i = 0; i < 600 && listening.size < 3; i++) {
      if (failed !== '') throw new Error(`bench udp: ${failed}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (listening.size < 3) throw new Error('bench udp: the nodes did not start');
    // Each stream reads back what it wrote, from the node it wrote to: a key written at another node
    // may not have reached this one yet, and that would be gossip delay, not a failed get.
    const written: string[][] = Array.from({ length: concurrency }, () => []);
    const putLocal = await phase('put_local', clients, concurrency, durationMs, async (c, w, n) => {
      const key = `w${w}-${n}`;
      await c.put(key, n);
      written[w]?.push(key);
    });
    const get = await phase('get', clients, concurrency, durationMs, async (c, w, n) => {
      const mine = written[w] ?? [];
      if (mine.length === 0) return;
      if ((await c.get(mine[(n * 7919) % mine.length] as string)) === undefined) throw new Error('missing');
    });
    const putRepl = await phase('put_replicated2', clients, concurrency, durationMs, (c, w, n) =>
      c.put(`r${w}-${n}`, n, { replicas: 2, timeoutMs: 5000 }),
    );
    let records = 0;
    let batches = 0;
    for (const c of clients.slice(0, addrs.length)) {
      const s = await c.stats();
      records += s['wal_records'] ?? 0;
      batches += s['wal_batches'] ?? 0;
    }
    return { phases: [putLocal, get, putRepl], recordsPerSync: batches > 0 ? records / batches : 0 };
  } finally {
    for (const c of clients) c.close();
    failed = 'stopping';
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
    const kill = setTimeout(() => children.forEach((c) => c.child.kill('SIGKILL')), 5000);
    await Promise.all(children.map((c) => c.exited));
    clearTimeout(kill);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Three real node processes on loopback: replication, crash and catch-up by
 * anti-entropy, persistence across a graceful restart, a corrupt state file,
 * and the kv command's output and exit codes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/transport/kv-client.js';
import { eventually, freeConsecutivePorts, freeUdpPorts } from './helpers.js';
import { ensureBuilt, killAll, run, runToEnd, stop, waitListening, type Proc } from './procs.js';

const INTERVAL_MS = 100;
const AE_MS = 300;
let dir: string;
let ports: number[];
const clients: KvClient[] = [];

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'desim-cluster-'));
  ports = await freeUdpPorts(3);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

const addr = (i: number): string => `127.0.0.1:${ports[i]}`;
const NAMES = ['A', 'B', 'C'];

function startNode(i: number, extra: string[] = []): Proc {
  const peers = [0, 1, 2]
    .filter((j) => j !== i)
    .map(addr)
    .join(',');
  return run([
    'node',
    '--id',
    NAMES[i] as string,
    '--listen',
    addr(i),
    '--peers',
    peers,
    '--interval',
    String(INTERVAL_MS),
    '--anti-entropy',
    String(AE_MS),
    '--data',
    path.join(dir, `${NAMES[i]}.json`),
    '--seed',
    `test-${i}`,
    ...extra,
  ]);
}

function client(i: number): KvClient {
  const c = new KvClient({ node: { host: '127.0.0.1', port: ports[i] as number }, timeoutMs: 300, retries: 5 });
  clients.push(c);
  return c;
}

const valueOn = (i: number, key: string, want: string) => async (): Promise<true | undefined> =>
  (await client(i).get(key)) === want ? true : undefined;

describe('a 3-process cluster on loopback', () => {
  it('replicates, catches a crashed node up by anti-entropy and keeps data across a graceful restart', async () => {
    const procs = [0, 1, 2].map((i) => startNode(i));
    const ready = await Promise.all(procs.map((p) => waitListening(p)));
    expect(ready.map((r) => r['address'])).toEqual([addr(0), addr(1), addr(2)]);

    // Put on A, read on B and C within a few gossip intervals (bounded polling, no timing assertion).
    await client(0).put('greeting', 'hello');
    await eventually('greeting on B', valueOn(1, 'greeting', 'hello'));
    await eventually('greeting on C', valueOn(2, 'greeting', 'hello'));

    // Crash C (no flush), write more while it is down.
    await stop(procs[2] as Proc, 'SIGKILL');
    await client(0).put('k2', 'while-c-was-down');
    await client(1).put('greeting', 'hello again');
    await client(1).del('nothing-here');
    await eventually('k2 on B', valueOn(1, 'k2', 'while-c-was-down'));
    // Let the rumors go cold so that C can only learn them through anti-entropy.
    await eventually('A and B have no hot rumors', async () => {
      const [a, b] = await Promise.all([client(0).stats(), client(1).stats()]);
      return a['hot_rumors'] === 0 && b['hot_rumors'] === 0 ? true : undefined;
    });

    // Restart C from its state file: it catches up.
    procs[2] = startNode(2);
    await waitListening(procs[2]);
    await eventually('k2 on restarted C', valueOn(2, 'k2', 'while-c-was-down'));
    await eventually('new greeting on restarted C', valueOn(2, 'greeting', 'hello again'));
    const statsC = await eventually('C hears both peers', async () => {
      const s = await client(2).stats();
      return s['peers_seen'] === 2 ? s : undefined;
    });
    expect(statsC['handler_errors']).toBe(0);
    expect(statsC['messages_in']).toBeGreaterThan(0);

    // Graceful stop flushes every store; C alone, restarted, still has everything.
    const codes = await Promise.all(procs.map((p) => stop(p, 'SIGTERM')));
    expect(codes).toEqual([0, 0, 0]);
    for (const p of procs) expect(p.stdout.some((l) => l.includes('"event":"stopped"'))).toBe(true);
    const alone = startNode(2);
    const r = await waitListening(alone);
    expect(r['loaded_entries']).toBeGreaterThanOrEqual(2);
    expect(await client(2).get('k2')).toBe('while-c-was-down');
    expect(await client(2).get('greeting')).toBe('hello again');

    // The kv command: value alone on stdout; not found => exit 1; bad arguments => exit 2.
    const got = await runToEnd(['kv', 'get', '--node', addr(2), 'greeting']);
    expect(got).toMatchObject({ code: 0, stdout: 'hello again' });
    const missing = await runToEnd(['kv', 'get', '--node', addr(2), 'no-such-key']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('not found');
    const put = await runToEnd(['kv', 'put', '--node', addr(2), 'n', '42', '--json']);
    expect(put.code).toBe(0);
    expect(await client(2).get('n')).toBe(42);
    const stats = await runToEnd(['kv', 'stats', '--node', addr(2), '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ keys: 3, dropped_malformed: 0 });
    const bad = await runToEnd(['kv', 'get', '--node', 'localhost', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('HOST:PORT');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    await stop(alone);
  });

  it('a node restarted without its data stamps new writes after older ones (wall-clock offset + HLC)', async () => {
    const [pa, pb] = (await freeUdpPorts(2)) as [number, number];
    const nodeArgs = (id: string, me: number, peer: number): string[] => [
      'node',
      '--id',
      id,
      '--listen',
      `127.0.0.1:${me}`,
      '--peers',
      `127.0.0.1:${peer}`,
      '--interval',
      String(INTERVAL_MS),
      '--anti-entropy',
      String(AE_MS),
    ];
    const a = run(nodeArgs('A', pa, pb));
    let b = run(nodeArgs('B', pb, pa));
    await Promise.all([waitListening(a), waitListening(b)]);
    const ca = new KvClient({ node: { host: '127.0.0.1', port: pa }, timeoutMs: 300, retries: 5 });
    const cb = new KvClient({ node: { host: '127.0.0.1', port: pb }, timeoutMs: 300, retries: 5 });
    clients.push(ca, cb);
    const old = await ca.put('x', 'old');
    await eventually('x on B', async () => ((await cb.get('x')) === 'old' ? true : undefined));
    await stop(b, 'SIGKILL');
    b = run(nodeArgs('B', pb, pa));
    await waitListening(b);
    const fresh = await cb.put('x', 'new'); // a fresh B, no data file, at once
    expect(fresh.ts).toBeGreaterThan(old.ts);
    await eventually('new x on A', async () => ((await ca.get('x')) === 'new' ? true : undefined));
    expect(await cb.get('x')).toBe('new');
    await Promise.all([stop(a), stop(b)]);
  });

  it('refuses a corrupt state file with a clear error and leaves it untouched', async () => {
    const file = path.join(dir, 'corrupt.json');
    await writeFile(file, '{"format":"desim-node-state","version":1,"sha');
    const [port] = await freeUdpPorts(1);
    const res = await runToEnd(['node', '--id', 'X', '--listen', `127.0.0.1:${port}`, '--data', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/corrupt state file/);
    expect(await readFile(file, 'utf8')).toBe('{"format":"desim-node-state","version":1,"sha');
  });

  it('exits with code 1 and a clear message when the port is taken', async () => {
    const [port] = await freeUdpPorts(1);
    const first = run(['node', '--id', 'P', '--listen', `127.0.0.1:${port}`]);
    await waitListening(first);
    const second = await runToEnd(['node', '--id', 'Q', '--listen', `127.0.0.1:${port}`]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/cannot bind: .*EADDRINUSE/);
    expect(await stop(first)).toBe(0);
  });

  it('exits with code 2 and no stack trace on bad node arguments', async () => {
    for (const args of [
      ['node', '--id', 'A', '--listen', '127.0.0.1:99999'],
      ['node', '--id', 'A', '--listen', '127.0.0.1:5001', '--peers', '127.0.0.1:5001'],
      ['node', '--id', 'A', '--listen', '127.0.0.1:5001', '--interval', '-5'],
      ['node', '--listen', '127.0.0.1:5001'],
      // An unwritable data folder fails at once (recursive mkdir used to spin forever on /proc paths).
      ['node', '--id', 'A', '--listen', '127.0.0.1:5001', '--data', '/proc/x/a.json'],
    ]) {
      const res = await runToEnd(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/desim: /);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('desim cluster starts N nodes in one command and Ctrl-C stops them all', async () => {
    const base = await freeConsecutivePorts(3);
    const proc = run(['cluster', '--nodes', '3', '--base-port', String(base), '--interval', String(INTERVAL_MS)]);
    const ready = await eventually('three nodes listening', () => {
      const lines = proc.stdout.filter((l) => l.includes('"event":"listening"'));
      return lines.length === 3 ? lines.map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { id: string; address: string; pid: number }) : undefined;
    });
    expect(ready.map((r) => r.id).sort()).toEqual(['A', 'B', 'C']);
    expect(ready.map((r) => r.address).sort()).toEqual([0, 1, 2].map((i) => `127.0.0.1:${base + i}`));
    const a = new KvClient({ node: { host: '127.0.0.1', port: base }, timeoutMs: 300, retries: 5 });
    const c = new KvClient({ node: { host: '127.0.0.1', port: base + 2 }, timeoutMs: 300, retries: 5 });
    clients.push(a, c);
    await a.put('demo', 'one command');
    await eventually('demo on C', async () => ((await c.get('demo')) === 'one command' ? true : undefined));
    expect(await stop(proc, 'SIGINT')).toBe(0);
    for (const r of ready) {
      expect(() => process.kill(r.pid, 0), `node ${r.id} still running`).toThrow(/ESRCH/);
    }
    expect(proc.stderr.join('\n')).toMatch(/stopping every node/);
  });
});

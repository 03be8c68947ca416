/**
 * Durable and replicated acknowledgements of real gossip nodes, in process on
 * loopback: a put is answered only once it is in the node's log; a node that
 * cannot persist refuses writes and keeps serving reads (through the
 * persistence layer's fault hook); `replicated:N` waits for N holders or
 * reports how many confirmed; the data survives a change of the member set;
 * a second node cannot take a locked data file.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UdpAddress } from '../../src/transport/address.js';
import { startGossipNode, type GossipUdpOptions, type RunningGossipNode } from '../../src/transport/gossip-udp.js';
import { KvClient, KvRemoteError } from '../../src/transport/kv-client.js';
import { DataLockedError, loadState, saveState } from '../../src/transport/persist.js';
import { readWal, type IoFault } from '../../src/transport/wal.js';
import { eventually, freeUdpPorts } from './helpers.js';

let dir: string;
const nodes: RunningGossipNode[] = [];
const clients: KvClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'desim-durable-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop().catch(() => undefined)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const loop = (port: number): UdpAddress => ({ host: '127.0.0.1', port });
const config = { intervalNs: 50e6, antiEntropyIntervalNs: 200e6 };

async function start(o: Partial<GossipUdpOptions> & { listen: UdpAddress; peers: UdpAddress[] }): Promise<RunningGossipNode> {
  const n = await startGossipNode({ name: `n${o.listen.port}`, seed: 'durable', config, ...o });
  nodes.push(n);
  return n;
}

function client(port: number, timeoutMs = 500): KvClient {
  const c = new KvClient({ node: loop(port), timeoutMs, retries: 3 });
  clients.push(c);
  return c;
}

describe('durable acknowledgements', () => {
  it('a put or delete is answered only after its record is in the log', async () => {
    const [p, q] = await freeUdpPorts(2);
    const file = path.join(dir, 'ack.json');
    await start({ listen: loop(p as number), peers: [loop(q as number)], dataFile: file });
    const c = client(p as number);
    for (let i = 0; i < 20; i++) {
      const v = await c.put(`k${i}`, i);
      // The reply came back: the record must already be on disk.
      const wal = await readWal(`${file}.wal`);
      expect(wal.records.some((r) => r.entry.key === `k${i}` && r.entry.ts === v.ts)).toBe(true);
    }
    await c.del('k3');
    expect((await readWal(`${file}.wal`)).records.some((r) => r.entry.key === 'k3' && r.entry.deleted)).toBe(true);
    const stats = await c.stats();
    expect(stats['wal_records']).toBe(21);
    expect(stats['persist_failed']).toBe(0);
  });

  it('a node that cannot persist refuses writes, serves reads, recovers when the disk does, and a failed last save makes stop reject', async () => {
    const [p, q] = await freeUdpPorts(2);
    let broken = false;
    const fault: IoFault = () => {
      if (broken) throw Object.assign(new Error('EROFS: read-only file system (injected)'), { code: 'EROFS' });
    };
    const logs: string[] = [];
    const n = await start({
      listen: loop(p as number),
      peers: [loop(q as number)],
      dataFile: path.join(dir, 'fail.json'),
      persistFault: fault,
      saveIntervalMs: 3_600_000,
      onLog: (e) => logs.push(e.kind === 'error' ? `${e.where}: ${e.detail}` : e.kind),
    });
    const c = client(p as number);
    await c.put('before', 'ok');
    broken = true;
    await expect(c.put('during', 'x')).rejects.toThrow(KvRemoteError);
    await expect(c.put('during2', 'x')).rejects.toThrow(/write refused: write-ahead log: EROFS.*\(reads still work\)/);
    await expect(c.del('before')).rejects.toThrow(/write refused/);
    expect(await c.get('before')).toBe('ok');
    expect(await c.get('during2')).toBeUndefined(); // refused up front: never applied
    expect(logs.filter((l) => l.startsWith('persist:'))).toHaveLength(1);
    expect(n.persistFailure()).toMatch(/EROFS/);
    broken = false;
    await n.host.close(); // keep the store; only the stop path below matters
    broken = true;
    await expect(n.stop()).rejects.toThrow(/EROFS/);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a node whose data folder becomes writable again accepts writes after the next save', async () => {
    const [p, q] = await freeUdpPorts(2);
    let broken = true;
    const n = await start({
      listen: loop(p as number),
      peers: [loop(q as number)],
      dataFile: path.join(dir, 'heal.json'),
      persistFault: () => {
        if (broken) throw new Error('ENOSPC: no space left on device (injected)');
      },
      saveIntervalMs: 100,
    });
    const c = client(p as number);
    await expect(c.put('k', 'v')).rejects.toThrow(/cannot persist: write-ahead log: ENOSPC/);
    expect(n.persistFailure()).toMatch(/ENOSPC/);
    await expect(c.put('k', 'v2')).rejects.toThrow(/write refused/);
    broken = false;
    await eventually('the node persists again', () => (n.persistFailure() === undefined ? true : undefined));
    await c.put('k', 'v');
    await n.stop();
  });

  it('the data survives a restart with a changed member set (versions, not members, are saved)', async () => {
    const [a, b, cc, d] = await freeUdpPorts(4);
    const file = path.join(dir, 'members.json');
    const first = await start({ listen: loop(a as number), peers: [loop(b as number), loop(cc as number)], dataFile: file });
    const put = await client(a as number).put('kept', 'yes');
    await client(a as number).put('also', 42);
    await first.stop();
    // Restart A among four members, listed in another order: its node id may change.
    const again = await start({ listen: loop(a as number), peers: [loop(d as number), loop(cc as number), loop(b as number)], dataFile: file });
    expect(again.loadedEntries).toBe(2);
    const c = client(a as number);
    expect(await c.get('kept')).toBe('yes');
    expect(await c.get('also')).toBe(42);
    // A later write still wins over the kept version.
    const later = await c.put('kept', 'newer');
    expect(later.ts).toBeGreaterThan(put.ts);
    expect(await c.get('kept')).toBe('newer');
  });

  it('the origin id of writes is kept in the data file across restarts and member-set changes; an older file gets a new one', async () => {
    const [a, b, cc] = await freeUdpPorts(3);
    const file = path.join(dir, 'origin.json');
    const first = await start({ listen: loop(a as number), peers: [loop(b as number)], dataFile: file, originId: 0xfedcba98 });
    expect(first.originId).toBe(0xfedcba98);
    const put = await client(a as number).put('k', 1);
    expect(put.origin).toBe(0xfedcba98);
    await first.stop();
    expect((await loadState(file)) as { origin?: unknown }).toMatchObject({ origin: 0xfedcba98 });
    // Restarted with another member set (another node id) and another originId: the file's id wins.
    const again = await start({ listen: loop(a as number), peers: [loop(cc as number), loop(b as number)], dataFile: file, originId: 7 });
    expect(again.originId).toBe(0xfedcba98);
    expect((await client(a as number).put('k', 2)).origin).toBe(0xfedcba98);
    await again.stop();
    // A data file of an older desim holds no origin id: it is read, and a new one is drawn and saved.
    const state = (await loadState(file)) as Record<string, unknown> & { walLsn: number };
    const older: Record<string, unknown> = { ...state };
    delete older['origin'];
    await saveState(file, older);
    const fromOld = await start({ listen: loop(a as number), peers: [loop(b as number)], dataFile: file, originId: 12345 });
    expect(fromOld.originId).toBe(12345);
    expect(await client(a as number).get('k')).toBe(2);
    await client(a as number).put('k', 3);
    await fromOld.stop();
    expect((await loadState(file)) as { origin?: unknown }).toMatchObject({ origin: 12345 });
    // A bad origin id in the file is refused, the file left as it is.
    await saveState(file, { ...older, origin: -1 });
    await expect(start({ listen: loop(a as number), peers: [loop(b as number)], dataFile: file })).rejects.toThrow(/origin id -1 is not an integer/);
  });

  it('nodes without data draw random origin ids (distinct, in the u32 range)', async () => {
    const [a, b] = await freeUdpPorts(2);
    const x = await start({ listen: loop(a as number), peers: [loop(b as number)] });
    const y = await start({ listen: loop(b as number), peers: [loop(a as number)] });
    for (const n of [x, y]) expect(Number.isInteger(n.originId) && n.originId >= 0 && n.originId <= 0xffffffff).toBe(true);
    expect(x.originId).not.toBe(y.originId); // equal with probability 2^-32
  });

  it('a second node cannot take a data file whose lock a running node holds', async () => {
    const [p, q] = await freeUdpPorts(2);
    const file = path.join(dir, 'locked.json');
    await start({ listen: loop(p as number), peers: [loop(q as number)], dataFile: file });
    await expect(start({ listen: loop(q as number), peers: [loop(p as number)], dataFile: file })).rejects.toThrow(DataLockedError);
    // The refused node did not bind its port.
    await start({ listen: loop(q as number), peers: [loop(p as number)] });
  });
});

describe('replicated acknowledgements', () => {
  it('replicated:3 is answered once all three nodes hold the write; replicated:3 with a node down reports 2 of 3', async () => {
    const ports = (await freeUdpPorts(3)) as [number, number, number];
    const addrs = ports.map(loop);
    const peersOf = (i: number): UdpAddress[] => addrs.filter((_, j) => j !== i);
    for (let i = 0; i < 3; i++) await start({ listen: addrs[i] as UdpAddress, peers: peersOf(i), dataFile: path.join(dir, `r${i}.json`) });
    const c = client(ports[0]);
    for (let i = 0; i < 5; i++) {
      await c.put(`r${i}`, i, { replicas: 3, timeoutMs: 10_000 });
      // Confirmed by all: both others hold it now, without waiting.
      expect(await client(ports[1]).get(`r${i}`)).toBe(i);
      expect(await client(ports[2]).get(`r${i}`)).toBe(i);
    }
    await c.del('r0', { replicas: 2, timeoutMs: 10_000 });
    await (nodes.pop() as RunningGossipNode).stop(); // the third node goes away
    const err = await c.put('lonely', 'x', { replicas: 3, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvRemoteError);
    expect(String(err)).toMatch(/ack timeout: 2 of 3 nodes confirmed holding the write within 1000 ms \(it is durable at this node\)/);
    await expect(c.put('too-many', 'x', { replicas: 4, timeoutMs: 1000 })).rejects.toThrow(/more nodes than the cluster has \(3\)/);
    expect((await c.stats())['acks_pending']).toBe(0);
  });
});

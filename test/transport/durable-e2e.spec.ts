/**
 * Durability of real node processes on loopback: `kv put && kill -9` loses
 * nothing (20 tries, seeded random kill delays, with more puts in flight at
 * the kill); a node on a read-only data folder (a real read-only tmpfs in a
 * private mount namespace, when the machine allows one) refuses writes,
 * answers reads and exits non-zero; a locked data file stops a second node
 * with exit code 2, the path and the holder's pid.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RandomStreams } from '../../src/kernel/random.js';
import { KvClient } from '../../src/transport/kv-client.js';
import { saveState } from '../../src/transport/persist.js';
import { freeUdpPorts } from './helpers.js';
import { ensureBuilt, killAll, run, runToEnd, stop, waitListening, type Proc } from './procs.js';

let dir: string;
let ports: number[];
const clients: KvClient[] = [];

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'desim-durable-e2e-'));
  ports = await freeUdpPorts(4);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

const addr = (i: number): string => `127.0.0.1:${ports[i]}`;

function client(i: number, timeoutMs = 300, retries = 3): KvClient {
  const c = new KvClient({ node: { host: '127.0.0.1', port: ports[i] as number }, timeoutMs, retries });
  clients.push(c);
  return c;
}

/** Node A alone: its peers (B, C) are not running, so its disk is the only copy of a write. */
function startA(data: string, wrapper: string[] = []): Proc {
  return run(['node', '--id', 'A', '--listen', addr(0), '--peers', `${addr(1)},${addr(2)}`, '--data', data, '--seed', 'kill-9'], wrapper);
}

describe('kv put && kill -9', () => {
  it('loses no acknowledged write in 20 of 20 tries with random kill delays', async () => {
    const data = path.join(dir, 'kill', 'A.json');
    const delays = new RandomStreams('kill-9').stream('delays');
    const cliKeys: string[] = [];
    let node = startA(data);
    await waitListening(node);
    let acked = 0;
    let unacked = 0;
    for (let t = 0; t < 20; t++) {
      const put = await runToEnd(['kv', 'put', '--node', addr(0), `cli-${t}`, `value-${t}`]);
      expect(put.code, put.stderr).toBe(0);
      cliKeys.push(`cli-${t}`);
      // Then writers keep puts in flight until the kill, so it lands in the middle of group commits.
      const ackedNow: string[] = [];
      let writing = true;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        const c = client(0, 200, 0);
        for (let n = 0; writing && n < 10_000; n++) {
          const key = `t${t}-w${w}-${n}`;
          try {
            await c.put(key, n);
            ackedNow.push(key);
          } catch {
            unacked++;
            return; // the node is gone
          }
        }
      });
      const delayMs = Math.floor(delays.uniform() * 200);
      await new Promise((r) => setTimeout(r, delayMs));
      expect(await stop(node, 'SIGKILL')).toBeNull();
      writing = false;
      await Promise.all(writers);
      acked += ackedNow.length;

      node = startA(data);
      await waitListening(node);
      const c = client(0, 500, 3);
      const missing: string[] = [];
      for (let i = 0; i < ackedNow.length; i += 64) {
        const chunk = ackedNow.slice(i, i + 64);
        const got = await Promise.all(chunk.map((k) => c.get(k)));
        got.forEach((v, j) => v === undefined && missing.push(chunk[j] as string));
      }
      for (const [i, k] of cliKeys.entries()) if ((await c.get(k)) !== `value-${i}`) missing.push(k);
      expect(missing, `try ${t} (kill after ${delayMs} ms): acknowledged writes lost`).toEqual([]);
    }
    await stop(node);
    // For the record (not asserted): how much was in flight at the kills.
    console.log(`kill -9: 20 tries, ${acked} acknowledged puts from the writers + 20 from kv put, all kept; ${unacked} unacknowledged at the kills`);
  }, 900_000); // 40 process starts: about a minute on an idle 2-core machine; generous for a busy one
});

describe('kv put --ack replicated:N', () => {
  it('exits 0 once N processes hold the write, and 4 with the count when fewer can', async () => {
    const peers = (i: number): string =>
      [0, 1, 2]
        .filter((j) => j !== i)
        .map(addr)
        .join(',');
    const procs = [0, 1, 2].map((i) =>
      run([
        'node',
        '--id',
        `R${i}`,
        '--listen',
        addr(i),
        '--peers',
        peers(i),
        '--interval',
        '100',
        '--data',
        path.join(dir, 'repl', `R${i}.json`),
        '--seed',
        `r${i}`,
      ]),
    );
    await Promise.all(procs.map((p) => waitListening(p)));
    const all = await runToEnd(['kv', 'put', '--node', addr(0), '--ack', 'replicated:3', '--ack-timeout', '20000', 'everywhere', 'yes']);
    expect(all.code, all.stderr).toBe(0);
    // Confirmed by all three: the others answer it at once.
    expect(await client(1).get('everywhere')).toBe('yes');
    expect(await client(2).get('everywhere')).toBe('yes');
    expect(await stop(procs[2] as Proc, 'SIGKILL')).toBeNull();
    const two = await runToEnd(['kv', 'del', '--node', addr(0), '--ack', 'replicated:2', '--ack-timeout', '20000', 'everywhere']);
    expect(two.code, two.stderr).toBe(0);
    const three = await runToEnd(['kv', 'put', '--node', addr(0), '--ack', 'replicated:3', '--ack-timeout', '1500', 'k', 'v']);
    expect(three.code).toBe(4);
    expect(three.stderr).toContain('ack timeout: 2 of 3 nodes confirmed holding the write within 1500 ms (it is durable at this node)');
    await Promise.all([stop(procs[0] as Proc), stop(procs[1] as Proc)]);
  });
});

function canMountReadOnly(): boolean {
  const probe = path.join(tmpdir(), `desim-ro-probe-${process.pid}`);
  spawnSync('mkdir', ['-p', probe]);
  const r = spawnSync('unshare', [
    '-rm',
    'sh',
    '-c',
    `mount -t tmpfs -o size=1m tmpfs ${probe} && mount -o remount,ro ${probe} && ! touch ${probe}/x 2>/dev/null`,
  ]);
  spawnSync('rmdir', [probe]);
  return r.status === 0;
}

describe('persistence failures are loud', () => {
  it.skipIf(!canMountReadOnly())('a node on a read-only data folder refuses writes, serves reads and exits non-zero', async () => {
    const mnt = path.join(dir, 'ro');
    const seed = path.join(dir, 'seed.json');
    await mkdir(mnt, { recursive: true });
    await saveState(seed, {
      node: 'A',
      address: addr(0),
      snapshot: { format: 1, id: 0, entries: [{ key: 'kept', value: 'from-disk', ts: 1000, origin: 0, deleted: false }], clockLastTs: 1000 },
    });
    // A private mount namespace: a tmpfs holding the data, remounted read-only, then the node.
    const script = `mount -t tmpfs -o size=1m tmpfs '${mnt}' && cp '${seed}' '${mnt}/A.json' && mount -o remount,ro '${mnt}' && exec "$@"`;
    const node = startA(path.join(mnt, 'A.json'), ['unshare', '-rm', 'sh', '-c', script, 'sh']);
    await waitListening(node);
    const put = await runToEnd(['kv', 'put', '--node', addr(0), 'new', 'x']);
    expect(put.code).toBe(4);
    expect(put.stderr).toMatch(/node error: write refused: cannot lock .*A\.json\.lock: EROFS: read-only file system.*\(reads still work\)/);
    const del = await runToEnd(['kv', 'del', '--node', addr(0), 'kept']);
    expect(del.code).toBe(4);
    const get = await runToEnd(['kv', 'get', '--node', addr(0), 'kept']);
    expect(get).toMatchObject({ code: 0, stdout: 'from-disk' });
    expect(node.stderr.join('\n')).toMatch(/error in persist: cannot lock .*EROFS.*refusing writes until a save succeeds/);
    expect(await stop(node)).toBe(1);
    expect(node.stderr.join('\n')).toMatch(/the last save failed: .*EROFS/);
  });

  it('a second node on a locked data file exits with code 2, naming the file and the holder pid', async () => {
    const data = path.join(dir, 'lock', 'A.json');
    const first = startA(data);
    const ready = await waitListening(first);
    const second = await runToEnd(['node', '--id', 'A2', '--listen', addr(3), '--peers', addr(0), '--data', data]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`${data}.lock: the data file is in use by process ${String(ready['pid'])}`);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(await stop(first)).toBe(0);
  });

  it('refuses a bad --ack or --ack-timeout, or a timeout without replicated:N, with exit code 2 before sending anything', async () => {
    for (const [args, message] of [
      [['put', 'k', 'v', '--ack', 'all'], '--ack must be local or replicated:N with N in 1..255, got "all"'],
      [['del', 'k', '--ack', 'replicated:0'], '--ack must be local or replicated:N'],
      [['put', 'k', 'v', '--ack', 'replicated:2', '--ack-timeout', '0'], '--ack-timeout must be an integer number of ms in 1..600000, got 0'],
      // A timeout with nothing to wait for would be ignored: it is refused.
      [['put', 'k', 'v', '--ack-timeout', '500'], '--ack-timeout acts only with --ack replicated:N, N >= 2 (with local'],
      [['del', 'k', '--ack', 'replicated:1', '--ack-timeout', '500'], '--ack-timeout acts only with --ack replicated:N, N >= 2 (with replicated:1'],
    ] as const) {
      const r = await runToEnd(['kv', ...args, '--node', addr(3)]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});

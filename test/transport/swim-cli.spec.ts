/**
 * SWIM on loopback through the CLI, as a user runs it: `desim cluster --nodes 3` takes a fourth node
 * started with `desim node --join` and only one member's address; `desim kv members` lists the table
 * as text and as JSON; a node killed with SIGKILL is declared dead by every other within the detection
 * bound of the configuration (plus slack for a busy machine: no tighter timing is asserted); restarted,
 * it rejoins with a higher incarnation. A fourth node that joined by `--join` alone gets every key the
 * cluster held before it came, by anti-entropy with the members SWIM gave it. Bad SWIM flags exit with
 * code 2 and no stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SWIM_CONFIG } from '../../src/protocols/swim/config.js';
import { KvClient } from '../../src/transport/kv-client.js';
import { detectionBoundNs } from '../../src/transport/swim-udp.js';
import type { MemberRow } from '../../src/transport/swim-wire.js';
import { eventually, freeConsecutivePorts } from './helpers.js';
import { ensureBuilt, killAll, run, runToEnd, stop, waitListening, type Proc } from './procs.js';

const PERIOD_MS = 250;
/** The configuration the nodes run: T = 250 ms, probe timeout T/2, suspicion on with the default multiplier. */
const CONFIG = { ...DEFAULT_SWIM_CONFIG, probeIntervalNs: PERIOD_MS * 1e6, probeTimeoutNs: (PERIOD_MS / 2) * 1e6 };
/** Slack over the bound for a loaded 2-core machine (timers late, processes descheduled). */
const SLACK_MS = 60_000;
const POLL_MS = 100;

let base: number;
let cluster: Proc | undefined;
const pids: number[] = [];
const clients: KvClient[] = [];
const addr = (i: number): string => `127.0.0.1:${base + i}`;

beforeAll(async () => {
  ensureBuilt();
  base = await freeConsecutivePorts(4);
});

afterAll(async () => {
  for (const c of clients) c.close();
  if (cluster !== undefined) await stop(cluster); // SIGTERM: the cluster stops its nodes
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await killAll();
});

function client(i: number): KvClient {
  const c = new KvClient({ node: { host: '127.0.0.1', port: base + i }, timeoutMs: 300, retries: 5 });
  clients.push(c);
  return c;
}

function startD(): Proc {
  return run(['node', '--id', 'D', '--listen', addr(3), '--join', addr(0), '--probe-interval', String(PERIOD_MS), '--seed', 'swim-cli-D']);
}

async function rowOf(c: KvClient, address: string): Promise<MemberRow | undefined> {
  return (await c.members()).find((r) => r.address === address);
}

describe('SWIM on loopback through the CLI', () => {
  it('a 3-node cluster takes a fourth node by --join; kill -9 is detected within the bound; a restart rejoins higher', async () => {
    cluster = run(['cluster', '--nodes', '3', '--base-port', String(base), '--probe-interval', String(PERIOD_MS)]);
    const c = cluster;
    await eventually('three nodes listening', () => {
      const lines = c.stdout.filter((l) => l.includes('"event":"listening"'));
      if (c.child.exitCode !== null) throw new Error(`cluster exited: ${c.stderr.join('\n')}`);
      return lines.length === 3 ? lines : undefined;
    }).then((lines) => {
      for (const l of lines) pids.push((JSON.parse(l.slice(l.indexOf('{'))) as { pid: number }).pid);
    });
    let d = startD();
    const ready = await waitListening(d);
    expect(ready['join']).toEqual([addr(0)]);
    expect(ready['probe_interval_ms']).toBe(PERIOD_MS);
    const all = [0, 1, 2, 3].map(addr);
    const cs = [0, 1, 2, 3].map(client);
    for (const [i, k] of cs.entries()) {
      await eventually(`node ${'ABCD'[i]} lists all four alive`, async () => {
        const rows = await k.members();
        return rows.map((r) => `${r.address}=${r.state}`).join(' ') === all.map((a) => `${a}=alive`).join(' ') ? rows : undefined;
      });
    }

    // The CLI's two forms of the table.
    const text = await runToEnd(['kv', 'members', '--node', addr(1)]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^address\s+state\s+incarnation$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(all.map((a) => `${a} alive`));
    const json = await runToEnd(['kv', 'members', '--node', addr(3), '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as MemberRow[];
    expect(rows.map((r) => r.address)).toEqual(all);
    expect(rows.every((r) => r.state === 'alive' && Number.isSafeInteger(r.incarnation) && r.incarnation > 0)).toBe(true);

    // SIGKILL: no leave, no flush. Every other member must hold D dead within the bound.
    const before = (await rowOf(cs[0] as KvClient, addr(3)))?.incarnation ?? -1;
    const boundMs = detectionBoundNs(CONFIG, 4) / 1e6;
    expect(boundMs).toBe((2 * 4 + 4) * PERIOD_MS); // 2n periods of probing + suspicionMult * max(1, log10 4) periods
    const killedAt = process.hrtime.bigint();
    d.child.kill('SIGKILL');
    await d.exited;
    const attempts = Math.ceil((boundMs + SLACK_MS) / POLL_MS);
    for (const [i, k] of cs.slice(0, 3).entries()) {
      await eventually(
        `node ${'ABC'[i]} holds D dead within ${boundMs} ms + ${SLACK_MS} ms slack`,
        async () => ((await rowOf(k, addr(3)))?.state === 'dead' ? true : undefined),
        attempts,
        POLL_MS,
      );
    }
    const detectedMs = Number(process.hrtime.bigint() - killedAt) / 1e6;
    console.log(
      `swim-cli: D declared dead by A, B and C ${detectedMs.toFixed(0)} ms after SIGKILL (bound ${boundMs} ms for T = ${PERIOD_MS} ms, n = 4)`,
    );

    // Restarted with the same command line: it rejoins above the incarnation it died with.
    d = startD();
    const again = await waitListening(d);
    expect(again['incarnation'] as number).toBeGreaterThan(before);
    for (const [i, k] of cs.entries()) {
      await eventually(`node ${'ABCD'[i]} lists D alive at a higher incarnation`, async () => {
        const r = await rowOf(k, addr(3));
        return r !== undefined && r.state === 'alive' && r.incarnation > before ? r : undefined;
      });
    }
    await stop(d);
  });

  it('a fourth node that joined by --join alone receives every key through anti-entropy', async () => {
    // A cluster of its own, so this test does not depend on the one above.
    const b2 = await freeConsecutivePorts(4);
    const at = (i: number): string => `127.0.0.1:${b2 + i}`;
    const c2 = run(['cluster', '--nodes', '3', '--base-port', String(b2), '--probe-interval', String(PERIOD_MS)]);
    let e: Proc | undefined;
    try {
      await eventually('three nodes listening', () => {
        if (c2.child.exitCode !== null) throw new Error(`cluster exited: ${c2.stderr.join('\n')}`);
        return c2.stdout.filter((l) => l.includes('"event":"listening"')).length === 3 ? true : undefined;
      });
      const ks = [0, 1, 2].map((i) => {
        const k = new KvClient({ node: { host: '127.0.0.1', port: b2 + i }, timeoutMs: 300, retries: 5 });
        clients.push(k);
        return k;
      });
      const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
      for (const [i, key] of keys.entries()) await (ks[i % 3] as KvClient).put(key, `value-${i}`);
      // Every key at every member first, so the newcomer can only learn them by anti-entropy (rumors are over).
      for (const [i, k] of ks.entries()) {
        await eventually(`node ${'ABC'[i]} holds every key`, async () => {
          for (const key of keys) if ((await k.get(key)) === undefined) return undefined;
          return true;
        });
      }
      e = run(['node', '--id', 'E', '--listen', at(3), '--join', at(0), '--probe-interval', String(PERIOD_MS), '--seed', 'swim-cli-E']);
      const ready = await waitListening(e);
      expect(ready['peers']).toEqual([]); // no static peer: only SWIM can give it any
      const k4 = new KvClient({ node: { host: '127.0.0.1', port: b2 + 3 }, timeoutMs: 300, retries: 5 });
      clients.push(k4);
      await eventually('the fourth node holds every key', async () => {
        for (const key of keys) if ((await k4.get(key)) === undefined) return undefined;
        return true;
      });
      for (const [i, key] of keys.entries()) {
        const r = await runToEnd(['kv', 'get', '--node', at(3), key]);
        expect({ key, code: r.code, value: r.stdout.trim() }).toEqual({ key, code: 0, value: `value-${i}` });
      }
      // The member it joined through admitted it by SWIM before it heard from it, so took its gossip as a peer's.
      const aStats = await (ks[0] as KvClient).stats();
      expect(aStats['swim_gossip_from_non_peer']).toBe(0);
      await stop(e);
      e = undefined;
    } finally {
      if (e !== undefined) await stop(e, 'SIGKILL');
      await stop(c2);
    }
  });

  it('refuses bad SWIM flags with exit code 2, the flag and its range, and no stack trace', async () => {
    const node = ['node', '--id', 'X', '--listen', '127.0.0.1:1'];
    const cases: [string[], RegExp][] = [
      [[...node, '--probe-interval', '5'], /--probe-interval must be an integer number of ms in 10\.\.600000, got 5/],
      [[...node, '--probe-interval', '100', '--probe-timeout', '100'], /--probe-timeout must be an integer number of ms in 1\.\.99/],
      [[...node, '--suspicion-mult', '0'], /--suspicion-mult must be an integer in 1\.\.1000, got 0/],
      [[...node, '--max-members', '1'], /--max-members must be an integer in 2\.\.65536, got 1/],
      [[...node, '--join', 'somewhere'], /--join: bad address "somewhere"/],
      [[...node, '--join', '127.0.0.1:1'], /--join 127\.0\.0\.1:1 is this node's own address/],
      [['cluster', '--probe-interval', '2.5'], /--probe-interval must be an integer number of ms in 10\.\.600000, got 2\.5/],
      [['kv', 'members', '--node', 'nowhere'], /--node: bad address "nowhere"/],
    ];
    for (const [args, message] of cases) {
      const r = await runToEnd(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildMembership, type UdpAddress } from '../../src/transport/address.js';
import { encodeRequest, MAX_DATAGRAM_BYTES } from '../../src/transport/client-wire.js';
import { KvClient } from '../../src/transport/kv-client.js';
import { UdpHost, type HostLogEvent } from '../../src/transport/udp-host.js';
import { eventually, freeUdpPorts, sendRaw } from './helpers.js';
import { ToyNode, toyCalls, toyCodec, type ToyCall, type ToyMsg, type ToyReply } from './toy-node.js';

const MS = 1_000_000;
const hosts: UdpHost<ToyMsg, ToyCall, ToyReply>[] = [];
const clients: KvClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function cluster(n: number, intervalMs = 50): Promise<{ hosts: UdpHost<ToyMsg, ToyCall, ToyReply>[]; nodes: ToyNode[]; addrs: UdpAddress[]; logs: HostLogEvent[][] }> {
  const ports = await freeUdpPorts(n);
  const addrs = ports.map((port) => ({ host: '127.0.0.1', port }));
  const nodes: ToyNode[] = [];
  const logs: HostLogEvent[][] = [];
  const made: UdpHost<ToyMsg, ToyCall, ToyReply>[] = [];
  for (let i = 0; i < n; i++) {
    const self = addrs[i] as UdpAddress;
    const membership = buildMembership(self, addrs.filter((_, j) => j !== i));
    const node = new ToyNode(membership.peers, intervalMs * MS);
    const log: HostLogEvent[] = [];
    const host = new UdpHost({ name: `N${i}`, listen: self, membership, node, codec: toyCodec, calls: toyCalls(node), onLog: (e) => log.push(e) });
    nodes.push(node);
    logs.push(log);
    made.push(host);
    hosts.push(host);
  }
  await Promise.all(made.map((h) => h.start()));
  return { hosts: made, nodes, addrs, logs };
}

function client(addr: UdpAddress, timeoutMs = 300, retries = 3): KvClient {
  const c = new KvClient({ node: addr, timeoutMs, retries });
  clients.push(c);
  return c;
}

describe('UdpHost', () => {
  it('carries client calls to the node and protocol messages between nodes', async () => {
    const { addrs, nodes } = await cluster(3);
    const a = client(addrs[0] as UdpAddress);
    await a.put('x', 'héllo');
    expect(await a.get('x')).toBe('héllo');
    expect(await a.get('missing')).toBeUndefined();
    for (const i of [1, 2]) {
      const c = client(addrs[i] as UdpAddress);
      expect(await eventually(`x on node ${i}`, () => c.get('x'))).toBe('héllo');
    }
    expect(await a.del('x')).toBe(true);
    expect(await a.del('x')).toBe(false);
    // Sender ids are the ids of the sorted member list: node 1 hears from the other two ids only.
    const m1 = buildMembership(addrs[1] as UdpAddress, [addrs[0] as UdpAddress, addrs[2] as UdpAddress]);
    const senders = new Set((nodes[1] as ToyNode).received.map((r) => r.from));
    expect(senders.size).toBeGreaterThan(0);
    for (const from of senders) expect(m1.peers).toContain(from);
  });

  it('fires timers repeatedly with a non-decreasing clock', async () => {
    const { hosts: [h] } = await cluster(2, 10);
    await eventually('three timer firings', () => ((h?.counters.timers_fired ?? 0) >= 3 ? true : undefined));
    const n1 = h?.nowNs ?? 0;
    expect(h?.nowNs ?? 0).toBeGreaterThanOrEqual(n1);
  });

  it('counts and drops oversized, malformed and unknown-peer datagrams and keeps serving', async () => {
    const { hosts: [h0], addrs, logs } = await cluster(2);
    const h = h0 as UdpHost<ToyMsg, ToyCall, ToyReply>;
    const port = (addrs[0] as UdpAddress).port;
    // From an address outside the cluster: unknown peer, even if well formed.
    await sendRaw(port, [toyCodec.encode({ key: 'k', value: 'v' })]);
    // From the other member's port (after its host is closed, so we can bind it): bad encodings.
    await (hosts[1] as UdpHost<ToyMsg, ToyCall, ToyReply>).close();
    const peerPort = (addrs[1] as UdpAddress).port;
    await sendRaw(port, [new Uint8Array([1, 2, 3]), new TextEncoder().encode('{"key": 1}'), new Uint8Array(0)], peerPort);
    await sendRaw(port, [new Uint8Array(MAX_DATAGRAM_BYTES + 1).fill(0x7b)]);
    // Client datagrams with a foreign version or cut short.
    const req = encodeRequest(7, { op: 'get', key: 'k' });
    const foreign = req.slice();
    foreign[2] = 9;
    await sendRaw(port, [foreign, req.subarray(0, 5), req.subarray(0, req.length - 1)]);
    await eventually('all drops counted', () => {
      const c = h.counters;
      return c.dropped_unknown_peer === 1 && c.dropped_malformed === 5 && c.dropped_oversized === 1 && c.dropped_foreign_version === 1 ? true : undefined;
    });
    expect(h.counters.messages_in).toBe(0);
    expect(h.counters.handler_errors).toBe(0);
    expect(logs[0]?.filter((e) => e.kind === 'drop').length).toBe(8);
    const c = client(addrs[0] as UdpAddress);
    await c.put('still', 'alive');
    expect(await c.get('still')).toBe('alive');
    const stats = await c.stats();
    expect(stats['dropped']).toEqual({ malformed: 5, oversized: 1, foreign_version: 1, unknown_peer: 1 });
    expect(stats['keys']).toBe(1);
    expect(stats['id']).toBe('N0');
  });

  it('answers a retried request from its reply cache without applying it twice', async () => {
    const { hosts: [h0], addrs, nodes } = await cluster(1);
    const h = h0 as UdpHost<ToyMsg, ToyCall, ToyReply>;
    const port = (addrs[0] as UdpAddress).port;
    const put = encodeRequest(42, { op: 'put', key: 'k', value: 'v' });
    await sendRaw(port, [put, put]); // one socket: the second is a retry
    await sendRaw(port, [put]); // another socket: a different client, applied again
    await eventually('three requests', () => (h.counters.client_requests === 3 ? true : undefined));
    expect(h.counters.client_retries).toBe(1);
    expect(nodes[0]?.callsApplied).toBe(2);
  });

  it('a client gives up with KvTimeoutError when nobody answers', async () => {
    const [port] = await freeUdpPorts(1);
    const c = client({ host: '127.0.0.1', port: port as number }, 30, 2);
    await expect(c.get('k')).rejects.toThrow(/no reply .* after 3 attempts/);
  });

  it('refuses to start on a port already in use', async () => {
    const { addrs } = await cluster(1);
    const self = addrs[0] as UdpAddress;
    const node = new ToyNode([], 50 * MS);
    const clash = new UdpHost({ name: 'clash', listen: self, membership: buildMembership(self, []), node, codec: toyCodec });
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    await clash.close();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildMembership, type UdpAddress } from '../../src/transport/address.js';
import { SEALED_OVERHEAD } from '../../src/transport/envelope.js';
import { MAX_DATAGRAM_BYTES, UdpHost, type HostLogEvent } from '../../src/transport/udp-host.js';
import { eventually, freeUdpPorts, sendRaw } from './helpers.js';
import { ToyNode, toyCall, toyClient, toyCodec, type ToyCall, type ToyMsg, type ToyReply } from './toy-node.js';

const MS = 1_000_000;
type Host = UdpHost<ToyMsg, ToyCall, ToyReply>;
const hosts: Host[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function cluster(n: number, intervalMs = 50): Promise<{ hosts: Host[]; nodes: ToyNode[]; addrs: UdpAddress[]; logs: HostLogEvent[][] }> {
  const ports = await freeUdpPorts(n);
  const addrs = ports.map((port) => ({ host: '127.0.0.1', port }));
  const nodes: ToyNode[] = [];
  const logs: HostLogEvent[][] = [];
  const made: Host[] = [];
  for (let i = 0; i < n; i++) {
    const self = addrs[i] as UdpAddress;
    const membership = buildMembership(
      self,
      addrs.filter((_, j) => j !== i),
    );
    const node = new ToyNode(membership.peers, intervalMs * MS);
    const log: HostLogEvent[] = [];
    const host: Host = new UdpHost({
      name: `N${i}`,
      listen: self,
      membership,
      node,
      codec: toyCodec,
      client: toyClient(node),
      onLog: (e) => log.push(e),
    });
    nodes.push(node);
    logs.push(log);
    made.push(host);
    hosts.push(host);
  }
  await Promise.all(made.map((h) => h.start()));
  return { hosts: made, nodes, addrs, logs };
}

const enc = (m: ToyMsg): Uint8Array => toyCodec.encode(m);

describe('UdpHost', () => {
  it('carries client calls to the node and protocol messages between nodes', async () => {
    const { addrs, nodes } = await cluster(3);
    const port = (i: number): number => (addrs[i] as UdpAddress).port;
    expect(await toyCall(port(0), 1, { op: 'put', key: 'x', value: 'héllo' })).toEqual({ found: true });
    expect(await toyCall(port(0), 2, { op: 'get', key: 'x' })).toEqual({ found: true, value: 'héllo' });
    expect(await toyCall(port(0), 3, { op: 'get', key: 'missing' })).toEqual({ found: false });
    for (const i of [1, 2]) {
      const r = await eventually(`x on node ${i}`, async () => {
        const reply = await toyCall(port(i), 10 + i, { op: 'get', key: 'x' });
        return reply?.found === true ? reply : undefined;
      });
      expect(r.value).toBe('héllo');
    }
    // Sender ids are the ids of the sorted member list: node 1 hears from the other two ids only.
    const m1 = buildMembership(addrs[1] as UdpAddress, [addrs[0] as UdpAddress, addrs[2] as UdpAddress]);
    const senders = new Set((nodes[1] as ToyNode).received.map((r) => r.from));
    expect(senders.size).toBeGreaterThan(0);
    for (const from of senders) expect(m1.peers).toContain(from);
  });

  it('fires timers repeatedly', async () => {
    const {
      hosts: [h],
    } = await cluster(2, 10);
    await eventually('three timer firings', () => ((h?.counters.timers_fired ?? 0) >= 3 ? true : undefined));
    expect(h?.counters.handler_errors).toBe(0);
  });

  it('counts and drops oversized, malformed and unknown-peer datagrams and keeps serving', async () => {
    const {
      hosts: [h0, h1],
      addrs,
      logs,
    } = await cluster(2);
    const h = h0 as Host;
    const port = (addrs[0] as UdpAddress).port;
    // A well-formed peer message from an address outside the cluster.
    await sendRaw(port, [enc({ t: 'kv', key: 'k', value: 'v' })]);
    // Bad encodings, from the other member's own port (closed first so we can bind it).
    await (h1 as Host).close();
    await sendRaw(
      port,
      [
        new Uint8Array([1, 2, 3]),
        new TextEncoder().encode('{"t": "kv", "key": 1}'),
        new Uint8Array(0),
        enc({ t: 'kv', key: 'k', value: 'v' }).subarray(0, 9),
      ],
      (addrs[1] as UdpAddress).port,
    );
    // Oversized: beyond the MTU plus the largest envelope overhead.
    await sendRaw(port, [new Uint8Array(MAX_DATAGRAM_BYTES + SEALED_OVERHEAD + 1).fill(0x7b)]);
    await eventually('all drops counted', () => {
      const c = h.counters;
      return c.dropped_unknown_peer === 1 && c.dropped_malformed === 4 && c.dropped_oversized === 1 ? true : undefined;
    });
    expect(h.counters.messages_in).toBe(0);
    expect(h.counters.handler_errors).toBe(0);
    expect(logs[0]?.filter((e) => e.kind === 'drop').length).toBe(6);
    expect(await toyCall(port, 5, { op: 'put', key: 'still', value: 'alive' })).toEqual({ found: true });
    expect(await toyCall(port, 6, { op: 'get', key: 'still' })).toEqual({ found: true, value: 'alive' });
    const stats = (await toyCall(port, 7, { op: 'stats' }))?.stats ?? {};
    expect(stats).toMatchObject({
      keys: 1,
      dropped_malformed: 4,
      dropped_oversized: 1,
      dropped_unknown_peer: 1,
      dropped_foreign_version: 0,
      peers_total: 1,
    });
  });

  it('answers a retried request from its reply cache without applying it twice', async () => {
    const {
      hosts: [h0],
      addrs,
      nodes,
    } = await cluster(1);
    const h = h0 as Host;
    const port = (addrs[0] as UdpAddress).port;
    const put = enc({ t: 'req', id: 42, call: { op: 'put', key: 'k', value: 'v' } });
    await sendRaw(port, [put, put]); // one socket: the second is a retry
    await sendRaw(port, [put]); // another socket: another client, applied again
    await eventually('three requests', () => (h.counters.client_requests === 3 ? true : undefined));
    expect(h.counters.client_retries).toBe(1);
    expect(nodes[0]?.callsApplied).toBe(2);
  });

  it('survives a node that throws, counting the error', async () => {
    const {
      hosts: [h0],
      addrs,
      nodes,
    } = await cluster(1);
    const h = h0 as Host;
    (nodes[0] as ToyNode).handleCall = () => {
      throw new Error('boom');
    };
    expect(await toyCall((addrs[0] as UdpAddress).port, 1, { op: 'get', key: 'k' }, 200)).toBeUndefined();
    expect(h.counters.handler_errors).toBe(1);
  });

  it('refuses to start on a port already in use', async () => {
    const { addrs } = await cluster(1);
    const self = addrs[0] as UdpAddress;
    const node = new ToyNode([], 50 * MS);
    const clash: Host = new UdpHost({ name: 'clash', listen: self, membership: buildMembership(self, []), node, codec: toyCodec });
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    await clash.close();
  });
});

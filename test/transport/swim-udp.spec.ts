/**
 * SWIM on real sockets, in one process: a node joins through one seed, a node whose address book is
 * full refuses newcomers (and says so in its counters), bad and unsealed SWIM datagrams are dropped
 * and counted like any other, a ping-req flood is bounded, and a table larger than a datagram goes as
 * several syncs, each within the MTU, only the first asking for a reply.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RandomStreams } from '../../src/kernel/random.js';
import type { Action } from '../../src/protocols/sans-io.js';
import { buildMembership, formatAddress, type UdpAddress } from '../../src/transport/address.js';
import { Keyring } from '../../src/transport/envelope.js';
import { startGossipNode, type GossipUdpOptions, type RunningGossipNode } from '../../src/transport/gossip-udp.js';
import { AddressBook, detectionBoundNs, SwimDriver, type SwimStorePacket } from '../../src/transport/swim-udp.js';
import { decodeSwim, encodeSwim, swimEncodedSize, type SwimPacket, type WireUpdate } from '../../src/transport/swim-wire.js';
import { DEFAULT_SWIM_CONFIG } from '../../src/protocols/swim/config.js';
import { SWIM_TIMER_PREFIX } from '../../src/protocols/swim-store/node.js';
import { eventually, freeUdpPorts, sendRaw } from './helpers.js';

const FAST = { probeIntervalNs: 100e6, probeTimeoutNs: 50e6 };
const running: RunningGossipNode[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const local = (port: number): UdpAddress => ({ host: '127.0.0.1', port });

async function start(name: string, port: number, extra: Partial<GossipUdpOptions> = {}): Promise<RunningGossipNode> {
  const r = await startGossipNode({ name, listen: local(port), peers: [], seed: `swim-${name}`, swim: FAST, ...extra });
  running.push(r);
  return r;
}

function view(r: RunningGossipNode): string {
  return r.swim
    .members()
    .map((m) => `${m.address}=${m.state}`)
    .join(' ');
}

/** The store's peers of a node but itself (SwimStoreNode's peers hold it, the store skips it), by address, sorted. */
function storePeers(r: RunningGossipNode): string[] {
  return r.node.currentPeers
    .filter((id) => id !== r.book.self)
    .map((id) => r.book.keyOf(id) ?? `?${id}`)
    .sort();
}

describe('SWIM on UDP, in process', () => {
  it('a node that knows one member joins, and every member lists all four alive', async () => {
    const ports = await freeUdpPorts(4);
    const addrs = ports.map(local);
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map((i) => start('ABC'[i] as string, ports[i] as number, { peers: addrs.filter((_, j) => j !== i && j < 3) })),
    );
    const d = await start('D', ports[3] as number, { join: [addrs[0] as UdpAddress] });
    const want = [...ports]
      .sort((x, y) => x - y)
      .map((p) => `127.0.0.1:${p}=alive`)
      .join(' ');
    for (const r of [a, b, c, d] as RunningGossipNode[]) await eventually(`${r.swim.node.id}'s view`, () => (view(r) === want ? true : undefined));
    // The store's peers follow SWIM's view: D, with no --peers, gossips with A, B and C, and they with D.
    for (const r of [a, b, c, d] as RunningGossipNode[]) {
      const self = formatAddress(r.address);
      const others = want
        .split(' ')
        .map((x) => x.slice(0, x.indexOf('=')))
        .filter((x) => x !== self)
        .sort();
      await eventually(`${self}'s store peers`, () => (storePeers(r).join(' ') === others.join(' ') ? true : undefined));
    }
    const s = d.swim.stats();
    expect(s['swim_members_alive']).toBe(4);
    expect(s['swim_members_refused']).toBe(0);
    expect(d.host.counters.handler_errors).toBe(0);
  });

  it('a node stopped gracefully is listed as left, not dead', async () => {
    const ports = await freeUdpPorts(2);
    const a = await start('A', ports[0] as number);
    const b = await startGossipNode({
      name: 'B',
      listen: local(ports[1] as number),
      peers: [],
      seed: 'swim-B',
      swim: FAST,
      join: [local(ports[0] as number)],
    });
    const bKey = formatAddress(local(ports[1] as number));
    await eventually('B joined', () => (a.swim.members().some((m) => m.address === bKey && m.state === 'alive') ? true : undefined));
    await eventually('B is a store peer of A', () => (storePeers(a).includes(bKey) ? true : undefined));
    await b.stop();
    await eventually('B left', () => (a.swim.members().some((m) => m.address === bKey && m.state === 'left') ? true : undefined));
    expect(storePeers(a)).toEqual([]); // a member that left is no longer gossiped with
  });

  it('at the cap of its address book a node refuses a newcomer and counts it', async () => {
    const ports = await freeUdpPorts(3);
    const a = await start('A', ports[0] as number, { maxMembers: 2 });
    const b = await start('B', ports[1] as number, { join: [local(ports[0] as number)] });
    await eventually('B admitted', () => (a.swim.members().length === 2 ? true : undefined));
    const c = await start('C', ports[2] as number, { join: [local(ports[0] as number)] });
    await eventually('C refused', () => ((a.swim.stats()['swim_members_refused'] ?? 0) > 0 ? true : undefined));
    const listed = a.swim.members().map((m) => m.address);
    expect([...listed].sort()).toEqual([formatAddress(local(ports[0] as number)), formatAddress(local(ports[1] as number))].sort());
    expect(a.host.counters.dropped_unknown_peer).toBeGreaterThan(0);
    // B, whose book has room, still learns nothing of C through A: A never took it in.
    expect(b.swim.members().some((m) => m.address === formatAddress(local(ports[2] as number)))).toBe(false);
    expect(c.swim.members()).toHaveLength(1);
  });

  it('drops a malformed SWIM datagram and, with a keyring, an unsealed one; members are untouched', async () => {
    const [port] = (await freeUdpPorts(1)) as [number];
    const ring = new Keyring([Buffer.alloc(32, 7)]);
    const a = await start('A', port, { keyring: ring });
    const ping = encodeSwim({
      type: 'swim',
      msg: { type: 'ping', seq: 1, updates: [{ kind: 'alive', node: '127.0.0.1:9', incarnation: 1, from: '127.0.0.1:9' }] },
    });
    await sendRaw(port, [ring.seal(Buffer.from([0x53, 0x57, 1, 1, 0, 0]), Date.now()), ping]);
    await eventually('drops counted', () =>
      a.host.counters.dropped_malformed >= 1 && a.host.counters.dropped_unauthenticated >= 1 ? true : undefined,
    );
    expect(a.swim.members()).toHaveLength(1);
    expect(a.host.counters.handler_errors).toBe(0);
  });
});

describe('SwimDriver', () => {
  const self = local(6000);
  function driver(cap: number, mtu = 1400): SwimDriver {
    const book = new AddressBook(buildMembership(self, []), cap);
    const d = new SwimDriver({ book, seeds: [], incarnation: 5, rng: new RandomStreams('t').stream('swim'), mtuBytes: mtu, config: FAST });
    d.start(0);
    d.pollActions();
    return d;
  }
  const rows = (n: number): WireUpdate[] =>
    Array.from({ length: n }, (_, i) => ({
      kind: 'alive' as const,
      node: `10.0.${i >> 8}.${i & 255}:7000`,
      incarnation: 1,
      from: `10.0.${i >> 8}.${i & 255}:7000`,
    }));
  const syncs = (acts: readonly Action<SwimStorePacket>[]): Extract<SwimPacket, { type: 'swim' }>['msg'][] =>
    acts.flatMap((a) => (a.type === 'send' && a.msg.type === 'swim' && a.msg.msg.type === 'sync' ? [a.msg.msg] : []));

  it('starts at its incarnation and states the detection bound from its configuration', () => {
    const d = driver(10);
    expect(d.node.currentIncarnation).toBe(5);
    // 2n periods of probing plus the suspicion timeout (suspicionMult * max(1, log10 n) periods): n = 4, T = 100 ms.
    expect(detectionBoundNs(d.config, 4)).toBe((8 + 4) * 100e6);
    expect(detectionBoundNs({ ...DEFAULT_SWIM_CONFIG, suspicion: false }, 4)).toBe(8e9);
  });

  it('hands the view over once per change of the member table: the members alive or suspect, by the book ids', () => {
    const d = driver(10);
    d.takeViewChange(); // its start (itself alive) was a change
    expect(d.takeViewChange()).toBeUndefined();
    const from = d.admit('10.9.9.9:7000') as number;
    d.handleMessage(from, { type: 'ping', seq: 1, updates: rows(2) }, 1e6);
    const ids = ['10.0.0.0:7000', '10.0.0.1:7000'].map((k) => d.admit(k) as number);
    expect(d.takeViewChange()).toEqual([0, ...ids].sort((a, b) => a - b));
    expect(d.takeViewChange()).toBeUndefined(); // nothing changed since
    d.handleMessage(from, { type: 'ping', seq: 2, updates: [{ kind: 'dead', node: '10.0.0.1:7000', incarnation: 1, from: '10.9.9.9:7000' }] }, 2e6);
    expect(d.takeViewChange()).toEqual([0, ids[0]]);
  });

  it('answers a 300-member table with several syncs, each within the MTU, all marked as replies', () => {
    const d = driver(1000);
    const from = d.admit('10.9.9.9:7000') as number;
    d.handleMessage(from, { type: 'sync', reply: false, members: rows(300), updates: [] }, 1);
    const out = syncs(d.pollActions());
    expect(out.length).toBeGreaterThan(4);
    for (const m of out) expect(swimEncodedSize({ type: 'swim', msg: m })).toBeLessThanOrEqual(1400);
    expect(out.every((m) => m.type === 'sync' && m.reply)).toBe(true);
    const listed = new Set(out.flatMap((m) => (m.type === 'sync' ? m.members.map((u) => u.node) : [])));
    expect(listed.size).toBe(301); // the 300 and itself (the sender sent no record of itself)
  });

  it('a sync it starts goes as chunks of which only the first asks for a reply', () => {
    const d = driver(1000);
    const from = d.admit('10.9.9.9:7000') as number;
    d.handleMessage(from, { type: 'sync', reply: true, members: rows(200), updates: [] }, 1);
    d.pollActions();
    d.handleTimer(`${SWIM_TIMER_PREFIX}push-pull`, 2);
    const out = syncs(d.pollActions());
    expect(out.length).toBeGreaterThan(1);
    expect(out.map((m) => m.type === 'sync' && m.reply)).toEqual([false, ...out.slice(1).map(() => true)]);
  });

  it("SWIM's updates ride on the store's gossip by address, within the MTU, and the receiver learns the members", () => {
    const a = driver(100);
    const from = a.admit('10.9.9.9:7000') as number;
    a.handleMessage(from, { type: 'ping', seq: 1, updates: rows(3) }, 1); // news to spread, and store peers
    a.pollActions();
    a.handleTimer('ae', 2); // the store's anti-entropy round: a peer message
    const carried = a.pollActions().flatMap((x) => (x.type === 'send' && x.msg.type === 'piggyback' ? [x] : []));
    expect(carried.length).toBeGreaterThan(0);
    const p = carried[0]?.msg as Extract<SwimPacket, { type: 'piggyback' }>;
    expect(p.updates.map((u) => u.node)).toEqual(expect.arrayContaining(['10.0.0.0:7000', '10.0.0.1:7000']));
    expect(encodeSwim(p).length).toBe(swimEncodedSize(p));
    // The node sized it as the wire does, so every update it took (and counted as sent) is on the wire.
    expect(swimEncodedSize(p)).toBe(carried[0]?.type === 'send' ? carried[0].sizeBytes : -1);
    expect(swimEncodedSize(p)).toBeLessThanOrEqual(1400);
    const b = driver(100);
    const sender = b.admit('10.9.9.9:7000') as number; // b hears it from an address it knows
    expect(b.handlePiggyback(sender, decodeSwim(encodeSwim(p)) as typeof p, 3, () => true)).toBe(true);
    const known = b.members().map((m) => m.address);
    for (const u of p.updates) expect(known).toContain(u.node);
    // With room for no update (an MTU of 36 bytes: 5 of the piggyback header, 11 of an empty store's
    // digest, 20 left, an update takes 21), the store message goes alone.
    const tight = driver(100, 36);
    tight.handleMessage(tight.admit('10.9.9.9:7000') as number, { type: 'ping', seq: 1, updates: rows(3) }, 1);
    tight.pollActions();
    tight.handleTimer('ae', 2);
    const sends = tight.pollActions().filter((x) => x.type === 'send');
    expect(sends.some((x) => x.type === 'send' && x.msg.type === 'piggyback')).toBe(false);
    expect(sends.some((x) => x.type === 'send' && x.msg.type === 'digest')).toBe(true);
  });

  it("applies a piggyback's updates before the owner checks that the sender is a store peer", () => {
    const b = driver(100);
    const joiner = b.admit('10.9.9.9:7000') as number; // in the book, not yet a member
    expect(b.core.store.currentPeers).not.toContain(joiner);
    let peersAtCheck: readonly number[] = [];
    const msg = {
      updates: [{ kind: 'alive' as const, node: '10.9.9.9:7000', incarnation: 1, from: '10.9.9.9:7000' }],
      store: { type: 'request' as const, keys: ['k'] },
    };
    const took = b.handlePiggyback(joiner, msg, 1, () => {
      peersAtCheck = b.core.store.currentPeers;
      return false;
    });
    expect(took).toBe(false);
    expect(peersAtCheck).toContain(joiner); // its own alive made it a peer before the check
    expect(b.members().map((m) => m.address)).toContain('10.9.9.9:7000');
  });

  it('refuses updates about new addresses at the cap, and bounds ping-reqs per probe timeout', () => {
    const d = driver(3);
    const from = d.admit('10.9.9.9:7000') as number;
    d.handleMessage(from, { type: 'ping', seq: 1, updates: rows(5) }, 1);
    expect(d.members()).toHaveLength(2);
    expect(d.stats()['swim_members_refused']).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) d.handleMessage(from, { type: 'ping-req', seq: i, target: '10.0.0.0:7000', updates: [] }, 2);
    expect(d.stats()['swim_dropped_ping_req']).toBe(10 - 3);
  });
});

/**
 * SwimStoreNode: one sans-I/O node running a SWIM member and a store replica,
 * driven here by hand (no simulator): inputs are routed by message type,
 * timer name and call op; the store's peers follow SWIM's view; a leave
 * silences both; a snapshot carries the store and the members to rejoin through.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { DEFAULT_CONFIG } from '../../../src/protocols/gossip/config.js';
import type { KvReply } from '../../../src/protocols/gossip/wire.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import {
  PIGGYBACK_HEADER_BYTES,
  SWIM_TIMER_PREFIX,
  SwimStoreNode,
  isSwimMessage,
  type PiggybackMessage,
  type SwimStoreMessage,
} from '../../../src/protocols/swim-store/node.js';
import { UPDATE_BYTES } from '../../../src/protocols/swim/wire.js';
import { DEFAULT_SWIM_CONFIG } from '../../../src/protocols/swim/config.js';

const S = 1_000_000_000;

function make(
  id: number,
  extra: { members?: number[]; seeds?: number[]; dormant?: boolean } = {},
  options: { piggybackOnStore?: boolean; mtuBytes?: number } = {},
): SwimStoreNode {
  return new SwimStoreNode({
    id,
    swim: { config: DEFAULT_SWIM_CONFIG, rng: new Random(`swim${id}`), ...extra },
    store: { rng: new Random(`store${id}`), config: { ...DEFAULT_CONFIG, antiEntropyIntervalNs: S, mtuBytes: options.mtuBytes ?? 1400 } },
    ...(options.piggybackOnStore !== undefined ? { piggybackOnStore: options.piggybackOnStore } : {}),
  });
}

/** Node 5 announced alive on a ping from node 1: an update waiting in `n`'s broadcast queue. */
const ANNOUNCE: SwimStoreMessage = { type: 'ping', seq: 1, updates: [{ kind: 'alive', node: 5, incarnation: 0, from: 5 }] };

const timers = (as: readonly Action<SwimStoreMessage>[]): string[] => as.flatMap((a) => (a.type === 'set-timer' ? [a.timer] : []));
const sends = (as: readonly Action<SwimStoreMessage>[]): { to: number; type: string }[] =>
  as.flatMap((a) => (a.type === 'send' ? [{ to: a.to, type: a.msg.type }] : []));

describe('SwimStoreNode', () => {
  it('tells SWIM messages from the store by type', () => {
    for (const t of ['ping', 'ping-req', 'ack', 'nack', 'sync']) expect(isSwimMessage({ type: t })).toBe(true);
    for (const t of ['rumor', 'feedback', 'learned', 'digest', 'summary', 'request', 'delta', 'client-request', 'client-reply']) {
      expect(isSwimMessage({ type: t })).toBe(false);
    }
    expect(isSwimMessage(null)).toBe(false);
  });

  it("prefixes SWIM's timers and keeps the store's, and routes each back to its owner", () => {
    const n = make(0, { members: [0, 1, 2] });
    n.start(0);
    const set = timers(n.pollActions());
    expect(set).toContain(`${SWIM_TIMER_PREFIX}probe`);
    expect(set).toContain('ae');
    expect(set.filter((t) => !t.startsWith(SWIM_TIMER_PREFIX) && t !== 'ae' && t !== 'gossip' && t !== 'gc')).toEqual([]);
    // SWIM's probe timer makes a ping; the store's anti-entropy timer makes a digest.
    n.handleTimer(`${SWIM_TIMER_PREFIX}probe`, 2 * S);
    expect(sends(n.pollActions()).map((s) => s.type)).toContain('ping');
    n.handleTimer('ae', 2 * S);
    expect(sends(n.pollActions()).map((s) => s.type)).toEqual(['digest']);
  });

  it("gives the store SWIM's view as peers, and follows its changes", () => {
    const n = make(0, { members: [0, 1, 2] });
    n.start(0);
    n.pollActions();
    expect(n.store.currentPeers).toEqual([0, 1, 2]);
    // Node 5 announces itself alive: it becomes a peer of the store.
    n.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'alive', node: 5, incarnation: 0, from: 5 }] }, S);
    expect(n.store.currentPeers).toEqual([0, 1, 2, 5]);
    // A suspect stays a peer; dead does not.
    n.handleMessage(1, { type: 'ping', seq: 2, updates: [{ kind: 'suspect', node: 2, incarnation: 0, from: 1 }] }, 2 * S);
    expect(n.store.currentPeers).toEqual([0, 1, 2, 5]);
    n.handleMessage(1, { type: 'ping', seq: 3, updates: [{ kind: 'dead', node: 2, incarnation: 0, from: 1 }] }, 3 * S);
    expect(n.store.currentPeers).toEqual([0, 1, 5]);
    expect(n.view()).toEqual([0, 1, 5]);
  });

  it('keeps static peers as store peers whatever SWIM says of them, and writes with its origin id', () => {
    const n = new SwimStoreNode({
      id: 0,
      originId: 0xabcdef01,
      staticPeers: [7, 2],
      swim: { config: DEFAULT_SWIM_CONFIG, rng: new Random('swim0'), members: [0, 1, 2] },
      store: { rng: new Random('store0'), config: { ...DEFAULT_CONFIG, antiEntropyIntervalNs: S } },
    });
    n.start(0);
    n.pollActions();
    expect(n.store.currentPeers).toEqual([0, 1, 2, 7]);
    n.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'dead', node: 2, incarnation: 0, from: 1 }] }, S);
    n.handleMessage(1, { type: 'ping', seq: 2, updates: [{ kind: 'dead', node: 1, incarnation: 0, from: 1 }] }, S);
    expect(n.view()).toEqual([0]);
    expect(n.store.currentPeers).toEqual([0, 7, 2]);
    expect(n.handleCall({ op: 'put', key: 'k', value: 1 }, 2 * S)).toMatchObject({ ok: true, origin: 0xabcdef01 });
  });

  it('runs the store alone while dormant, and joins on a join call', () => {
    const n = make(3, { dormant: true });
    n.start(0);
    n.pollActions();
    expect(n.store.currentPeers).toEqual([3]);
    expect(n.handleCall({ op: 'put', key: 'k', value: 1 }, S)).toMatchObject({ ok: true });
    n.handleTimer('ae', 2 * S);
    expect(sends(n.pollActions())).toEqual([]);
    n.handleCall({ op: 'join', seeds: [0] }, 3 * S);
    expect(sends(n.pollActions())).toEqual([{ to: 0, type: 'sync' }]);
  });

  it('goes silent after a leave: no store timers, no answers, writes refused, reads still served', () => {
    const n = make(0, { members: [0, 1, 2] });
    n.start(0);
    n.handleCall({ op: 'put', key: 'k', value: 'v' }, 1);
    n.pollActions();
    n.handleCall({ op: 'leave' }, S);
    const actions = n.pollActions();
    expect(sends(actions).every((s) => s.type === 'ping')).toBe(true);
    expect(actions.filter((a) => a.type === 'cancel-timer').map((a) => (a as { timer: string }).timer)).toEqual(
      expect.arrayContaining(['gossip', 'ae', 'gc', `${SWIM_TIMER_PREFIX}probe`]),
    );
    expect(n.hasLeft).toBe(true);
    n.handleTimer('ae', 2 * S);
    n.handleMessage(1, { type: 'digest', buckets: 64, hashes: [] } as unknown as SwimStoreMessage, 2 * S);
    n.handleMessage(1, { type: 'ping', seq: 9, updates: [] }, 2 * S);
    expect(n.pollActions()).toEqual([]);
    expect(n.handleCall({ op: 'put', key: 'k', value: 'w' }, 3 * S)).toMatchObject({ ok: false });
    expect(n.handleCall({ op: 'get', key: 'k' }, 3 * S)).toMatchObject({ ok: true, found: true, value: 'v' });
  });

  it('drops a malformed SWIM message without throwing, and counts it', () => {
    const n = make(0, { members: [0, 1] });
    n.start(0);
    n.pollActions();
    expect(() => n.handleMessage(1, { type: 'ping' } as unknown as SwimStoreMessage, S)).not.toThrow();
    const stats = n.handleCall({ op: 'stats' }, S) as KvReply;
    expect(stats).toMatchObject({ ok: true, stats: { swim_dropped: 1, members_live: 2 } });
  });

  it("wraps the store's gossip around SWIM's waiting updates, and the receiver applies and spreads them", () => {
    const a = make(0, { members: [0, 1, 2] });
    a.start(0);
    a.handleMessage(1, ANNOUNCE, S);
    a.pollActions();
    expect(a.swim.pendingBroadcasts).toBe(1);
    a.handleTimer('ae', 2 * S);
    const out = a.pollActions().flatMap((x) => (x.type === 'send' ? [x] : []));
    expect(out).toHaveLength(1);
    const send = out[0] as { to: number; msg: SwimStoreMessage; sizeBytes: number };
    expect(send.msg.type).toBe('piggyback');
    const msg = send.msg as PiggybackMessage;
    expect(msg.store.type).toBe('digest');
    expect(msg.updates).toEqual([{ kind: 'alive', node: 5, incarnation: 0, from: 5 }]);
    // The same digest unwrapped, from the same node without piggybacking: its size plus the header and one update.
    const plain = make(0, { members: [0, 1, 2] }, { piggybackOnStore: false });
    plain.start(0);
    plain.handleMessage(1, ANNOUNCE, S);
    plain.pollActions();
    plain.handleTimer('ae', 2 * S);
    const plainSend = plain.pollActions().find((x) => x.type === 'send') as { msg: SwimStoreMessage; sizeBytes: number };
    expect(plainSend.msg).toEqual(msg.store);
    expect(send.sizeBytes).toBe(plainSend.sizeBytes + PIGGYBACK_HEADER_BYTES + UPDATE_BYTES);
    expect(a.handleCall({ op: 'stats' }, 2 * S)).toMatchObject({ stats: { swim_updates_on_store_sent: 1, swim_updates_on_store_received: 0 } });

    // The receiver learns node 5 (a peer of its store now), queues it to spread, and answers the digest as the store does.
    const b = make(send.to, { members: [0, 1, 2] });
    b.start(0);
    b.pollActions();
    b.handleMessage(0, msg, 2 * S);
    expect(b.view()).toEqual([0, 1, 2, 5]);
    expect(b.store.currentPeers).toEqual([0, 1, 2, 5]);
    expect(b.swim.pendingBroadcasts).toBe(1);
    expect(b.handleCall({ op: 'stats' }, 2 * S)).toMatchObject({ stats: { swim_updates_on_store_received: 1, swim_messages_received: 0 } });
  });

  it("leaves client replies, an empty queue and a switched-off node's gossip unwrapped", () => {
    const a = make(0, { members: [0, 1, 2] });
    a.start(0);
    a.handleMessage(1, ANNOUNCE, S);
    a.pollActions();
    a.handleMessage(9, { type: 'client-request', id: 4, call: { op: 'get', key: 'k' } }, S);
    expect(sends(a.pollActions())).toEqual([{ to: 9, type: 'client-reply' }]);
    expect(a.swim.pendingBroadcasts).toBe(1);
    const off = make(0, { members: [0, 1, 2] }, { piggybackOnStore: false });
    off.start(0);
    off.handleMessage(1, ANNOUNCE, S);
    off.handleCall({ op: 'put', key: 'k', value: 1 }, S);
    off.handleTimer('gossip', 2 * S);
    off.handleTimer('ae', 2 * S);
    const types = sends(off.pollActions()).map((x) => x.type);
    expect(types).toContain('digest');
    expect(types).not.toContain('piggyback');
    // Once SWIM's queue is spent, the store's messages go plain again.
    const c = make(0, { members: [0, 1, 2] });
    c.start(0);
    c.pollActions();
    c.handleTimer('ae', 2 * S);
    expect(sends(c.pollActions()).map((x) => x.type)).toEqual(['digest']);
  });

  it('keeps a wrapped message within the store MTU: a full page goes plain', () => {
    const a = make(0, { members: [0, 1] }, { mtuBytes: 576 });
    a.start(0);
    a.handleMessage(1, ANNOUNCE, S);
    a.pollActions();
    // A rumor of one entry of key `k` and a 545-byte string is 569 bytes (7 of list header, 14 of key and version,
    // 3 + 545 of value): within the MTU, with no room for the 4-byte header and a 16-byte update.
    const VALUE_BYTES = 545;
    expect(a.handleCall({ op: 'put', key: 'k', value: 'x'.repeat(VALUE_BYTES) }, S)).toMatchObject({ ok: true });
    a.handleTimer('gossip', 2 * S);
    const out = a.pollActions().flatMap((x) => (x.type === 'send' ? [x] : []));
    // To each peer (1, and 5, which the announcement made one).
    expect(out.map((x) => [x.to, x.msg.type, x.sizeBytes > 576 - PIGGYBACK_HEADER_BYTES - UPDATE_BYTES])).toEqual([
      [1, 'rumor', true],
      [5, 'rumor', true],
    ]);
    for (const x of out) expect(x.sizeBytes).toBeLessThanOrEqual(576);
    expect(a.swim.pendingBroadcasts).toBe(1);
    // A small rumor has room: it carries the update.
    a.handleCall({ op: 'put', key: 'j', value: 1 }, 3 * S);
    a.handleTimer('gossip', 4 * S);
    expect(sends(a.pollActions()).map((x) => x.type)).toContain('piggyback');
  });

  it('unwraps a piggyback message even with piggybacking off, and drops a malformed one, counted', () => {
    const b = make(1, { members: [0, 1, 2] }, { piggybackOnStore: false });
    b.start(0);
    b.pollActions();
    const digest = { type: 'digest', buckets: 64, start: 0, hashes: [] } as unknown as PiggybackMessage['store'];
    b.handleMessage(0, { type: 'piggyback', store: digest, updates: [{ kind: 'alive', node: 5, incarnation: 0, from: 5 }] }, S);
    expect(b.view()).toEqual([0, 1, 2, 5]);
    expect(() =>
      b.handleMessage(0, { type: 'piggyback', store: { type: 'ping', seq: 1, updates: [] } } as unknown as SwimStoreMessage, S),
    ).not.toThrow();
    expect(() => b.handleMessage(0, { type: 'piggyback', store: digest, updates: 7 } as unknown as SwimStoreMessage, S)).not.toThrow();
    expect(() =>
      b.handleMessage(0, { type: 'piggyback', store: digest, updates: [{ kind: 'alive', node: 'x' }] } as unknown as SwimStoreMessage, S),
    ).not.toThrow();
    expect(b.handleCall({ op: 'stats' }, S)).toMatchObject({ stats: { swim_dropped: 3 } });
  });

  it('restarts from a snapshot with its entries, and rejoins through the members it last held live', () => {
    const a = make(0, { members: [0, 1, 2] });
    a.start(0);
    a.handleCall({ op: 'put', key: 'k', value: 7 }, 5);
    const snap = a.snapshot();
    expect(snap.members).toEqual([1, 2]);
    const b = new SwimStoreNode({
      id: 0,
      swim: { config: DEFAULT_SWIM_CONFIG, rng: new Random('b') },
      store: { rng: new Random('bs') },
      snapshot: JSON.parse(JSON.stringify(snap)) as typeof snap,
    });
    expect(b.handleCall({ op: 'get', key: 'k' }, 0)).toMatchObject({ found: true, value: 7 });
    b.start(S);
    expect(sends(b.pollActions())).toEqual([{ to: 1, type: 'sync' }]);
  });
});

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
import { SWIM_TIMER_PREFIX, SwimStoreNode, isSwimMessage, type SwimStoreMessage } from '../../../src/protocols/swim-store/node.js';
import { DEFAULT_SWIM_CONFIG } from '../../../src/protocols/swim/config.js';

const S = 1_000_000_000;

function make(id: number, extra: { members?: number[]; seeds?: number[]; dormant?: boolean } = {}): SwimStoreNode {
  return new SwimStoreNode({
    id,
    swim: { config: DEFAULT_SWIM_CONFIG, rng: new Random(`swim${id}`), ...extra },
    store: { rng: new Random(`store${id}`), config: { ...DEFAULT_CONFIG, antiEntropyIntervalNs: S } },
  });
}

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

import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig } from '../../../src/protocols/gossip/presets.js';
import { encodedSize, type GossipMessage } from '../../../src/protocols/gossip/wire.js';

const S = 1_000_000_000;

function node(id = 0, config = resolveConfig('default')): GossipNode {
  return new GossipNode({ id, peers: [0, 1, 2, 3, 4], rng: new Random(`n${id}`), config });
}

function sends(actions: readonly Action<GossipMessage>[]): Extract<Action<GossipMessage>, { type: 'send' }>[] {
  return actions.filter((a): a is Extract<Action<GossipMessage>, { type: 'send' }> => a.type === 'send');
}

describe('GossipNode', () => {
  it('drops entries stamped near 2^53, so a peer cannot push its clock past exact, encodable timestamps', () => {
    const n = node();
    n.start(0);
    n.pollActions();
    const poison = {
      type: 'rumor',
      rumors: [{ key: 'k', value: 1, ts: Number.MAX_SAFE_INTEGER, origin: 1, deleted: false }],
      pull: false,
      reply: false,
    };
    n.handleMessage(1, poison as GossipMessage, 0);
    expect(n.dropped.malformed).toBe(1);
    expect(n.store.size).toBe(0);
    const reply = n.handleCall({ op: 'put', key: 'k', value: 2 }, S);
    expect(reply).toMatchObject({ ok: true });
    for (const a of sends(n.pollActions())) expect(() => encodedSize(a.msg)).not.toThrow();
  });

  it('connected to a sink, hands it exactly the actions it would have queued, in order, and queues none', () => {
    const config = resolveConfig('demers-feedback-counter', { antiEntropyIntervalNs: 5 * S });
    const polled = node(0, config);
    const direct = node(0, config);
    const got: Action<GossipMessage>[] = [];
    direct.connect({
      send: (to, msg, sizeBytes) => got.push({ type: 'send', to, msg, sizeBytes }),
      setTimer: (timer, atNs) => got.push({ type: 'set-timer', timer, atNs }),
      cancelTimer: (timer) => got.push({ type: 'cancel-timer', timer }),
      trace: (name, data) => got.push({ type: 'trace', name, data }),
    });
    const want: Action<GossipMessage>[] = [];
    const inputs: ((n: GossipNode) => unknown)[] = [
      (n) => n.start(0),
      (n) => n.handleCall({ op: 'put', key: 'a', value: 1 }, S / 2),
      (n) => n.handleTimer('gossip', S),
      (n) =>
        n.handleMessage(1, { type: 'rumor', rumors: [{ key: 'b', value: 2, ts: 3, origin: 1, deleted: false }], pull: false, reply: false }, S + 1),
      (n) => n.handleMessage(2, { type: 'feedback', known: [{ key: 'a', ts: S / 2, origin: 0 }] }, S + 2),
      (n) => n.handleTimer('gossip', 2 * S),
      (n) => n.handleTimer('ae', 5 * S),
    ];
    for (const input of inputs) {
      input(polled);
      want.push(...polled.pollActions());
      input(direct);
      expect(direct.pollActions()).toEqual([]);
    }
    expect(want.filter((a) => a.type === 'send').length).toBeGreaterThanOrEqual(4);
    expect(got).toEqual(want);
  });

  it('never throws on bad messages: drops and counts them by reason', () => {
    const n = node();
    n.start(0);
    n.pollActions();
    const bad: unknown[] = [
      null,
      42,
      { type: 'nope' },
      { type: 'rumor', rumors: 'x' },
      { type: 'rumor', rumors: [{ key: 'k', value: 1, ts: -1, origin: 0, deleted: false }], pull: false, reply: false },
      { type: 'delta', entries: [{ key: 'k', value: { nested: true }, ts: 1, origin: 0, deleted: false }] },
      { type: 'digest', buckets: 7, start: 0, hashes: [] },
      { type: 'summary', buckets: 64, bucket: 0, first: true, last: true, items: [{ key: 1 }] },
      { type: 'client-reply', id: 1, reply: { op: 'get', ok: false, error: 'x' } },
      { type: 'request', keys: [1, 2] },
      { type: 'feedback', known: null },
    ];
    for (const m of bad) expect(() => n.handleMessage(1, m as GossipMessage, 0)).not.toThrow();
    expect(n.dropped).toEqual({ malformed: 8, unknown_type: 1, bucket_mismatch: 1, unexpected: 1, error: 0 });
    expect(n.store.size).toBe(0);
    expect(n.stats()['dropped_malformed']).toBe(8);
  });

  it('answers client requests over the network and validates writes', () => {
    const n = node(2);
    n.start(0);
    n.pollActions();
    n.handleMessage(9, { type: 'client-request', id: 7, call: { op: 'put', key: 'temperature', value: 25.5 } }, 2 * S);
    n.pollActions();
    n.handleMessage(9, { type: 'client-request', id: 8, call: { op: 'get', key: 'temperature' } }, 3 * S);
    const reply = sends(n.pollActions()).find((a) => a.to === 9);
    expect(reply?.msg).toEqual({ type: 'client-reply', id: 8, reply: { op: 'get', ok: true, found: true, value: 25.5, ts: 2 * S, origin: 2 } });
    expect(n.put('k'.repeat(256), 1, 0).ok).toBe(false);
    expect(n.put('big', 'x'.repeat(2000), 0).ok).toBe(false);
    expect(n.put('nan', Number.NaN, 0).ok).toBe(false);
    expect(n.delete('temperature', 4 * S).ok).toBe(true);
    expect(n.get('temperature')).toBeUndefined();
  });

  it('sizes every send by its exact encoding and stays within the MTU', () => {
    const n = node(0, resolveConfig('default', { mtuBytes: 600, antiEntropyIntervalNs: S, fanout: 3 }));
    n.start(0);
    for (let i = 0; i < 40; i++) n.put(`key-${i}`, 'v'.repeat(i * 5), i);
    const all: Action<GossipMessage>[] = [...n.pollActions()];
    n.handleTimer('gossip', S);
    n.handleTimer('ae', S);
    n.handleMessage(3, { type: 'summary', buckets: 64, bucket: 5, first: true, last: true, items: [] }, S);
    all.push(...n.pollActions());
    const s = sends(all);
    expect(s.length).toBeGreaterThan(3);
    for (const a of s) {
      expect(a.sizeBytes).toBe(encodedSize(a.msg));
      expect(a.sizeBytes).toBeLessThanOrEqual(600);
      expect(a.to).not.toBe(0);
    }
  });

  it('ticks at multiples of the interval when phase is aligned, only while it has hot rumors', () => {
    const n = node(1, resolveConfig('demers-feedback-counter', { intervalNs: S }));
    n.start(0);
    expect(n.pollActions().filter((a) => a.type === 'set-timer')).toEqual([]);
    n.handleMessage(
      0,
      { type: 'rumor', rumors: [{ key: 'x', value: 1, ts: 5, origin: 0, deleted: false }], pull: false, reply: false },
      1_300_000_000,
    );
    expect(n.pollActions()).toContainEqual({ type: 'set-timer', timer: 'gossip', atNs: 2 * S });
  });

  it('replies feedback for a rumor it already had, not for one it learned', () => {
    const n = node(1);
    n.start(0);
    n.pollActions();
    const r: GossipMessage = { type: 'rumor', rumors: [{ key: 'x', value: 1, ts: 5, origin: 0, deleted: false }], pull: false, reply: false };
    n.handleMessage(0, r, 10);
    expect(sends(n.pollActions()).filter((a) => a.msg.type === 'feedback')).toEqual([]);
    n.handleMessage(3, r, 5 * S);
    expect(sends(n.pollActions()).map((a) => [a.to, a.msg.type])).toEqual([[3, 'feedback']]);
  });

  it('restores a snapshot: same entries, and later writes stamp after the old ones', () => {
    const a = node(0, resolveConfig('default', { clock: 'physical' }));
    a.put('x', 1, 100 * S);
    a.delete('y', 100 * S);
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<GossipNode['snapshot']>;
    const b = new GossipNode({ id: 0, peers: [0, 1], rng: new Random('b'), snapshot: snap, config: resolveConfig('default', { clock: 'physical' }) });
    expect(b.get('x')).toBe(1);
    expect(b.store.entry('y')?.deleted).toBe(true);
    const w = b.put('x', 2, 1); // its physical clock went back: the restored clock keeps it monotone
    expect(w.ok && w.op === 'put' ? w.ts : -1).toBeGreaterThan(a.store.entry('x')?.ts ?? Infinity);
  });
});

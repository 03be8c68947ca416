/**
 * Round semantics of rumor mongering on single nodes: synchronous push-pull,
 * pull rumor mongering, the connection limit, the counter reset over real
 * feedback, one-way anti-entropy, and the presets that must not send feedback.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { Simulator } from '../../../src/kernel/simulator.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig, type PresetName } from '../../../src/protocols/gossip/presets.js';
import { GossipCluster } from '../../../src/sim/gossip-cluster.js';
import type { GossipConfig } from '../../../src/protocols/gossip/config.js';
import type { Entry } from '../../../src/protocols/gossip/store.js';
import type { GossipMessage } from '../../../src/protocols/gossip/wire.js';
import { Network } from '../../../src/net/network.js';

const S = 1_000_000_000;
const X: Entry = { key: 'x', value: 1, ts: 5, origin: 0, deleted: false };

function node(id: number, preset: PresetName, overrides: Partial<GossipConfig> = {}): GossipNode {
  const n = new GossipNode({ id, peers: [0, 1, 2, 3, 4], rng: new Random(`n${id}`), config: resolveConfig(preset, { intervalNs: S, ...overrides }) });
  n.start(0);
  n.pollActions();
  return n;
}

type Send = Extract<Action<GossipMessage>, { type: 'send' }>;
function sends(n: GossipNode): Send[] {
  return n.pollActions().filter((a): a is Send => a.type === 'send');
}

const push = (rumors: Entry[]): GossipMessage => ({ type: 'rumor', rumors, pull: false, reply: false });
const pullRequest = (rumors: Entry[] = []): GossipMessage => ({ type: 'rumor', rumors, pull: true, reply: false });

describe('synchronous rounds', () => {
  it('push-pull: a version learned in round r is not served to a pull of round r, only from round r + 1', () => {
    const b = node(1, 'push-pull');
    b.handleMessage(0, pullRequest([X]), 3 * S + 1_000_000); // B learns x in round 3
    sends(b);
    b.handleMessage(2, pullRequest(), 3 * S + 1_000_000); // C's pull of the same round
    expect(sends(b)).toEqual([]);
    b.handleMessage(2, pullRequest(), 4 * S + 1_000_000); // round 4: served
    expect(sends(b).map((s) => [s.to, s.msg.type, s.msg.type === 'rumor' && s.msg.reply])).toEqual([[2, 'rumor', true]]);
  });

  it('push-pull with round_semantics relay answers at once (two hops in one round)', () => {
    const b = node(1, 'push-pull', { roundSemantics: 'relay' });
    b.handleMessage(0, pullRequest([X]), 3 * S + 1_000_000);
    sends(b);
    b.handleMessage(2, pullRequest(), 3 * S + 1_000_000);
    expect(sends(b).map((s) => s.to)).toEqual([2]);
  });

  it('push-pull fanout 1, infect forever, n = 1000: about 9 rounds, not the 8 of same-round relaying', () => {
    const rounds = (semantics: 'synchronous' | 'relay'): number => {
      let sum = 0;
      for (let r = 0; r < 6; r++) {
        const sim = new Simulator({ seed: `pp/${r}` });
        const net = new Network<GossipMessage>(sim, { nodes: 1000, defaultLink: { latency: 1_000_000 }, perLinkCounters: false });
        const cluster = new GossipCluster(sim, net, { config: resolveConfig('push-pull', { intervalNs: S, roundSemantics: semantics }) });
        cluster.start();
        cluster.call(0, { op: 'put', key: 'x', value: 1 });
        const u = cluster.metrics.updates[0]!;
        let t = 0;
        while (u.count < 1000) sim.run({ until: ++t * S + S / 2 });
        sum += t;
      }
      return sum / 6;
    };
    const sync = rounds('synchronous');
    const relay = rounds('relay');
    expect(sync).toBeGreaterThan(relay + 0.5);
    expect(sync).toBeGreaterThan(8.4);
    expect(sync).toBeLessThan(10);
  });
});

describe('pull rumor mongering', () => {
  it('every node sends one empty pull request per round; a hot node answers; the requester says whether it was new', () => {
    const a = node(0, 'demers-pull-feedback-counter');
    const req = sends(a);
    expect(req).toEqual([]);
    a.handleTimer('gossip', S);
    const r = sends(a);
    expect(r).toHaveLength(1);
    expect(r[0]!.msg).toMatchObject({ type: 'rumor', rumors: [], pull: true, reply: false });
    const w = a.put('x', 1, S + 10);
    expect(w.ok).toBe(true);
    sends(a);
    a.handleMessage(3, pullRequest(), S + 1_000_000); // same round as the write: not yet served
    expect(sends(a)).toEqual([]);
    a.handleMessage(3, pullRequest(), 2 * S + 1_000_000);
    const answer = sends(a);
    expect(answer.map((s) => [s.to, s.msg.type === 'rumor' && s.msg.reply])).toEqual([[3, true]]);
    const b = node(3, 'demers-pull-feedback-counter');
    b.handleMessage(0, answer[0]!.msg, 2 * S + 2_000_000);
    expect(sends(b).map((s) => s.msg.type)).toEqual(['learned']); // new to it: a necessary contact
    b.handleMessage(0, answer[0]!.msg, 3 * S + 2_000_000);
    expect(sends(b).map((s) => s.msg.type)).toEqual(['feedback']); // knew it: unnecessary contact
  });

  it('feedback + counter, k = 1: the answering node loses interest at the first unnecessary contact', () => {
    const a = node(0, 'demers-pull-feedback-counter', { k: 1 });
    a.put('x', 1, 10);
    a.handleMessage(3, pullRequest(), S + 1_000_000);
    const answer = sends(a).find((s) => s.msg.type === 'rumor')!;
    const e = (answer.msg as Extract<GossipMessage, { type: 'rumor' }>).rumors[0]!;
    expect(a.hotRumors).toBe(1);
    a.handleMessage(3, { type: 'feedback', known: [e] }, S + 2_000_000);
    expect(a.hotRumors).toBe(0);
  });
});

describe('connection limit', () => {
  it('accepts at most connection_limit rumor connections per round and refuses the rest unread and unanswered', () => {
    const b = node(1, 'demers-feedback-counter', { connectionLimit: 1 });
    b.handleMessage(0, push([X]), 2 * S + 1_000_000);
    expect(b.store.entry('x')).toBeDefined();
    expect(sends(b).map((s) => s.msg.type)).toEqual(['learned']);
    const y: Entry = { ...X, key: 'y' };
    b.handleMessage(2, push([y]), 2 * S + 1_000_000);
    expect(b.store.entry('y')).toBeUndefined();
    expect(sends(b)).toEqual([]);
    b.handleMessage(2, push([y]), 3 * S + 1_000_000); // next round
    expect(b.store.entry('y')).toBeDefined();
  });

  it('in pull mode a node answers at most connection_limit requests per round', () => {
    const a = node(0, 'demers-pull-feedback-counter', { connectionLimit: 2 });
    a.put('x', 1, 10);
    sends(a);
    for (const from of [1, 2, 3]) a.handleMessage(from, pullRequest(), S + 1_000_000);
    expect(sends(a).map((s) => s.to)).toEqual([1, 2]);
  });
});

describe('counter reset on real feedback', () => {
  it('a recipient that learned the rumor answers `learned`, which resets the counter; counter_reset: false sends none', () => {
    for (const counterReset of [true, false]) {
      const b = node(1, 'demers-feedback-counter', { counterReset });
      b.handleMessage(0, push([X]), S + 1_000_000);
      expect(sends(b).map((s) => s.msg)).toEqual(counterReset ? [{ type: 'learned', learned: [X] }] : []);
      const a = node(0, 'demers-feedback-counter', { k: 2, counterReset });
      a.put('x', 1, 10);
      a.handleTimer('gossip', S);
      const first = sends(a).find((s) => s.msg.type === 'rumor')!;
      const e = (first.msg as Extract<GossipMessage, { type: 'rumor' }>).rumors[0]!;
      a.handleMessage(first.to, { type: 'feedback', known: [e] }, S + 2_000_000); // unnecessary: 1
      a.handleMessage(3, { type: 'learned', learned: [e] }, S + 2_000_000); // necessary: back to 0 with the reset
      a.handleMessage(first.to, { type: 'feedback', known: [e] }, S + 3_000_000);
      expect(a.hotRumors).toBe(counterReset ? 1 : 0);
    }
  });
});

describe('presets that never stop send no feedback', () => {
  it('infect-forever and push-pull are blind: a recipient that knew the rumor stays silent', () => {
    for (const preset of ['infect-forever', 'push-pull'] as const) {
      const b = node(1, preset);
      b.handleMessage(0, push([X]), S + 1_000_000);
      sends(b);
      b.handleMessage(2, push([X]), 2 * S + 1_000_000);
      expect(sends(b).filter((s) => s.msg.type === 'feedback')).toEqual([]);
    }
  });
});

describe('one-way anti-entropy', () => {
  /** One exchange started by `a` with `b`, every message delivered at once. */
  function exchange(a: GossipNode, b: GossipNode): void {
    const queue: [GossipNode, GossipNode, GossipMessage][] = [];
    a.handleTimer('ae', 10 * S);
    for (const s of a.pollActions()) if (s.type === 'send') queue.push([a, b, s.msg]);
    for (let i = 0; i < queue.length; i++) {
      const [from, to, msg] = queue[i]!;
      to.handleMessage(from.id, msg, 10 * S + i);
      for (const s of to.pollActions()) if (s.type === 'send') queue.push([to, from, s.msg]);
    }
  }
  const pair = (mode: GossipConfig['antiEntropyMode']): [GossipNode, GossipNode] => {
    const a = node(0, 'default', { antiEntropyMode: mode, mode: 'off' });
    const b = node(1, 'default', { mode: 'off' });
    a.put('mine', 'a', 10);
    a.put('big', 'a'.repeat(100), 10); // too big to ride inline in a summary
    b.put('theirs', 'b', 20);
    b.put('large', 'b'.repeat(100), 20);
    return [a, b];
  };
  it('push sends what the peer lacks and fetches nothing', () => {
    const [a, b] = pair('push');
    exchange(a, b);
    expect([b.get('mine'), b.get('big')?.toString().length]).toEqual(['a', 100]);
    expect([a.get('theirs'), a.get('large')]).toEqual([undefined, undefined]);
  });
  it('pull fetches what it lacks and sends nothing', () => {
    const [a, b] = pair('pull');
    exchange(a, b);
    expect([a.get('theirs'), a.get('large')?.toString().length]).toEqual(['b', 100]);
    expect([b.get('mine'), b.get('big')]).toEqual([undefined, undefined]);
  });
  it('push-pull does both', () => {
    const [a, b] = pair('push-pull');
    exchange(a, b);
    expect([a.get('theirs'), b.get('mine')]).toEqual(['b', 'a']);
  });
});

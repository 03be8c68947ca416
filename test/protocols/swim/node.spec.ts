/**
 * SwimNode's rules one at a time, driven by hand (no network): each test feeds
 * a member inputs and reads the actions it asks for. Section numbers are those
 * of the SWIM paper (Das, Gupta and Motivala, DSN 2002) and of Lifeguard
 * (Dadgar, Phillips and Currey, 2018).
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import {
  DEFAULT_SWIM_CONFIG,
  dynamicSuspicionTimeoutNs,
  pushPullIntervalNs,
  retransmitLimit,
  suspicionTimeoutNs,
  type SwimConfig,
} from '../../../src/protocols/swim/config.js';
import { SwimNode, type SwimNodeOptions } from '../../../src/protocols/swim/node.js';
import type { SwimMessage, Update } from '../../../src/protocols/swim/wire.js';

const S = 1_000_000_000;
const T = DEFAULT_SWIM_CONFIG.probeIntervalNs;

type Send = { to: number; msg: SwimMessage };

function member(id: number, n: number, config: Partial<SwimConfig> = {}, options: SwimNodeOptions = {}): SwimNode {
  const members = Array.from({ length: n }, (_, i) => i);
  return new SwimNode(id, { ...DEFAULT_SWIM_CONFIG, phase: 'aligned', ...config }, new Random(`swim${id}`), { members, ...options });
}

function sends(actions: readonly Action<SwimMessage>[]): Send[] {
  return actions.flatMap((a) => (a.type === 'send' ? [{ to: a.to, msg: a.msg }] : []));
}

function timerAt(actions: readonly Action<SwimMessage>[], timer: string): number | undefined {
  let at: number | undefined;
  for (const a of actions) if (a.type === 'set-timer' && a.timer === timer) at = a.atNs;
  return at;
}

function traces(actions: readonly Action<SwimMessage>[]): Record<string, string | number | boolean>[] {
  return actions.flatMap((a) => (a.type === 'trace' ? [a.data as Record<string, string | number | boolean>] : []));
}

/** Starts `m` at 0 and runs its first probe period; returns the ping it sent. */
function firstProbe(m: SwimNode): Send {
  m.start(0);
  m.pollActions();
  m.handleTimer('probe', T);
  const ping = sends(m.pollActions()).find((s) => s.msg.type === 'ping');
  if (ping === undefined) throw new Error('no ping');
  return ping;
}

function seqOf(msg: SwimMessage): number {
  if (msg.type === 'sync') throw new Error('sync has no seq');
  return msg.seq;
}

describe('SwimNode probing (SWIM section 3.1 and 4.3)', () => {
  it('probes every other member once per pass of its shuffled list, in a new order each pass (section 4.3)', () => {
    const n = 8;
    const m = member(0, n);
    m.start(0);
    m.pollActions();
    const passes: number[][] = [[], [], []];
    for (let p = 0; p < 3 * (n - 1); p++) {
      m.handleTimer('probe', (p + 1) * T);
      const ping = sends(m.pollActions()).find((s) => s.msg.type === 'ping');
      (passes[Math.floor(p / (n - 1))] as number[]).push(ping?.to ?? -1);
    }
    const everyone = [1, 2, 3, 4, 5, 6, 7];
    for (const pass of passes) expect([...pass].sort()).toEqual(everyone);
    expect(passes[0]).not.toEqual(passes[1]);
  });

  it('answers a ping with an ack of the same sequence number', () => {
    const m = member(1, 3);
    m.start(0);
    m.pollActions();
    m.handleMessage(0, { type: 'ping', seq: 42, updates: [] }, 5);
    expect(sends(m.pollActions())).toEqual([{ to: 0, msg: { type: 'ack', seq: 42, updates: [] } }]);
  });

  it('asks k other members to probe the target when no ack came within the probe timeout', () => {
    const m = member(0, 10);
    const ping = firstProbe(m);
    m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    const reqs = sends(m.pollActions());
    expect(reqs).toHaveLength(DEFAULT_SWIM_CONFIG.indirectChecks);
    const helpers = new Set(reqs.map((r) => r.to));
    expect(helpers.size).toBe(3);
    expect(helpers.has(ping.to)).toBe(false);
    expect(helpers.has(0)).toBe(false);
    for (const r of reqs) expect(r.msg).toMatchObject({ type: 'ping-req', seq: seqOf(ping.msg), target: ping.to });
  });

  it('sends no ping-req when the direct ack came in time', () => {
    const m = member(0, 10);
    const ping = firstProbe(m);
    m.handleMessage(ping.to, { type: 'ack', seq: seqOf(ping.msg), updates: [] }, T + 1000);
    m.pollActions();
    m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    expect(sends(m.pollActions())).toEqual([]);
  });

  it('a helper pings the target for the requester and relays its ack under the requester sequence number', () => {
    const h = member(2, 5);
    h.start(0);
    h.pollActions();
    h.handleMessage(0, { type: 'ping-req', seq: 7, target: 3, updates: [] }, 10);
    const [ping] = sends(h.pollActions());
    expect(ping).toMatchObject({ to: 3, msg: { type: 'ping' } });
    h.handleMessage(3, { type: 'ack', seq: seqOf((ping as Send).msg), updates: [] }, 20);
    expect(sends(h.pollActions())).toEqual([{ to: 0, msg: { type: 'ack', seq: 7, updates: [] } }]);
  });

  it('an indirect ack counts as the probe answered: no suspicion', () => {
    const m = member(0, 5);
    const ping = firstProbe(m);
    m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    m.pollActions();
    m.handleMessage(4, { type: 'ack', seq: seqOf(ping.msg), updates: [] }, T + 0.7 * S);
    m.pollActions();
    m.handleTimer('probe', 2 * T);
    expect(m.stateOfMember(ping.to)).toBe('alive');
  });
});

describe('SwimNode suspicion and incarnations (section 4.2)', () => {
  it('a probe unanswered by the end of its period makes the target suspect, then dead when the suspicion times out', () => {
    const n = 5;
    const m = member(0, n);
    const ping = firstProbe(m);
    m.handleTimer('probe', 2 * T);
    const acts = m.pollActions();
    expect(m.stateOfMember(ping.to)).toBe('suspect');
    expect(traces(acts)).toContainEqual({ member: ping.to, state: 'suspect', incarnation: 0, via: 'probe' });
    // The suspicion rides on the next message.
    const next = sends(acts).find((s) => s.msg.type === 'ping');
    expect(next?.msg.updates).toContainEqual({ kind: 'suspect', node: ping.to, incarnation: 0, from: 0 });
    const deadline = timerAt(acts, 'suspect');
    expect(deadline).toBe(2 * T + suspicionTimeoutNs(m.config, n));
    m.handleTimer('suspect', deadline as number);
    expect(traces(m.pollActions())).toContainEqual({ member: ping.to, state: 'dead', incarnation: 0, via: 'timeout' });
    expect(m.stateOfMember(ping.to)).toBe('dead');
    expect(m.view()).not.toContain(ping.to);
  });

  it('without suspicion a failed probe declares the target dead at once (section 3)', () => {
    const m = member(0, 5, { suspicion: false });
    const ping = firstProbe(m);
    m.handleTimer('probe', 2 * T);
    expect(traces(m.pollActions())).toContainEqual({ member: ping.to, state: 'dead', incarnation: 0, via: 'probe' });
  });

  it('a member suspected at its incarnation refutes with a higher one, spread as alive', () => {
    const m = member(3, 5);
    m.start(0);
    m.pollActions();
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 3, incarnation: 0, from: 2 }] }, 10);
    const [ack] = sends(m.pollActions());
    expect(m.currentIncarnation).toBe(1);
    expect(ack?.msg.updates).toContainEqual({ kind: 'alive', node: 3, incarnation: 1, from: 3 });
  });

  it('a suspicion about an older incarnation is ignored by its subject', () => {
    const m = member(3, 5);
    m.start(0);
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 3, incarnation: 0, from: 2 }] }, 10);
    m.handleMessage(1, { type: 'ping', seq: 2, updates: [{ kind: 'suspect', node: 3, incarnation: 0, from: 4 }] }, 20);
    expect(m.currentIncarnation).toBe(1);
  });

  it('orders updates by incarnation: suspect(i) beats alive(i), alive(i) does not beat suspect(i), alive(i+1) does, dead beats both', () => {
    const m = member(0, 5);
    m.start(0);
    const say = (u: Omit<Update, 'from'>, at: number): void => {
      m.handleMessage(1, { type: 'ping', seq: at, updates: [{ ...u, from: 1 }] }, at);
      m.pollActions();
    };
    say({ kind: 'suspect', node: 2, incarnation: 0 }, 1);
    expect(m.stateOfMember(2)).toBe('suspect');
    say({ kind: 'alive', node: 2, incarnation: 0 }, 2);
    expect(m.stateOfMember(2)).toBe('suspect');
    say({ kind: 'alive', node: 2, incarnation: 1 }, 3);
    expect(m.stateOfMember(2)).toBe('alive');
    say({ kind: 'suspect', node: 2, incarnation: 0 }, 4);
    expect(m.stateOfMember(2)).toBe('alive');
    say({ kind: 'dead', node: 2, incarnation: 1 }, 5);
    expect(m.stateOfMember(2)).toBe('dead');
    say({ kind: 'alive', node: 2, incarnation: 1 }, 6);
    expect(m.stateOfMember(2)).toBe('dead');
    say({ kind: 'suspect', node: 2, incarnation: 5 }, 7);
    expect(m.stateOfMember(2)).toBe('dead');
    say({ kind: 'alive', node: 2, incarnation: 2 }, 8);
    expect(m.stateOfMember(2)).toBe('alive');
  });

  it('an alive refutation cancels the suspicion timer of that member', () => {
    const m = member(0, 5);
    const ping = firstProbe(m);
    m.handleTimer('probe', 2 * T);
    m.pollActions();
    m.handleMessage(ping.to, { type: 'ack', seq: 99, updates: [{ kind: 'alive', node: ping.to, incarnation: 1, from: ping.to }] }, 2 * T + 10);
    const acts = m.pollActions();
    expect(acts).toContainEqual({ type: 'cancel-timer', timer: 'suspect' });
    m.handleTimer('suspect', 100 * T);
    expect(m.stateOfMember(ping.to)).toBe('alive');
  });

  it("when probing a suspect, puts the suspicion first in the ping (Lifeguard's buddy system)", () => {
    const m = member(0, 3);
    m.start(0);
    m.pollActions();
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 2, incarnation: 0, from: 1 }] }, 1);
    m.pollActions();
    let ping: Send | undefined;
    for (let p = 1; p <= 2 && ping === undefined; p++) {
      m.handleTimer('probe', p * T);
      ping = sends(m.pollActions()).find((s) => s.msg.type === 'ping' && s.to === 2);
    }
    expect(ping?.msg.updates[0]).toEqual({ kind: 'suspect', node: 2, incarnation: 0, from: 0 });
  });
});

describe('SwimNode dissemination (section 4.1)', () => {
  it('piggybacks an update lambda * ceil(log10(n + 1)) times, then drops it', () => {
    const n = 20;
    const m = member(0, n);
    m.start(0);
    m.pollActions();
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 5, incarnation: 0, from: 1 }] }, 1);
    let carried = sends(m.pollActions()).filter((s) => s.msg.updates.some((u) => u.node === 5)).length;
    for (let i = 0; i < 50; i++) {
      m.handleMessage(2, { type: 'ping', seq: 10 + i, updates: [] }, 10 + i);
      carried += sends(m.pollActions()).filter((s) => s.msg.updates.some((u) => u.node === 5)).length;
    }
    expect(retransmitLimit(4, n)).toBe(8);
    expect(carried).toBe(8);
    expect(m.pendingBroadcasts).toBe(0);
  });

  it('carries at most maxPiggyback updates per message, least sent first', () => {
    const m = member(0, 30, { maxPiggyback: 3 });
    m.start(0);
    m.pollActions();
    const ups: Update[] = [5, 6, 7, 8, 9].map((node) => ({ kind: 'suspect', node, incarnation: 0, from: 1 }));
    m.handleMessage(1, { type: 'ping', seq: 1, updates: ups }, 1);
    const first = sends(m.pollActions())[0]?.msg.updates.map((u) => u.node);
    expect(first).toHaveLength(3);
    m.handleMessage(1, { type: 'ping', seq: 2, updates: [] }, 2);
    const second = sends(m.pollActions())[0]?.msg.updates.map((u) => u.node) ?? [];
    // The two not yet sent go first.
    expect(new Set([...(first ?? []), ...second.slice(0, 2)])).toEqual(new Set([5, 6, 7, 8, 9]));
  });
});

describe("SwimNode updates on another protocol's messages (takeUpdates, receiveUpdates)", () => {
  it('takeUpdates gives at most the cap asked and maxPiggyback, fewest sends first, and counts them', () => {
    const m = member(0, 30, { maxPiggyback: 3 });
    m.start(0);
    m.pollActions();
    const ups: Update[] = [5, 6, 7, 8, 9].map((node) => ({ kind: 'suspect', node, incarnation: 0, from: 1 }));
    m.receiveUpdates(1, ups, 1);
    expect(m.counters).toMatchObject({ carriersIn: 1, updatesCarriedIn: 5, received: 0 });
    const first = m.takeUpdates(10).map((u) => u.node);
    expect(first).toHaveLength(3);
    const second = m.takeUpdates(2).map((u) => u.node);
    expect(second).toHaveLength(2);
    // The two not yet taken come first.
    expect(new Set([...first, ...second])).toEqual(new Set([5, 6, 7, 8, 9]));
    expect(m.counters).toMatchObject({ carriersOut: 2, updatesCarriedOut: 5, sent: 0 });
    // Nothing goes out on SWIM's own messages meanwhile: takeUpdates sends nothing itself.
    expect(sends(m.pollActions())).toEqual([]);
  });

  it('receiveUpdates applies updates as a SWIM message would, and queues the changes to spread', () => {
    const m = member(0, 4);
    m.start(0);
    m.pollActions();
    m.receiveUpdates(
      2,
      [
        { kind: 'alive', node: 9, incarnation: 0, from: 9 },
        { kind: 'suspect', node: 1, incarnation: 0, from: 2 },
      ],
      5,
    );
    expect(m.stateOfMember(9)).toBe('alive');
    expect(m.stateOfMember(1)).toBe('suspect');
    expect(m.pendingBroadcasts).toBe(2);
    expect(traces(m.pollActions()).map((t) => [t['member'], t['state'], t['via']])).toEqual([
      [9, 'alive', 'gossip'],
      [1, 'suspect', 'gossip'],
    ]);
    // A suspicion about itself is refuted, as on a ping.
    m.receiveUpdates(2, [{ kind: 'suspect', node: 0, incarnation: 0, from: 2 }], 6);
    expect(m.currentIncarnation).toBe(1);
  });

  it('the retransmit limit counts sends on SWIM messages and on other messages together', () => {
    const n = 20;
    const m = member(0, n);
    m.start(0);
    m.pollActions();
    m.receiveUpdates(1, [{ kind: 'suspect', node: 5, incarnation: 0, from: 1 }], 1);
    let onSwim = 0;
    let onOther = 0;
    for (let i = 0; i < 20; i++) {
      if (m.takeUpdates().some((u) => u.node === 5)) onOther++;
      m.handleMessage(2, { type: 'ping', seq: 10 + i, updates: [] }, 10 + i);
      onSwim += sends(m.pollActions()).filter((s) => s.msg.updates.some((u) => u.node === 5)).length;
    }
    expect(retransmitLimit(4, n)).toBe(8);
    expect(onSwim).toBe(4);
    expect(onOther).toBe(4);
    expect(m.pendingBroadcasts).toBe(0);
    expect(m.takeUpdates()).toEqual([]);
  });

  it('takes and receives nothing while dormant or after leaving', () => {
    const d = member(3, 0, {}, { dormant: true, members: [] });
    d.start(0);
    d.receiveUpdates(1, [{ kind: 'alive', node: 7, incarnation: 0, from: 7 }], 1);
    expect(d.stateOfMember(7)).toBeUndefined();
    expect(d.takeUpdates()).toEqual([]);
    const m = member(0, 5);
    m.start(0);
    m.receiveUpdates(1, [{ kind: 'alive', node: 7, incarnation: 0, from: 7 }], 1);
    m.handleCall({ op: 'leave' }, 2);
    m.pollActions();
    m.receiveUpdates(1, [{ kind: 'alive', node: 8, incarnation: 0, from: 8 }], 3);
    expect(m.stateOfMember(8)).toBeUndefined();
    expect(m.takeUpdates()).toEqual([]);
  });
});

describe('SwimNode join and leave', () => {
  it('a new member syncs with its seed, which answers with its table and spreads the newcomer', () => {
    const seed = member(0, 4);
    seed.start(0);
    seed.pollActions();
    const joiner = new SwimNode(9, { ...DEFAULT_SWIM_CONFIG }, new Random('j'), { seeds: [0] });
    joiner.start(0);
    const [sync] = sends(joiner.pollActions());
    expect(sync).toMatchObject({ to: 0, msg: { type: 'sync', reply: false } });
    seed.handleMessage(9, (sync as Send).msg, 1);
    const [reply] = sends(seed.pollActions());
    expect(reply?.msg).toMatchObject({ type: 'sync', reply: true });
    expect(seed.stateOfMember(9)).toBe('alive');
    joiner.handleMessage(0, (reply as Send).msg, 2);
    joiner.pollActions();
    expect(joiner.view()).toEqual([0, 1, 2, 3, 9]);
    // The seed spreads the newcomer on its next message.
    seed.handleMessage(1, { type: 'ping', seq: 3, updates: [] }, 3);
    expect(sends(seed.pollActions())[0]?.msg.updates).toContainEqual({ kind: 'alive', node: 9, incarnation: 0, from: 9 });
  });

  it('a joiner not answered tries the next seed on its next period', () => {
    const joiner = new SwimNode(9, { ...DEFAULT_SWIM_CONFIG, phase: 'aligned' }, new Random('j'), { seeds: [0, 1] });
    joiner.start(0);
    expect(sends(joiner.pollActions()).map((s) => s.to)).toEqual([0]);
    joiner.handleTimer('probe', T);
    expect(sends(joiner.pollActions()).map((s) => s.to)).toEqual([1]);
  });

  it('a member restarted with its state learns it was declared dead and rejoins with a higher incarnation', () => {
    const a = member(0, 3);
    a.start(0);
    a.pollActions();
    a.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'dead', node: 2, incarnation: 4, from: 1 }] }, 1);
    a.pollActions();
    const b = member(2, 3);
    b.start(0);
    b.pollActions();
    b.start(10 * T); // restarted
    const [sync] = sends(b.pollActions());
    expect(sync?.msg.type).toBe('sync');
    a.handleMessage(2, (sync as Send).msg, 10 * T + 1);
    const [reply] = sends(a.pollActions());
    b.handleMessage(0, (reply as Send).msg, 10 * T + 2);
    b.pollActions();
    expect(b.currentIncarnation).toBe(5);
  });

  it('a leaving member tells k + 1 members it left and goes silent; they mark it left', () => {
    const m = member(0, 6);
    m.start(0);
    m.pollActions();
    m.handleCall({ op: 'leave' }, 5);
    const out = sends(m.pollActions());
    expect(out).toHaveLength(4);
    for (const s of out) expect(s.msg.updates[0]).toEqual({ kind: 'left', node: 0, incarnation: 0, from: 0 });
    const other = member(1, 6);
    other.start(0);
    other.handleMessage(0, (out[0] as Send).msg, 6);
    expect(other.stateOfMember(0)).toBe('left');
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [] }, 7);
    m.handleTimer('probe', T);
    expect(sends(m.pollActions())).toEqual([]);
  });

  it('a dormant node does nothing until told to join', () => {
    const d = new SwimNode(5, DEFAULT_SWIM_CONFIG, new Random('d'), { dormant: true });
    d.start(0);
    d.handleMessage(1, { type: 'ping', seq: 1, updates: [] }, 1);
    expect(d.pollActions()).toEqual([]);
    d.handleCall({ op: 'join', seeds: [1] }, 2);
    expect(sends(d.pollActions())).toMatchObject([{ to: 1, msg: { type: 'sync' } }]);
  });

  it('push-pull: every interval it sends its table to a random live member, who answers with its own', () => {
    const m = member(0, 4, { pushPullIntervalNs: 30 * S });
    m.start(0);
    const at = timerAt(m.pollActions(), 'push-pull') as number;
    expect(at).toBeGreaterThanOrEqual(15 * S);
    expect(at).toBeLessThan(45 * S);
    m.handleTimer('push-pull', at);
    const acts = m.pollActions();
    const [sync] = sends(acts);
    expect(sync?.msg).toMatchObject({ type: 'sync', reply: false });
    expect(sync?.msg.type === 'sync' ? sync.msg.members.length : 0).toBe(4);
    expect(timerAt(acts, 'push-pull')).toBe(at + 30 * S);
    expect(pushPullIntervalNs(30 * S, 32)).toBe(30 * S);
    expect(pushPullIntervalNs(30 * S, 64)).toBe(60 * S);
    expect(pushPullIntervalNs(30 * S, 1000)).toBe(6 * 30 * S);
  });

  it('lists its table through the members call', () => {
    const m = member(0, 3);
    expect(m.handleCall({ op: 'members' }, 0)).toEqual([
      { node: 0, state: 'alive', incarnation: 0 },
      { node: 1, state: 'alive', incarnation: 0 },
      { node: 2, state: 'alive', incarnation: 0 },
    ]);
  });
});

describe('SwimNode with Lifeguard (Dadgar et al. 2018)', () => {
  it('local health: a failed probe without nacks raises the score and stretches the next period; an ack lowers it (section 4.1)', () => {
    const m = member(0, 5, { lifeguard: true });
    firstProbe(m);
    m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    m.pollActions();
    m.handleTimer('probe', 2 * T);
    const acts = m.pollActions();
    expect(m.healthScore).toBe(3); // three ping-reqs, no nack: each missing nack counts
    expect(timerAt(acts, 'probe')).toBe(2 * T + 4 * T);
    expect(timerAt(acts, 'ack')).toBe(2 * T + 4 * DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    const ping = sends(acts).find((s) => s.msg.type === 'ping') as Send;
    m.handleMessage(ping.to, { type: 'ack', seq: seqOf(ping.msg), updates: [] }, 2 * T + 10);
    m.handleTimer('probe', 6 * T);
    expect(m.healthScore).toBe(2);
  });

  it('local health: nacks from every helper show the member itself is fine (no rise)', () => {
    const m = member(0, 5, { lifeguard: true });
    const ping = firstProbe(m);
    m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
    const reqs = sends(m.pollActions());
    for (const r of reqs) m.handleMessage(r.to, { type: 'nack', seq: seqOf(ping.msg), updates: [] }, T + 0.9 * S);
    m.handleTimer('probe', 2 * T);
    expect(m.healthScore).toBe(0);
  });

  it('a helper that hears nothing from the target sends a nack at the probe timeout (section 4.1)', () => {
    const h = member(2, 5, { lifeguard: true });
    h.start(0);
    h.pollActions();
    h.handleMessage(0, { type: 'ping-req', seq: 7, target: 3, updates: [] }, 10);
    const at = timerAt(h.pollActions(), 'relay') as number;
    h.handleTimer('relay', at);
    expect(sends(h.pollActions())).toEqual([{ to: 0, msg: { type: 'nack', seq: 7, updates: [] } }]);
  });

  it('the suspicion timeout starts at the maximum and shrinks with independent confirmations (section 4.2)', () => {
    const n = 100;
    const m = member(0, n, { lifeguard: true });
    m.start(0);
    m.pollActions();
    const min = suspicionTimeoutNs(m.config, n);
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 50, incarnation: 0, from: 1 }] }, 0);
    expect(timerAt(m.pollActions(), 'suspect')).toBe(6 * min);
    m.handleMessage(2, { type: 'ping', seq: 2, updates: [{ kind: 'suspect', node: 50, incarnation: 0, from: 2 }] }, 0);
    expect(timerAt(m.pollActions(), 'suspect')).toBe(dynamicSuspicionTimeoutNs(min, 6 * min, 2, 1));
    m.handleMessage(3, { type: 'ping', seq: 3, updates: [{ kind: 'suspect', node: 50, incarnation: 0, from: 3 }] }, 0);
    expect(timerAt(m.pollActions(), 'suspect')).toBe(min);
    // The same confirmer twice counts once.
    m.handleMessage(3, { type: 'ping', seq: 4, updates: [{ kind: 'suspect', node: 50, incarnation: 0, from: 3 }] }, 0);
    expect(timerAt(m.pollActions(), 'suspect')).toBeUndefined();
  });

  it('refuting a suspicion about itself raises its own health score', () => {
    const m = member(3, 5, { lifeguard: true });
    m.start(0);
    m.handleMessage(1, { type: 'ping', seq: 1, updates: [{ kind: 'suspect', node: 3, incarnation: 0, from: 2 }] }, 10);
    expect(m.healthScore).toBe(1);
  });
});

describe('SwimNode helpers and reconnection (memberlist kRandomNodes, Serf reconnect)', () => {
  it('asks k distinct alive members to probe, never the target, itself or a member it holds dead', () => {
    for (const n of [5, 8, 200]) {
      for (let trial = 0; trial < 20; trial++) {
        const m = new SwimNode(0, { ...DEFAULT_SWIM_CONFIG, phase: 'aligned' }, new Random(`helpers${n}:${trial}`), {
          members: Array.from({ length: n }, (_, i) => i),
        });
        m.start(0);
        // Members 1 and 2 are dead in its table.
        m.handleMessage(3, { type: 'ping', seq: 1, updates: [1, 2].map((node) => ({ kind: 'dead' as const, node, incarnation: 0, from: 3 })) }, 1);
        m.pollActions();
        m.handleTimer('probe', T);
        const ping = sends(m.pollActions()).find((s) => s.msg.type === 'ping') as Send;
        m.handleTimer('ack', T + DEFAULT_SWIM_CONFIG.probeTimeoutNs);
        const helpers = sends(m.pollActions()).map((s) => s.to);
        expect(helpers).toHaveLength(Math.min(3, n - 4));
        expect(new Set(helpers).size).toBe(helpers.length);
        for (const h of helpers) expect([0, 1, 2, ping.to]).not.toContain(h);
      }
    }
  });

  it('tries a member it holds dead with probability dead / alive per interval (Serf), and always when as many are dead', () => {
    const tries = (dead: number, n: number): number => {
      const m = member(0, n);
      m.start(0);
      const updates = Array.from({ length: dead }, (_, j) => ({ kind: 'dead' as const, node: j + 1, incarnation: 0, from: n - 1 }));
      m.handleMessage(n - 1, { type: 'ping', seq: 1, updates }, 1);
      m.pollActions();
      let syncs = 0;
      for (let i = 1; i <= 400; i++) {
        m.handleTimer('reconnect', i * 30 * S);
        for (const s of sends(m.pollActions())) {
          expect(s.msg.type).toBe('sync');
          expect(s.to).toBeGreaterThanOrEqual(1);
          expect(s.to).toBeLessThanOrEqual(dead);
          syncs++;
        }
      }
      return syncs;
    };
    // 1 dead of 11: p = 1/10, 400 tries: mean 40, sd 6.
    expect(tries(1, 11)).toBeGreaterThan(20);
    expect(tries(1, 11)).toBeLessThan(60);
    expect(tries(5, 10)).toBe(400);
    expect(tries(0, 10)).toBe(0);
  });
});

describe('SwimNode table storage (compact: one byte of state per member, incarnations widened on demand)', () => {
  it('keeps incarnations exactly as they grow past 8, 16 and 32 bits, and the members heard before them', () => {
    const m = member(0, 4);
    m.start(0);
    const incs = [200, 300, 70_000, 5_000_000_000, 2 ** 53 - 1];
    let seq = 0;
    for (const i of incs) {
      m.handleMessage(1, { type: 'ping', seq: ++seq, updates: [{ kind: 'alive', node: 2, incarnation: i, from: 1 }] }, 10);
      expect(m.members().find((r) => r.node === 2)).toEqual({ node: 2, state: 'alive', incarnation: i });
      expect(m.members().find((r) => r.node === 3)).toEqual({ node: 3, state: 'alive', incarnation: 0 });
    }
    // A member heard of late, with a high id, joins the table at the end, in the order heard.
    m.handleMessage(1, { type: 'ping', seq: seq + 1, updates: [{ kind: 'alive', node: 900, incarnation: 7, from: 1 }] }, 10);
    expect(m.members().map((r) => r.node)).toEqual([0, 1, 2, 3, 900]);
    expect(m.view()).toEqual([0, 1, 2, 3, 900]);
  });

  it('members built from one list each see that list, even when the list changes between them', () => {
    const list = [3, 1, 3, 2, 0];
    const a = new SwimNode(1, DEFAULT_SWIM_CONFIG, new Random('a'), { members: list });
    const b = new SwimNode(3, DEFAULT_SWIM_CONFIG, new Random('b'), { members: list });
    list.push(7);
    const c = new SwimNode(2, DEFAULT_SWIM_CONFIG, new Random('c'), { members: list });
    // Itself first, then the list in order without duplicates.
    expect(a.members().map((r) => r.node)).toEqual([1, 3, 2, 0]);
    expect(b.members().map((r) => r.node)).toEqual([3, 1, 2, 0]);
    expect(c.members().map((r) => r.node)).toEqual([2, 3, 1, 0, 7]);
    expect(a.view()).toEqual([0, 1, 2, 3]);
  });
});

describe('SWIM configuration formulas (memberlist)', () => {
  it('retransmit limit, base suspicion timeout and the dynamic timeout', () => {
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 1000)).toBe(16);
    expect(suspicionTimeoutNs(DEFAULT_SWIM_CONFIG, 5)).toBe(4 * S);
    expect(suspicionTimeoutNs(DEFAULT_SWIM_CONFIG, 1000)).toBe(12 * S);
    expect(dynamicSuspicionTimeoutNs(10, 60, 0, 0)).toBe(10);
    expect(dynamicSuspicionTimeoutNs(10, 60, 3, 0)).toBe(60);
    expect(dynamicSuspicionTimeoutNs(10, 60, 3, 1)).toBe(35);
    expect(dynamicSuspicionTimeoutNs(10, 60, 3, 3)).toBe(10);
  });
});

/**
 * SimHost drives sans-I/O nodes on the simulated network. The node under test
 * is a tiny ping-pong protocol: node 0 pings its peer every `periodNs` on a
 * timer, the peer answers each ping with a pong, and client calls let the test
 * set and cancel arbitrary timers.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import type { Time } from '../../src/kernel/time.js';
import { Network, type NodeId } from '../../src/protocols/net/network.js';
import { Outbox, type Action, type ProtocolNode } from '../../src/protocols/sans-io.js';
import { SimHost } from '../../src/protocols/sim-host.js';

const MS = 1_000_000;

type Msg = { readonly kind: 'ping' | 'pong'; readonly seq: number };
type Call =
  | { readonly op: 'set-timer'; readonly timer: string; readonly atNs: Time }
  | { readonly op: 'cancel-timer'; readonly timer: string }
  | { readonly op: 'stats' };

class PingPong implements ProtocolNode<Msg, Call, unknown> {
  private readonly out = new Outbox<Msg>();
  seq = 0;
  starts = 0;
  readonly pongs: number[] = [];
  readonly pings: number[] = [];
  readonly timersFired: string[] = [];

  constructor(
    readonly id: NodeId,
    private readonly peer: NodeId,
    private readonly periodNs: Time,
  ) {}

  start(now: Time): void {
    this.starts++;
    this.out.trace('start', { starts: this.starts });
    if (this.id === 0) this.out.setTimer('ping', now + this.periodNs);
  }

  handleMessage(from: NodeId, msg: Msg, now: Time): void {
    if (msg.kind === 'ping') {
      this.pings.push(msg.seq);
      this.out.send(from, { kind: 'pong', seq: msg.seq }, 40);
    } else {
      this.pongs.push(msg.seq);
      this.out.trace('pong', { seq: msg.seq, rtt_ns: now - msg.seq * this.periodNs });
    }
  }

  handleTimer(timer: string, now: Time): void {
    this.timersFired.push(`${timer}@${now / MS}`);
    if (timer === 'ping') {
      this.seq++;
      this.out.send(this.peer, { kind: 'ping', seq: this.seq }, 40);
      this.out.setTimer('ping', now + this.periodNs);
    }
  }

  handleCall(call: Call): unknown {
    switch (call.op) {
      case 'set-timer':
        this.out.setTimer(call.timer, call.atNs);
        return undefined;
      case 'cancel-timer':
        this.out.cancelTimer(call.timer);
        return undefined;
      case 'stats':
        return { seq: this.seq, pongs: this.pongs.length, starts: this.starts };
    }
  }

  pollActions(): readonly Action<Msg>[] {
    return this.out.drain();
  }
}

function setup(periodNs = 10 * MS) {
  const sim = new Simulator({ seed: 3 });
  const net = new Network<Msg>(sim, { nodes: 2, defaultLink: { latency: MS } });
  const built: PingPong[] = [];
  const host = new SimHost<Msg, Call, unknown>(sim, net, (id) => {
    const n = new PingPong(id, 1 - id, periodNs);
    built.push(n);
    return n;
  });
  const traces = collect(host.traces);
  const pp = (id: NodeId): PingPong => host.node(id) as PingPong;
  return { sim, net, host, built, traces, pp };
}

describe('SimHost with a ping-pong node', () => {
  it('runs timers, sends and deliveries: one pong per ping, 2 ms round trip', () => {
    const { sim, host, pp, traces } = setup();
    host.startAll();
    sim.run({ until: 55 * MS });
    expect(pp(0).timersFired).toEqual(['ping@10', 'ping@20', 'ping@30', 'ping@40', 'ping@50']);
    expect(pp(1).pings).toEqual([1, 2, 3, 4, 5]);
    expect(pp(0).pongs).toEqual([1, 2, 3, 4, 5]);
    const pongs = traces.filter((t) => t.name === 'pong');
    expect(pongs.map((t) => [t.timeNs / MS, t.node, t.data['rtt_ns']])).toEqual([
      [12, 0, 2 * MS],
      [22, 0, 2 * MS],
      [32, 0, 2 * MS],
      [42, 0, 2 * MS],
      [52, 0, 2 * MS],
    ]);
    expect(host.call(0, { op: 'stats' })).toEqual({ seq: 5, pongs: 5, starts: 1 });
  });

  it('forwards trace actions stamped with time and node', () => {
    const { sim, host, traces } = setup();
    sim.run({ until: 7 * MS });
    host.startAll();
    expect(traces).toEqual([
      { timeNs: 7 * MS, node: 0, name: 'start', data: { starts: 1 } },
      { timeNs: 7 * MS, node: 1, name: 'start', data: { starts: 1 } },
    ]);
  });

  it('setting a timer again moves it; cancelling stops it; a past time fires now', () => {
    const { sim, host, pp } = setup();
    host.call(1, { op: 'set-timer', timer: 'x', atNs: 50 * MS });
    host.call(1, { op: 'set-timer', timer: 'x', atNs: 30 * MS }); // moved earlier
    host.call(1, { op: 'set-timer', timer: 'y', atNs: 20 * MS });
    host.call(1, { op: 'set-timer', timer: 'z', atNs: 25 * MS });
    host.call(1, { op: 'cancel-timer', timer: 'z' });
    host.call(1, { op: 'cancel-timer', timer: 'never-set' });
    sim.run({ until: 25 * MS });
    host.call(1, { op: 'set-timer', timer: 'x', atNs: 70 * MS }); // moved later, before it fired
    host.call(1, { op: 'set-timer', timer: 'past', atNs: 5 * MS }); // in the past: fires at now
    sim.run();
    expect(pp(1).timersFired).toEqual(['y@20', 'past@25', 'x@70']);
    expect(sim.pending).toBe(0);
  });

  it('a timer can be set again from its own handler (the ping timer) and by a call while pending', () => {
    const { sim, host, pp } = setup();
    host.startAll();
    sim.run({ until: 15 * MS });
    host.call(0, { op: 'set-timer', timer: 'ping', atNs: 16 * MS });
    sim.run({ until: 40 * MS });
    expect(pp(0).timersFired).toEqual(['ping@10', 'ping@16', 'ping@26', 'ping@36']);
  });

  it('a crash stops the node\'s timers, drops its traffic and discards queued actions', () => {
    const { sim, net, host, pp } = setup();
    host.startAll();
    sim.run({ until: 31 * MS }); // ping 3 was sent at 30 and is in flight; its pong would come at 32
    pp(0).handleTimer('ping', sim.now); // queues a ping and a timer behind the host's back...
    host.crash(0); // ...which the crash discards
    expect(net.isUp(0)).toBe(false);
    sim.run({ until: 100 * MS });
    expect(pp(0).timersFired).toEqual(['ping@10', 'ping@20', 'ping@30', 'ping@31']);
    expect(pp(0).pongs).toEqual([1, 2]); // pong 3 reached a down node
    expect(pp(1).pings).toEqual([1, 2, 3]);
    expect(net.counters(1, 0).dropNodeDown).toBe(1);
    expect(sim.pending).toBe(0);
    expect(() => host.call(0, { op: 'stats' })).toThrow(/down/);
    const sent = net.total.sent;
    host.crash(0); // idempotent
    host.restart(0);
    expect(net.total.sent).toBe(sent); // the discarded ping 4 was not sent on restart
  });

  it('restart with state keeps the node object and calls start again', () => {
    const { sim, host, pp, built } = setup();
    host.startAll();
    sim.run({ until: 25 * MS });
    const before = pp(0);
    host.crash(0);
    sim.run({ until: 40 * MS });
    host.restart(0); // keepState defaults to true
    expect(pp(0)).toBe(before);
    expect(built).toHaveLength(2); // factory not called again
    sim.run({ until: 61 * MS });
    expect(pp(0).starts).toBe(2);
    expect(pp(0).timersFired).toEqual(['ping@10', 'ping@20', 'ping@50', 'ping@60']);
    expect(pp(1).pings).toEqual([1, 2, 3, 4]); // sequence numbers continue: the state survived
  });

  it('restart without state builds a fresh node from the factory', () => {
    const { sim, host, pp, built } = setup();
    host.startAll();
    sim.run({ until: 25 * MS });
    const before = pp(0);
    host.crash(0);
    host.restart(0, false);
    expect(built).toHaveLength(3);
    expect(pp(0)).not.toBe(before);
    expect(pp(0)).toBe(built[2]);
    sim.run({ until: 36 * MS });
    expect(pp(0).starts).toBe(1);
    expect(pp(0).timersFired).toEqual(['ping@35']);
    expect(pp(1).pings).toEqual([1, 2, 1]); // a fresh sequence
    host.restart(0, false); // already up: no-op
    expect(built).toHaveLength(3);
  });

  it('timers set before a crash never reach the node after a restart, even if the network crashed it directly', () => {
    const { sim, net, host, pp, built } = setup();
    host.call(1, { op: 'set-timer', timer: 'old', atNs: 50 * MS });
    sim.run({ until: 10 * MS });
    net.crash(1); // e.g. a fault schedule without host hooks
    sim.run({ until: 20 * MS });
    host.restart(1, false);
    sim.run({ until: 100 * MS });
    expect(pp(1)).toBe(built[2]);
    expect(pp(1).timersFired).toEqual([]);
    expect((built[1] as PingPong).timersFired).toEqual([]);
  });

  it('rejects calls to a node without handleCall and to unknown nodes', () => {
    const sim = new Simulator();
    const net = new Network<Msg>(sim, { nodes: 3 });
    const bare: ProtocolNode<Msg> = {
      start: () => undefined,
      handleMessage: () => undefined,
      handleTimer: () => undefined,
      pollActions: () => [],
    };
    const host = new SimHost<Msg>(sim, net, () => bare, [0, 2]);
    host.startAll();
    expect(() => host.call(0, undefined as never)).toThrow(/accepts no calls/);
    expect(() => host.node(1)).toThrow(RangeError);
  });
});

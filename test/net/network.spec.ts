import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import { MAX_INITIAL_PACKETS, Network, type PacketEvent } from '../../src/net/network.js';

const MS = 1_000_000;

function setup(nodes = 2, defaultLink = {}): { sim: Simulator; net: Network<string>; got: string[]; trace: PacketEvent[] } {
  const sim = new Simulator({ seed: 1 });
  const net = new Network<string>(sim, { nodes, defaultLink });
  const got: string[] = [];
  for (let i = 0; i < nodes; i++) net.attach(i, (from, msg) => got.push(`${from}>${i}:${msg}@${sim.now / MS}`));
  return { sim, net, got, trace: collect(net.packets) };
}

const outcome = (trace: readonly PacketEvent[]): string[] =>
  trace.filter((e) => e.kind !== 'send').map((e) => `${e.packetId}:${e.kind}${e.cause === undefined ? '' : `:${e.cause}`}@${e.timeNs / MS}`);

describe('Network basics', () => {
  it('delivers after the latency and counts it', () => {
    const { sim, net, got } = setup(2, { latency: 5 * MS });
    net.send(0, 1, 'hi', 100);
    sim.run();
    expect(got).toEqual(['0>1:hi@5']);
    expect(net.counters(0, 1)).toMatchObject({ sent: 1, delivered: 1, bytesSent: 100, bytesDelivered: 100 });
    expect(net.total.delivered).toBe(1);
    expect(net.inFlight).toBe(0);
  });

  it('adds serialization delay on a finite-bandwidth link, and minTransitNs says so', () => {
    const { sim, net, got } = setup(2, { latency: 2 * MS, bandwidthBps: 8_000_000 }); // 1 byte per µs
    expect(net.minTransitNs(0, 1, 1000)).toBe(3 * MS);
    net.send(0, 1, 'x', 1000);
    sim.run();
    expect(got).toEqual(['0>1:x@3']);
  });

  it('duplicates with probability 1: two deliveries, one duplicate counted', () => {
    const { sim, net, got } = setup(2, { duplicate: 1 });
    net.send(0, 1, 'd', 10);
    sim.run();
    expect(got).toEqual(['0>1:d@1', '0>1:d@1']);
    expect(net.counters(0, 1)).toMatchObject({ sent: 1, duplicated: 1, delivered: 2 });
  });

  it('drops everything with loss 1, and jitter keeps delays within [latency, latency + jitter]', () => {
    const lossy = setup(2, { loss: 1 });
    lossy.net.send(0, 1, 'x', 1);
    lossy.sim.run();
    expect(lossy.got).toEqual([]);
    expect(lossy.net.counters(0, 1).dropLoss).toBe(1);

    const { sim, net, trace } = setup(2, { latency: 1 * MS, jitterNs: 4 * MS });
    for (let i = 0; i < 200; i++) net.send(0, 1, 'j', 1);
    sim.run();
    const delays = trace.filter((e) => e.kind === 'deliver').map((e) => e.timeNs - e.sentNs);
    expect(delays).toHaveLength(200);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1 * MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5 * MS);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('send says whether the packet is on its way: false for a drop at send time, true otherwise (even one dropped on arrival)', () => {
    const { sim, net } = setup(3, { latency: 5 * MS, bandwidthBps: 8_000_000, queuePackets: 1 });
    expect(net.send(0, 1, 'a', 1000)).toBe(true); // transmits at once
    expect(net.send(0, 1, 'b', 1000)).toBe(true); // waits in the queue
    expect(net.send(0, 1, 'c', 1000)).toBe(false); // queue full
    net.setLossRate(0, 2, 1, true);
    expect(net.send(0, 2, 'd', 10)).toBe(false);
    const cut = net.partition([1], [2]);
    expect(net.send(1, 2, 'e', 10)).toBe(false);
    net.repair(cut);
    net.crash(1);
    expect(net.send(1, 2, 'f', 10)).toBe(false); // the sender is down
    expect(net.send(2, 1, 'g', 10)).toBe(true); // dropped later, on arrival at a down node
    sim.run();
    // a, b and g were on their way and reach node 1 after its crash.
    expect(net.total).toMatchObject({ sent: 7, delivered: 0 });
    expect(net.inFlight).toBe(0);
  });

  it('rejects unknown nodes in configuration and fault verbs', () => {
    const { net } = setup(2);
    expect(() => net.setLink(0, 2, { latency: 1 })).toThrow(RangeError);
    expect(() => net.partition([0], [5])).toThrow(RangeError);
    expect(() => net.partition([0, 1], [1])).toThrow(/both groups/);
    expect(() => net.crash(-1)).toThrow(RangeError);
  });
});

describe('Drop-tail queue', () => {
  it('with a burst of 5 and room for 2 waiting packets, drops exactly the last 2', () => {
    // 8,000 bps: a 100-byte packet takes 100 ms to serialize.
    const { sim, net, trace } = setup(2, { latency: 10 * MS, bandwidthBps: 8000, queuePackets: 2 });
    for (let i = 0; i < 5; i++) net.send(0, 1, `p${i}`, 100);
    sim.run();
    expect(outcome(trace)).toEqual(['3:drop:queue@0', '4:drop:queue@0', '0:deliver@110', '1:deliver@210', '2:deliver@310']);
    expect(net.counters(0, 1).dropQueue).toBe(2);
  });

  it('counts waiting bytes: a packet that fits the byte limit is accepted after a larger one is refused', () => {
    const { sim, net, trace } = setup(2, { latency: 0, bandwidthBps: 8000, queueBytes: 250 });
    net.send(0, 1, 'a', 100); // transmits at once, not waiting
    net.send(0, 1, 'b', 100); // waiting: 100 bytes
    net.send(0, 1, 'c', 100); // waiting: 200 bytes
    net.send(0, 1, 'd', 100); // 300 > 250: dropped
    net.send(0, 1, 'e', 50); // 250 <= 250: accepted
    sim.run();
    expect(outcome(trace)).toEqual(['3:drop:queue@0', '0:deliver@100', '1:deliver@200', '2:deliver@300', '4:deliver@350']);
  });

  it('frees queue room as packets start transmitting', () => {
    const { sim, net, trace } = setup(2, { latency: 0, bandwidthBps: 8000, queuePackets: 1 });
    net.send(0, 1, 'a', 100); // 0..100 ms
    net.send(0, 1, 'b', 100); // waits, 100..200 ms
    net.send(0, 1, 'c', 100); // dropped: one already waiting
    sim.schedule(100 * MS, () => net.send(0, 1, 'd', 100), undefined); // b has started: d may wait
    sim.run();
    expect(outcome(trace)).toEqual(['2:drop:queue@0', '0:deliver@100', '1:deliver@200', '3:deliver@300']);
  });

  it('keeps FIFO order and its limits when the waiting line wraps around and grows', () => {
    // 100 ms a packet. At 550 ms packets 1..5 have left the line (6..9 wait), so the 26 accepted of
    // the second burst wrap around the line's first 16 cells and make it grow; the 27th finds 30
    // waiting. At 1550 ms packets up to 15 have left (20 wait): 10 more fit, the 11th is dropped.
    const { sim, net, trace } = setup(2, { latency: 0, bandwidthBps: 8000, queuePackets: 30 });
    const burst = (n: number): void => {
      for (let i = 0; i < n; i++) net.send(0, 1, 'x', 100);
    };
    burst(10);
    sim.schedule(550 * MS, burst, 27);
    sim.schedule(1550 * MS, burst, 11);
    sim.run();
    const delivered = (from: number, to: number, slot = from): string[] =>
      Array.from({ length: to - from }, (_, k) => `${from + k}:deliver@${(slot + k + 1) * 100}`);
    expect(outcome(trace)).toEqual([
      ...delivered(0, 5),
      '36:drop:queue@550',
      ...delivered(5, 15),
      '47:drop:queue@1550',
      ...delivered(15, 36),
      ...delivered(37, 47, 36),
    ]);
  });

  it('with queuePackets 0, a packet sent while the link is busy is dropped, one sent when idle is not', () => {
    const { sim, net, trace } = setup(2, { latency: 0, bandwidthBps: 8000, queuePackets: 0 });
    net.send(0, 1, 'a', 100);
    net.send(0, 1, 'b', 100);
    sim.schedule(100 * MS, () => net.send(0, 1, 'c', 100), undefined);
    sim.run();
    expect(outcome(trace)).toEqual(['1:drop:queue@0', '0:deliver@100', '2:deliver@200']);
  });
});

describe('Partitions', () => {
  it('drops at send time across a partition, both ways, and repair heals it', () => {
    const { sim, net, got } = setup(3);
    const id = net.partition([0], [1]);
    net.send(0, 1, 'a', 1);
    net.send(1, 0, 'b', 1);
    net.send(0, 2, 'c', 1); // not cut
    sim.run();
    expect(got).toEqual(['0>2:c@1']);
    expect(net.total.dropPartition).toBe(2);
    net.repair(id);
    net.send(0, 1, 'd', 1);
    sim.run();
    expect(got).toEqual(['0>2:c@1', '0>1:d@2']);
  });

  it('one-way partitions cut one direction only', () => {
    const { sim, net, got } = setup(2);
    net.partitionOneWay([0], [1]);
    expect(net.isPartitioned(0, 1)).toBe(true);
    expect(net.isPartitioned(1, 0)).toBe(false);
    net.send(0, 1, 'a', 1);
    net.send(1, 0, 'b', 1);
    sim.run();
    expect(got).toEqual(['1>0:b@1']);
  });

  it('repair(id) removes only that partition; repair() removes all', () => {
    const { net } = setup(4);
    const p1 = net.partition([0], [1]);
    net.partition([2], [3]);
    net.repair(p1);
    expect(net.isPartitioned(0, 1)).toBe(false);
    expect(net.isPartitioned(3, 2)).toBe(true);
    net.repair();
    expect(net.isPartitioned(3, 2)).toBe(false);
  });

  it('drops on arrival a packet in flight when a partition starts, at its arrival time', () => {
    const { sim, net, got, trace } = setup(2, { latency: 10 * MS });
    net.send(0, 1, 'a', 1);
    sim.schedule(5 * MS, () => net.partition([0], [1]), undefined);
    sim.run();
    expect(got).toEqual([]);
    expect(outcome(trace)).toEqual(['0:drop:partition@10']);
    const drop = trace.find((e) => e.kind === 'drop');
    expect(drop?.sentNs).toBe(0);
    expect(net.counters(0, 1).dropPartition).toBe(1);
    expect(net.inFlight).toBe(0);
  });

  it('delivers a packet whose flight spans a partition that was repaired before it arrived', () => {
    const { sim, net, got } = setup(2, { latency: 10 * MS });
    net.send(0, 1, 'a', 1);
    sim.schedule(2 * MS, () => net.partition([0], [1]), undefined);
    sim.schedule(8 * MS, () => net.repair(), undefined);
    sim.run();
    expect(got).toEqual(['0>1:a@10']);
  });
});

describe('Hold and release', () => {
  it('parks arriving packets and releases them in arrival order', () => {
    const { sim, net, got, trace } = setup(3);
    net.setLinkLatency(0, 1, 30 * MS, true);
    net.setLinkLatency(2, 1, 10 * MS, true);
    const h = net.hold([0, 2], [1]);
    net.send(0, 1, 'first-sent', 1); // arrives at 30
    net.send(2, 1, 'second-sent', 1); // arrives at 10
    sim.schedule(5 * MS, () => net.send(2, 1, 'third-sent', 1), undefined); // arrives at 15
    net.send(1, 0, 'reverse', 1); // held too: hold is two-way by default
    sim.run({ until: 50 * MS });
    expect(got).toEqual([]);
    expect(net.inFlight).toBe(4);
    net.release(h);
    sim.run();
    // Arrival order: reverse at 1 ms, second-sent at 10, third-sent at 15, first-sent at 30.
    expect(got).toEqual(['1>0:reverse@50', '2>1:second-sent@50', '2>1:third-sent@50', '0>1:first-sent@50']);
    expect(net.inFlight).toBe(0);
    expect(outcome(trace).every((o) => o.includes('deliver'))).toBe(true);
  });

  it('a one-way hold only parks one direction; release of another id keeps packets parked', () => {
    const { sim, net, got } = setup(2);
    const h = net.hold([0], [1], true);
    const other = net.hold([1], [0], true);
    net.release(other);
    net.send(0, 1, 'a', 1);
    net.send(1, 0, 'b', 1);
    sim.run();
    expect(got).toEqual(['1>0:b@1']);
    net.release(other); // already released: nothing happens
    sim.run();
    expect(got).toEqual(['1>0:b@1']);
    net.release(h);
    sim.run();
    expect(got).toEqual(['1>0:b@1', '0>1:a@1']);
  });

  it('drops released packets whose link is now partitioned or whose receiver is down', () => {
    const { sim, net, got, trace } = setup(3);
    net.hold([0], [1, 2]);
    net.send(0, 1, 'a', 1);
    net.send(0, 2, 'b', 1);
    sim.run();
    net.partition([0], [1]);
    net.crash(2);
    net.release();
    sim.run();
    expect(got).toEqual([]);
    expect(outcome(trace)).toEqual(['0:drop:partition@1', '1:drop:node_down@1']);
    expect(net.inFlight).toBe(0);
  });
});

describe('Crash and restart', () => {
  it('a down sender sends nothing, a down receiver gets nothing, restart restores both', () => {
    const { sim, net, got, trace } = setup(2, { latency: 10 * MS });
    const status = collect(net.nodeStatus);
    net.send(0, 1, 'in-flight', 1);
    sim.schedule(5 * MS, () => net.crash(1), undefined);
    sim.run();
    expect(outcome(trace)).toEqual(['0:drop:node_down@10']);
    net.send(1, 0, 'from-down', 1);
    expect(outcome(trace)).toEqual(['0:drop:node_down@10', '1:drop:node_down@10']);
    net.crash(1); // idempotent: no second status event
    net.restart(1);
    net.restart(1);
    net.send(1, 0, 'back', 1);
    sim.run();
    expect(got).toEqual(['1>0:back@20']);
    expect(status).toEqual([
      { timeNs: 5 * MS, node: 1, up: false },
      { timeNs: 10 * MS, node: 1, up: true },
    ]);
  });

  it('keeps delivering packets a node sent before it crashed', () => {
    const { sim, net, got } = setup(2, { latency: 10 * MS });
    net.send(0, 1, 'last-words', 1);
    net.crash(0);
    sim.run();
    expect(got).toEqual(['0>1:last-words@10']);
  });
});

describe('Link configuration', () => {
  it('setLink overrides one direction; setDefaultLink changes links without overrides', () => {
    const { net } = setup(2);
    net.setLink(0, 1, { latency: 7 });
    net.setDefaultLink({ latency: 9 });
    expect(net.link(0, 1).latency).toBe(7);
    expect(net.link(1, 0).latency).toBe(9);
    net.setLossRate(0, 1, 0.5);
    expect(net.link(0, 1).loss).toBe(0.5);
    expect(net.link(1, 0).loss).toBe(0.5);
    net.setLinkLatency(0, 1, 3, true);
    expect(net.link(0, 1).latency).toBe(3);
    expect(net.link(1, 0).latency).toBe(9);
  });

  it('Gilbert-Elliott loss comes in bursts with the stationary loss rate', () => {
    const { sim, net, trace } = setup(2, {
      loss: { model: 'gilbert-elliott', pGoodToBad: 0.02, pBadToGood: 0.2 },
    });
    const n = 50_000;
    for (let i = 0; i < n; i++) net.send(0, 1, '', 1);
    sim.run();
    const lost = trace.filter((e) => e.kind === 'drop').map((e) => e.packetId);
    // Stationary P(bad) = 0.02 / 0.22 ≈ 0.091; lossBad defaults to 1 and lossGood to 0.
    expect(lost.length / n).toBeGreaterThan(0.07);
    expect(lost.length / n).toBeLessThan(0.11);
    // Mean burst length 1 / pBadToGood = 5 (Bernoulli loss at the same rate would give ~1.1).
    let bursts = 0;
    for (let i = 0; i < lost.length; i++) if (i === 0 || lost[i] !== (lost[i - 1] as number) + 1) bursts++;
    expect(lost.length / bursts).toBeGreaterThan(4);
    expect(lost.length / bursts).toBeLessThan(6);
  });

  it('keeps no per-link counters when asked not to, but still counts totals', () => {
    const sim = new Simulator();
    const net = new Network(sim, { nodes: 2, perLinkCounters: false });
    net.send(0, 1, null, 5);
    sim.run();
    expect([...net.linkCounters()]).toEqual([]);
    expect(net.counters(0, 1).sent).toBe(0);
    expect(net.total).toMatchObject({ sent: 1, delivered: 1, bytesDelivered: 5 });
  });

  it('initialPackets is refused outside [1, 2^26] and changes no delivery, drop or packet id', () => {
    const sim = new Simulator({ seed: 1 });
    for (const bad of [0, -1, 1.5, Number.NaN, MAX_INITIAL_PACKETS + 1]) {
      expect(() => new Network(sim, { nodes: 2, initialPackets: bad })).toThrow(/initialPackets .* must be an integer in \[1, 67108864\]/);
    }
    // A lossy, jittery, duplicating burst of 500 sends that grows the arrays from a room of 100 (not
    // a power of two) to 200, 400 and 800 with live packets copied, and a held link released later.
    const run = (initialPackets?: number): string[] => {
      const s = new Simulator({ seed: 7 });
      const net = new Network<number>(s, {
        nodes: 3,
        defaultLink: { latency: MS, jitterNs: 3 * MS, loss: 0.2, duplicate: 0.1 },
        ...(initialPackets === undefined ? {} : { initialPackets }),
      });
      const trace = collect(net.packets);
      const hold = net.hold([2], [0], true);
      for (let i = 0; i < 500; i++) net.send(i % 3, (i + 1) % 3, i, 10 + (i % 7));
      s.schedule(4 * MS, (id: number) => net.release(id), hold);
      s.run();
      return trace.map((e) => `${e.kind}:${e.packetId}:${e.from}>${e.to}@${e.timeNs}`);
    };
    const base = run();
    expect(base.filter((e) => e.startsWith('deliver')).length).toBeGreaterThan(300);
    expect(base.some((e) => e.startsWith('deliver') && e.includes(':2>0@') && Number(e.split('@')[1]) >= 4 * MS)).toBe(true);
    expect(run(100)).toEqual(base);
    expect(run(4096)).toEqual(base);
  });

  it('per-link counters equal the sums over the packets trace', () => {
    const { sim, net, trace } = setup(3, { loss: 0.2, duplicate: 0.2, latency: { dist: 'exponential', meanNs: 2 * MS } });
    const rng = sim.rng.stream('test');
    for (let i = 0; i < 300; i++) {
      sim.schedule(i * 100_000, () => net.send(rng.int(0, 2), rng.int(0, 2), 'x', rng.int(1, 100)), undefined);
    }
    sim.schedule(10 * MS, () => net.partition([0], [1, 2]), undefined);
    sim.schedule(20 * MS, () => net.crash(2), undefined);
    sim.run();
    let links = 0;
    for (const { from, to, counters } of net.linkCounters()) {
      links++;
      const mine = trace.filter((e) => e.from === from && e.to === to);
      const count = (kind: string, cause?: string): number =>
        mine.filter((e) => e.kind === kind && (cause === undefined || e.cause === cause)).length;
      expect(counters.sent).toBe(count('send'));
      expect(counters.delivered).toBe(count('deliver'));
      expect(counters.dropLoss).toBe(count('drop', 'loss'));
      expect(counters.dropPartition).toBe(count('drop', 'partition'));
      expect(counters.dropNodeDown).toBe(count('drop', 'node_down'));
      expect(counters.dropQueue).toBe(0);
      expect(counters.duplicated).toBe(count('deliver') + count('drop') - count('send'));
      expect(counters.bytesSent).toBe(mine.filter((e) => e.kind === 'send').reduce((s, e) => s + e.sizeBytes, 0));
    }
    expect(links).toBe(9);
    expect(net.total.duplicated).toBeGreaterThan(0);
    expect(net.total.dropPartition).toBeGreaterThan(0);
    expect(net.total.dropNodeDown).toBeGreaterThan(0);
  });
});

describe('random streams per configured link', () => {
  /** Which of 200 packets on 0→1 are lost, with or without traffic on 2→3 interleaved. */
  function lossPattern(otherTraffic: boolean): boolean[] {
    const sim = new Simulator({ seed: 5 });
    const net = new Network<number>(sim, { nodes: 4 });
    net.setLink(0, 1, { loss: 0.2, jitterNs: 1_000_000 });
    net.setLink(2, 3, { loss: 0.5, jitterNs: 1_000_000 });
    const got = new Array<boolean>(200).fill(false);
    net.attach(1, (_from, i) => {
      got[i] = true;
    });
    for (let i = 0; i < 200; i++) {
      net.send(0, 1, i, 100);
      if (otherTraffic) for (let j = 0; j < 3; j++) net.send(2, 3, j, 100);
    }
    sim.run();
    return got;
  }

  it("traffic on one configured link does not change another configured link's losses", () => {
    const quiet = lossPattern(false);
    expect(quiet.filter((x) => !x).length).toBeGreaterThan(10);
    expect(lossPattern(true)).toEqual(quiet);
  });

  it('with an explicit rng every link shares that one stream (the draws interleave)', () => {
    const pattern = (other: boolean): number => {
      const sim = new Simulator({ seed: 5 });
      const net = new Network<number>(sim, { nodes: 4, rng: sim.rng.stream('mine') });
      net.setLink(0, 1, { loss: 0.2 });
      net.setLink(2, 3, { loss: 0.5 });
      let lost = 0;
      net.packets.connect((e) => {
        if (e.kind === 'drop' && e.from === 0) lost++;
      });
      for (let i = 0; i < 200; i++) {
        net.send(0, 1, i, 100);
        if (other) net.send(2, 3, i, 100);
      }
      return lost;
    };
    expect(pattern(true)).not.toBe(pattern(false));
  });
});

describe('sends to nodes that do not exist', () => {
  it('throw instead of counting a drop (a protocol bug should be loud)', () => {
    const sim = new Simulator({ seed: 1 });
    const net = new Network<number>(sim, { nodes: 3 });
    expect(() => net.send(0, 7, 1, 10)).toThrow(/no node 7/);
    expect(() => net.send(-1, 1, 1, 10)).toThrow(/no node -1/);
    expect(() => net.send(0, 1.5, 1, 10)).toThrow(RangeError);
    expect(net.total.sent).toBe(0);
  });
});

describe('Network batches', () => {
  // No packet trace here: its listeners turn batching off (last test).
  function plain(nodes: number): { sim: Simulator; net: Network<string>; got: string[] } {
    const sim = new Simulator({ seed: 1 });
    const net = new Network<string>(sim, { nodes, defaultLink: { latency: 5 * MS } });
    const got: string[] = [];
    net.attachAll((to, from, msg) => got.push(`${from}>${to}:${msg}@${sim.now / MS}`));
    return { sim, net, got };
  }

  it("puts a batch's sends to one instant on one kernel event, delivered in send order", () => {
    const { sim, net, got } = plain(4);
    net.openBatch();
    net.send(0, 1, 'a', 10);
    net.send(0, 2, 'b', 10);
    net.send(0, 3, 'c', 10);
    net.closeBatch();
    expect(sim.pending).toBe(1);
    net.send(0, 1, 'd', 10); // batch closed: an event of its own
    expect(sim.pending).toBe(2);
    expect(net.inFlight).toBe(4);
    sim.run();
    expect(got).toEqual(['0>1:a@5', '0>2:b@5', '0>3:c@5', '0>1:d@5']);
    expect(sim.fired).toBe(2);
    expect(net.total.delivered).toBe(4);
    expect(net.inFlight).toBe(0);
  });

  it("calls attachAll's warm hook with a batch's receivers in groups of 8: 16 to 24 packets ahead, then deep 8 to 16 ahead", () => {
    const sim = new Simulator({ seed: 1 });
    const net = new Network<string>(sim, { nodes: 40, defaultLink: { latency: 5 * MS } });
    const got: string[] = [];
    net.attachAll(
      (to, from, msg) => got.push(`${from}>${to}:${msg}`),
      (to, deep) => got.push(`${deep ? 'deep' : 'warm'} ${to}`),
    );
    const to = (i: number): number => 1 + ((i * 7) % 39);
    net.openBatch();
    for (let i = 0; i < 40; i++) net.send(0, to(i), `m${i}`, 10);
    net.closeBatch();
    net.send(0, 5, 'last', 10); // an event of its own
    sim.run();
    const range = (from: number, until: number, f: (i: number) => string): string[] => Array.from({ length: until - from }, (_, k) => f(from + k));
    const warm = (from: number, until: number): string[] => range(from, until, (i) => `warm ${to(i)}`);
    const deep = (from: number, until: number): string[] => range(from, until, (i) => `deep ${to(i)}`);
    const deliver = (from: number, until: number): string[] => range(from, until, (i) => `0>${to(i)}:m${i}`);
    expect(got).toEqual([
      ...warm(0, 24),
      ...deep(0, 16),
      ...deliver(0, 8),
      ...warm(24, 32),
      ...deep(16, 24),
      ...deliver(8, 16),
      ...warm(32, 40),
      ...deep(24, 32),
      ...deliver(16, 24),
      ...deep(32, 40),
      ...deliver(24, 40),
      '0>5:last', // a batch of one packet: its receiver is not warmed
    ]);
  });

  it('starts a new event when the arrival instant changes, or another event was scheduled in between', () => {
    const { sim, net, got } = plain(3);
    net.openBatch();
    net.send(0, 1, 'a', 10);
    net.setLinkLatency(0, 2, 7 * MS, true);
    net.send(0, 2, 'b', 10); // another instant: its own event
    net.send(0, 1, 'c', 10); // 5 ms again, but the event last scheduled is b's: its own event
    sim.schedule(5 * MS, () => got.push(`x@${sim.now / MS}`), undefined, 'foreign');
    net.send(0, 1, 'd', 10); // after a foreign event at the same instant: must not run before it
    net.closeBatch();
    expect(sim.pending).toBe(5);
    sim.run();
    expect(got).toEqual(['0>1:a@5', '0>1:c@5', 'x@5', '0>1:d@5', '0>2:b@7']);
  });

  it('lets a later batch join the event scheduled last at that instant, until anything else is scheduled there', () => {
    const { sim, net, got } = plain(4);
    net.openBatch();
    net.send(0, 1, 'a', 10);
    net.closeBatch();
    net.openBatch(); // another input (say node 1's), nothing scheduled in between: joins a's event
    net.send(1, 2, 'b', 10);
    net.closeBatch();
    expect(sim.pending).toBe(1);
    sim.schedule(1 * MS, () => got.push(`x@${sim.now / MS}`), undefined, 'foreign'); // another instant: no matter
    net.openBatch();
    net.send(2, 3, 'c', 10); // still joins a's event
    net.closeBatch();
    expect(sim.pending).toBe(2);
    sim.schedule(5 * MS, () => got.push(`y@${sim.now / MS}`), undefined, 'foreign'); // the same instant
    net.openBatch();
    net.send(3, 0, 'd', 10); // its own event, after y
    net.closeBatch();
    expect(sim.pending).toBe(4);
    sim.run();
    expect(got).toEqual(['x@1', '0>1:a@5', '1>2:b@5', '2>3:c@5', 'y@5', '3>0:d@5']);
    expect(net.total.delivered).toBe(4);
    expect(net.inFlight).toBe(0);
  });

  it('never joins an event that has fired: zero latency, sends from inside the delivery', () => {
    const sim = new Simulator({ seed: 1 });
    const net = new Network<string>(sim, { nodes: 3, defaultLink: { latency: 0 } });
    const got: string[] = [];
    net.attachAll((to, from, msg) => {
      got.push(`${from}>${to}:${msg}@${sim.now}`);
      // Node 1 answers at once, at this very instant, inside the batch event that delivered to it.
      if (to === 1 && msg !== 'again') {
        net.openBatch();
        net.send(1, 2, `re-${msg}`, 10);
        net.closeBatch();
      }
    });
    net.openBatch();
    net.send(0, 1, 'a', 10);
    net.closeBatch();
    sim.run();
    // The reply is sent while its event's last packet is being delivered: it must get an event of its own.
    expect(got).toEqual(['0>1:a@0', '1>2:re-a@0']);
    net.openBatch();
    net.send(0, 1, 'b', 10);
    net.send(0, 1, 'c', 10);
    net.closeBatch();
    sim.run();
    expect(got.slice(2)).toEqual(['0>1:b@0', '0>1:c@0', '1>2:re-b@0', '1>2:re-c@0']);
    expect(net.total.delivered).toBe(6);
    expect(net.inFlight).toBe(0);
  });

  it('checks every packet of a batch on arrival: partition, crash, hold and release', () => {
    const { sim, net, got } = plain(4);
    net.openBatch();
    for (const to of [1, 2, 3]) net.send(0, to, `m${to}`, 10);
    net.closeBatch();
    expect(sim.pending).toBe(1);
    sim.schedule(1 * MS, () => net.partition([0], [1]), undefined, 'cut');
    sim.schedule(1 * MS, () => net.crash(2), undefined, 'crash');
    const hold = net.hold([0], [3]);
    sim.schedule(6 * MS, () => net.release(hold), undefined, 'release');
    sim.run();
    expect(got).toEqual(['0>3:m3@6']);
    expect(net.total).toMatchObject({ sent: 3, delivered: 1, dropPartition: 1, dropNodeDown: 1 });
    expect(net.inFlight).toBe(0);
  });

  it('never joins a batch across a packet that waits in an arrival line at the same instant', () => {
    const { sim, net, got } = plain(4);
    net.setLink(0, 1, { latency: 5 * MS }); // a link of its own: its packets wait in an arrival line
    net.openBatch();
    net.send(2, 3, 'a', 10); // the batch's event at 5 ms
    net.closeBatch();
    net.send(0, 1, 'L', 10); // in the line, with a place among 5 ms's events after a's
    net.openBatch();
    net.send(3, 2, 'c', 10); // 5 ms again: joining a's event would deliver it before L
    net.closeBatch();
    sim.run();
    expect(got).toEqual(['2>3:a@5', '0>1:L@5', '3>2:c@5']);
  });

  it('does not batch while the packet trace has listeners (they may schedule events)', () => {
    const { sim, net, got } = setup(3, { latency: 5 * MS });
    net.openBatch();
    net.send(0, 1, 'a', 10);
    net.send(0, 2, 'b', 10);
    net.closeBatch();
    expect(sim.pending).toBe(2);
    sim.run();
    expect(got).toEqual(['0>1:a@5', '0>2:b@5']);
  });
});

describe('Network arrival lines (links with their own configuration)', () => {
  it('keeps one kernel event per link, yet delivers in the order and at the instants of an event per packet', () => {
    const { sim, net, got } = setup(3);
    net.setLink(0, 1, { latency: 10 * MS });
    net.setLink(2, 1, { latency: 4 * MS });
    net.send(0, 1, 'a', 1);
    net.send(0, 1, 'b', 1); // same instant as a: behind it in a's line
    sim.schedule(10 * MS, () => got.push(`event@${sim.now / MS}`), undefined); // scheduled after b was sent: after b
    sim.run({ until: 6 * MS });
    net.send(2, 1, 'c', 1); // another link's packet at the same instant, sent later: after the event
    net.send(0, 1, 'd', 1);
    expect(net.inFlight).toBe(4);
    expect(sim.pending).toBe(3); // a (for a, b and d), the event, c
    sim.run();
    expect(got).toEqual(['0>1:a@10', '0>1:b@10', 'event@10', '2>1:c@10', '0>1:d@16']);
    expect(net.inFlight).toBe(0);
  });

  it('gives a packet that would overtake the line an event of its own: a latency lowered in flight, and jitter', () => {
    const { sim, net, got } = setup(2);
    net.setLink(0, 1, { latency: 10 * MS });
    net.send(0, 1, 'slow', 1);
    sim.run({ until: 1 * MS });
    net.setLink(0, 1, { latency: 2 * MS });
    net.send(0, 1, 'fast', 1);
    net.send(0, 1, 'fast2', 1);
    sim.run();
    expect(got).toEqual(['0>1:fast@3', '0>1:fast2@3', '0>1:slow@10']);

    const j = setup(2);
    j.net.setLink(0, 1, { latency: 1 * MS, jitterNs: 4 * MS });
    for (let i = 0; i < 200; i++) j.net.send(0, 1, String(i), 1);
    j.sim.run();
    const delivered = j.trace.filter((e) => e.kind === 'deliver');
    expect(delivered).toHaveLength(200);
    const times = delivered.map((e) => e.timeNs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(new Set(times).size).toBeGreaterThan(100);
  });

  it('delivers a line through a hold and a crash as packets with events of their own', () => {
    const { sim, net, got } = setup(2);
    net.setLink(0, 1, { latency: 5 * MS, bandwidthBps: 8_000_000 }); // 1 byte per µs
    for (let i = 0; i < 100; i++) net.send(0, 1, String(i), 1000); // packet i arrives at i + 6 ms
    net.hold([0], [1]);
    sim.run({ until: 50 * MS }); // 0..44 parked
    net.release();
    sim.run({ until: 50 * MS }); // delivered now, in arrival order
    net.crash(1);
    sim.run({ until: 80 * MS }); // 45..74 dropped
    net.restart(1);
    sim.run();
    expect(got).toHaveLength(45 + 25);
    expect(got.slice(0, 2)).toEqual(['0>1:0@50', '0>1:1@50']);
    expect(got.slice(44, 46)).toEqual(['0>1:44@50', '0>1:75@81']);
    expect(net.counters(0, 1)).toMatchObject({ sent: 100, delivered: 70, dropNodeDown: 30 });
    expect(net.inFlight).toBe(0);
  });
});

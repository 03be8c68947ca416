import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { applyFault, scheduleFaults, type TimedFault } from '../../src/net/faults.js';
import { Network } from '../../src/net/network.js';

const MS = 1_000_000;

describe('scheduleFaults', () => {
  it('applies each verb at its time, and named repairs/releases address their own rule', () => {
    const sim = new Simulator();
    const net = new Network(sim, { nodes: 4 });
    const got: string[] = [];
    for (let i = 0; i < 4; i++) net.attach(i, (from) => got.push(`${from}>${i}@${sim.now / MS}`));
    const faults: TimedFault[] = [
      { atNs: 10 * MS, fault: { type: 'partition', a: [0], b: [1], name: 'p01' } },
      { atNs: 10 * MS, fault: { type: 'partition', a: [2], b: [3], name: 'p23' } },
      { atNs: 20 * MS, fault: { type: 'repair', name: 'p01' } },
      { atNs: 30 * MS, fault: { type: 'repair', name: 'no-such-name' } }, // ignored
      { atNs: 40 * MS, fault: { type: 'hold', a: [0], b: [2], name: 'h' } },
      { atNs: 50 * MS, fault: { type: 'release', name: 'h' } },
      { atNs: 60 * MS, fault: { type: 'crash', node: 3 } },
      { atNs: 70 * MS, fault: { type: 'restart', node: 3 } },
      { atNs: 80 * MS, fault: { type: 'latency', a: 0, b: 1, latency: 5 * MS, oneWay: true } },
      { atNs: 90 * MS, fault: { type: 'loss', a: 0, b: 1, loss: 1 } },
      { atNs: 95 * MS, fault: { type: 'repair' } },
    ];
    scheduleFaults(sim, net, faults);
    const probe = (at: number, from: number, to: number): void => {
      sim.schedule(at * MS, () => net.send(from, to, null, 1), undefined);
    };
    probe(15, 0, 1); // cut
    probe(15, 2, 3); // cut
    probe(25, 0, 1); // repaired: arrives 26
    probe(25, 3, 2); // still cut
    probe(45, 0, 2); // held until 50
    probe(65, 1, 3); // 3 is down at 66
    probe(75, 1, 3); // 3 is back: 76
    probe(85, 0, 1); // 5 ms one-way: arrives 90 (loss is decided at send time, so the loss fault at 90 does not touch it)
    probe(85, 1, 0); // unchanged 1 ms: 86
    probe(92, 1, 0); // lost
    probe(96, 2, 3); // p23 repaired by the unnamed repair: 97
    sim.run();
    expect(got).toEqual(['0>1@26', '0>2@50', '1>3@76', '1>0@86', '0>1@90', '2>3@97']);
    expect(net.total.dropPartition).toBe(3);
    expect(net.total.dropNodeDown).toBe(1);
    expect(net.total.dropLoss).toBe(1);
  });

  it('routes crash and restart through hooks when given (a host stops timers), with keepState defaulting to true', () => {
    const sim = new Simulator();
    const net = new Network(sim, { nodes: 2 });
    const calls: string[] = [];
    const hooks = {
      crash: (n: number): void => void calls.push(`crash ${n}`),
      restart: (n: number, keep: boolean): void => void calls.push(`restart ${n} ${keep}`),
    };
    scheduleFaults(
      sim,
      net,
      [
        { atNs: 1, fault: { type: 'crash', node: 1 } },
        { atNs: 2, fault: { type: 'restart', node: 1 } },
        { atNs: 3, fault: { type: 'restart', node: 0, keepState: false } },
      ],
      hooks,
    );
    sim.run();
    expect(calls).toEqual(['crash 1', 'restart 1 true', 'restart 0 false']);
    expect(net.isUp(1)).toBe(true); // the hook, not the network, decides
  });

  it('applyFault with an unnamed release ends every hold', () => {
    const sim = new Simulator();
    const net = new Network(sim, { nodes: 3 });
    const names = new Map<string, number>();
    applyFault(net, { type: 'hold', a: [0], b: [1] }, names);
    applyFault(net, { type: 'hold', a: [0], b: [2], oneWay: true }, names);
    net.send(0, 1, null, 1);
    net.send(0, 2, null, 1);
    sim.run();
    expect(net.total.delivered).toBe(0);
    applyFault(net, { type: 'release' }, names);
    sim.run();
    expect(net.total.delivered).toBe(2);
  });
});

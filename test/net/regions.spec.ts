/**
 * Regions: nodes cut into id ranges, one link configuration per ordered pair
 * of regions, without a record per pair of nodes.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import { Network } from '../../src/net/network.js';

const MS = 1_000_000;

/** Four nodes in two regions ({0, 1} and {2, 3}), latency 1 ms inside a, 2 ms inside b, 10 ms a→b, 20 ms b→a. */
function twoRegions(seed = 1): { sim: Simulator; net: Network<string>; got: string[] } {
  const sim = new Simulator({ seed });
  const net = new Network<string>(sim, { nodes: 4, defaultLink: { latency: 50 * MS } });
  net.setRegions([0, 2, 4], [{ latency: 1 * MS }, { latency: 10 * MS }, { latency: 20 * MS }, { latency: 2 * MS }]);
  const got: string[] = [];
  net.attachAll((to, from, msg) => got.push(`${from}>${to}:${msg}@${sim.now / MS}`));
  return { sim, net, got };
}

describe('Network regions', () => {
  it('gives each ordered pair of regions its latency', () => {
    const { sim, net, got } = twoRegions();
    net.send(0, 1, 'aa', 10);
    net.send(1, 3, 'ab', 10);
    net.send(2, 0, 'ba', 10);
    net.send(3, 2, 'bb', 10);
    sim.run();
    expect(got).toEqual(['0>1:aa@1', '3>2:bb@2', '1>3:ab@10', '2>0:ba@20']);
    expect(net.regionOf(1)).toBe(0);
    expect(net.regionOf(2)).toBe(1);
  });

  it('drops by the pair loss and keeps the default link fields a pair does not set', () => {
    const sim = new Simulator({ seed: 1 });
    const net = new Network<string>(sim, { nodes: 4, defaultLink: { latency: 3 * MS, duplicate: 1 } });
    net.setRegions([0, 1, 4], [{}, { loss: 1 }, { latency: 7 * MS }, {}]);
    const trace = collect(net.packets);
    net.send(0, 2, 'lost', 10);
    net.send(2, 0, 'late', 10);
    net.send(1, 3, 'same', 10);
    sim.run();
    const seen = trace
      .filter((e) => e.kind !== 'send')
      .map((e) => `${e.from}>${e.to}:${e.kind}${e.cause === undefined ? '' : `:${e.cause}`}@${e.timeNs / MS}`);
    // duplicate: 1 comes from the default link: every delivered packet arrives twice.
    expect(seen).toEqual(['0>2:drop:loss@0', '1>3:deliver@3', '1>3:deliver@3', '2>0:deliver@7', '2>0:deliver@7']);
  });

  it('lets a link of its own, a fault and a new default link act over the regions', () => {
    const { sim, net, got } = twoRegions();
    net.setLinkLatency(0, 2, 4 * MS, true); // 0→2 only
    net.setDefaultLink({ jitterNs: 0, latency: 99 * MS }); // pairs keep their latency
    expect(net.link(0, 2).latency).toBe(4 * MS);
    expect(net.link(1, 2).latency).toBe(10 * MS);
    net.send(0, 2, 'own', 10);
    net.send(1, 2, 'pair', 10);
    const late = net.addNode(); // after the regions: no region, the default link
    expect(net.regionOf(late)).toBeUndefined();
    net.send(0, late, 'new', 10);
    sim.run();
    expect(got).toEqual(['0>2:own@4', '1>2:pair@10', '0>4:new@99']);
  });

  it('shares one configuration among all links of a pair: no record per pair of nodes', () => {
    const sim = new Simulator({ seed: 1 });
    const n = 1_000_000;
    const net = new Network<number>(sim, { nodes: n, perLinkCounters: false });
    const starts = [0, 200_000, 400_000, 600_000, 800_000, n];
    net.setRegions(
      starts,
      Array.from({ length: 25 }, (_, i) => ({ latency: (1 + i) * MS })),
    );
    expect(net.link(0, 999_999)).toBe(net.link(199_999, 800_000)); // region 0 → 4, the same object
    expect(net.link(999_999, 0).latency).toBe(21 * MS); // region 4 → 0
    let delivered = 0;
    net.attachAll(() => delivered++);
    const rng = sim.rng.stream('test');
    for (let i = 0; i < 10_000; i++) net.send(rng.int(0, n - 1), rng.int(0, n - 1), i, 100);
    sim.run();
    expect(delivered).toBe(10_000);
    const white = net as unknown as { overrides: Map<number, unknown>; states: Map<number, unknown> };
    expect(white.overrides.size).toBe(0);
    expect(white.states.size).toBe(0);
  });

  it('draws each pair from its own stream, so traffic in one region does not shift another', () => {
    const arrivals = (extra: boolean): string[] => {
      const sim = new Simulator({ seed: 7 });
      const net = new Network<string>(sim, { nodes: 4 });
      const jittery = { latency: 5 * MS, jitterNs: 3 * MS, loss: 0.3 };
      net.setRegions([0, 2, 4], [jittery, jittery, jittery, jittery]);
      const got: string[] = [];
      net.attachAll((to, from, msg) => {
        if (to >= 2) got.push(`${msg}@${sim.now}`);
      });
      for (let i = 0; i < 50; i++) {
        if (extra) net.send(0, 1, 'noise', 10);
        net.send(2, 3, `m${i}`, 10);
      }
      sim.run();
      return got;
    };
    const quiet = arrivals(false);
    expect(quiet.length).toBeGreaterThan(20);
    expect(quiet.length).toBeLessThan(50);
    expect(arrivals(true)).toEqual(quiet);
  });

  it('refuses starts that do not cut the nodes into ranges, and a wrong number of pairs', () => {
    const net = new Network<string>(new Simulator(), { nodes: 4 });
    expect(() => net.setRegions([0, 4], [])).toThrow(/expected 1 pairs/);
    expect(() => net.setRegions([0, 3], [{}])).toThrow(/from 0 to the node count 4/);
    expect(() => net.setRegions([1, 4], [{}])).toThrow(/from 0 to the node count 4/);
    expect(() =>
      net.setRegions(
        [0, 2, 2, 4],
        Array.from({ length: 9 }, () => ({})),
      ),
    ).toThrow(/strictly increasing/);
    expect(() => net.setRegions([0], [])).toThrow(/1\.\.255 regions/);
  });
});

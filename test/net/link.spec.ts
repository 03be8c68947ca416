import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/kernel/random.js';
import { Simulator } from '../../src/kernel/simulator.js';
import { minDelay, sampleDelay } from '../../src/net/link.js';
import { Network } from '../../src/net/network.js';
import { fcParams } from '../fc.js';
import { delayArb } from './arbitraries.js';

describe('sampleDelay and minDelay', () => {
  it('draws non-negative integers never below minDelay, for every distribution', () => {
    fc.assert(
      fc.property(delayArb, fc.string(), (spec, seed) => {
        const r = new Random(seed);
        const lo = minDelay(spec);
        for (let i = 0; i < 50; i++) {
          const d = sampleDelay(spec, r);
          if (!(Number.isSafeInteger(d) && d >= 0 && d >= lo)) {
            throw new Error(`sampleDelay(${JSON.stringify(spec)}) = ${d}, minDelay ${lo}`);
          }
        }
      }),
      fcParams({ numRuns: 500 }),
    );
  });

  it('constants consume no random draw', () => {
    const a = new Random('k');
    const b = new Random('k');
    expect(sampleDelay(5, a)).toBe(5);
    expect(sampleDelay({ dist: 'constant', ns: 7 }, a)).toBe(7);
    expect(a.uniform()).toBe(b.uniform());
  });

  it('rounds and clamps constant delays too, as documented (integer ns, at least 0)', () => {
    const r = new Random('c');
    expect(sampleDelay(1.6, r)).toBe(2);
    expect(sampleDelay(-5, r)).toBe(0);
    expect(sampleDelay({ dist: 'constant', ns: 2.4 }, r)).toBe(2);
    expect(minDelay(-5)).toBe(0);
    expect(minDelay(1.6)).toBe(2);
    // A fractional latency set through the API must not make the kernel refuse the arrival event.
    const sim = new Simulator();
    const net = new Network(sim, { nodes: 2 });
    net.setLinkLatency(0, 1, 1.5);
    net.send(0, 1, null, 1);
    sim.run();
    expect(net.total.delivered).toBe(1);
    expect(sim.now).toBe(2);
  });

  it('gives the distributions their means (in ns)', () => {
    const r = new Random('means');
    const mean = (f: () => number, n = 20_000): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += f();
      return s / n;
    };
    expect(mean(() => sampleDelay({ dist: 'uniform', minNs: 1000, maxNs: 3000 }, r)) / 2000).toBeCloseTo(1, 1);
    expect(mean(() => sampleDelay({ dist: 'exponential', meanNs: 5000 }, r)) / 5000).toBeCloseTo(1, 1);
    expect(mean(() => sampleDelay({ dist: 'normal', meanNs: 1e6, sdNs: 1e5 }, r)) / 1e6).toBeCloseTo(1, 2);
    expect(mean(() => sampleDelay({ dist: 'pareto', scaleNs: 1000, shape: 3 }, r)) / 1500).toBeCloseTo(1, 1);
    expect(minDelay({ dist: 'uniform', minNs: 1000, maxNs: 3000 })).toBe(1000);
    expect(minDelay({ dist: 'pareto', scaleNs: 1000, shape: 3 })).toBe(1000);
    expect(minDelay({ dist: 'normal', meanNs: 1e6, sdNs: 1e5 })).toBe(0);
  });
});

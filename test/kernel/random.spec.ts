/**
 * Random streams: reproducibility, independence of named streams, and sanity
 * of every distribution (means and spreads within generous bounds, with fixed
 * seeds so the bounds are checked on the same draws every run).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random, RandomStreams } from '../../src/kernel/random.js';
import { Simulator } from '../../src/kernel/simulator.js';
import { fcParams } from '../fc.js';

function draws(r: Random, n: number): number[] {
  return Array.from({ length: n }, () => r.uniform());
}

function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) ** 2;
  return { mean, sd: Math.sqrt(v / (xs.length - 1)) };
}

const N = 100_000;

describe('RandomStreams', () => {
  it('gives the same draws for the same (seed, name) and different ones otherwise', () => {
    const a = new RandomStreams(42).stream('net');
    const b = new RandomStreams('42').stream('net'); // a number seed is used by its decimal form
    const c = new RandomStreams(43).stream('net');
    const d = new RandomStreams(42).stream('node:3');
    const xa = draws(a, 20);
    expect(draws(b, 20)).toEqual(xa);
    expect(draws(c, 20)).not.toEqual(xa);
    expect(draws(d, 20)).not.toEqual(xa);
  });

  it('caches streams: asking twice for a name returns the same generator', () => {
    const rs = new RandomStreams(1);
    expect(rs.stream('x')).toBe(rs.stream('x'));
  });

  it("leaves a stream's draws unchanged when another stream is created and drawn from in between", () => {
    const plain = new Simulator({ seed: 5 });
    const mixed = new Simulator({ seed: 5 });
    const expected = draws(plain.rng.stream('net'), 200);
    const net = mixed.rng.stream('net');
    const got: number[] = [];
    for (let i = 0; i < 200; i++) {
      got.push(net.uniform());
      const extra = mixed.rng.stream(i % 2 === 0 ? 'extra' : `extra:${i}`);
      extra.normal();
      extra.int(0, 9);
    }
    expect(got).toEqual(expected);
  });

  it('forks a separate namespace that is itself reproducible', () => {
    const root = new RandomStreams(3);
    const f1 = root.fork('rep:1').stream('net');
    const f2 = new RandomStreams(3).fork('rep:1').stream('net');
    const other = root.fork('rep:2').stream('net');
    const xs = draws(f1, 10);
    expect(draws(f2, 10)).toEqual(xs);
    expect(draws(other, 10)).not.toEqual(xs);
    expect(draws(new RandomStreams(3).stream('net'), 10)).not.toEqual(xs);
  });

  it('seeds many similar names well: first draws of 20,000 node streams are uniform', () => {
    // 100,000 gossip nodes each get a stream named node:<i>; their first draws must not cluster.
    const rs = new RandomStreams(2026);
    const bins = new Array<number>(20).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) bins[Math.floor(rs.stream(`node:${i}`).uniform() * 20)]! += 1;
    const expected = n / 20;
    const chi2 = bins.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(43.8); // chi-square, 19 degrees of freedom, p = 0.001
  });

  it('seeds independent streams: adjacent names are uncorrelated', () => {
    const rs = new RandomStreams(11);
    const a = draws(rs.stream('node:1'), 20_000);
    const b = draws(rs.stream('node:2'), 20_000);
    const ma = meanSd(a).mean;
    const mb = meanSd(b).mean;
    let cov = 0;
    for (let i = 0; i < a.length; i++) cov += ((a[i] as number) - ma) * ((b[i] as number) - mb);
    const corr = cov / a.length / (1 / 12);
    expect(Math.abs(corr)).toBeLessThan(0.03); // sd of the estimate is ~0.007
  });
});

describe('RandomStreams.deferred', () => {
  it('draws exactly what the named stream draws, creates it only at the first draw, and a certain coin draws nothing', () => {
    const a = new RandomStreams(7);
    const b = new RandomStreams(7);
    const d = a.deferred('gossip.node:', 12);
    expect(d.bernoulli(0)).toBe(false);
    expect(d.bernoulli(1)).toBe(true);
    expect(d.created).toBe(false);
    const direct = b.stream('gossip.node:12');
    const got = [d.uniform(), d.bernoulli(0.5), d.uniform(), d.bernoulli(0.25)];
    expect(got).toEqual([direct.uniform(), direct.bernoulli(0.5), direct.uniform(), direct.bernoulli(0.25)]);
    expect(d.created).toBe(true);
    expect(d.stream).toBe(a.stream('gossip.node:12')); // the cached stream of that name
  });
});

describe('Random draws', () => {
  it('uniform() is in [0, 1) with mean 1/2 and variance 1/12', () => {
    const xs = draws(new Random('u'), N);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const { mean, sd } = meanSd(xs);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(sd).toBeCloseTo(Math.sqrt(1 / 12), 2);
  });

  it('int(lo, hi) stays within both inclusive bounds and reaches both', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 6 }), fc.string(), (lo, width, seed) => {
        const r = new Random(seed);
        const hi = lo + width;
        const seen = new Set<number>();
        for (let i = 0; i < 400; i++) seen.add(r.int(lo, hi));
        // Every value in [lo, hi] and nothing else; P(missing one) < 7 * (6/7)^400, negligible.
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: width + 1 }, (_, i) => lo + i));
      }),
      fcParams({ numRuns: 200 }),
    );
  });

  it('int() on a wide range stays in bounds', () => {
    const r = new Random('wide');
    for (let i = 0; i < 10_000; i++) {
      const x = r.int(0, 2 ** 40);
      expect(x >= 0 && x <= 2 ** 40 && Number.isInteger(x)).toBe(true);
    }
  });

  it('range(lo, hi) is in [lo, hi) with the right mean', () => {
    const r = new Random('range');
    const xs = Array.from({ length: N }, () => r.range(10, 20));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...xs)).toBeLessThan(20);
    expect(meanSd(xs).mean).toBeCloseTo(15, 1);
  });

  it('bernoulli(p) has frequency p and p <= 0 / p >= 1 consume no draw', () => {
    const r = new Random('b');
    let hits = 0;
    for (let i = 0; i < N; i++) if (r.bernoulli(0.3)) hits++;
    expect(hits / N).toBeCloseTo(0.3, 2); // sd 0.0014

    const a = new Random('same');
    const b = new Random('same');
    expect(a.bernoulli(0)).toBe(false);
    expect(a.bernoulli(-1)).toBe(false);
    expect(a.bernoulli(1)).toBe(true);
    expect(a.bernoulli(2)).toBe(true);
    expect(a.uniform()).toBe(b.uniform());
  });

  it('exponential(mean) is positive with the given mean and sd', () => {
    const r = new Random('e');
    const xs = Array.from({ length: N }, () => r.exponential(3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(xs.every(Number.isFinite)).toBe(true);
    const { mean, sd } = meanSd(xs);
    expect(Math.abs(mean - 3)).toBeLessThan(0.06); // sd of the mean ~0.0095
    expect(Math.abs(sd - 3)).toBeLessThan(0.1);
  });

  it('normal(mean, sd) has the given moments and is symmetric', () => {
    const r = new Random('n');
    const xs = Array.from({ length: N + 1 }, () => r.normal(-2, 4)); // odd count: uses the spare variate too
    const { mean, sd } = meanSd(xs);
    expect(Math.abs(mean + 2)).toBeLessThan(0.06); // sd of the mean ~0.013
    expect(Math.abs(sd - 4)).toBeLessThan(0.06);
    const below = xs.filter((x) => x < -2).length / xs.length;
    expect(below).toBeCloseTo(0.5, 2);
    const within1 = xs.filter((x) => Math.abs(x + 2) < 4).length / xs.length;
    expect(within1).toBeCloseTo(0.6827, 2);
  });

  it('lognormal(mu, sigma) has mean exp(mu + sigma^2 / 2) and median exp(mu)', () => {
    const r = new Random('ln');
    const xs = Array.from({ length: N }, () => r.lognormal(1, 0.5));
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(meanSd(xs).mean / Math.exp(1 + 0.125)).toBeCloseTo(1, 1);
    const sorted = [...xs].sort((a, b) => a - b);
    expect((sorted[N / 2] as number) / Math.E).toBeCloseTo(1, 1);
  });

  it('pareto(xm, alpha) never goes below xm and has mean alpha xm / (alpha - 1)', () => {
    const r = new Random('p');
    const xs = Array.from({ length: N }, () => r.pareto(2, 3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(2);
    expect(Math.abs(meanSd(xs).mean - 3)).toBeLessThan(0.05); // sd of the mean ~0.0055
    // P(X > 4) = (2/4)^3 = 1/8.
    expect(xs.filter((x) => x > 4).length / N).toBeCloseTo(0.125, 2);
  });

  it('choice() picks every element about equally often and rejects an empty array', () => {
    const r = new Random('c');
    const counts = [0, 0, 0, 0, 0];
    const items = [0, 1, 2, 3, 4];
    for (let i = 0; i < N; i++) counts[r.choice(items)]! += 1;
    for (const c of counts) expect(Math.abs(c / N - 0.2)).toBeLessThan(0.01);
    expect(() => r.choice([])).toThrow(RangeError);
  });

  it('sample(items, k) returns min(k, n) distinct elements of items', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -3, max: 80 }), fc.string(), (n, k, seed) => {
        const items = Array.from({ length: n }, (_, i) => `item${i}`);
        const out = new Random(seed).sample(items, k);
        expect(out.length).toBe(Math.min(Math.max(k, 0), n));
        expect(new Set(out).size).toBe(out.length);
        for (const x of out) expect(items).toContain(x);
      }),
      fcParams({ numRuns: 300 }),
    );
  });

  it('sample() is uniform: each element is chosen with probability k / n', () => {
    const r = new Random('s');
    const items = Array.from({ length: 10 }, (_, i) => i);
    const counts = new Array<number>(10).fill(0);
    const firstCounts = new Array<number>(10).fill(0);
    const runs = 20_000;
    for (let i = 0; i < runs; i++) {
      const s = r.sample(items, 3);
      for (const x of s) counts[x]! += 1;
      firstCounts[s[0] as number]! += 1;
    }
    for (const c of counts) expect(Math.abs(c / runs - 0.3)).toBeLessThan(0.02);
    for (const c of firstCounts) expect(Math.abs(c / runs - 0.1)).toBeLessThan(0.015);
  });

  it('shuffle() permutes in place', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.string(), (xs, seed) => {
        const copy = [...xs];
        const out = new Random(seed).shuffle(copy);
        expect(out).toBe(copy);
        expect([...out].sort((a, b) => a - b)).toEqual([...xs].sort((a, b) => a - b));
      }),
      fcParams({ numRuns: 200 }),
    );
  });

  it('shuffle() puts each element in each position about equally often', () => {
    const r = new Random('sh');
    const pos = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    const runs = 20_000;
    for (let i = 0; i < runs; i++) {
      const p = r.shuffle([0, 1, 2, 3]);
      p.forEach((x, j) => (pos[x]![j]! += 1));
    }
    for (const row of pos) for (const c of row) expect(Math.abs(c / runs - 0.25)).toBeLessThan(0.02);
  });
});

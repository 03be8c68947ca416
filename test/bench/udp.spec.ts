import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchUdp, quantile } from '../../src/bench/udp.js';
import { ensureBuilt } from '../transport/procs.js';

describe('udp bench', () => {
  it('quantile is the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(v, 0.5)).toBe(50);
    expect(quantile(v, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('runs the three phases against three real nodes without errors (short phases)', async () => {
    ensureBuilt();
    const r = await benchUdp({ cliPath: path.resolve(import.meta.dirname, '../../dist/src/cli.js'), durationS: 0.5, concurrency: 4 });
    expect(r.phases.map((p) => p.name)).toEqual(['put_local', 'get', 'put_replicated2']);
    for (const p of r.phases) {
      expect(p.errors, p.name).toBe(0);
      expect(p.ops, p.name).toBeGreaterThan(0);
      expect(p.p99Ms).toBeGreaterThanOrEqual(p.p50Ms);
    }
    expect(r.recordsPerSync).toBeGreaterThanOrEqual(1);
  });
});

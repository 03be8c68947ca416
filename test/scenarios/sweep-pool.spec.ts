/**
 * The sweep's worker threads get a young generation twice Node's default (sweep.ts,
 * SWEEP_WORKER_YOUNG_GENERATION_MB): checked in a thread started with the pool's own options, whose
 * new space grows past the default's limit under a stream of short-lived allocations.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SWEEP_WORKER_YOUNG_GENERATION_MB, sweepPoolOptions } from '../../src/scenarios/sweep.js';

/** Allocates short-lived objects (a few survive each scavenge) and answers its new space's size in MiB. */
const ALLOCATE = `
const { parentPort, resourceLimits } = require('node:worker_threads');
const v8 = require('node:v8');
let keep = [];
for (let i = 0; i < 2e6; i++) {
  const o = { a: i, b: [i] };
  if (i % 3 === 0) keep.push(o);
  if (keep.length > 300000) keep = [];
}
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
parentPort.postMessage({ newSpaceMb: space.space_size / 1048576, youngMb: resourceLimits.maxYoungGenerationSizeMb });
`;

async function newSpaceMb(resourceLimits: { maxYoungGenerationSizeMb?: number } | undefined): Promise<{ newSpaceMb: number; youngMb: number }> {
  const w = new Worker(ALLOCATE, { eval: true, ...(resourceLimits !== undefined ? { resourceLimits } : {}) });
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

describe('sweep worker pool', () => {
  it('gives each worker the documented young generation', () => {
    const opts = sweepPoolOptions(2);
    expect(opts.resourceLimits.maxYoungGenerationSizeMb).toBe(SWEEP_WORKER_YOUNG_GENERATION_MB);
    expect(opts.minThreads).toBe(2);
    expect(opts.maxThreads).toBe(2);
  });

  it('lets a worker started with those limits grow its new space past the default', async () => {
    const plain = await newSpaceMb(undefined);
    const pool = await newSpaceMb(sweepPoolOptions(2).resourceLimits);
    expect(pool.youngMb).toBe(SWEEP_WORKER_YOUNG_GENERATION_MB);
    // Two semi-spaces of a third of the young generation each: 64 MiB at 96, against 32 by default.
    expect(pool.newSpaceMb).toBe((SWEEP_WORKER_YOUNG_GENERATION_MB * 2) / 3);
    expect(pool.newSpaceMb).toBeGreaterThan(plain.newSpaceMb);
  });
});

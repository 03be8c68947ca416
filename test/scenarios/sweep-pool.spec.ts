/**
 * The sweep's workers are processes (sweep.ts, sweepPoolOptions), each with a young generation twice
 * Node's default (SWEEP_WORKER_SEMI_SPACE_MB): checked in a process started with the pool's own
 * flags, whose new space grows past the default's limit under a stream of short-lived allocations.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SWEEP_WORKER_SEMI_SPACE_MB, sweepPoolOptions } from '../../src/scenarios/sweep.js';

/** Allocates short-lived objects (a few survive each scavenge) and prints its new space's size in MiB. */
const ALLOCATE = `
const v8 = require('node:v8');
let keep = [];
for (let i = 0; i < 2e6; i++) {
  const o = { a: i, b: [i] };
  if (i % 3 === 0) keep.push(o);
  if (keep.length > 300000) keep = [];
}
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(space.space_size / 1048576);
`;

function newSpaceMb(execArgv: readonly string[]): number {
  const r = spawnSync(process.execPath, [...execArgv, '-e', ALLOCATE], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

describe('sweep worker pool', () => {
  it('runs its workers as processes with the documented young generation, Node flags and environment', () => {
    const opts = sweepPoolOptions(2);
    expect(opts.runtime).toBe('child_process');
    expect(opts.serialization).toBe('advanced');
    expect(opts.minThreads).toBe(2);
    expect(opts.maxThreads).toBe(2);
    expect(opts.execArgv).toContain(`--max-semi-space-size=${SWEEP_WORKER_SEMI_SPACE_MB}`);
    expect(opts.execArgv.some((a) => a.startsWith('--inspect'))).toBe(false);
    expect(opts.env.PATH).toBe(process.env.PATH);
  });

  it('lets a worker started with those flags grow its new space past the default', () => {
    const plain = newSpaceMb([]);
    const pool = newSpaceMb(sweepPoolOptions(2).execArgv.filter((a) => a.startsWith('--max-semi-space-size')));
    // Two semi-spaces: 64 MiB at 32 MiB each, against 32 by default.
    expect(pool).toBe(2 * SWEEP_WORKER_SEMI_SPACE_MB);
    expect(pool).toBeGreaterThan(plain);
  });
});

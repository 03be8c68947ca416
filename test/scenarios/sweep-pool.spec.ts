/**
 * The sweep's workers are processes (sweep.ts, sweepPoolOptions), each with a young generation twice
 * Node's default (SWEEP_WORKER_SEMI_SPACE_MB): checked in a process started with the pool's own
 * flags, whose new space grows past the default's limit under a stream of short-lived allocations.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SWEEP_WORKER_SEMI_SPACE_MB, asError, sweepPoolOptions, workerExecArgv } from '../../src/scenarios/sweep.js';

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
    expect(opts.execArgv[0]).toBe(`--max-semi-space-size=${SWEEP_WORKER_SEMI_SPACE_MB}`);
    expect(opts.env.PATH).toBe(process.env.PATH);
  });

  it("keeps only the sweep's memory and module flags, with their values, and no inspector in NODE_OPTIONS", () => {
    const given = [
      '--inspect-port',
      '9333',
      '--max-old-space-size=8192',
      '-e',
      'console.log(1)',
      '--import',
      'tsx',
      '--test',
      '--enable-source-maps',
      '--cpu-prof',
      '--max-semi-space-size=64',
      '-C',
      'development',
      '--watch',
    ];
    expect(workerExecArgv(given)).toEqual([
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      '--enable-source-maps',
      '--max-semi-space-size=64',
      '-C',
      'development',
    ]);
    const opts = sweepPoolOptions(2, given, { PATH: '/bin', NODE_OPTIONS: '--inspect=9229 --max-old-space-size=4096', UNSET: undefined });
    // The pool's young generation first, so that the user's own flag, later, wins.
    expect(opts.execArgv).toEqual([`--max-semi-space-size=${SWEEP_WORKER_SEMI_SPACE_MB}`, ...workerExecArgv(given)]);
    expect(opts.env).toEqual({ PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=4096' });
  });

  it('turns the plain object a worker process answers for an error back into an Error', () => {
    const e = asError({ name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' });
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('boom');
    expect(e.name).toBe('TypeError');
    const own = new RangeError('r');
    expect(asError(own)).toBe(own);
    expect(asError('text').message).toBe('text');
  });

  it('lets a worker started with those flags grow its new space past the default', () => {
    const plain = newSpaceMb([]);
    const pool = newSpaceMb(sweepPoolOptions(2).execArgv.filter((a) => a.startsWith('--max-semi-space-size')));
    // Two semi-spaces: 64 MiB at 32 MiB each, against 32 by default.
    expect(pool).toBe(2 * SWEEP_WORKER_SEMI_SPACE_MB);
    expect(pool).toBeGreaterThan(plain);
  });
});

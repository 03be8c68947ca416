/**
 * Property test of the G-counter with desim/testing: random clusters, random
 * increments, partitions, holds, crashes (state kept) and loss changes that
 * heal by 2 s; after 3 more seconds every live node must read the number of
 * accepted increments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProtocol, clusterCaseArb, PropertyFailure } from 'desim/testing';
import * as gCounter from './g-counter.js';

const cases = clusterCaseArb({
  minNodes: 3,
  maxNodes: 6,
  call: fc.constant({ op: 'incr' as const }),
  healBy_s: 2,
  maxCalls: 8,
  kinds: ['partition', 'one_way', 'hold', 'crash', 'loss', 'latency'],
  maxBaseLoss: 0.2,
});
const dir = mkdtempSync(join(tmpdir(), 'g-counter-'));
const built = resolve('dist/examples/g-counter/g-counter.js');
const params = { seed: Number(process.env['FC_SEED'] ?? 20261127), numRuns: 60 };

describe('G-counter', () => {
  it('converges to the number of accepted increments (merge = max)', () => {
    checkProtocol({ module: gCounter, modulePath: built, cases, duration_s: 5, counterexampleDir: dir, name: 'g-counter', params });
  });

  it('the broken merge (larger total wins) loses increments, and desim run replays the counterexample', () => {
    let failure: PropertyFailure | undefined;
    try {
      checkProtocol({
        module: gCounter,
        modulePath: built,
        cases,
        duration_s: 5,
        options: { merge: 'larger-total' },
        counterexampleDir: dir,
        name: 'g-counter-broken',
        params,
      });
    } catch (err) {
      if (!(err instanceof PropertyFailure)) throw err;
      failure = err;
    }
    expect(failure?.message).toMatch(/property failed after \d+ cases \(fast-check seed \d+/);
    expect(failure?.violation).toMatch(/reads \d+, but \d+ increments were accepted/);
    // The replay writes its folder and exits 1: the invariant is still violated.
    const replay = spawnSync(process.execPath, ['dist/src/cli.js', 'run', failure?.scenarioFile ?? '', '--out', join(dir, 'replay')], {
      encoding: 'utf8',
    });
    expect(replay.stdout).toContain(`INVARIANT VIOLATED: ${failure?.violation}`);
    expect(replay.stderr).toContain(`desim: invariant violated: ${failure?.violation}`);
    expect(replay.status).toBe(1);
  });
});

/**
 * The convergence property, on desim/testing: random clusters (3-40 nodes),
 * random puts and deletes on colliding keys, base loss up to 50 %, jitter,
 * partitions (also one-way), holds, crashes with restarts with and without
 * state, and loss and latency changes, all healed by T = 15 s; random presets
 * and clock skew. After T plus 180 s of anti-entropy (every 1 s) every live
 * node holds the last-writer-wins winner of every key over the accepted
 * writes, and nothing else (see src/testing/gossip-module.ts for "accepted").
 *
 * A failure throws PropertyFailure: the fast-check seed, the shrunk case, and
 * a scenario file that `desim run` replays exactly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as gossipModule from '../../../src/testing/gossip-module.js';
import { checkProtocol, clusterCaseArb, PropertyFailure, runCase, type ClusterCase } from '../../../src/testing/index.js';
import { fcParams } from '../../fc.js';

const HEAL_S = 15;
/** Anti-entropy time allowed after the last fault heals. Measured over 300 random cases: at most 26 s, 3.5 s on average. */
const SETTLE_S = 180;
const OPTIONS = { anti_entropy: { interval_s: 1 }, tombstone_gc_s: 'never' };

const write = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.integer({ min: 0, max: 999 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e') }) },
);

const cases = clusterCaseArb({
  minNodes: 3,
  maxNodes: 40,
  call: write,
  minCalls: 1,
  maxCalls: 30,
  healBy_s: HEAL_S,
  maxFaults: 6,
  maxBaseLoss: 0.5,
  maxJitter_ms: 50,
  latency_ms: 5,
  options: fc.record({
    preset: fc.constantFrom('default', 'original', 'demers-feedback-counter', 'demers-blind-coin'),
    clock: fc.record({
      kind: fc.constantFrom('hlc', 'physical'),
      max_offset_ms: fc.integer({ min: 0, max: 200 }),
      max_drift_ppm: fc.integer({ min: 0, max: 500 }),
    }),
  }),
});

const dir = mkdtempSync(join(tmpdir(), 'gossip-convergence-'));
const built = resolve('dist/src/testing/gossip-module.js');

describe('gossip convergence under faults (desim/testing)', () => {
  it('every live node ends with the LWW winner of every key over all accepted writes', () => {
    checkProtocol({
      module: gossipModule,
      modulePath: built,
      cases,
      duration_s: HEAL_S + SETTLE_S,
      options: OPTIONS,
      counterexampleDir: dir,
      name: 'gossip-convergence',
      params: fcParams({ numRuns: 100 }),
    });
  });

  it('a write made behind a partition by a node wiped before the heal is lost, and nothing else', () => {
    const c: ClusterCase = {
      nodes: ['n0', 'n1', 'n2'],
      seed: 3,
      link: { latency_ms: 5, loss: 0 },
      workload: [
        { at_s: 1, node: 'n0', call: { op: 'put', key: 'a', value: 1 } },
        { at_s: 2, node: 'n1', call: { op: 'put', key: 'b', value: 2 } },
      ],
      faults: [
        { at_s: 1.5, partition: [['n1'], ['n0', 'n2']], name: 'p' },
        { at_s: 3, crash: 'n1' },
        { at_s: 4, restart: 'n1', keep_state: false },
        { at_s: 5, repair: 'p' },
      ],
    };
    const view = runCase(gossipModule, c, { duration_s: 60, options: OPTIONS });
    expect(gossipModule.problems(view)).toEqual([]);
    for (const n of view.nodes) {
      const store = (n as InstanceType<typeof import('../../../src/protocols/gossip/node.js').GossipNode>).store;
      expect(store.entry('a')?.value).toBe(1);
      expect(store.entry('b')).toBeUndefined();
    }
  });

  it('catches a store that forgets (anti-entropy off, rumors die out), and desim run replays the counterexample', () => {
    let failure: PropertyFailure | undefined;
    try {
      checkProtocol({
        module: gossipModule,
        modulePath: built,
        cases: clusterCaseArb({ minNodes: 8, maxNodes: 12, call: write, minCalls: 3, maxCalls: 5, healBy_s: 5, maxFaults: 2, kinds: ['partition'] }),
        duration_s: 20,
        options: { ...OPTIONS, preset: 'demers-blind-coin', anti_entropy: { interval_s: 0 } },
        counterexampleDir: dir,
        name: 'gossip-no-anti-entropy',
        params: fcParams({ numRuns: 50 }),
      });
    } catch (err) {
      if (!(err instanceof PropertyFailure)) throw err;
      failure = err;
    }
    expect(failure?.message).toMatch(/property failed after \d+ cases \(fast-check seed \d+/);
    expect(failure?.violation).toMatch(/^\d+ problems, first: /);
    // The replay writes its folder and exits 1: the invariant is still violated.
    const replay = spawnSync(process.execPath, ['dist/src/cli.js', 'run', failure?.scenarioFile ?? '', '--out', join(dir, 'replay')], {
      encoding: 'utf8',
    });
    expect(replay.stdout).toContain(`INVARIANT VIOLATED: ${failure?.violation}`);
    expect(replay.stderr).toContain(`desim: invariant violated: ${failure?.violation}`);
    expect(replay.status).toBe(1);
  });
});

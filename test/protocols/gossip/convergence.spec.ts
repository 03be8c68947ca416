/**
 * The convergence property: random clusters (3-40 nodes), random puts and
 * deletes, loss up to 50 %, partitions, holds and crashes (restarts with and
 * without state) that all heal by T. After T plus a bounded anti-entropy
 * time every live node holds the same store, equal to the last-writer-wins
 * winner of every key over the accepted writes.
 *
 * A write counts as accepted once some node holds it (the writer included)
 * and is not restarted without state afterwards: a version held by such a
 * node survives to the end (stores only move forward), and a version held
 * only by nodes that were all wiped is legitimately lost.
 *
 * Each case runs through the gossip driver from a generated scenario file, so
 * the YAML printed with a failure replays it with `desim run`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/protocols/gossip/store.js';
import { compareVersion } from '../../../src/protocols/gossip/store.js';
import type { RunContext, ScenarioFor } from '../../../src/scenarios/driver.js';
import { gossipDriver, setupGossipRun, type GossipSettings, type GossipWorkload } from '../../../src/scenarios/drivers/gossip.js';
import { checkScenario, parseScenarioText } from '../../../src/scenarios/loader.js';
import { fcParams } from '../../fc.js';
import { caseToScenarioYaml, clusterCaseArb, type ClusterCase } from './arbitraries.js';

const ANTI_ENTROPY_S = 1;
/**
 * Anti-entropy time allowed after the last fault heals (180 rounds of 1 s). Measured over 300 random
 * cases: the last store event came at most 26 s after T (49 % loss), 3.5 s on average.
 */
const SETTLE_S = 180;

const ctx: RunContext = { seed: '1', openTrace: () => undefined, progress: () => undefined };

/** Runs a case; returns the problems found (empty when it converged to the expected store). */
export function checkConvergence(c: ClusterCase): { problems: string[]; yaml: string } {
  const durationS = c.healByMs / 1000 + SETTLE_S;
  const yaml = caseToScenarioYaml(c, ANTI_ENTROPY_S, durationS);
  const checked = checkScenario(parseScenarioText(yaml), [gossipDriver]);
  if (!checked.ok) return { problems: checked.issues.map((i) => `${i.path}: ${i.message}`), yaml };
  const scenario = checked.scenario as unknown as ScenarioFor<GossipSettings, GossipWorkload>;

  // Every store event (node, version, time) and every wipe (restart without state).
  const stored: { node: number; e: Entry; t: number }[] = [];
  const wipes: { node: number; t: number }[] = [];
  const run = setupGossipRun(scenario, { ...ctx, seed: String(scenario.seed) }, {
    onStored: (node, e, _via, t) => stored.push({ node, e, t }),
    onRestart: (node, keep, t) => {
      if (!keep) wipes.push({ node, t });
    },
  });
  run.run();

  const wipedAfter = (node: number, t: number): boolean => wipes.some((w) => w.node === node && w.t >= t);
  const expected = new Map<string, Entry>();
  for (const s of stored) {
    if (wipedAfter(s.node, s.t)) continue;
    const cur = expected.get(s.e.key);
    if (cur === undefined || compareVersion(s.e.ts, s.e.origin, cur.ts, cur.origin) > 0) expected.set(s.e.key, s.e);
  }
  const problems: string[] = [];
  for (let id = 0; id < c.nodes; id++) {
    if (!run.cluster.isUp(id)) {
      problems.push(`n${id} is down at the end`);
      continue;
    }
    const store = run.cluster.node(id).store;
    for (const [key, want] of expected) {
      const got = store.entry(key);
      if (got === undefined || got.ts !== want.ts || got.origin !== want.origin) {
        problems.push(`n${id}.${key}: has ${got ? `(${got.ts}, n${got.origin})` : 'nothing'}, expected (${want.ts}, n${want.origin})${want.deleted ? ' tombstone' : ` = ${String(want.value)}`}`);
      }
    }
    for (const e of store.entries()) if (!expected.has(e.key)) problems.push(`n${id}.${e.key}: holds a version no accepted write explains`);
  }
  return { problems, yaml };
}

describe('gossip convergence under faults', () => {
  it('every live node ends with the LWW winner of every key over all accepted writes', () => {
    fc.assert(
      fc.property(clusterCaseArb(), (c) => {
        const { problems, yaml } = checkConvergence(c);
        if (problems.length > 0) {
          throw new Error(`${problems.length} problems, first: ${problems.slice(0, 5).join('; ')}\nReplay with this scenario file:\n${yaml}`);
        }
      }),
      fcParams({ numRuns: 100 }),
    );
  });

  it('a case with a wipe before the write spread loses that write and nothing else', () => {
    const c: ClusterCase = {
      seed: 3,
      nodes: 3,
      lossPct: 0,
      latencyMinMs: 1,
      latencyMaxMs: 5,
      writes: [
        { atMs: 1000, node: 0, op: 'put', key: 'a', value: 1 },
        { atMs: 2000, node: 1, op: 'put', key: 'b', value: 2 },
      ],
      // n1 is cut off, writes b, and crashes without state before the partition heals.
      faults: [
        { atNs: 1_500_000_000, fault: { type: 'partition', a: [1], b: [0, 2], name: 'p' } },
        { atNs: 3_000_000_000, fault: { type: 'crash', node: 1 } },
        { atNs: 4_000_000_000, fault: { type: 'restart', node: 1, keepState: false } },
        { atNs: 5_000_000_000, fault: { type: 'repair', name: 'p' } },
      ],
      healByMs: 6000,
      preset: 'default',
      clock: 'hlc',
      maxOffsetMs: 0,
      maxDriftPpm: 0,
    };
    const { problems, yaml } = checkConvergence(c);
    expect(problems).toEqual([]);
    expect(yaml).toContain('restart: n1, keep_state: false');
  });
});

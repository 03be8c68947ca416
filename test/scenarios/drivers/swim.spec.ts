/**
 * The `swim` scenario driver: a scenario file runs SWIM with crash faults,
 * join and leave calls and churn, reports its metrics and `changes` table,
 * and refuses what it cannot run, naming the field.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { SWIM_METRICS } from '../../../src/scenarios/drivers/swim.js';
import { checkScenario } from '../../../src/scenarios/loader.js';
import { executeScenario } from '../../../src/scenarios/runner.js';

const base = {
  name: 'swim-test',
  duration_s: 60,
  network: { nodes: 12, link: { latency_ms: 2 } },
  protocol: { swim: { initial: 10 } },
  workload: [
    { at_s: 5, node: 'n10', op: 'join' },
    { at_s: 25, node: 'n1', op: 'leave' },
  ],
  faults: [{ at_s: 10, crash: 'n4' }],
  outputs: { traces: 'none', plots: false },
};

function run(raw: Record<string, unknown>) {
  const r = checkScenario(raw, BUILTIN_DRIVERS);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return executeScenario(r.scenario, undefined);
}

describe('swim driver', () => {
  it('runs a join, a leave and a crash: the crash is detected, every change reaches every member, no false positive', () => {
    const r = run(base);
    expect(Object.keys(r.metrics)).toEqual([...SWIM_METRICS]);
    expect(r.metrics).toMatchObject({ nodes: 12, members_final: 9, failures: 1, joins: 1, leaves: 1, undetected: 0, not_all_known: 0 });
    expect(r.metrics['false_positives']).toBe(0);
    expect(r.metrics['converged']).toBe(1);
    expect(r.metrics['detection_time_mean_s']).toBeGreaterThan(0);
    expect(r.metrics['messages_per_member_period']).toBeGreaterThan(1.5);
    const rows = r.tables?.['changes']?.rows ?? [];
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['join', 'n10', 5],
      ['fail', 'n4', 10],
      ['leave', 'n1', 25],
    ]);
    expect(r.headline).toMatch(/^9 members at the end, 1 failure, detected in [\d.]+ s on average, 0 false positives, /);
  });

  it('churn crashes and brings in nodes; a restart fault brings a crashed member back', () => {
    const r = run({
      ...base,
      duration_s: 90,
      protocol: { swim: { initial: 8, churn: { from_s: 5, to_s: 40, joins_per_second: 0.1, failures_per_second: 0.1 } } },
      workload: [],
      faults: [
        { at_s: 2, crash: 'n0' },
        { at_s: 30, restart: 'n0', keep_state: true },
      ],
    });
    expect(r.metrics['failures']).toBeGreaterThan(1);
    expect(r.metrics['joins']).toBeGreaterThan(1);
    expect(r.metrics['converged']).toBe(1);
  });

  it('refuses unknown nodes, a probe timeout not below the period, a larger initial group than the network, churn ending before it starts', () => {
    const r = checkScenario(
      {
        ...base,
        protocol: {
          swim: { initial: 20, probe_timeout_s: 1, seeds: ['nope'], churn: { from_s: 5, to_s: 1, joins_per_second: 1, failures_per_second: 0 } },
        },
        workload: [{ at_s: 1, node: 'zz', op: 'join' }],
      },
      BUILTIN_DRIVERS,
    );
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path).sort();
    expect(paths).toEqual([
      'protocol.swim.churn.to_s',
      'protocol.swim.initial',
      'protocol.swim.probe_timeout_s',
      'protocol.swim.seeds[0]',
      'workload[0].node',
    ]);
  });

  it('refuses an unknown key and an unknown op', () => {
    const r = checkScenario({ ...base, protocol: { swim: { fanout: 3 } }, workload: [{ at_s: 1, node: 'n1', op: 'crash' }] }, BUILTIN_DRIVERS);
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['protocol.swim.fanout', 'workload[0].op']));
  });
});

/**
 * `protocol.gossip` with `protocol.swim`: the store on SWIM's membership in a
 * scenario file. A node that joins gets the keys written before it came, a
 * crashed member is detected and dropped from the store's peers, the store's
 * and SWIM's metrics are both reported (prefixed), the same scenario gives the
 * same results twice, SWIM's updates ride on the store's gossip unless
 * `piggyback_on_store: false`, and what cannot act is refused at its path.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { checkScenario } from '../../../src/scenarios/loader.js';
import { executeScenario } from '../../../src/scenarios/runner.js';

const base = {
  name: 'swim-store-test',
  duration_s: 60,
  network: { nodes: 8, link: { latency_ms: 2 } },
  protocol: { gossip: { anti_entropy: { interval_s: 2 } }, swim: { initial: 6 } },
  workload: [
    { at_s: 1, node: 'n0', op: 'put', key: 'a', value: 1 },
    { at_s: 2, node: 'n3', op: 'put', key: 'b', value: 'x' },
    { at_s: 3, node: 'n5', op: 'delete', key: 'a' },
    { at_s: 10, node: 'n6', op: 'join' },
    { at_s: 20, node: 'n1', op: 'leave' },
    { at_s: 55, node: 'n6', op: 'get', key: 'b' },
  ],
  faults: [{ at_s: 15, crash: 'n4' }],
  outputs: { traces: 'none', plots: false },
};

function check(raw: Record<string, unknown>) {
  return checkScenario(raw, BUILTIN_DRIVERS);
}

function run(raw: Record<string, unknown>) {
  const r = check(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return executeScenario(r.scenario, undefined);
}

describe('gossip with swim: the store on SWIM membership', () => {
  it('a joiner gets the earlier keys, the crash is detected, both protocols report', () => {
    const r = run(base);
    const m = r.metrics;
    expect(m['gossip_converged']).toBe(1);
    expect(m['gossip_updates']).toBe(3);
    expect(m['gossip_stale_reads']).toBe(0);
    expect(m['gossip_reads']).toBe(1);
    expect(r.tables?.['gossip-reads']?.rows[0]?.slice(1, 6)).toEqual(['n6', 'b', 'x', 'string', true]);
    expect(m).toMatchObject({ swim_members_final: 5, swim_failures: 1, swim_joins: 1, swim_leaves: 1, swim_undetected: 0, swim_converged: 1 });
    expect(m['swim_messages_per_member_period']).toBeGreaterThan(1.5);
    expect(r.headline).toMatch(/^gossip: .* \| swim: 5 members at the end/);
  });

  it('gives the same results twice', () => {
    expect(run(base).metrics).toEqual(run(base).metrics);
  });

  it('runs SWIM churn under the store', () => {
    const r = run({
      ...base,
      protocol: { ...base.protocol, swim: { initial: 6, churn: { from_s: 5, to_s: 30, joins_per_second: 0.2, failures_per_second: 0.1 } } },
    });
    expect((r.metrics['swim_failures'] as number) + (r.metrics['swim_joins'] as number)).toBeGreaterThan(3);
    expect(r.metrics['swim_converged']).toBe(1);
    expect(r.metrics['gossip_converged']).toBe(1);
  });

  it('refuses join and leave without protocol.swim, and wrong_key with it', () => {
    const noSwim = check({ ...base, protocol: { gossip: {} } });
    expect(noSwim.ok).toBe(false);
    if (!noSwim.ok) {
      expect(noSwim.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['workload[3].op', 'workload[4].op']));
    }
    const wrong = check({ ...base, protocol: { ...base.protocol, gossip: { wrong_key: ['n2'] } } });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.issues.map((i) => i.path)).toContain('protocol.gossip.wrong_key');
  });

  it('checks the swim section beside gossip (its seeds name nodes)', () => {
    const r = check({ ...base, protocol: { ...base.protocol, swim: { seeds: ['nope'] } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain('protocol.swim.seeds[0]');
  });

  it("piggyback_on_store: on by default, off changes SWIM's byte count and nothing rides; refused without protocol.gossip", () => {
    const on = run(base);
    const explicit = run({ ...base, protocol: { ...base.protocol, swim: { initial: 6, piggyback_on_store: true } } });
    const off = run({ ...base, protocol: { ...base.protocol, swim: { initial: 6, piggyback_on_store: false } } });
    expect(explicit.metrics).toEqual(on.metrics);
    expect(off.metrics).not.toEqual(on.metrics);
    expect(off.metrics['swim_converged']).toBe(1);
    expect(off.metrics['gossip_converged']).toBe(1);
    const plain = check({ ...base, protocol: { swim: { piggyback_on_store: false } }, workload: [] });
    expect(plain.ok).toBe(false);
    if (!plain.ok) expect(plain.issues.map((i) => i.path)).toEqual(['protocol.swim.piggyback_on_store']);
  });

  it('still refuses swim beside tcp', () => {
    const r = check({ ...base, protocol: { swim: {}, tcp: {} } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.message).join(' ')).toMatch(/or gossip and swim together/);
  });
});

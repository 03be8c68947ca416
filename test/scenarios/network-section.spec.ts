/**
 * Node names of a network section: a count in the file (`nodes: 1000000`)
 * is looked up by parsing `n<i>`, not through a hash table of a million
 * strings, so validating and building a huge cluster costs time linear in
 * its size and small. The cost is counted (Set and Map insertions), not timed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { checkScenario, resolvedScenario } from '../../src/scenarios/loader.js';
import { buildNetwork, defaultNodeId, defaultNodeNames, nodeIdMap, nodeNameSet, toTimedFaults } from '../../src/scenarios/network-section.js';

function bigScenario(nodes: number): Record<string, unknown> {
  return {
    name: 'big',
    duration_s: 30,
    network: {
      nodes,
      link: { loss: 0.01 },
      regions: {
        fractions: [0.3, 0.25, 0.2, 0.15, 0.1],
        latency_ms: [
          [10, 40, 90, 150, 180],
          [40, 12, 75, 130, 160],
          [90, 75, 8, 60, 110],
          [150, 130, 60, 15, 70],
          [180, 160, 110, 70, 20],
        ],
      },
    },
    protocol: { gossip: { preset: 'demers-feedback-counter', fanout: 3, k: 3 } },
    workload: [
      { at_s: 1, node: 'n0', op: 'put', key: 'a', value: 1 },
      { at_s: 2, node: `n${nodes - 1}`, op: 'get', key: 'a' },
    ],
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Set.add and Map.set calls (the Set and Map constructors call them per element) while `f` runs. */
function hashInsertions(f: () => void): number {
  const add = vi.spyOn(Set.prototype, 'add');
  const set = vi.spyOn(Map.prototype, 'set');
  try {
    f();
    return add.mock.calls.length + set.mock.calls.length;
  } finally {
    add.mockRestore();
    set.mockRestore();
  }
}

describe('default node names', () => {
  it('defaultNodeId parses exactly the names defaultNodeNames makes', () => {
    const names = defaultNodeNames(1200);
    names.forEach((n, i) => expect(defaultNodeId(n, 1200)).toBe(i));
    for (const bad of ['n1200', 'n01', 'n', 'm3', 'n-1', 'n1.5', 'n 1', 'N3', 'n1e3', '', 'n12345678901234567890']) {
      expect(defaultNodeId(bad, 1200), bad).toBe(-1);
    }
  });

  it('the parsing set and map answer as a Set and a Map of the names would', () => {
    const nodes = defaultNodeNames(50);
    const set = nodeNameSet({ nodes, counted: true });
    const map = nodeIdMap({ nodes, counted: true });
    const realSet = new Set(nodes);
    const realMap = new Map(nodes.map((n, i) => [n, i]));
    expect(set.size).toBe(50);
    expect(map.size).toBe(50);
    expect([...set]).toEqual([...realSet]);
    expect([...map]).toEqual([...realMap]);
    expect([...map.values()]).toEqual([...realMap.values()]);
    for (const q of ['n0', 'n49', 'n50', 'x', 'n007']) {
      expect(set.has(q), q).toBe(realSet.has(q));
      expect(map.get(q), q).toBe(realMap.get(q));
    }
  });

  it('listed names keep a plain Set and Map (any names, in file order)', () => {
    const section = { nodes: ['b', 'a', 'n3'] };
    expect(nodeNameSet(section)).toBeInstanceOf(Set);
    expect([...nodeIdMap(section)]).toEqual([
      ['b', 0],
      ['a', 1],
      ['n3', 2],
    ]);
  });
});

describe('a million nodes', () => {
  it('validation makes no hash-table entry per node: the same count at 10^5 and 10^6 nodes', () => {
    checkScenario(bigScenario(10), BUILTIN_DRIVERS); // fills the loader's one-time caches (schemas)
    let r5: ReturnType<typeof checkScenario> | undefined;
    let r6: ReturnType<typeof checkScenario> | undefined;
    const at5 = hashInsertions(() => (r5 = checkScenario(bigScenario(100_000), BUILTIN_DRIVERS)));
    const at6 = hashInsertions(() => (r6 = checkScenario(bigScenario(1_000_000), BUILTIN_DRIVERS)));
    expect(r5?.ok).toBe(true);
    expect(r6?.ok).toBe(true);
    // Before: five tables of every name (about 5 x 10^6 insertions at 10^6 nodes).
    expect(at6).toBeLessThan(1000);
    expect(at6).toBe(at5);
  });

  it('building the network makes no per-node map, and every name resolves', () => {
    const r = checkScenario(bigScenario(1_000_000), BUILTIN_DRIVERS);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    let ids: ReadonlyMap<string, number> | undefined;
    const n = hashInsertions(() => (ids = buildNetwork(new Simulator(), r.scenario.network, { perLinkCounters: false }).ids));
    expect(n).toBeLessThan(1000);
    expect(ids?.get('n999999')).toBe(999_999);
    expect(ids?.get('n1000000')).toBeUndefined();
  });

  it('an unknown node among a million is refused quickly, with the count instead of a did-you-mean', () => {
    const s = bigScenario(1_000_000);
    s['workload'] = [{ at_s: 1, node: 'n1000000', op: 'put', key: 'a', value: 1 }];
    const r = checkScenario(s, BUILTIN_DRIVERS);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.path}: ${i.message}`)).toContain('workload[0].node: unknown node "n1000000" (1000000 nodes)');
  });

  it('meta.json records a count as a count, and listed names as names', () => {
    const r = checkScenario(bigScenario(1_000_000), BUILTIN_DRIVERS);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const net = resolvedScenario(r.scenario)['network'] as Record<string, unknown>;
    expect(net['nodes']).toBe(1_000_000);
    expect('counted' in net).toBe(false);
    const listed = checkScenario({ ...bigScenario(3), network: { nodes: ['a', 'b', 'c'] }, workload: [] }, BUILTIN_DRIVERS);
    if (!listed.ok) throw new Error(JSON.stringify(listed.issues));
    expect((resolvedScenario(listed.scenario)['network'] as Record<string, unknown>)['nodes']).toEqual(['a', 'b', 'c']);
  });

  it('a partition of one group cuts it from every other node, by set (no scan of the group per node)', () => {
    const ids = nodeIdMap({ nodes: defaultNodeNames(6), counted: true });
    const [f] = toTimedFaults([{ at_s: 1, partition: [['n1', 'n4']] }], ids);
    expect(f?.fault).toMatchObject({ type: 'partition', a: [1, 4], b: [0, 2, 3, 5] });
  });
});

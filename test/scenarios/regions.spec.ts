/**
 * `network.regions` in scenario files: refusals name the field, and a valid
 * section builds a network whose pairs of regions have their latency and loss.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import type { NetworkSection } from '../../src/scenarios/driver.js';
import { checkScenario } from '../../src/scenarios/loader.js';
import { buildNetwork } from '../../src/scenarios/network-section.js';
import { regionStarts } from '../../src/scenarios/regions.js';

const MS = 1_000_000;

function scenario(nodes: number, regions: Record<string, unknown>): Record<string, unknown> {
  return { name: 'regions', duration_s: 1, network: { nodes, regions }, protocol: { gossip: {} } };
}

/** The problems of a scenario with this regions section, as `path: message`. */
function problems(nodes: number, regions: Record<string, unknown>): string[] {
  const r = checkScenario(scenario(nodes, regions), BUILTIN_DRIVERS);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

const lat2 = [
  [1, 10],
  [20, 2],
];

describe('network.regions validation', () => {
  it('accepts fractions or first indices with a square matrix', () => {
    expect(problems(10, { fractions: [0.3, 0.7], latency_ms: lat2 })).toEqual([]);
    expect(problems(10, { first: [0, 4], latency_ms: lat2, loss: 0.1 })).toEqual([]);
    expect(
      problems(10, {
        first: [0, 4],
        latency_ms: lat2,
        loss: [
          [0, 0.1],
          [0.2, 0],
        ],
      }),
    ).toEqual([]);
  });

  it('refuses each mistake at its path', () => {
    expect(problems(10, { fractions: [0.5, 0.5], first: [0, 5], latency_ms: lat2 })).toEqual([
      'network.regions: expected exactly one of fractions (shares of the nodes) and first (first node index of each region)',
    ]);
    expect(problems(10, { latency_ms: lat2 })).toEqual([
      'network.regions: expected exactly one of fractions (shares of the nodes) and first (first node index of each region)',
    ]);
    expect(problems(10, { fractions: [0.5, 0.4], latency_ms: lat2 })).toEqual([
      'network.regions.fractions: expected fractions that sum to 1, got 0.9',
    ]);
    expect(problems(10, { fractions: [0.97, 0.03], latency_ms: lat2 })).toEqual([
      'network.regions.fractions[1]: region 1 gets no node of 10 (fraction 0.03): expected a larger share',
    ]);
    expect(problems(10, { first: [1, 5], latency_ms: lat2 })).toEqual([
      'network.regions.first[0]: expected the first region to start at node index 0, got 1',
    ]);
    expect(
      problems(10, {
        first: [0, 5, 5],
        latency_ms: [
          [1, 1, 1],
          [1, 1, 1],
          [1, 1, 1],
        ],
      }),
    ).toEqual(["network.regions.first[2]: expected an index greater than the previous region's 5, got 5"]);
    expect(problems(10, { first: [0, 10], latency_ms: lat2 })).toEqual([
      'network.regions.first[1]: expected an index below the node count 10, got 10',
    ]);
    expect(problems(10, { first: [0, 5], latency_ms: [[1, 2]] })).toEqual([
      'network.regions.latency_ms: expected 2 rows (one per region, from), got 1',
    ]);
    expect(problems(10, { first: [0, 5], latency_ms: [[1, 2], [3]] })).toEqual([
      'network.regions.latency_ms[1]: expected 2 columns (one per region, to), got 1',
    ]);
    expect(problems(10, { first: [0, 5], latency_ms: lat2, loss: [[0.1]] })).toEqual([
      'network.regions.loss: expected 2 rows (one per region, from), got 1',
      'network.regions.loss[0]: expected 2 columns (one per region, to), got 1',
    ]);
    expect(problems(10, { first: [0, 5], latency_ms: lat2, loss: 2 }).join()).toContain('network.regions.loss');
    expect(
      problems(10, {
        first: [0, 5],
        latency_ms: [
          [1, -1],
          [1, 1],
        ],
      }).join(),
    ).toContain('network.regions.latency_ms[0][1]');
    expect(problems(10, { first: [0, 5], latency_ms: lat2, delay: 1 }).join()).toContain('network.regions');
  });
});

describe('network.regions in the built network', () => {
  it('cuts the nodes as the fractions say and gives each pair its latency and loss', () => {
    const regions = {
      fractions: [0.25, 0.25, 0.5],
      latency_ms: [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
      loss: [
        [0, 0, 0],
        [0, 0, 0.5],
        [0, 0, 0],
      ],
    };
    expect(regionStarts(regions, 10)).toEqual([0, 3, 5, 10]); // 2.5 rounds to 3, 5 stays 5
    const r = checkScenario(scenario(10, regions), BUILTIN_DRIVERS);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const section: NetworkSection = r.scenario.network;
    const { net } = buildNetwork(new Simulator(), section);
    expect(net.link(0, 2).latency).toBe(1 * MS);
    expect(net.link(0, 3).latency).toBe(2 * MS);
    expect(net.link(4, 9).latency).toBe(6 * MS);
    expect(net.link(4, 9).loss).toBe(0.5);
    expect(net.link(9, 0).latency).toBe(7 * MS);
    expect(net.link(9, 0).loss).toBe(0);
  });

  // 100,000 nodes keep this quick (validating a million node names takes seconds); test/net/regions.spec.ts runs a million.
  it('describes a large cluster in five regions in a few lines, with no record per pair of nodes', () => {
    const five = Array.from({ length: 5 }, (_, a) => Array.from({ length: 5 }, (_, b) => (a === b ? 10 : 50 + 10 * (a + b))));
    const r = checkScenario(scenario(100_000, { first: [0, 20_000, 40_000, 60_000, 80_000], latency_ms: five, loss: 0.01 }), BUILTIN_DRIVERS);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const { net } = buildNetwork(new Simulator(), r.scenario.network, { perLinkCounters: false });
    expect(net.nodeCount).toBe(100_000);
    expect(net.link(99_999, 0).latency).toBe(90 * MS);
    expect(net.link(0, 99_999)).toBe(net.link(1, 80_000));
  });
});

/**
 * Node ranges (`n0..n24`) in node lists: expanded at load in network.nodes
 * and in partition and hold groups; bad ranges refused at their path.
 */
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/scenarios/driver.js';
import { checkScenario, resolvedScenario } from '../../src/scenarios/loader.js';
import { expandNodeRange } from '../../src/scenarios/ranges.js';
import { toyDriver } from './toy-driver.js';

const scenario = (network: unknown, faults: unknown[]) => ({
  name: 'ranges',
  duration_s: 2,
  network,
  protocol: { toy: {} },
  faults,
  outputs: { traces: 'none', plots: false },
});

function check(network: unknown, faults: unknown[]) {
  return checkScenario(scenario(network, faults), [toyDriver]);
}
const texts = (issues: readonly Issue[]) => issues.map((i) => `${i.path}: ${i.message}`);

describe('node ranges', () => {
  it('expand in partition and hold groups, and what meta.json records is the expanded list', () => {
    const r = check({ nodes: 30 }, [
      { at_s: 1, partition: [['n0..n24'], ['n25..n29']], name: 'split' },
      { at_s: 1.5, hold: [['n3', 'n7..n9']] },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const faults = resolvedScenario(r.scenario)['faults'] as { partition?: string[][]; hold?: string[][] }[];
    expect(faults[0]?.partition?.[0]).toEqual(Array.from({ length: 25 }, (_, i) => `n${i}`));
    expect(faults[0]?.partition?.[1]).toEqual(['n25', 'n26', 'n27', 'n28', 'n29']);
    expect(faults[1]?.hold).toEqual([['n3', 'n7', 'n8', 'n9']]);
  });

  it('define names in network.nodes, zero-padded as the first end is', () => {
    const r = check({ nodes: ['web00..web02', 'db'] }, [{ at_s: 1, partition: [['web00..web01'], ['db']] }]);
    expect(r.ok && r.scenario.network.nodes).toEqual(['web00', 'web01', 'web02', 'db']);
  });

  it('are refused at their path when reversed, of mixed prefixes, or naming unknown nodes', () => {
    const r = check({ nodes: 20 }, [
      { at_s: 1, partition: [['n5..n2'], ['n10..m12']] },
      { at_s: 1.5, hold: [['n15..n24']] },
      { at_s: 1.8, crash: 'n0..n3' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(texts(r.issues)).toEqual([
      'faults[0].partition[0][0]: node range "n5..n2": reversed: write n2..n5',
      'faults[0].partition[1][0]: node range "n10..m12": the two ends have different prefixes ("n" and "m")',
      'faults[1].hold[0][0]: node range "n15..n24": unknown nodes "n20", "n21", "n22", ... (5 in all) (20 nodes)',
      // A single-node field takes no range: the text is an unknown node there.
      'faults[2].crash: unknown node "n0..n3" (20 nodes)',
    ]);
  });

  it('leave a node whose name looks like a range alone', () => {
    expect(expandNodeRange('a1..a3', new Set(['a1..a3']))).toBeUndefined();
    expect(expandNodeRange('A', new Set(['A']))).toBeUndefined();
  });
});

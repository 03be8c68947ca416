/**
 * Regions of a scenario's network: nodes cut into consecutive index ranges,
 * given by fractions of the nodes or by the first index of each region, and a
 * latency (and loss) per ordered pair of regions, so that a million-node
 * network with a latency matrix stays a few lines of a scenario file.
 */
import { milliseconds } from '../kernel/time.js';
import type { LinkConfig } from '../net/link.js';

/** The `network.regions` section (validated). */
export interface RegionsSection {
  /** Share of the nodes in each region, in node order; they sum to 1. Exactly one of fractions and first. */
  readonly fractions?: readonly number[] | undefined;
  /** Index of the first node of each region, from 0, increasing; a region ends where the next begins. */
  readonly first?: readonly number[] | undefined;
  /** latency_ms[a][b]: latency of the links from region a to region b (ms). */
  readonly latency_ms: readonly (readonly number[])[];
  /** One loss probability for every pair, or loss[a][b]; unset: the default link's loss. */
  readonly loss?: number | readonly (readonly number[])[] | undefined;
}

/** A problem with a regions section: its path below `network.regions` and a sentence. */
export interface RegionIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Where each region starts, from 0, then the node count: region r is [starts[r], starts[r + 1]). Fractions round to the nearest node. */
export function regionStarts(regions: RegionsSection, nodeCount: number): number[] {
  if (regions.first !== undefined) return [...regions.first, nodeCount];
  const starts = [0];
  let sum = 0;
  const f = regions.fractions ?? [];
  for (let i = 0; i < f.length - 1; i++) {
    sum += f[i] as number;
    starts.push(Math.round(sum * nodeCount));
  }
  starts.push(nodeCount);
  return starts;
}

/** The problems of a regions section for a network of `nodeCount` nodes (none: it can be built). */
export function regionIssues(regions: RegionsSection, nodeCount: number): RegionIssue[] {
  const issues: RegionIssue[] = [];
  const { fractions, first } = regions;
  if ((fractions === undefined) === (first === undefined)) {
    issues.push({ path: [], message: 'expected exactly one of fractions (shares of the nodes) and first (first node index of each region)' });
    return issues;
  }
  const r = (fractions ?? first ?? []).length;
  if (fractions !== undefined) {
    const sum = fractions.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) issues.push({ path: ['fractions'], message: `expected fractions that sum to 1, got ${sum}` });
  } else if (first !== undefined) {
    if (first[0] !== 0) issues.push({ path: ['first', 0], message: `expected the first region to start at node index 0, got ${first[0]}` });
    for (let i = 1; i < r; i++) {
      if ((first[i] as number) <= (first[i - 1] as number))
        issues.push({ path: ['first', i], message: `expected an index greater than the previous region's ${first[i - 1]}, got ${first[i]}` });
    }
    const last = first[r - 1] as number;
    if (last >= nodeCount) issues.push({ path: ['first', r - 1], message: `expected an index below the node count ${nodeCount}, got ${last}` });
  }
  if (issues.length === 0) {
    const starts = regionStarts(regions, nodeCount);
    for (let i = 0; i < r; i++) {
      if ((starts[i + 1] as number) <= (starts[i] as number)) {
        issues.push({
          path: ['fractions', i],
          message: `region ${i} gets no node of ${nodeCount} (fraction ${fractions?.[i]}): expected a larger share`,
        });
      }
    }
  }
  const square = (m: readonly (readonly number[])[], key: string): void => {
    if (m.length !== r) issues.push({ path: [key], message: `expected ${r} rows (one per region, from), got ${m.length}` });
    m.forEach((row, i) => {
      if (row.length !== r) issues.push({ path: [key, i], message: `expected ${r} columns (one per region, to), got ${row.length}` });
    });
  };
  square(regions.latency_ms, 'latency_ms');
  if (Array.isArray(regions.loss)) square(regions.loss, 'loss');
  return issues;
}

/** The link fields of each ordered pair of regions, row by row (pair a * R + b), as Network.setRegions takes them. */
export function regionPairs(regions: RegionsSection): Partial<LinkConfig>[] {
  const out: Partial<LinkConfig>[] = [];
  const loss = regions.loss;
  regions.latency_ms.forEach((row, a) => {
    row.forEach((ms, b) => {
      const l = typeof loss === 'number' ? loss : loss?.[a]?.[b];
      out.push({ latency: milliseconds(ms), ...(l !== undefined ? { loss: l } : {}) });
    });
  });
  return out;
}

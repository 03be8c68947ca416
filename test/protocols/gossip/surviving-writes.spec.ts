/**
 * Metrics judged against the writes that survive, end to end through
 * `runScenario` (the path `desim run` takes): a write whose writer is wiped
 * before anyone got it is lost, not unconverged; `t_last_s` is filled for an
 * update that a concurrent higher-timestamp write superseded at some node,
 * and `t_all_s` says when every live node held it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { parseScenarioText, validateScenario } from '../../../src/scenarios/loader.js';
import { runScenario } from '../../../src/scenarios/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-surviving-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Row = Record<string, string>;

async function run(name: string, text: string): Promise<{ summary: Row; updates: Row[]; reads: Row[]; headline: string }> {
  const scenario = validateScenario(parseScenarioText(text), BUILTIN_DRIVERS);
  const out = join(dir, name);
  const report = await runScenario(scenario, { outDir: out });
  const read = (f: string): Row[] => parse<Row>(readFileSync(join(out, f), 'utf8'), { columns: true });
  return { summary: read('summary.csv')[0] as Row, updates: read('updates.csv'), reads: read('reads.csv'), headline: report.result.headline };
}

describe('gossip metrics against the surviving writes (runScenario)', () => {
  it('a write whose writer crashed and restarted without state before anyone got it is lost: converged, no stale reads', async () => {
    const { summary, updates, reads, headline } = await run(
      'lost-write',
      `
name: lost-write
seed: 1
duration_s: 30
network: { nodes: 5, link: { latency_ms: 1 } }
protocol: { gossip: { preset: default } }
workload:
  - { at_s: 0.5, node: n1, op: put, key: k, value: early }
  - { at_s: 1, node: n0, op: put, key: k, value: late }
${[0, 1, 2, 3, 4].map((i) => `  - { at_s: 20, node: n${i}, op: get, key: k }`).join('\n')}
faults:
  - { at_s: 1.0005, crash: n0 }
  - { at_s: 3, restart: n0, keep_state: false }
outputs: { plots: false }
`,
    );
    expect(summary['updates']).toBe('2');
    expect(summary['lost_writes']).toBe('1');
    expect(summary['converged']).toBe('1');
    expect(summary['stale_reads']).toBe('0');
    expect(reads.map((r) => r['value'])).toEqual(Array(5).fill('early'));
    // n0's write is the lost one; n1's earlier write reached every live node.
    const late = updates.find((u) => u['node'] === 'n0');
    const early = updates.find((u) => u['node'] === 'n1');
    expect(late?.['lost']).toBe('1');
    expect(late?.['t_last_s']).toBe('');
    expect(early?.['lost']).toBe('0');
    expect(Number(early?.['t_all_s'])).toBeGreaterThan(0);
    expect(headline).toContain('1 write lost');
  });

  it('t_last_s is filled for an update that a concurrent higher-timestamp write superseded at some node, and t_all_s too', async () => {
    // Same instant, same clock: equal timestamps, and the origin id breaks the tie, so n1's write
    // wins at n1 from the start and n0's version never gets there. Phase aligned: both rumors go out at t = 2 s.
    const { summary, updates } = await run(
      'superseded',
      `
name: superseded
seed: 1
duration_s: 30
network: { nodes: 6, link: { latency_ms: 1 } }
protocol: { gossip: { preset: default, phase: aligned, anti_entropy: { interval_s: 5 } } }
workload:
  - { at_s: 1, node: n0, op: put, key: k, value: a }
  - { at_s: 1, node: n1, op: put, key: k, value: b }
outputs: { plots: false }
`,
    );
    const loser = updates.find((u) => u['node'] === 'n0');
    expect(loser?.['version_ns']).toBe(updates.find((u) => u['node'] === 'n1')?.['version_ns']);
    expect(loser?.['lost']).toBe('0');
    expect(Number(loser?.['t_last_s'])).toBeGreaterThan(0);
    expect(Number(loser?.['t_all_s'])).toBeGreaterThan(0);
    expect(Number(loser?.['t_all_s'])).toBeLessThanOrEqual(Number(loser?.['t_last_s']));
    expect(summary['lost_writes']).toBe('0');
    expect(summary['converged']).toBe('1');
    expect(summary['t_last_s']).not.toBe('');
  });

  it('t_last_s is filled when the rumor dies out with residue > 0, t_all_s only once anti-entropy reached everyone', async () => {
    const { updates } = await run(
      'residue',
      `
name: residue
seed: 3
duration_s: 120
network: { nodes: 60, link: { latency_ms: 1 } }
protocol: { gossip: { preset: demers-blind-coin, k: 1, anti_entropy: { interval_s: 10, phase: aligned } } }
workload:
  - { at_s: 0.5, node: n0, op: put, key: k, value: 1 }
outputs: { plots: false }
`,
    );
    const u = updates[0] as Row;
    expect(Number(u['residue_frac'])).toBeGreaterThan(0);
    expect(Number(u['t_last_s'])).toBeGreaterThan(0);
    expect(Number(u['t_all_s'])).toBeGreaterThanOrEqual(Number(u['t_last_s']));
  });
});

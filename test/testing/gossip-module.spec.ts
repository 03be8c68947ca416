/**
 * One scenario, two routes, the same bytes: a gossip scenario run by
 * `desim run` (the `gossip` driver) and the same scenario run by
 * `desim/testing` (the gossip module, `protocol: { module: ... }`) draw the
 * same node and clock random streams and schedule the same events, so the
 * deliveries trace (time, node, key, origin, version = the write's clock
 * timestamp, via) is byte-identical, and so are the replies of every read.
 * The scenario has clock offsets and drifts (drawn and overridden),
 * jitter, loss, a partition, crashes (one at time 0) and a restart without
 * state.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { valueCell, valueType } from '../../src/io/csv-format.js';
import type { Cell } from '../../src/io/csv.js';
import { formatSeconds } from '../../src/kernel/time.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { checkScenario } from '../../src/scenarios/loader.js';
import { runScenario } from '../../src/scenarios/runner.js';
import * as gossipModule from '../../src/testing/gossip-module.js';
import { runScenarioObject } from '../../src/testing/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-routes-'));

function gossipScenario(clock: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'routes',
    seed: 11,
    duration_s: 30,
    network: { nodes: 8, link: { latency_ms: { dist: 'uniform', min_ms: 1, max_ms: 9 }, loss: 0.05, jitter_ms: 2 } },
    protocol: { gossip: { preset: 'default', interval_s: 0.5, anti_entropy: { interval_s: 2 }, clock } },
    workload: [
      { at_s: 0, node: 'n0', op: 'put', key: 'a', value: 1 },
      { at_s: 1, node: 'n1', op: 'put', key: 'a', value: 2 },
      { at_s: 1, node: 'n5', op: 'put', key: 'b', value: 'x' },
      { at_s: 4, node: 'n2', op: 'delete', key: 'b' },
      { at_s: 6, node: 'n4', op: 'get', key: 'a' },
      { at_s: 12, node: 'n6', op: 'put', key: 'a', value: 3 },
      { at_s: 25, node: 'n6', op: 'get', key: 'a' },
      { at_s: 25, node: 'n4', op: 'get', key: 'b' },
    ],
    faults: [
      { at_s: 0, crash: 'n7' },
      { at_s: 2, partition: [['n0', 'n1', 'n2']], name: 'p' },
      { at_s: 3, crash: 'n4' },
      { at_s: 8, restart: 'n4', keep_state: false },
      { at_s: 9, repair: 'p' },
      { at_s: 10, restart: 'n7' },
    ],
    outputs: { traces: 'all', plots: false },
  };
}

/** The same scenario in `protocol: { module: ... }` form, as desim/testing runs it. */
function moduleForm(s: Record<string, unknown>): Record<string, unknown> {
  const protocol = s['protocol'] as { gossip: Record<string, unknown> };
  const workload = s['workload'] as { at_s: number; node: string }[];
  return {
    ...s,
    protocol: { module: { path: './gossip-module.js', options: protocol.gossip } },
    workload: workload.map(({ at_s, node, ...call }) => ({ at_s, node, call })),
  };
}

/** A cell as reads.csv writes it (booleans 1/0). */
function plainCell(c: Cell): string {
  return typeof c === 'boolean' ? (c ? '1' : '0') : String(c ?? '');
}

/** Runs the scenario as `desim run` does: with `cli` the built CLI on a YAML file (needs `npm run build`), else its library call. */
async function viaDesimRun(s: Record<string, unknown>, name: string, cli = false): Promise<{ deliveries: string; reads: string[][] }> {
  const out = join(tmp, name);
  if (cli) {
    const file = join(tmp, `${name}.yaml`);
    writeFileSync(file, toYaml(s));
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'run', file, '--out', out], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  } else {
    const checked = checkScenario(s, BUILTIN_DRIVERS);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    await runScenario(checked.scenario, { outDir: out });
  }
  const reads = parse(readFileSync(join(out, 'reads.csv'), 'utf8'))
    .slice(1)
    .map((r) => r.slice(0, 6));
  return { deliveries: readFileSync(join(out, 'trace-deliveries.csv'), 'utf8'), reads };
}

function viaDesimTesting(s: Record<string, unknown>): { deliveries: string; reads: string[][] } {
  const view = runScenarioObject(gossipModule, moduleForm(s));
  const reads = view.calls
    .filter((c) => c.call.op === 'get' && c.reply !== undefined)
    .map((c) => {
      const r = c.reply as { found: boolean; value: unknown };
      return [
        formatSeconds(c.timeNs),
        view.names[c.node] as string,
        (c.call as { key: string }).key,
        r.found ? plainCell(valueCell(r.value)) : '',
        r.found ? valueType(r.value) : '',
        r.found ? '1' : '0',
      ];
    });
  return { deliveries: gossipModule.deliveriesCsv(view), reads };
}

describe('desim run and desim/testing give the same bytes for one gossip scenario', () => {
  const skewed = { kind: 'hlc', max_offset_ms: 50, max_drift_ppm: 200, nodes: [{ node: 'n3', offset_ms: -20, drift_ppm: 0 }] };

  it('with clock skew: trace-deliveries.csv of the desim run command, byte for byte, and every read', async () => {
    const run = await viaDesimRun(gossipScenario(skewed), 'skewed', true);
    const testing = viaDesimTesting(gossipScenario(skewed));
    expect(run.deliveries.split('\n').length).toBeGreaterThan(30);
    expect(testing.deliveries).toBe(run.deliveries);
    expect(run.reads).toHaveLength(2); // the get at 6 s is at n4, down from 3 s to 8 s
    expect(testing.reads).toEqual(run.reads);
  });

  it('the skew is drawn and matters: without it the versions differ', async () => {
    const skewedRun = await viaDesimRun(gossipScenario(skewed), 'skewed-again');
    const plain = await viaDesimRun(gossipScenario({ kind: 'hlc' }), 'plain');
    expect(plain.deliveries).not.toBe(skewedRun.deliveries);
    expect(viaDesimTesting(gossipScenario({ kind: 'hlc' })).deliveries).toBe(plain.deliveries);
  });
});

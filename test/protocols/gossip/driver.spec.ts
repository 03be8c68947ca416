import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { CsvWriter, toCsv } from '../../../src/io/csv.js';
import type { RunContext, RunResult, ScenarioFor } from '../../../src/scenarios/driver.js';
import { gossipDriver, toGossipConfig, type GossipSettings, type GossipWorkload } from '../../../src/scenarios/drivers/gossip.js';
import { checkScenario, loadScenario, parseScenarioText } from '../../../src/scenarios/loader.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-gossip-driver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runFile(file: string, tag: string): { result: RunResult; traces: Map<string, string> } {
  return runLoaded(loadScenario(file, [gossipDriver]), tag);
}

function runLoaded(loaded: unknown, tag: string): { result: RunResult; traces: Map<string, string> } {
  const scenario = loaded as ScenarioFor<GossipSettings, GossipWorkload>;
  const writers = new Map<string, CsvWriter>();
  const ctx: RunContext = {
    seed: String(scenario.seed),
    openTrace: (name, columns) => {
      const w = new CsvWriter(join(dir, tag, `trace-${name}.csv`), columns);
      writers.set(name, w);
      return w;
    },
    progress: () => undefined,
  };
  const result = gossipDriver.run(scenario, ctx);
  const traces = new Map<string, string>();
  for (const [name, w] of writers) {
    w.close();
    traces.set(name, readFileSync(w.path, 'utf8'));
  }
  return { result, traces };
}

describe('gossip driver', () => {
  it('runs the original demo: gets at B and C return 25.5', () => {
    const { result, traces } = runFile('src/scenarios/bundled/gossip-original.yaml', 'orig');
    expect(result.headline).toMatch(/^3 nodes, 1 put; get@B=25.5 get@C=25.5; converged at t=2.001 s$/);
    expect(result.metrics['converged']).toBe(1);
    expect(result.metrics['stale_reads']).toBe(0);
    const rows = result.tables?.['reads']?.rows ?? [];
    expect(rows.map((r) => r[3])).toEqual(['25.5', '25.5']);
    const deliveries = traces.get('deliveries') ?? '';
    expect(deliveries.split('\n')[0]).toBe('time_s,node,key,origin,version_ns,via');
    expect(deliveries).toContain(',B,temperature,A,');
    expect(traces.get('infection')?.split('\n')[0]).toBe('time_s,key,live_holding_newest_frac');
    expect(traces.get('infection')).toContain('2.001,temperature,1');
  });

  it('writes a read value with its JSON type, so that true, "1" and 1, and null and "", stay apart', () => {
    const puts: [string, string][] = [
      ['t', 'true'],
      ['s1', '"1"'],
      ['n1', '1'],
      ['nul', 'null'],
      ['empty', '""'],
      ['f', '0.30000000000000004'],
      ['text', '"a, \\"b\\""'],
    ];
    const r = checkScenario(
      parseScenarioText(`
name: values
duration_s: 2
network: { nodes: [A, B] }
protocol: { gossip: { preset: original } }
workload:
${puts.map(([k, v]) => `  - { at_s: 0, node: A, op: put, key: ${k}, value: ${v} }`).join('\n')}
${puts.map(([k]) => `  - { at_s: 1, node: A, op: get, key: ${k} }`).join('\n')}
  - { at_s: 1, node: A, op: get, key: missing }
`),
      [gossipDriver],
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const { result } = runLoaded(r.scenario, 'values');
    const reads = result.tables?.['reads'];
    // reads.csv as the runner writes it.
    const [header, ...rows]: string[][] = parse(toCsv(reads?.columns ?? [], reads?.rows ?? []));
    expect(header).toEqual(['time_s', 'node', 'key', 'value', 'value_type', 'found', 'stale']);
    const cells = new Map(rows.map((row) => [row[2] as string, [row[3], row[4], row[5]]]));
    expect(Object.fromEntries(cells)).toEqual({
      t: ['1', 'boolean', '1'],
      s1: ['1', 'string', '1'],
      n1: ['1', 'number', '1'],
      nul: ['', 'null', '1'],
      empty: ['', 'string', '1'],
      f: ['0.30000000000000004', 'number', '1'],
      text: ['a, "b"', 'string', '1'],
      missing: ['', '', '0'],
    });
    // The two cells give back the value put.
    const decode = (value: string, type: string): unknown =>
      type === 'number' ? Number(value) : type === 'boolean' ? value === '1' : type === 'null' ? null : value;
    for (const [key, text] of puts) {
      const [value, type] = cells.get(key) as [string, string];
      expect(decode(value, type)).toEqual(JSON.parse(text));
    }
  });

  it('is deterministic: the same scenario gives byte-identical traces', () => {
    const a = runFile('src/scenarios/bundled/gossip-partition-heal.yaml', 'ph1');
    const b = runFile('src/scenarios/bundled/gossip-partition-heal.yaml', 'ph2');
    expect(a.traces.get('deliveries')).toBe(b.traces.get('deliveries'));
    expect(a.traces.get('infection')).toBe(b.traces.get('infection'));
    expect(a.result.metrics).toEqual(b.result.metrics);
  });

  it('partition-heal converges after the repair and resolves the concurrent writes the same everywhere', () => {
    const { result } = runFile('src/scenarios/bundled/gossip-partition-heal.yaml', 'ph3');
    expect(result.metrics['converged']).toBe(1);
    expect(result.metrics['convergence_time_s']).toBeGreaterThan(0);
    const reads = result.tables?.['reads']?.rows ?? [];
    const late = reads.filter((r) => r[0] === '30');
    expect(late).toHaveLength(3);
    expect(late[0]?.[3]).toBe(late[1]?.[3]);
    expect(late[2]?.[5]).toBe(false); // found: size was deleted
    expect(late.every((r) => r[6] === false)).toBe(true); // stale
  });

  it('reports workload entries that name unknown nodes, with their path', () => {
    const raw = parseScenarioText(`
name: bad
duration_s: 1
network: { nodes: [A, B] }
protocol: { gossip: { preset: original, fanout: 3 } }
workload:
  - { at_s: 0, node: A, op: put, key: k, value: 1 }
  - { at_s: 0, node: Q, op: get, key: k }
`);
    const r = checkScenario(raw, [gossipDriver]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain('workload[1].node');
  });

  it('fills unset keys from the preset and lets explicit keys override it', () => {
    const parsed = gossipDriver.schema.parse({ preset: 'original', fanout: 3, anti_entropy: { interval_s: 5 } });
    expect(parsed.timing).toBe('immediate');
    expect(parsed.fanout).toBe(3);
    expect(parsed.anti_entropy).toMatchObject({ interval_s: 5, mtu_bytes: 1400 });
    expect(parsed.clock.kind).toBe('physical');
    expect(gossipDriver.schema.parse({}).clock.kind).toBe('hlc');
    expect(gossipDriver.schema.safeParse({ fanuot: 2 }).success).toBe(false);
    expect(gossipDriver.workloadSchema.safeParse({ at_s: 1, node: 'A', op: 'put', key: 'k' }).success).toBe(false);
  });

  it('maps the rumor-round keys to the node configuration and refuses out-of-range values', () => {
    const preset = toGossipConfig(gossipDriver.schema.parse({ preset: 'demers-feedback-counter' }));
    expect(preset).toMatchObject({ counterReset: true, roundSemantics: 'synchronous', connectionLimit: Infinity, antiEntropyMode: 'push-pull' });
    const c = toGossipConfig(
      gossipDriver.schema.parse({
        mode: 'pull',
        counter_reset: false,
        round_semantics: 'relay',
        connection_limit: 1,
        anti_entropy: { mode: 'pull' },
      }),
    );
    expect(c).toMatchObject({ mode: 'pull', counterReset: false, roundSemantics: 'relay', connectionLimit: 1, antiEntropyMode: 'pull' });
    for (const bad of [
      { connection_limit: 0 },
      { connection_limit: 1.5 },
      { counter_reset: 'yes' },
      { round_semantics: 'async' },
      { anti_entropy: { mode: 'both' } },
    ]) {
      expect(gossipDriver.schema.safeParse(bad).success).toBe(false);
    }
  });
});

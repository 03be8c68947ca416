import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenarios/errors.js';
import { loadScenario, parseScenarioText, scenarioSummary, validateScenario } from '../../src/scenarios/loader.js';
import { milliseconds } from '../../src/kernel/time.js';
import { linkBetween } from '../../src/scenarios/drivers/tcp.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { parseSets, parseVaries } from '../../src/scenarios/overrides.js';
import { buildWorld } from '../../src/scenarios/pipeline.js';
import { toyDriver, toyYaml } from './toy-driver.js';

const drivers = [toyDriver];
const dir = mkdtempSync(join(tmpdir(), 'desim-loader-'));

function problems(yaml: string, sets: string[] = []): string[] {
  const file = join(dir, `s${Math.abs(hash(yaml + sets.join()))}.yaml`);
  writeFileSync(file, yaml);
  const parsedSets = parseSets(sets);
  if (!parsedSets.ok) throw new Error('bad sets');
  try {
    loadScenario(file, drivers, parsedSets.overrides);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    const e = err as ScenarioError;
    // A problem that only a --set argument causes names that argument instead of the file.
    expect(e.message.startsWith(file) || (sets.length > 0 && e.message.startsWith('--set '))).toBe(true);
    return e.issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
  }
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

const edit = (from: string, to: string): string => {
  expect(toyYaml).toContain(from);
  return toyYaml.replace(from, to);
};

describe('scenario validation', () => {
  it('accepts the valid toy scenario and fills in defaults', () => {
    expect(problems(toyYaml)).toEqual([]);
    const s = validateScenario(parseScenarioText(toyYaml), drivers);
    expect(s.settings).toEqual({ pings_per_s: 50, size_bytes: 100 });
    expect(s.network.links[0]?.both_ways).toBe(true);
    expect(s.outputs).toEqual({ traces: 'all', plots: false });
  });

  it('names an unknown key with a did-you-mean', () => {
    expect(problems(edit('duration_s: 2', 'duraton_s: 2'))).toContain('duraton_s: unknown key; did you mean "duration_s"?');
    expect(problems(edit('{ pings_per_s: 50 }', '{ ping_per_s: 50 }'))).toContain(
      'protocol.toy.ping_per_s: unknown key; did you mean "pings_per_s"?',
    );
    expect(problems(edit('jitter_ms: 1', 'jiter_ms: 1'))).toContain('network.link.jiter_ms: unknown key; did you mean "jitter_ms"?');
  });

  it('reports wrong types and out-of-range values with the path, expectation and value', () => {
    expect(problems(edit('duration_s: 2', 'duration_s: two'))).toContain('duration_s: expected a number, got "two"');
    expect(problems(edit('latency_ms: 5', 'latency_ms: -5'))).toContain('network.link.latency_ms: expected a number >= 0, got -5');
    expect(problems(edit('loss: 0.1', 'loss: 1.5'))).toContain('network.link.loss: expected a number <= 1, got 1.5');
    expect(problems(edit('duration_s: 2', 'duration_s: 0'))).toContain('duration_s: expected a number >= 1e-9, got 0');
    expect(problems(edit('max_ms: 3', 'max_ms: -3'))).toContain('network.links[0].latency_ms.max_ms: expected a number >= 0, got -3');
  });

  it('reports unknown nodes in faults and workload, and overlapping partition groups', () => {
    const crashD = problems(edit('crash: C', 'crash: D'));
    expect(crashD, JSON.stringify(crashD)).toContain('faults[2].crash: unknown node "D" (nodes: A, B, C)');
    expect(problems(edit('node: B, op', 'node: b, op'))).toContain('workload[0].node: unknown node "b"; did you mean "B"?');
    expect(problems(edit('[[A], [B, C]]', '[[A, B], [B, C]]'))).toContain(
      'faults[0].partition[1][0]: node B is in two groups: groups must not overlap',
    );
  });

  it('merges overrides of one directed link in file order: each key from the last entry that sets it', () => {
    const links = (entries: string): string => toyYaml.replace(/ {2}links:\n( {4}- .*\n)+/, `  links:\n${entries}`);
    // both_ways defaults to true: the second entry sets A -> B's latency again, not its loss.
    const s = validateScenario(
      parseScenarioText(links('    - { from: A, to: B, latency_ms: 80, loss: 0.5 }\n    - { from: B, to: A, latency_ms: 30 }\n')),
      drivers,
    );
    const { net, ids } = buildWorld(1, s.network);
    const [a, b, c] = ['A', 'B', 'C'].map((n) => ids.get(n) as number) as [number, number, number];
    expect(net.link(a, b)).toMatchObject({ latency: milliseconds(30), loss: 0.5 });
    expect(net.link(b, a)).toMatchObject({ latency: milliseconds(30), loss: 0.5 });
    expect(net.link(a, c).latency).toBe(milliseconds(5)); // the default link's
    // TCP reads a link's settings the same way (its model loss and work estimate).
    expect(linkBetween(s.network, 'A', 'B')).toMatchObject({ latency_ms: 30, loss: 0.5 });
  });

  it('reports every problem of a file at once', () => {
    const bad = toyYaml.replace('duration_s: 2', 'duration_s: -1').replace('latency_ms: 5', 'latency_ms: -5').replace('crash: C', 'crash: Z');
    const p = problems(bad);
    expect(p).toEqual(
      expect.arrayContaining(['duration_s: expected a number >= 1e-9, got -1', 'network.link.latency_ms: expected a number >= 0, got -5']),
    );
    expect(p.length).toBeGreaterThanOrEqual(2);
  });

  it('gives YAML syntax errors with line and column', () => {
    const p = problems('name: x\nduration_s: [1, 2\nprotocol: {}\n');
    expect(p[0]).toMatch(/^YAML syntax error: line \d+, column \d+: /);
  });

  it('rejects non-UTF-8, missing files and non-mapping documents', () => {
    const f = join(dir, 'latin1.yaml');
    writeFileSync(f, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]));
    expect(() => loadScenario(f, drivers)).toThrow(/not UTF-8/);
    expect(() => loadScenario(join(dir, 'nope.yaml'), drivers)).toThrow(/nope\.yaml: no such file/);
    expect(problems('- just\n- a list\n')[0]).toMatch(/expected a mapping/);
  });

  it('applies --set overrides before validation, and validates them', () => {
    expect(problems(toyYaml, ['protocol.toy.pings_per_s=-1'])).toContain('protocol.toy.pings_per_s: expected a number > 0, got -1');
    const s = validateScenario(
      parseScenarioText(toyYaml),
      drivers,
      'x',
      (parseSets(['seed=9', 'faults[2].crash=B']) as { ok: true; overrides: never[] }).overrides,
    );
    expect(s.seed).toBe(9);
    expect(s.faults[2]).toMatchObject({ crash: 'B' });
  });

  it('rejects malformed --set and --vary arguments', () => {
    expect(parseSets(['novalue'])).toMatchObject({ ok: false });
    expect(parseSets(['a..b=1'])).toMatchObject({ ok: false });
    expect(parseVaries(['a.b='])).toMatchObject({ ok: false });
    expect(parseVaries(['a=1,,2'])).toMatchObject({ ok: false });
    expect(parseVaries(['a.b[1]=1,[2, 3],x'])).toEqual({ ok: true, variations: [{ path: ['a', 'b', 1], text: 'a.b[1]', values: [1, [2, 3], 'x'] }] });
  });
});

describe('scenarioSummary', () => {
  it('says what a scenario runs on: the nodes of its network, or the flows of a TCP dumbbell (which has no nodes to count)', () => {
    const summary = (name: string) => scenarioSummary(loadScenario(resolveScenarioPath(name), BUILTIN_DRIVERS));
    expect(summary('tcp-original')).toBe('tcp, 1 flow on a dumbbell, 3 s');
    expect(summary('tcp-four-flows')).toBe('tcp, 4 flows on a dumbbell, 60 s');
    expect(summary('tcp-partition')).toBe('tcp, 2 nodes, 1 flow, 30 s');
    expect(summary('gossip-tcp-shared-link')).toBe('gossip + tcp, 6 nodes, 1 flow, 60 s');
    expect(summary('gossip-original')).toBe('gossip, 3 nodes, 12 s');
    expect(scenarioSummary(validateScenario(parseScenarioText(toyYaml), drivers))).toBe('toy, 3 nodes, 2 s');
    const one = 'name: one\nseed: 1\nduration_s: 2\nnetwork: { nodes: [A] }\nprotocol: { toy: { pings_per_s: 50 } }\n';
    expect(scenarioSummary(validateScenario(parseScenarioText(one), drivers))).toBe('toy, 1 node, 2 s');
  });
});

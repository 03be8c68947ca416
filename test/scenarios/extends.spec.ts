/**
 * `extends: base.yaml`: deep merge (mappings merge, lists replace), paths
 * relative to the extending file, cycles and missing bases refused with the
 * chain or the file and field, and meta.json recording the merged scenario.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenarios/errors.js';
import { loadScenario, readScenarioFile } from '../../src/scenarios/loader.js';
import { loadPlan } from '../../src/scenarios/plan.js';
import { runScenario } from '../../src/scenarios/runner.js';
import { toyDriver, toyYaml } from './toy-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-extends-'));
const put = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

mkdirSync(join(dir, 'bases'), { recursive: true });
put('bases/toy.yaml', toyYaml);
put('bases/lossy.yaml', 'extends: toy.yaml\nnetwork:\n  link: { loss: 0.3 }\n');

describe('extends', () => {
  it('merges mappings key by key and replaces lists, through a chain of files relative to each other', () => {
    const f = put('child.yaml', 'extends: bases/lossy.yaml\nname: child\nnetwork:\n  link: { jitter_ms: 0 }\nfaults:\n  - { at_s: 1, crash: A }\n');
    const raw = readScenarioFile(f) as Record<string, unknown>;
    expect(raw['extends']).toBeUndefined();
    expect(raw['name']).toBe('child');
    const network = raw['network'] as { nodes: unknown; link: unknown; links: unknown[] };
    // latency_ms from toy.yaml, loss from lossy.yaml, jitter_ms from child.yaml; nodes and links inherited.
    expect(network.link).toEqual({ latency_ms: 5, jitter_ms: 0, loss: 0.3 });
    expect(network.nodes).toEqual(['A', 'B', 'C']);
    expect(network.links).toHaveLength(1);
    // The child's fault list replaces the base's four entries.
    expect(raw['faults']).toEqual([{ at_s: 1, crash: 'A' }]);
  });

  it('meta.json records the merged scenario', async () => {
    const f = put('run.yaml', 'extends: bases/toy.yaml\nname: merged-run\nnetwork: { link: { loss: 0 } }\n');
    const s = loadScenario(f, [toyDriver]);
    const out = join(dir, 'out');
    await runScenario(s, { outDir: out, scenarioFile: f });
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { scenario: Record<string, unknown> };
    expect(meta.scenario['name']).toBe('merged-run');
    expect(meta.scenario['extends']).toBeUndefined();
    expect((meta.scenario['network'] as { link: unknown }).link).toEqual({ latency_ms: 5, jitter_ms: 1, loss: 0 });
    expect(meta.scenario['faults']).toHaveLength(4);
  });

  it('refuses a cycle, naming the chain', () => {
    put('a.yaml', 'extends: b.yaml\nname: a\n');
    put('b.yaml', 'extends: a.yaml\n');
    expect(problem(() => readScenarioFile(join(dir, 'a.yaml')))).toBe(
      `${join(dir, 'b.yaml')}: extends: extends itself through a cycle: ${join(dir, 'a.yaml')} -> ${join(dir, 'b.yaml')} -> ${join(dir, 'a.yaml')}`,
    );
    put('self.yaml', 'extends: ./self.yaml\n');
    expect(problem(() => readScenarioFile(join(dir, 'self.yaml')))).toContain('cycle');
  });

  it('refuses a missing base naming the file and the field, and a base that is not a path', () => {
    const f = put('orphan.yaml', 'extends: nowhere.yaml\nname: x\n');
    expect(problem(() => readScenarioFile(f))).toBe(
      `${f}: extends: no such file "nowhere.yaml" (looked for ${join(dir, 'nowhere.yaml')}, relative to this file)`,
    );
    const g = put('num.yaml', 'extends: 3\n');
    expect(problem(() => readScenarioFile(g))).toBe(`${g}: extends: expected the path of a base scenario file (relative to this file), got 3`);
    // A problem inside the base names the base.
    put('broken.yaml', 'name: [\n');
    expect(problem(() => readScenarioFile(put('uses-broken.yaml', 'extends: broken.yaml\n')))).toContain(
      `${join(dir, 'broken.yaml')}: YAML syntax error`,
    );
  });

  it("works in a plan's embedded scenario, relative to the plan, with errors at scenario.extends", () => {
    const p = put('plan.yaml', 'scenario: { extends: bases/toy.yaml, name: planned }\nvary: { seed: [1, 2] }\n');
    const plan = loadPlan(p);
    expect((plan.raw as { name: string; duration_s: number }).name).toBe('planned');
    expect((plan.raw as { duration_s: number }).duration_s).toBe(2);
    const q = put('plan-bad.yaml', 'scenario: { extends: nope.yaml }\nvary: { seed: [1, 2] }\n');
    expect(problem(() => loadPlan(q))).toContain(`${q}: scenario.extends: no such file "nope.yaml"`);
  });
});

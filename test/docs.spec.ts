/** Keeps docs/scenario-defaults.md true: every key of the scenario schema is documented there. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../src/scenarios/drivers/index.js';
import { scenarioJsonSchema } from '../src/scenarios/schema.js';
import { rangeRows } from './scenarios/schema-walk.js';

type Node = { properties?: Record<string, Node>; anyOf?: Node[]; oneOf?: Node[]; items?: Node };

function keys(n: Node, out: Set<string>): Set<string> {
  for (const [k, v] of Object.entries(n.properties ?? {})) {
    out.add(k);
    keys(v, out);
  }
  for (const o of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) keys(o, out);
  if (n.items !== undefined && !Array.isArray(n.items)) keys(n.items, out);
  return out;
}

describe('docs/scenario-defaults.md', () => {
  it('mentions every key of the scenario schema', () => {
    const doc = readFileSync('docs/scenario-defaults.md', 'utf8');
    const missing = [...keys(scenarioJsonSchema(BUILTIN_DRIVERS) as Node, new Set())].filter((k) => !doc.includes(k));
    expect(missing).toEqual([]);
  });
});

describe('docs/scenario-defaults.md ranges', () => {
  it('states the range of every numeric field, as the schema has it', () => {
    const doc = readFileSync('docs/scenario-defaults.md', 'utf8');
    const rows = rangeRows(scenarioJsonSchema(BUILTIN_DRIVERS));
    expect(rows.length).toBeGreaterThan(60);
    expect(rows.filter((r) => !doc.includes(r))).toEqual([]);
  });
});

describe('README.md', () => {
  it('every complete scenario it shows validates', async () => {
    const { parseScenarioText, validateScenario } = await import('../src/scenarios/loader.js');
    const readme = readFileSync('README.md', 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((b) => /^name:/m.test(b));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => validateScenario(parseScenarioText(b), BUILTIN_DRIVERS, 'README.md')).not.toThrow();
  });
});

/**
 * Keeps the docs true: every key of the scenario schema is in docs/scenario-defaults.md, the README's
 * scenarios validate, and docs/architecture.md has the layer table the architecture test enforces.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
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

/** The `LAYERS` table of test/architecture.spec.ts, read with the compiler (the spec file itself is not imported: that would run its tests twice). */
function layerTableOfArchitectureTest(): Map<string, { uses: string[]; node: boolean }> {
  const file = 'test/architecture.spec.ts';
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = new Map<string, { uses: string[]; node: boolean }>();
  const visit = (n: ts.Node): void => {
    if (
      ts.isVariableDeclaration(n) &&
      n.name.getText(sf) === 'LAYERS' &&
      n.initializer !== undefined &&
      ts.isObjectLiteralExpression(n.initializer)
    ) {
      for (const p of n.initializer.properties) {
        if (!ts.isPropertyAssignment(p) || !ts.isObjectLiteralExpression(p.initializer)) continue;
        const row = { uses: [] as string[], node: false };
        for (const f of p.initializer.properties) {
          if (!ts.isPropertyAssignment(f)) continue;
          if (f.name.getText(sf) === 'uses' && ts.isArrayLiteralExpression(f.initializer))
            row.uses = f.initializer.elements.filter(ts.isStringLiteral).map((e) => e.text);
          if (f.name.getText(sf) === 'node') row.node = f.initializer.kind === ts.SyntaxKind.TrueKeyword;
        }
        out.set(p.name.getText(sf).replace(/^['"]|['"]$/g, ''), row);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The layer rows of docs/architecture.md: `| \`layer\` | \`a\`, \`b\` | yes | rule |`. */
function layerTableOfDoc(text: string): Map<string, { uses: string[]; node: boolean }> {
  const out = new Map<string, { uses: string[]; node: boolean }>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined || cells.length < 5) continue;
    out.set(name, { uses: [...(cells[2] ?? '').matchAll(/`([a-z-]+)`/g)].map((m) => m[1] as string), node: cells[3] === 'yes' });
  }
  return out;
}

describe('docs/architecture.md', () => {
  it('lists the layer table of the architecture test: the same layers, imports and node: column', () => {
    const test = layerTableOfArchitectureTest();
    expect(test.size).toBeGreaterThan(5);
    const sorted = (m: Map<string, { uses: string[]; node: boolean }>) =>
      Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { uses: [...v.uses].sort(), node: v.node }]));
    expect(sorted(layerTableOfDoc(readFileSync('docs/architecture.md', 'utf8')))).toEqual(sorted(test));
  });

  it('the comparison above sees a missing layer, an extra import and a wrong node: column', () => {
    const doc = [
      '| Layer | May import | `node:` | Rule |',
      '| --- | --- | --- | --- |',
      '| `kernel` | (nothing) | no | clock |',
      '| `net` | `kernel`, `io` | yes | links |',
    ].join('\n');
    expect(Object.fromEntries(layerTableOfDoc(doc))).toEqual({ kernel: { uses: [], node: false }, net: { uses: ['kernel', 'io'], node: true } });
    expect(layerTableOfArchitectureTest().get('kernel')).toEqual({ uses: [], node: false });
  });

  it('README.md links to it', () => {
    expect(readFileSync('README.md', 'utf8')).toContain('](docs/architecture.md)');
  });
});

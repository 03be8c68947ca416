/**
 * Architecture lint, by parsing the sources with the TypeScript compiler (so
 * comments and strings never count):
 *
 * 1. Determinism (rule `determinism`): no wall clock, timer or global
 *    randomness (`Math.random`, `Date.now`, `new Date(...)`,
 *    `performance.now`, `setTimeout`, `setInterval`, `process.hrtime`) in the
 *    simulated core: src/kernel, src/net, src/protocols and src/sim.
 * 2. The layer table (rules `layer-order`, `no-node-io`, `unknown-layer`):
 *    every folder of src is a layer, and a file imports desim code only from
 *    the layers its row lists, type imports included. The order is
 *    kernel ← net ← protocols ← sim ← scenarios ← cli, with transport beside
 *    sim; protocols import nothing of the kernel, the network, the simulator
 *    or `node:`, so the same module runs under the simulator and on UDP.
 *
 * Missing directories are fine (work in progress); every check is also run
 * against small inline sources to show it does flag what it should.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function listTs(dirRel: string): string[] {
  const dir = join(ROOT, dirRel);
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(ROOT, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

function parse(file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

// ---------------------------------------------------------------------------
// 1. Forbidden nondeterministic APIs.

const FORBIDDEN_MEMBERS = new Set(['Math.random', 'Date.now', 'performance.now', 'process.hrtime']);
const FORBIDDEN_CALLS = new Set(['setTimeout', 'setInterval']);

/** Every use of a forbidden API in `text`, as `line: what`. */
function findNondeterminism(file: string, text: string): string[] {
  const sf = parse(file, text);
  const hits: string[] = [];
  const at = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n)) {
      const name = `${n.expression.getText(sf)}.${n.name.text}`;
      const bare = name.replace(/^(globalThis|window|global)\./, '');
      if (FORBIDDEN_MEMBERS.has(bare)) hits.push(`${at(n)}: ${name}`);
      if (name !== bare && FORBIDDEN_CALLS.has(bare)) hits.push(`${at(n)}: ${name}`);
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'Date') {
      hits.push(`${at(n)}: new Date(`);
    } else if (ts.isIdentifier(n) && FORBIDDEN_CALLS.has(n.text)) {
      const p = n.parent;
      const isPropertyName = (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n);
      if (!isPropertyName && !ts.isImportSpecifier(p)) hits.push(`${at(n)}: ${n.text}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return hits;
}

// ---------------------------------------------------------------------------
// Imports.

interface ImportRef {
  /** The module specifier as written. */
  readonly spec: string;
  /** Resolved repository-relative path without extension, for relative specifiers. */
  readonly target: string | undefined;
  /** True when the import brings in no runtime value (`import type`, or only `type` specifiers). */
  readonly typeOnly: boolean;
  /** Value bindings it introduces (local names as imported). */
  readonly valueNames: readonly string[];
  readonly line: number;
}

function findImports(file: string, text: string): ImportRef[] {
  const sf = parse(file, text);
  const out: ImportRef[] = [];
  const resolveSpec = (spec: string): string | undefined => {
    if (!spec.startsWith('.')) return undefined;
    return relative(ROOT, resolve(ROOT, dirname(file), spec))
      .split('\\')
      .join('/')
      .replace(/\.(js|ts|mjs|cjs)$/, '');
  };
  const push = (specNode: ts.Expression, typeOnly: boolean, valueNames: string[]): void => {
    if (!ts.isStringLiteralLike(specNode)) return;
    const line = sf.getLineAndCharacterOfPosition(specNode.getStart(sf)).line + 1;
    out.push({ spec: specNode.text, target: resolveSpec(specNode.text), typeOnly, valueNames, line });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const clause = n.importClause;
      const values: string[] = [];
      let typeOnly = false;
      if (clause !== undefined) {
        typeOnly = clause.isTypeOnly;
        if (!typeOnly) {
          if (clause.name !== undefined) values.push('default');
          const nb = clause.namedBindings;
          if (nb !== undefined && ts.isNamespaceImport(nb)) values.push('*');
          if (nb !== undefined && ts.isNamedImports(nb)) {
            for (const el of nb.elements) if (!el.isTypeOnly) values.push((el.propertyName ?? el.name).text);
          }
          // `import { type A, type B } from 'x'` is erased entirely; `import {} from 'x'` is not.
          typeOnly = values.length === 0 && nb !== undefined && ts.isNamedImports(nb) && nb.elements.length > 0;
        }
      }
      push(n.moduleSpecifier, typeOnly, values);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier !== undefined) {
      const values: string[] = [];
      let typeOnly = n.isTypeOnly;
      if (!typeOnly) {
        const ec = n.exportClause;
        if (ec === undefined || ts.isNamespaceExport(ec)) values.push('*');
        else for (const el of ec.elements) if (!el.isTypeOnly) values.push((el.propertyName ?? el.name).text);
        typeOnly = values.length === 0;
      }
      push(n.moduleSpecifier, typeOnly, values);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] !== undefined) {
      push(n.arguments[0], false, ['*']);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

// ---------------------------------------------------------------------------
// 2. The layer table. Each folder of src is a layer; a file may import desim
//    code only from its own layer and the layers listed for it, type imports
//    included (a type import still ties the two layers together). `node:`
//    says whether the layer may use Node's built-in modules (files, sockets,
//    threads). docs/architecture.md explains each row.

interface Layer {
  /** The other layers it may import from. */
  readonly uses: readonly string[];
  /** Whether it may import `node:` modules. */
  readonly node: boolean;
}

const LAYERS: Readonly<Record<string, Layer>> = {
  kernel: { uses: [], node: false },
  io: { uses: ['kernel'], node: true },
  net: { uses: ['kernel'], node: false },
  protocols: { uses: [], node: false },
  sim: { uses: ['kernel', 'io', 'net', 'protocols'], node: false },
  transport: { uses: ['kernel', 'io', 'protocols'], node: true },
  scenarios: { uses: ['kernel', 'io', 'net', 'protocols', 'sim'], node: true },
  validation: { uses: ['kernel', 'io', 'net', 'protocols', 'sim', 'scenarios'], node: true },
  testing: { uses: ['kernel', 'io', 'net', 'protocols', 'sim', 'scenarios'], node: true },
  bench: { uses: ['kernel', 'io', 'net', 'protocols', 'sim', 'scenarios', 'transport'], node: true },
  index: { uses: ['kernel', 'io', 'net', 'protocols', 'sim', 'scenarios'], node: false },
  reproduce: { uses: ['kernel', 'io', 'scenarios', 'validation'], node: true },
  cli: { uses: ['kernel', 'io', 'net', 'protocols', 'sim', 'transport', 'scenarios', 'validation', 'testing', 'bench', 'reproduce'], node: true },
};

/** The layer of a repository-relative path (`src/cli.ts` and `src/cli/` are both `cli`), or undefined outside src. */
function layerOf(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const m = /^src\/([^/.]+)/.exec(path);
  return m === null ? undefined : m[1];
}

/**
 * Every import in `text` that breaks the layer table, as `line: rule: what`.
 * Rules: `layer-order` (an import from a layer not in the row),
 * `unknown-layer` (a folder the table does not list), `no-node-io` (a `node:`
 * module where the row forbids it).
 */
function findLayerViolations(file: string, text: string): string[] {
  const layer = layerOf(file);
  if (layer === undefined) return [];
  const row = LAYERS[layer];
  if (row === undefined) return [`1: unknown-layer: src/${layer} is not in the layer table`];
  const hits: string[] = [];
  for (const imp of findImports(file, text)) {
    if (imp.spec.startsWith('node:')) {
      if (!row.node) hits.push(`${imp.line}: no-node-io: ${layer} imports ${imp.spec}`);
      continue;
    }
    const target = layerOf(imp.target);
    if (target === undefined || target === layer) continue;
    if (!row.uses.includes(target)) hits.push(`${imp.line}: layer-order: ${layer} imports ${target} (${imp.spec})`);
  }
  return hits;
}

// ---------------------------------------------------------------------------

function scan(files: readonly string[], check: (file: string, text: string) => string[]): string[] {
  return files.flatMap((f) => check(f, readFileSync(join(ROOT, f), 'utf8')).map((h) => `${f}:${h}`));
}

const deterministicFiles = [...listTs('src/kernel'), ...listTs('src/net'), ...listTs('src/protocols'), ...listTs('src/sim')];

describe('architecture: determinism', () => {
  it('determinism: no wall clock, timers or Math.random in src/kernel, src/net, src/protocols and src/sim', () => {
    expect(deterministicFiles).toContain('src/kernel/simulator.ts');
    expect(scan(deterministicFiles, findNondeterminism)).toEqual([]);
  });

  it('the check flags each forbidden API and ignores comments, strings and lookalikes', () => {
    const bad = [
      'const a = Math.random();',
      'const b = Date.now();',
      'const c = new Date();',
      'const d = performance.now();',
      'setTimeout(() => 0, 5);',
      'const i = setInterval(f, 1);',
      'const h = process.hrtime.bigint();',
      'globalThis.setTimeout(f, 1);',
      'const r = Math.random;',
    ].join('\n');
    expect(findNondeterminism('src/kernel/x.ts', bad)).toEqual([
      '1: Math.random',
      '2: Date.now',
      '3: new Date(',
      '4: performance.now',
      '5: setTimeout',
      '6: setInterval',
      '7: process.hrtime',
      '8: globalThis.setTimeout',
      '9: Math.random',
    ]);
    const fine = [
      '// Math.random() and Date.now() are banned; no setTimeout either',
      "const s = 'new Date() setInterval process.hrtime';",
      '/** performance.now */',
      'const o = { setTimeout: 1 }; o.setTimeout;',
      'rng.random(); sim.now; clock.now();',
    ].join('\n');
    expect(findNondeterminism('src/kernel/x.ts', fine)).toEqual([]);
  });
});

describe('architecture: the layer table', () => {
  const all = listTs('src');

  it('every file in src belongs to a layer of the table and imports only what its row allows, type imports included', () => {
    expect(all).toContain('src/protocols/sans-io.ts');
    expect(all).toContain('src/sim/host.ts');
    expect(scan(all, findLayerViolations)).toEqual([]);
  });

  it('the table runs one way: no layer uses a layer that uses it', () => {
    const cycles: string[] = [];
    for (const [a, row] of Object.entries(LAYERS)) {
      for (const b of row.uses) if (LAYERS[b]?.uses.includes(a) === true) cycles.push(`${a} <-> ${b}`);
    }
    expect(cycles).toEqual([]);
  });

  it('names the rule a file breaks: upward imports, type-only ones included, and node: modules where the row forbids them', () => {
    expect(
      findLayerViolations(
        'src/kernel/x.ts',
        [
          "import type { Network } from '../net/network.js';",
          "import { run } from '../scenarios/runner.js';",
          "export * from '../cli.js';",
          "const m = await import('../transport/udp-host.js');",
          "import { Random } from './random.js';",
          "import seedrandom from 'seedrandom';",
          "import { writeFileSync } from 'node:fs';",
          "import { CsvWriter } from '../io/csv.js';",
        ].join('\n'),
      ),
    ).toEqual([
      '1: layer-order: kernel imports net (../net/network.js)',
      '2: layer-order: kernel imports scenarios (../scenarios/runner.js)',
      '3: layer-order: kernel imports cli (../cli.js)',
      '4: layer-order: kernel imports transport (../transport/udp-host.js)',
      '7: no-node-io: kernel imports node:fs',
      '8: layer-order: kernel imports io (../io/csv.js)',
    ]);
    expect(
      findLayerViolations(
        'src/protocols/tcp/x.ts',
        [
          "import type { Time } from '../../kernel/time.js';",
          "import type { NodeId } from '../../net/network.js';",
          "import type { SimHost } from '../../sim/host.js';",
          "import { Outbox, type Rng } from '../sans-io.js';",
          "import { createHash } from 'node:crypto';",
        ].join('\n'),
      ),
    ).toEqual([
      '1: layer-order: protocols imports kernel (../../kernel/time.js)',
      '2: layer-order: protocols imports net (../../net/network.js)',
      '3: layer-order: protocols imports sim (../../sim/host.js)',
      '5: no-node-io: protocols imports node:crypto',
    ]);
    expect(findLayerViolations('src/net/x.ts', "import { GossipNode } from '../protocols/gossip/node.js';")).toEqual([
      '1: layer-order: net imports protocols (../protocols/gossip/node.js)',
    ]);
    expect(findLayerViolations('src/transport/x.ts', "import { SimHost } from '../sim/host.js';\nimport { Keyring } from './envelope.js';")).toEqual([
      '1: layer-order: transport imports sim (../sim/host.js)',
    ]);
    expect(findLayerViolations('src/sim/x.ts', "import { runScenario } from '../scenarios/runner.js';")).toEqual([
      '1: layer-order: sim imports scenarios (../scenarios/runner.js)',
    ]);
    expect(
      findLayerViolations(
        'src/cli/x.ts',
        "import { runScenario } from '../scenarios/runner.js';\nimport { startCluster } from '../transport/cluster.js';",
      ),
    ).toEqual([]);
    expect(findLayerViolations('src/gadgets/x.ts', "import { x } from './y.js';")).toEqual([
      '1: unknown-layer: src/gadgets is not in the layer table',
    ]);
  });
});

/**
 * Architecture lint, by parsing the sources with the TypeScript compiler (so
 * comments and strings never count):
 *
 * 1. Determinism: no wall clock, timer or global randomness (`Math.random`,
 *    `Date.now`, `new Date(...)`, `performance.now`, `setTimeout`,
 *    `setInterval`, `process.hrtime`) under src/kernel and src/protocols,
 *    except in files whose path contains `udp` or `transport` (they drive real
 *    sockets).
 * 2. Dependencies point one way: kernel ← protocols ← scenarios ← cli. The
 *    kernel imports nothing from protocols, scenarios, transport or the CLI;
 *    protocols import nothing from scenarios, transport or the CLI.
 * 3. Sans-I/O: a protocol state machine under src/protocols/gossip or
 *    src/protocols/tcp never imports `sim-host` nor the `Simulator` class as a
 *    value (type imports are fine). Files named `sim-*.ts` are simulator
 *    bindings (like src/protocols/sim-host.ts itself) and are exempt, but no
 *    state machine may import a binding as a value either.
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

function inLayer(target: string | undefined, layer: string): boolean {
  return target !== undefined && (target === layer || target.startsWith(`${layer}/`));
}

// ---------------------------------------------------------------------------
// 2. Dependency direction.

const FORBIDDEN_LAYERS: Readonly<Record<string, readonly string[]>> = {
  'src/kernel': ['src/protocols', 'src/scenarios', 'src/transport', 'src/cli', 'src/io'],
  'src/protocols': ['src/scenarios', 'src/transport', 'src/cli', 'src/io'],
  // Shared file helpers: a leaf that any I/O layer may use and that uses no other part of desim.
  'src/io': ['src/kernel', 'src/protocols', 'src/scenarios', 'src/transport', 'src/cli', 'src/bench', 'src/validation', 'src/testing', 'src/index'],
};

function findLayerViolations(file: string, text: string): string[] {
  const layer = Object.keys(FORBIDDEN_LAYERS).find((l) => file.startsWith(`${l}/`));
  if (layer === undefined) return [];
  const banned = FORBIDDEN_LAYERS[layer] as readonly string[];
  return findImports(file, text)
    .filter((imp) => banned.some((b) => inLayer(imp.target, b)))
    .map((imp) => `${imp.line}: imports ${imp.spec}`);
}

// ---------------------------------------------------------------------------
// 3. State machines stay sans-I/O.

const isBinding = (path: string): boolean => /(^|\/)sim-[^/]*$/.test(path);

function findLoopImports(file: string, text: string): string[] {
  if (isBinding(file)) return [];
  const hits: string[] = [];
  for (const imp of findImports(file, text)) {
    if (imp.typeOnly) continue;
    if (imp.target !== undefined && isBinding(imp.target)) {
      hits.push(`${imp.line}: imports ${imp.spec} as a value`);
    } else if (imp.valueNames.includes('Simulator')) {
      hits.push(`${imp.line}: imports the Simulator class as a value from ${imp.spec}`);
    } else if (inLayer(imp.target, 'src/kernel/simulator')) {
      hits.push(`${imp.line}: imports ${imp.spec} as a value`);
    }
  }
  return hits;
}

// ---------------------------------------------------------------------------

function scan(files: readonly string[], check: (file: string, text: string) => string[]): string[] {
  return files.flatMap((f) => check(f, readFileSync(join(ROOT, f), 'utf8')).map((h) => `${f}:${h}`));
}

const deterministicFiles = [...listTs('src/kernel'), ...listTs('src/protocols')].filter(
  (f) => !f.includes('udp') && !f.includes('transport'),
);

describe('architecture: determinism', () => {
  it('uses no wall clock, timers or Math.random under src/kernel and src/protocols', () => {
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

describe('architecture: dependency direction', () => {
  it('kernel imports nothing above it; protocols import nothing from scenarios, transport, io or the CLI; io imports nothing of desim', () => {
    const files = [...listTs('src/kernel'), ...listTs('src/protocols'), ...listTs('src/io')];
    expect(files.length).toBeGreaterThan(5);
    expect(scan(files, findLayerViolations)).toEqual([]);
  });

  it('the check flags upward imports, type-only ones included', () => {
    expect(
      findLayerViolations(
        'src/kernel/x.ts',
        [
          "import type { Network } from '../protocols/net/network.js';",
          "import { run } from '../scenarios/runner.js';",
          "export * from '../cli.js';",
          "const m = await import('../transport/udp-host.js');",
          "import { Random } from './random.js';",
          "import seedrandom from 'seedrandom';",
        ].join('\n'),
      ),
    ).toEqual([
      '1: imports ../protocols/net/network.js',
      '2: imports ../scenarios/runner.js',
      '3: imports ../cli.js',
      '4: imports ../transport/udp-host.js',
    ]);
    expect(
      findLayerViolations(
        'src/protocols/tcp/x.ts',
        "import { loadScenario } from '../../scenarios/loader.js';\nimport { Simulator } from '../../kernel/simulator.js';",
      ),
    ).toEqual(['1: imports ../../scenarios/loader.js']);
    expect(findLayerViolations('src/io/x.ts', "import { ScenarioError } from '../scenarios/errors.js';\nimport { readFileSync } from 'node:fs';")).toEqual([
      '1: imports ../scenarios/errors.js',
    ]);
    expect(findLayerViolations('src/protocols/gossip/x.ts', "import { writeFileAtomic } from '../../io/fs.js';")).toEqual(['1: imports ../../io/fs.js']);
  });
});

describe('architecture: sans-I/O state machines', () => {
  const files = [...listTs('src/protocols/gossip'), ...listTs('src/protocols/tcp')];

  it('no gossip or TCP state machine imports sim-host or the Simulator class as a value', () => {
    // Tolerates the directories not existing yet.
    expect(scan(files, findLoopImports)).toEqual([]);
  });

  it('the check flags value imports of the loop and allows type imports', () => {
    const src = [
      "import { SimHost } from '../sim-host.js';",
      "import { Simulator } from '../../kernel/simulator.js';",
      "import { Simulator as S, type EventId } from '../../kernel/index.js';",
      "import type { Simulator as T } from '../../kernel/simulator.js';",
      "import { type Simulator as U, type EventId as E } from '../../kernel/simulator.js';",
      "import type { SimHost as H } from '../sim-host.js';",
      "import { Cluster } from './sim-cluster.js';",
      "import '../../kernel/simulator.js';",
      "import { Outbox } from '../sans-io.js';",
    ].join('\n');
    expect(findLoopImports('src/protocols/gossip/node.ts', src)).toEqual([
      '1: imports ../sim-host.js as a value',
      '2: imports the Simulator class as a value from ../../kernel/simulator.js',
      '3: imports the Simulator class as a value from ../../kernel/index.js',
      '7: imports ./sim-cluster.js as a value',
      '8: imports ../../kernel/simulator.js as a value',
    ]);
    // A simulator binding may use the loop.
    expect(findLoopImports('src/protocols/gossip/sim-cluster.ts', src)).toEqual([]);
  });
});

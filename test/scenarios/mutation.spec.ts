/**
 * Bad input never crashes desim: valid scenarios, mutated at random (keys
 * dropped, renamed or set to values of the wrong type or range), either
 * validate and run, or fail with a ScenarioError whose every issue has a path
 * and a message. Nothing else may escape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProtocolDriver } from '../../src/scenarios/driver.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { checkScenario, parseScenarioText, readScenarioFile } from '../../src/scenarios/loader.js';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { executeScenario } from '../../src/scenarios/runner.js';
import { fcParams } from '../fc.js';
import { toyDriver, toyYaml } from './toy-driver.js';

type Json = unknown;

/** Every path to a value in a JSON tree. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

const weird = fc.oneof(
  fc.constantFrom(-1, 0, 1e6, -1e-9, 0.5, 2, NaN, Infinity, 'A', 'Z', '', 'all', null, true, [], {}, ['A'], [['A'], ['A']]),
  fc.integer({ min: -5, max: 50 }),
  fc.double({ noNaN: true, min: -10, max: 10 }),
  fc.string({ maxLength: 4 }),
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: weird }),
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), name: fc.constantFrom('nodes', 'node', 'latncy_ms', 'at_s', 'x', 'seed') }),
);

function mutate(base: Json, muts: readonly { kind: 'set' | 'drop' | 'rename'; pick: number; value?: unknown; name?: string }[]): Json {
  const root = structuredClone(base) as Record<string | number, unknown>;
  for (const m of muts) {
    const ps = paths(root).filter((p) => p.length > 0);
    if (ps.length === 0) break;
    const p = ps[m.pick % ps.length] as (string | number)[];
    let parent = root;
    for (const seg of p.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
    const last = p[p.length - 1] as string | number;
    if (m.kind === 'set') parent[last] = structuredClone(m.value);
    else if (m.kind === 'drop') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (!Array.isArray(parent)) {
      parent[m.name as string] = parent[last];
      delete parent[last];
    }
  }
  return root;
}

function cases(): { name: string; raw: Json; drivers: readonly ProtocolDriver[]; maxDurationS: number }[] {
  const out = [{ name: 'toy', raw: parseScenarioText(toyYaml), drivers: [toyDriver] as readonly ProtocolDriver[], maxDurationS: 5 }];
  for (const name of ['gossip-original', 'tcp-original']) {
    const file = resolveScenarioPath(name);
    if (file !== name) out.push({ name, raw: readScenarioFile(file), drivers: BUILTIN_DRIVERS, maxDurationS: 30 });
  }
  return out;
}

describe('mutated scenarios run or fail cleanly', () => {
  for (const c of cases()) {
    it(`${c.name}: every mutation validates and runs, or is rejected with paths`, () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
          const raw = mutate(c.raw, muts) as Record<string, unknown>;
          const r = checkScenario(raw, c.drivers);
          if (!r.ok) {
            expect(r.issues.length).toBeGreaterThan(0);
            for (const i of r.issues) {
              expect(typeof i.path).toBe('string');
              expect(i.message.length).toBeGreaterThan(0);
            }
            return;
          }
          // Keep accepted runs short: a mutation may legitimately ask for a long or huge simulation.
          if (r.scenario.duration_s > c.maxDurationS || r.scenario.network.nodes.length > 50) return;
          executeScenario({ ...r.scenario, outputs: { traces: [], plots: false } }, undefined);
        }),
        fcParams({ numRuns: 150 }),
      );
    });
  }
});

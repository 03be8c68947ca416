/**
 * Sweep plans and value ranges: the range parser (shared by plan files and
 * --vary), plan validation with field paths, and zip-mode enumeration.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParams } from '../fc.js';
import { ScenarioError } from '../../src/scenarios/errors.js';
import { parseVaries } from '../../src/scenarios/overrides.js';
import { isPlan, loadPlan } from '../../src/scenarios/plan.js';
import { expandRange, parseRangeText } from '../../src/scenarios/ranges.js';
import { planRuns } from '../../src/scenarios/sweep.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-plan-'));

function planFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected a ScenarioError');
}

describe('value ranges', () => {
  it('spaces a log range geometrically with exact ends', () => {
    const r = parseRangeText('0.001..0.05 log 8');
    expect(r).toEqual({ ok: true, values: [0.001, 0.00174868, 0.00305788, 0.00534724, 0.00935061, 0.0163512, 0.028593, 0.05] });
  });

  it('spaces a linear range evenly without float noise, and steps whole numbers by 1 without a count', () => {
    expect(parseRangeText('0.1..0.3 lin 3')).toEqual({ ok: true, values: [0.1, 0.2, 0.3] });
    expect(parseRangeText('0..1 5')).toEqual({ ok: true, values: [0, 0.25, 0.5, 0.75, 1] });
    expect(parseRangeText('3..6')).toEqual({ ok: true, values: [3, 4, 5, 6] });
    expect(parseRangeText('6..3')).toEqual({ ok: true, values: [6, 5, 4, 3] });
  });

  it('refuses ranges that cannot be expanded, saying why', () => {
    expect(parseRangeText('0..0.05 log 8')).toMatchObject({ ok: false, message: expect.stringContaining('log range needs both ends > 0') });
    expect(parseRangeText('0.1..0.5')).toMatchObject({ ok: false, message: expect.stringContaining('give a count') });
    expect(parseRangeText('1..2 lin 1')).toMatchObject({ ok: false, message: expect.stringContaining('from 2 to 10000') });
    expect(parseRangeText('1..2 lin x')).toMatchObject({ ok: false, message: expect.stringContaining('whole number') });
    expect(expandRange({ from: 2, to: 2, count: 3 })).toMatchObject({ ok: false, message: expect.stringContaining('equal') });
    expect(parseRangeText('reno')).toBeUndefined();
  });

  it('property: a valid range has count values, exact ends, strictly monotone, and the text and mapping forms agree', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.integer({ min: 2, max: 50 }),
        fc.constantFrom('lin' as const, 'log' as const),
        (from, to, count, scale) => {
          const r = expandRange({ from, to, count, scale });
          if (!r.ok) return; // refused (equal ends, or too dense for the rounding): nothing to check
          expect(r.values).toHaveLength(count);
          expect(r.values[0]).toBe(from);
          expect(r.values[count - 1]).toBe(to);
          const dir = Math.sign(to - from);
          for (let i = 1; i < count; i++) expect(Math.sign((r.values[i] as number) - (r.values[i - 1] as number))).toBe(dir);
          expect(parseRangeText(`${from}..${to} ${scale} ${count}`)).toEqual(r);
        },
      ),
      fcParams({ numRuns: 300 }),
    );
  });

  it('gives --vary the same values as a plan range', () => {
    const v = parseVaries(['protocol.tcp.bottleneck.loss=0.001..0.05 log 8']);
    expect(v.ok && v.variations[0]?.values).toEqual((parseRangeText('0.001..0.05 log 8') as { values: number[] }).values);
    const bad = parseVaries(['a.b=0.001..0.05 log 1']);
    expect(bad.ok).toBe(false);
  });
});

describe('sweep plans', () => {
  it('reads a plan that names a scenario relative to itself, with ranges, sets, reps and mode', () => {
    planFile('base.yaml', 'name: base\nduration_s: 1\nprotocol: { tcp: { flows: [{ variant: reno }] } }\n');
    const f = planFile(
      'ok.yaml',
      'scenario: base.yaml\nset: { duration_s: 2 }\nvary:\n  protocol.tcp.bottleneck.loss: { from: 0.001, to: 0.05, scale: log, count: 3 }\n  protocol.tcp.flows.0.variant: [reno, newreno, tahoe]\nreps: 4\nmode: zip\n',
    );
    const p = loadPlan(f);
    expect(p.scenarioFile).toBe(join(dir, 'base.yaml'));
    expect(p.embedded).toBe(false);
    expect(p.reps).toBe(4);
    expect(p.mode).toBe('zip');
    expect(p.sets.map((s) => [s.text, s.value])).toEqual([['duration_s', 2]]);
    expect(p.variations.map((v) => [v.text, v.values])).toEqual([
      ['protocol.tcp.bottleneck.loss', [0.001, 0.00707107, 0.05]],
      ['protocol.tcp.flows[0].variant', ['reno', 'newreno', 'tahoe']],
    ]);
    expect(isPlan({ vary: {} })).toBe(true);
    expect(isPlan({ name: 'x', duration_s: 1 })).toBe(false);
  });

  it('reports every problem of a plan at once, with field paths and a did-you-mean', () => {
    const f = planFile(
      'bad.yaml',
      'scenario: tcp-mathis-padhy\nrep: 3\nmode: zipped\nvary:\n  protocol.tcp.bottleneck.loss: { from: 0, to: 0.05, scale: log, count: 8 }\n  a.__proto__.b: [1]\n  x.y: 7\n  z: { from: 1, to: 2, scael: log }\n',
    );
    expect(issuesOf(() => loadPlan(f))).toEqual(['mode: expected "product" or "zip", got "zipped"', 'rep: unknown key; did you mean "reps"?']);
    const g = planFile(
      'bad2.yaml',
      'scenario: tcp-mathis-padhy\nvary:\n  protocol.tcp.bottleneck.loss: { from: 0, to: 0.05, scale: log, count: 8 }\n  a.__proto__.b: [1]\n  x.y: 7\n  z: { from: 1, to: 2, scael: log }\n',
    );
    expect(issuesOf(() => loadPlan(g))).toEqual([
      'vary.protocol.tcp.bottleneck.loss: range "0..0.05 log 8": a log range needs both ends > 0',
      'vary.a.__proto__.b: "__proto__" is not a scenario key',
      'vary.x.y: expected a list of values, a range such as "0.001..0.05 log 8", or {from, to, scale, count}; got 7 (a single value belongs under set:)',
      'vary.z.scael: unknown key; did you mean "scale"?',
      'scenario: no scenario file "tcp-mathis-padhy" (looked relative to the plan\'s folder) and no bundled scenario of that name; did you mean "tcp-mathis-padhye"?',
    ]);
  });

  it('names a bundled scenario, unless a folder of that name is next to the plan: then it says how to choose', () => {
    const sub = join(dir, 'beside');
    mkdirSync(sub);
    const f = join(sub, 'plan.yaml');
    writeFileSync(f, 'scenario: tcp-original\nvary:\n  duration_s: [1, 2]\n');
    expect(loadPlan(f).scenarioFile).toMatch(/bundled[/\\]tcp-original\.yaml$/);
    mkdirSync(join(sub, 'tcp-original'));
    expect(issuesOf(() => loadPlan(f))).toEqual([
      'scenario: "tcp-original" is a directory, and also the name of a bundled scenario: give bundled:tcp-original for the bundled scenario, or the path of a scenario file',
    ]);
    writeFileSync(f, 'scenario: bundled:tcp-original\nvary:\n  duration_s: [1, 2]\n');
    expect(loadPlan(f).scenarioFile).toMatch(/bundled[/\\]tcp-original\.yaml$/);
  });

  it('zip mode takes the i-th value of every list; product every combination', () => {
    const vars = [
      { path: ['a'], text: 'a', values: [1, 2, 3] },
      { path: ['b'], text: 'b', values: ['x', 'y', 'z'] },
    ];
    expect(planRuns(1, vars, 2, 'zip').map((r) => [r.runId, r.rep, ...r.values])).toEqual([
      ['r0000', 0, 1, 'x'],
      ['r0001', 1, 1, 'x'],
      ['r0002', 0, 2, 'y'],
      ['r0003', 1, 2, 'y'],
      ['r0004', 0, 3, 'z'],
      ['r0005', 1, 3, 'z'],
    ]);
    expect(planRuns(1, vars, 1, 'product')).toHaveLength(9);
    // The seed depends on the values, not the mode: the zip run (2, y) is the product run (2, y).
    const zip = planRuns(1, vars, 1, 'zip')[1];
    const product = planRuns(1, vars, 1, 'product').find((r) => r.values[0] === 2 && r.values[1] === 'y');
    expect(zip?.seed).toBe(product?.seed);
  });
});

/**
 * SWIM's false-positive measures and their figure: a false death counts a
 * live member put out of the group once per incarnation however many members
 * declare it; the rates are per live member-hour; `false-positives.svg` draws
 * the four settings of suspicion and Lifeguard on a log axis with 95%
 * confidence intervals, and only for a sweep that varies exactly those two.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { checkScenario } from '../../src/scenarios/loader.js';
import { executeScenario } from '../../src/scenarios/runner.js';
import { falsePositivesSpec, FALSE_POSITIVE_METRIC } from '../../src/scenarios/plots/swim.js';
import type { SweepTable } from '../../src/scenarios/plots/sweep.js';
import { SwimMetrics } from '../../src/sim/swim-metrics.js';

describe('SwimMetrics false deaths', () => {
  it('counts a live member declared dead once per incarnation, and every declaration as a false positive', () => {
    const m = new SwimMetrics(4);
    for (let id = 0; id < 4; id++) m.initial(id);
    // Two members' own suspicion timers expire for member 3 at incarnation 2: two false positives, one false death.
    m.observe(0, 3, 'dead', 'timeout', 1e9, 2);
    m.observe(1, 3, 'dead', 'timeout', 2e9, 2);
    // One learns it from the others: not a declaration of its own.
    m.observe(2, 3, 'dead', 'gossip', 3e9, 2);
    expect(m.falsePositives).toBe(2);
    expect(m.falseDeaths).toBe(1);
    // Member 3 refuted (incarnation 3) and is declared dead again: a second false death.
    m.observe(0, 3, 'dead', 'probe', 4e9, 3);
    expect(m.falsePositives).toBe(3);
    expect(m.falseDeaths).toBe(2);
    // A crashed member declared dead is a true positive.
    m.change('fail', 2, 5e9);
    m.observe(0, 2, 'dead', 'timeout', 6e9, 0);
    expect(m.falsePositives).toBe(3);
    expect(m.falseDeaths).toBe(2);
  });
});

describe('swim driver false-positive metrics', () => {
  it('rates are per live member-hour, and false deaths never exceed false positives', () => {
    const raw = {
      name: 'swim-fp-test',
      seed: 3,
      duration_s: 120,
      network: { nodes: 12, link: { loss: 0.05 } },
      protocol: { swim: { suspicion: false } },
      outputs: { traces: 'none', plots: false },
    };
    const r = checkScenario(raw, BUILTIN_DRIVERS);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const m = executeScenario(r.scenario, undefined).metrics;
    const memberHours = (12 * 120) / 3600;
    expect(m['false_positives']).toBeGreaterThan(0);
    expect(m['false_deaths']).toBeGreaterThan(0);
    expect(m['false_deaths']).toBeLessThanOrEqual(m['false_positives'] ?? 0);
    expect(m['false_deaths_per_member_hour']).toBeCloseTo((m['false_deaths'] ?? 0) / memberHours, 9);
    expect(m['false_suspicions_per_member_hour']).toBe(0);
  });
});

const VARY = ['protocol.swim.suspicion', 'protocol.swim.lifeguard'];
const M = FALSE_POSITIVE_METRIC;

function table(vary: readonly string[], rows: (readonly string[])[]): SweepTable {
  return { vary, metrics: [M], header: [...VARY, 'runs', `${M}_mean`, `${M}_ci95_lo`, `${M}_ci95_hi`], rows };
}

const ROWS = [
  ['0', '0', '250', '38.7', '38.3', '39.1'],
  ['0', '1', '250', '28.4', '28.2', '28.7'],
  ['1', '0', '250', '0.375', '0.326', '0.424'],
  ['1', '1', '250', '0.21', '-0.01', '0.248'],
];

describe('false-positives figure', () => {
  it('draws the four settings on a log axis from a decade below the lowest to a decade above the highest, bars cut at the bottom', () => {
    const spec = falsePositivesSpec(table(VARY, ROWS), { title: 'swim-false-positives' });
    expect(spec).toBeDefined();
    const points = (spec?.['datasets'] as { points: { x: string; series: string; y: number; lo: number; hi: number; label: string }[] }).points;
    expect(points.map((p) => [p.x, p.series, p.label])).toEqual([
      ['Suspicion off', 'off', '38.7'],
      ['Suspicion off', 'on', '28.4'],
      ['Suspicion on', 'off', '0.38'],
      ['Suspicion on', 'on', '0.21'],
    ]);
    const layers = spec?.['layer'] as { encoding: { y: { scale: { type: string; domain: number[] }; title: string } } }[];
    const y = layers[3]?.encoding.y;
    expect(y?.scale).toEqual({ type: 'log', domain: [0.1, 100], nice: false });
    expect(y?.title).toBe('False deaths (per member-hour)');
    // The interval reaching below zero stops at the axis bottom.
    expect(points[3]?.lo).toBe(0.1);
    expect(points[2]?.lo).toBe(0.326);
  });

  it('is not drawn for a sweep of other parameters, of a third one too, or without the metric', () => {
    expect(falsePositivesSpec(table(['protocol.swim.suspicion'], ROWS))).toBeUndefined();
    expect(falsePositivesSpec(table([...VARY, 'protocol.swim.indirect_checks'], ROWS))).toBeUndefined();
    expect(falsePositivesSpec({ ...table(VARY, ROWS), header: [...VARY, 'runs', 'other_mean'] })).toBeUndefined();
  });
});

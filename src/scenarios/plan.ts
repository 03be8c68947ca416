/**
 * Sweep plan files: a sweep as a file to commit beside the paper.
 *
 * ```yaml
 * scenario: tcp-mathis-padhye        # a scenario file (relative to this file) or a bundled name,
 *                                    # or the scenario itself as a mapping
 * set: { duration_s: 600 }           # overrides applied to every run (as --set)
 * vary:                              # path: values (as --vary); the first varies slowest
 *   protocol.tcp.bottleneck.loss: { from: 0.001, to: 0.05, scale: log, count: 8 }
 *   protocol.tcp.flows[0].variant: [reno, newreno]
 *   protocol.tcp.bottleneck.queue_packets: 10..100 lin 4   # the compact form, as --vary takes it
 * reps: 5                            # replications per combination (1 to 100000, default 1)
 * mode: product                      # product (every combination, default) or zip (lists side by side)
 * ```
 *
 * A plan is validated up front like a scenario: every problem at once, each
 * with its field path, unknown keys with a did-you-mean. Nothing here reads
 * the scenario's protocol module or runs anything; {@link runSweep} checks
 * every run's scenario before the first one starts.
 */
import { dirname } from 'node:path';
import { z } from 'zod';
import { bundledScenarios, findScenarioFile } from './bundled.js';
import type { Issue } from './driver.js';
import { ScenarioError } from './errors.js';
import { didYouMean, readScenarioFile, resolveExtends, zodIssues } from './loader.js';
import { formatPath, parsePath, pathProblem, type Override, type Variation } from './overrides.js';
import { expandRange, MAX_RANGE_COUNT, parseRangeText } from './ranges.js';
import type { SweepMode } from './sweep.js';

/** The most replications a plan may ask for. */
export const MAX_PLAN_REPS = 100_000;

const rangeSchema = z.strictObject({
  from: z.number(),
  to: z.number(),
  scale: z.enum(['lin', 'log']).default('lin'),
  count: z.int().min(2).max(MAX_RANGE_COUNT).optional(),
});

/** The plan file schema. */
export const planSchema = z.strictObject({
  scenario: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  description: z.string().optional(),
  set: z.record(z.string(), z.unknown()).default({}),
  vary: z.record(z.string(), z.unknown()),
  reps: z.int().min(1).max(MAX_PLAN_REPS).default(1),
  mode: z.enum(['product', 'zip']).default('product'),
});

/** A validated plan, ready for {@link runSweep}. */
export interface SweepPlan {
  /** The plan file. */
  readonly planFile: string;
  /** The scenario file the plan names, or the plan file itself when the scenario is embedded. */
  readonly scenarioFile: string;
  /** True when the scenario is a mapping inside the plan. */
  readonly embedded: boolean;
  /** The scenario as parsed (before overrides). */
  readonly raw: unknown;
  readonly sets: readonly Override[];
  readonly variations: readonly Variation[];
  readonly reps: number;
  readonly mode: SweepMode;
  /** What sweep.json records of the plan: its file name and content as parsed. */
  readonly record: { readonly file: string; readonly content: unknown };
}

/** True when a parsed YAML document is a plan rather than a scenario (it has `vary:` or names a `scenario:`). */
export function isPlan(doc: unknown): boolean {
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc) && ('vary' in doc || 'scenario' in doc);
}

/** Reads and validates a plan file. Throws {@link ScenarioError} naming the plan (or the scenario it names) and every problem. */
export function loadPlan(planFile: string, doc: unknown = readScenarioFile(planFile)): SweepPlan {
  const parsed = planSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) throw new ScenarioError(planFile, zodIssues(parsed.error.issues, [], planSchema));
  const p = parsed.data;
  const issues: Issue[] = [];

  const sets: Override[] = [];
  for (const [text, value] of Object.entries(p.set)) {
    const path = parsePath(text);
    if (path === undefined) issues.push({ path: `set.${text}`, message: badPathMessage(text) });
    else sets.push({ path, text, value, arg: `${text}=${typeof value === 'string' ? value : JSON.stringify(value)}` });
  }

  const variations: Variation[] = [];
  const entries = Object.entries(p.vary);
  if (entries.length === 0) issues.push({ path: 'vary', message: 'expected at least one parameter to vary (path: [values] or a range)' });
  for (const [text, spec] of entries) {
    const at = `vary.${text}`;
    const path = parsePath(text);
    if (path === undefined) {
      issues.push({ path: at, message: badPathMessage(text) });
      continue;
    }
    const values = varyValues(spec, at, issues);
    if (values !== undefined) variations.push({ path, text: formatPath(path), values });
  }
  if (p.mode === 'zip' && new Set(variations.map((v) => v.values.length)).size > 1) {
    issues.push({
      path: 'mode',
      message: `zip takes the i-th value of every vary list, so the lists must be equally long; got ${variations.map((v) => `${v.text}: ${v.values.length}`).join(', ')}`,
    });
  }
  const seen = new Map<string, string>();
  for (const v of variations) {
    const prev = seen.get(v.text);
    if (prev !== undefined) issues.push({ path: `vary.${v.text}`, message: `varied twice (also as ${prev})` });
    seen.set(v.text, v.text);
  }

  let scenarioFile = planFile;
  let raw: unknown = p.scenario;
  const embedded = typeof p.scenario !== 'string';
  if (typeof p.scenario === 'string') {
    // A file relative to the plan's folder, else a bundled scenario.
    const found = findScenarioFile(p.scenario, dirname(planFile));
    if (found === undefined) {
      const hint = didYouMean(p.scenario, bundledScenarios());
      issues.push({
        path: 'scenario',
        message: `no scenario file ${JSON.stringify(p.scenario)} (looked relative to the plan's folder) and no bundled scenario of that name${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : ''}`,
      });
    } else if (!found.ok) issues.push({ path: 'scenario', message: `${JSON.stringify(p.scenario)} ${found.message}` });
    else scenarioFile = found.file;
  }
  if (issues.length > 0) throw new ScenarioError(planFile, issues);
  if (!embedded) raw = readScenarioFile(scenarioFile);
  else {
    try {
      raw = resolveExtends(raw, planFile);
    } catch (err) {
      // The embedded scenario's `extends` is the plan's field `scenario.extends`.
      if (err instanceof ScenarioError && err.file === planFile)
        throw new ScenarioError(
          planFile,
          err.issues.map((i) => ({ ...i, path: `scenario.${i.path}` })),
        );
      throw err;
    }
  }
  return {
    planFile,
    scenarioFile,
    embedded,
    raw,
    sets,
    variations,
    reps: p.reps,
    mode: p.mode,
    record: { file: planFile.split(/[\\/]/).pop() ?? planFile, content: doc },
  };
}

function badPathMessage(text: string): string {
  const why = pathProblem(text);
  return why ?? `not a field path (expected e.g. protocol.tcp.bottleneck.loss or protocol.tcp.flows[0].variant)`;
}

/** The values of one `vary:` entry: a non-empty list, a range mapping or a compact range string. */
function varyValues(spec: unknown, at: string, issues: Issue[]): unknown[] | undefined {
  if (Array.isArray(spec)) {
    if (spec.length === 0) issues.push({ path: at, message: 'expected at least one value' });
    return spec.length > 0 ? spec : undefined;
  }
  if (typeof spec === 'string') {
    const r = parseRangeText(spec);
    if (r === undefined) {
      issues.push({
        path: at,
        message: `expected a list of values, a range such as "0.001..0.05 log 8", or {from, to, scale, count}; got ${JSON.stringify(spec)} (a single value belongs under set:)`,
      });
      return undefined;
    }
    if (!r.ok) issues.push({ path: at, message: r.message });
    return r.ok ? r.values : undefined;
  }
  if (spec !== null && typeof spec === 'object') {
    const parsed = rangeSchema.safeParse(spec, { reportInput: true });
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error.issues, [], rangeSchema).map((i) => ({ ...i, path: i.path === '' ? at : `${at}.${i.path}` })));
      return undefined;
    }
    const r = expandRange(
      parsed.data,
      `${parsed.data.from}..${parsed.data.to} ${parsed.data.scale}${parsed.data.count !== undefined ? ` ${parsed.data.count}` : ''}`,
    );
    if (!r.ok) issues.push({ path: at, message: r.message });
    return r.ok ? r.values : undefined;
  }
  issues.push({
    path: at,
    message: `expected a list of values, a range such as "0.001..0.05 log 8", or {from, to, scale, count}; got ${JSON.stringify(spec)} (a single value belongs under set:)`,
  });
  return undefined;
}

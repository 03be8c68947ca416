/**
 * Loading and validating scenario files.
 *
 * Validation returns every problem at once, each with a path
 * (`network.links[2].latency_ms: expected a number >= 0, got -5`); only the
 * CLI turns problems into an exit code. Steps: read bytes, decode strict UTF-8,
 * parse YAML (JSON is YAML) with line and column on syntax errors, apply
 * `--set` overrides, check the schema (zod), then the checks that need the
 * whole file (node names, overlapping groups, the driver's own checks).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { count } from '../io/count.js';
import type { FaultEntry, Issue, NetworkSection, ProtocolDriver, ScenarioFor } from './driver.js';
import { ScenarioError } from './errors.js';
import { OUTPUT_MARKER } from './files.js';
import { defaultNodeNames, defaultNodeNameSet, nodeNameSet } from './network-section.js';
import { applyOverrides, formatPath, type Override } from './overrides.js';
import { expandNodeRange, looksLikeNodeRange } from './ranges.js';
import { regionIssues } from './regions.js';
import { faultSchema, isProtocolPair, MEMBERSHIP_PROTOCOLS, scenarioSchema, SHARED_PROTOCOLS } from './schema.js';
import { numberRange } from './schema-docs.js';

/** A validated scenario with every default filled in, plus where it came from. */
export interface Scenario extends ScenarioFor<unknown, unknown> {
  /** The driver that runs it (and owns the workload). */
  readonly driver: ProtocolDriver;
  /**
   * Drivers whose sections run beside the driver's on the same network (TCP
   * flows beside gossip, see `SHARED_PROTOCOLS` in the schema); empty or absent for one protocol.
   */
  readonly companions?: readonly ProtocolDriver[];
}

/**
 * Reads and parses a scenario file to a plain object (no validation yet),
 * with its `extends:` chain merged in (see `resolveExtends` below). Throws
 * {@link ScenarioError}.
 */
export function readScenarioFile(file: string): unknown {
  return resolveExtends(readDocument(file), file);
}

/** The most files one `extends:` chain may hold. */
export const MAX_EXTENDS_DEPTH = 32;

/**
 * Merges a scenario's `extends: base.yaml` (a path relative to `file`) into
 * it, recursively: the base's own `extends` first. Mappings merge key by key
 * (the extending file wins), lists and scalars replace the base's whole. A
 * cycle is refused naming the chain, a missing base naming the file and the
 * field. Returns `doc` unchanged when it has no `extends`.
 * @param chain the files (absolute) that extend this one, outermost first
 */
export function resolveExtends(doc: unknown, file: string, chain: readonly string[] = []): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('extends' in doc)) return doc;
  const { extends: ext, ...own } = doc as Record<string, unknown>;
  const here = resolve(file);
  const shown = (f: string): string => {
    const r = relative(process.cwd(), f);
    return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : f;
  };
  if (typeof ext !== 'string' || ext === '') {
    throw new ScenarioError(file, [
      { path: 'extends', message: `expected the path of a base scenario file (relative to this file), got ${ext === '' ? '""' : describe(ext)}` },
    ]);
  }
  const base = isAbsolute(ext) ? ext : resolve(dirname(here), ext);
  const files = [...chain, here];
  if (files.includes(base)) {
    throw new ScenarioError(file, [{ path: 'extends', message: `extends itself through a cycle: ${[...files, base].map(shown).join(' -> ')}` }]);
  }
  if (files.length >= MAX_EXTENDS_DEPTH)
    throw new ScenarioError(file, [{ path: 'extends', message: `more than ${MAX_EXTENDS_DEPTH} files in the extends chain` }]);
  if (!existsSync(base)) {
    throw new ScenarioError(file, [
      { path: 'extends', message: `no such file ${JSON.stringify(ext)} (looked for ${shown(base)}, relative to this file)` },
    ]);
  }
  return deepMerge(resolveExtends(readDocument(base), base, files), own);
}

/** `over` merged onto `base`: mappings key by key, anything else (lists included) replaced by `over`'s. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (base === null || typeof base !== 'object' || Array.isArray(base) || over === null || typeof over !== 'object' || Array.isArray(over))
    return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    // defineProperty: a `__proto__` key stays a plain key (the schema refuses it) and never sets the prototype.
    Object.defineProperty(out, k, { value: Object.hasOwn(out, k) ? deepMerge(out[k], v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Reads and parses one file (no `extends`). */
function readDocument(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a scenario file' : `cannot read (${code ?? String(err)})`;
    throw new ScenarioError(file, [{ path: '', message: why }]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioError(file, [{ path: '', message: 'not UTF-8 text (scenario files must be UTF-8 YAML or JSON)' }]);
  }
  return recordedScenario(parseScenarioText(text, file), file);
}

/**
 * A run's `meta.json` (desim's marker `desim_output: run`) stands for the
 * scenario it records: the resolved scenario, seed and overrides included, so
 * `desim run DIR/meta.json` replays the run. Any other document is returned as is.
 */
function recordedScenario(doc: unknown, file: string): unknown {
  if (!isMapping(doc) || doc[OUTPUT_MARKER] !== 'run') return doc;
  const scenario = doc['scenario'];
  if (!isMapping(scenario))
    throw new ScenarioError(file, [
      { path: 'scenario', message: `expected the resolved scenario desim records in a run's meta.json (a mapping), got ${describe(scenario)}` },
    ]);
  return scenario;
}

/** Parses YAML or JSON text; syntax errors carry line and column. */
export function parseScenarioText(text: string, file = '<text>'): unknown {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    // The YAML parser recurses per nesting level: a document nested thousands deep overflows the stack.
    if (err instanceof RangeError) throw new ScenarioError(file, [{ path: '', message: tooDeep }]);
    throw err;
  }
  if (doc.errors.some((e) => /call stack/i.test(e.message))) throw new ScenarioError(file, [{ path: '', message: tooDeep }]);
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos !== undefined ? `line ${pos.line}, column ${pos.col}: ` : '';
        return { path: '', message: `YAML syntax error: ${where}${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new ScenarioError(file, [
        { path: '', message: `YAML: too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing a document that expands like an alias bomb` },
      ]);
    }
    if (err instanceof RangeError) throw new ScenarioError(file, [{ path: '', message: tooDeep }]);
    throw err;
  }
  if (nestingDepth(value) > MAX_DEPTH) throw new ScenarioError(file, [{ path: '', message: tooDeep }]);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScenarioError(file, [{ path: '', message: 'expected a mapping (name: ..., duration_s: ..., protocol: ...) at the top level' }]);
  }
  return value;
}

/** Alias expansions a document may make (a few per legitimate anchor; an alias bomb makes billions). */
const MAX_ALIAS_COUNT = 1000;
/** Nesting depth of mappings and lists a scenario may have (real ones stay under 10). */
const MAX_DEPTH = 64;
const tooDeep = `nested too deeply (at most ${MAX_DEPTH} levels of mappings and lists)`;

/** The nesting depth of a parsed document, counted without recursion. */
function nestingDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > MAX_DEPTH) return max;
    for (const c of Object.values(v as Record<string, unknown>)) stack.push([c, d + 1]);
  }
  return max;
}

/** Loads, overrides and validates a scenario file. Throws {@link ScenarioError} listing every problem. */
export function loadScenario(file: string, drivers: readonly ProtocolDriver[], overrides: readonly Override[] = []): Scenario {
  return validateScenario(readScenarioFile(file), drivers, file, overrides);
}

/** Validates a parsed scenario object (after applying overrides). Throws {@link ScenarioError}. */
export function validateScenario(
  raw: unknown,
  drivers: readonly ProtocolDriver[],
  file = '<scenario>',
  overrides: readonly Override[] = [],
): Scenario {
  const result = checkScenario(raw, drivers, overrides);
  if (!result.ok) throw new ScenarioError(sourceOf(result.issues, overrides) ?? file, result.issues);
  return result.scenario;
}

/** The `--set` argument a problem's path lies in (at or below the overridden path), if any. */
export function overrideOf(issue: Issue, overrides: readonly Override[]): Override | undefined {
  return [...overrides].reverse().find((o) => {
    const p = formatPath(o.path);
    const under = (a: string, b: string): boolean => a === b || a.startsWith(b + '.') || a.startsWith(b + '[');
    // At or below the path it sets, or on the way to it (a list index past the end, a scalar where a mapping goes).
    return under(issue.path, p) || (issue.path !== '' && under(p, issue.path) && issue.message.startsWith(`cannot set ${o.text}`));
  });
}

/** `--set ARG` when every problem comes from the same `--set` argument (then the file is not to blame). */
function sourceOf(issues: readonly Issue[], overrides: readonly Override[]): string | undefined {
  const args = new Set(issues.map((i) => overrideOf(i, overrides)?.arg));
  const only = args.size === 1 ? [...args][0] : undefined;
  return only !== undefined ? `--set ${only}` : undefined;
}

/**
 * The most kernel events a scenario may be estimated to take: about 3 to 15
 * minutes of one core at this simulator's speed. Anything above is almost
 * always a unit slip (an interval in seconds given in milliseconds, say).
 */
export const MAX_EVENTS = 1e9;

/** Options of {@link checkScenario}. */
export interface CheckOptions {
  /** Refuse scenarios estimated to take more kernel events than this. Default `MAX_EVENTS` (10^9). */
  readonly maxEvents?: number;
}

/** Validation as a result, never throwing for bad input. */
export function checkScenario(
  raw: unknown,
  drivers: readonly ProtocolDriver[],
  overrides: readonly Override[] = [],
  options: CheckOptions = {},
): { ok: true; scenario: Scenario } | { ok: false; issues: Issue[] } {
  let input = raw;
  if (overrides.length > 0) {
    const o = applyOverrides(raw, overrides);
    if (!o.ok) return { ok: false, issues: o.issues };
    input = o.value;
  }
  const ranges = expandNodeRanges(input);
  input = ranges.value;
  const schema = scenarioSchema(drivers);
  const parsed = schema.safeParse(input, { reportInput: true });
  const issues: Issue[] = [...ranges.issues];
  if (!parsed.success) issues.push(...zodIssues(parsed.error.issues, [], schema));
  // Protocol section and workload entries go to the driver's schemas (also when the top level has problems).
  const obj = (input ?? {}) as Record<string, unknown>;
  const protocol = obj['protocol'];
  const present = protocol !== null && typeof protocol === 'object' ? Object.keys(protocol).filter((k) => drivers.some((d) => d.name === k)) : [];
  // Two sections that may share a run (SHARED_PROTOCOLS, MEMBERSHIP_PROTOCOLS): the first owns the workload, the other runs beside it.
  const shared = isProtocolPair(present, SHARED_PROTOCOLS) || isProtocolPair(present, MEMBERSHIP_PROTOCOLS);
  const driverName = shared ? SHARED_PROTOCOLS[0] : present[0];
  const driver = drivers.find((d) => d.name === driverName);
  const companions = shared ? drivers.filter((d) => d.name !== driverName && present.includes(d.name)) : [];
  // Entry i of the file stays at index i (undefined when invalid), so later messages name the right entry.
  const workload: unknown[] = [];
  if (driver !== undefined && Array.isArray(obj['workload'])) {
    (obj['workload'] as unknown[]).forEach((w, i) => {
      const r = driver.workloadSchema.safeParse(w, { reportInput: true });
      if (r.success) workload.push(r.data);
      else {
        workload.push(undefined);
        issues.push(...zodIssues(r.error.issues, ['workload', i], driver.workloadSchema));
      }
    });
  }
  if (driver !== undefined) issues.push(...traceIssues(obj['outputs'], [driver, ...companions]));
  if (!parsed.success || issues.length > 0 || driver === undefined) {
    // Report the cross-field problems too, as far as the parts they need are valid.
    issues.push(...partialSemanticIssues(obj, workload));
    return {
      ok: false,
      issues: quoteHints(
        dedupe(issues.length > 0 ? issues : [{ path: 'protocol', message: `expected one of ${drivers.map((d) => d.name).join(', ')}` }]),
        overrides,
      ),
    };
  }
  const s = parsed.data;
  const network: NetworkSection =
    s.network === undefined
      ? { nodes: [], link: {}, links: [] }
      : ({
          nodes: typeof s.network.nodes === 'number' ? defaultNodeNames(s.network.nodes) : s.network.nodes,
          link: s.network.link,
          links: s.network.links,
          ...(s.network.regions !== undefined ? { regions: s.network.regions } : {}),
          ...(typeof s.network.nodes === 'number' ? { counted: true } : {}),
        } as NetworkSection);
  const protocolSections = s.protocol as Record<string, unknown>;
  const settings = protocolSections[driver.name];
  const scenario: Scenario = {
    name: s.name,
    description: s.description,
    seed: s.seed,
    duration_s: s.duration_s,
    network,
    protocol: { [driver.name]: settings, ...Object.fromEntries(companions.map((c) => [c.name, protocolSections[c.name]])) },
    settings,
    workload,
    faults: s.faults as FaultEntry[],
    outputs: { traces: s.outputs.traces === 'none' ? [] : s.outputs.traces, plots: s.outputs.plots },
    driver,
    ...(companions.length > 0 ? { companions } : {}),
  };
  // A protocol beside TCP's dumbbell has no nodes to run on: that is its one problem (not, say, "needs at least 2 nodes").
  const homeless = besideDumbbell(scenario, raw, overrides);
  const checked = (d: ProtocolDriver): Issue[] => {
    const h = homeless.filter((i) => i.path === `protocol.${d.name}`);
    return h.length > 0 ? h : (d.check?.(d === driver ? scenario : companionView(scenario, d)) ?? []);
  };
  const own = [driver, ...companions].flatMap(checked);
  // The driver's word on a whole section (TCP: "no faults yet") replaces the generic one ("faults need a network").
  const sections = new Set(own.filter((i) => !i.path.includes('.') && !i.path.includes('[')).map((i) => i.path));
  issues.push(...semanticIssues(scenario).filter((i) => !sections.has(i.path)), ...own);
  // Queue disciplines act on the TCP flows (their metrics and ECN are the TCP driver's): refused on a network without them.
  if (!present.includes('tcp')) {
    const noTcp = 'a queue discipline is for TCP flows (protocol.tcp: it reports the queue delay and negotiates ECN): remove it';
    if (scenario.network.link.aqm !== undefined) issues.push({ path: 'network.link.aqm', message: noTcp });
    scenario.network.links.forEach((l, i) => {
      if (l.aqm !== undefined) issues.push({ path: `network.links[${i}].aqm`, message: noTcp });
    });
  }
  if (issues.length === 0) issues.push(...workIssues(scenario, options.maxEvents ?? MAX_EVENTS));
  return issues.length > 0 ? { ok: false, issues: quoteHints(dedupe(issues), overrides) } : { ok: true, scenario };
}

/**
 * A `--set` value is read as YAML, so `name=007` sets the number 7: where a
 * string was expected at exactly the path a `--set` gives, say how to keep the text.
 */
function quoteHints(issues: Issue[], overrides: readonly Override[]): Issue[] {
  return issues.map((i) => {
    const o = overrideOf(i, overrides);
    if (o?.arg === undefined || typeof o.value === 'string' || formatPath(o.path) !== i.path || !i.message.startsWith('expected a string')) return i;
    const text = o.arg.slice(o.arg.indexOf('=') + 1);
    return { ...i, message: `${i.message} (the value is read as YAML; quote it to keep the text: --set '${o.text}="${text}"')` };
  });
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Expands node ranges (`n0..n24`) in node lists: `network.nodes` (names
 * defined there) and the groups of `partition` and `hold` faults (checked
 * against the nodes). A bad range (reversed, mixed prefixes, unknown nodes)
 * is an issue at its path and stays as written (the node checks then skip it).
 */
function expandNodeRanges(input: unknown): { value: unknown; issues: Issue[] } {
  if (!isMapping(input)) return { value: input, issues: [] };
  const issues: Issue[] = [];
  let out: Record<string, unknown> = input;
  const expandList = (list: readonly unknown[], names: ReadonlySet<string> | undefined, path: string): unknown[] =>
    list.flatMap((n, k) => {
      const r = typeof n === 'string' ? expandNodeRange(n, names) : undefined;
      if (r === undefined) return [n];
      if (!r.ok) {
        issues.push({ path: `${path}[${k}]`, message: r.message });
        return [n];
      }
      return r.nodes;
    });
  const net = input['network'];
  let names: ReadonlySet<string> | undefined;
  if (isMapping(net) && Array.isArray(net['nodes'])) {
    const nodes = expandList(net['nodes'] as unknown[], undefined, 'network.nodes');
    out = { ...out, network: { ...net, nodes } };
    if (nodes.every((n): n is string => typeof n === 'string')) names = new Set(nodes);
  } else if (isMapping(net) && typeof net['nodes'] === 'number' && Number.isInteger(net['nodes']) && net['nodes'] >= 1 && net['nodes'] <= 1_000_000) {
    names = defaultNodeNameSet(net['nodes']);
  }
  const faults = input['faults'];
  if (Array.isArray(faults)) {
    out = {
      ...out,
      faults: (faults as unknown[]).map((f, i) => {
        if (!isMapping(f)) return f;
        let g: Record<string, unknown> = f;
        for (const verb of ['partition', 'hold']) {
          const groups = f[verb];
          if (!Array.isArray(groups)) continue;
          g = {
            ...g,
            [verb]: (groups as unknown[]).map((grp, gi) =>
              Array.isArray(grp) ? expandList(grp as unknown[], names, `faults[${i}].${verb}[${gi}]`) : grp,
            ),
          };
        }
        return g;
      }),
    };
  }
  return { value: out, issues };
}

/** Refuses a scenario whose estimated event count is above `max`, naming the estimate and the key of its largest term. */
function workIssues(s: Scenario, max: number): Issue[] {
  const terms = [
    {
      events: s.workload.length + s.faults.length,
      path: 'workload',
      why: `${count(s.workload.length, 'workload entry', 'workload entries')} and ${count(s.faults.length, 'fault')}`,
    },
    ...(s.driver.estimate?.(s) ?? []),
    ...(s.companions ?? []).flatMap((c) => c.estimate?.(companionView(s, c)) ?? []),
  ];
  const total = terms.reduce((sum, t) => sum + t.events, 0);
  if (total <= max && Number.isFinite(total)) return [];
  const top = terms.reduce((a, b) => (b.events > a.events || !Number.isFinite(b.events) ? b : a));
  return [
    {
      path: top.path,
      message: `the run is estimated at ${sci(total)} events (${top.why}), more than the ${sci(max)} a run may take: ${top.path === 'duration_s' ? 'shorten it' : `change ${top.path} or shorten duration_s`}`,
    },
  ];
}

function sci(n: number): string {
  return Number.isFinite(n) ? n.toExponential(1).replace('e+', 'e') : String(n);
}

/**
 * A valid scenario in a few words, as `desim validate` prints it: its protocols,
 * the network's node count, what each driver adds (`tcp, 1 flow on a dumbbell,
 * 3 s`; `gossip, 3 nodes, 12 s`).
 */
export function scenarioSummary(s: Scenario): string {
  const drivers = [s.driver, ...(s.companions ?? [])];
  const own = drivers.flatMap((d) => {
    const words = d.summary?.(d === s.driver ? s : companionView(s, d));
    return words === undefined || words === '' ? [] : [words];
  });
  const nodes = s.network.nodes.length > 0 ? [count(s.network.nodes.length, 'node')] : own.length > 0 ? [] : ['no network'];
  return [drivers.map((d) => d.name).join(' + '), ...nodes, ...own, `${s.duration_s} s`].join(', ');
}

/**
 * A protocol section beside TCP in a scenario without a network section: the
 * TCP flows run on the dumbbell, which has no nodes for the other protocol.
 * Names the `--set` that added the section, when one did.
 */
function besideDumbbell(s: Scenario, raw: unknown, overrides: readonly Override[]): Issue[] {
  const names = Object.keys(s.protocol);
  if (s.network.nodes.length > 0 || !names.includes('tcp')) return [];
  const inFile = isMapping(raw) && isMapping(raw['protocol']) ? raw['protocol'] : {};
  return names
    .filter((n) => n !== 'tcp')
    .map((n) => {
      const adder =
        inFile[n] === undefined
          ? [...overrides].reverse().find((o) => o.path[0] === 'protocol' && (o.path.length === 1 || o.path[1] === n))
          : undefined;
      const what =
        adder !== undefined
          ? `added by --set ${adder.arg ?? adder.text} to a scenario without a network section`
          : 'beside tcp without a network section';
      return {
        path: `protocol.${n}`,
        message: `${what}: the TCP flows run on the dumbbell, and ${n} runs on the nodes of a network section; to run both, add network.nodes and give each flow from and to (as the bundled gossip-tcp-shared-link does), else remove protocol.${n}`,
      };
    });
}

/** The scenario as companion `c` sees it: its own section as `settings`, and no workload (the driver owns it). */
export function companionView(s: Scenario, c: ProtocolDriver): Scenario {
  return { ...s, settings: s.protocol[c.name], workload: [], driver: c };
}

/** `outputs.traces` names a trace the protocols do not write: refused with a did-you-mean (it would be silently missing). */
function traceIssues(outputs: unknown, protocols: readonly ProtocolDriver[]): Issue[] {
  const traces = (outputs as { traces?: unknown } | null | undefined)?.traces;
  if (protocols.some((d) => d.traces === undefined) || !Array.isArray(traces)) return [];
  const driver = { name: protocols.map((d) => d.name).join(' and '), traces: protocols.flatMap((d) => d.traces ?? []) };
  const known = driver.traces;
  const issues: Issue[] = [];
  traces.forEach((t, i) => {
    if (typeof t !== 'string' || known.includes(t)) return;
    const hint = didYouMean(t, known);
    const list = known.length > 0 ? `${driver.name} writes ${known.join(', ')}` : `${driver.name} writes no traces`;
    issues.push({
      path: `outputs.traces[${i}]`,
      message: `unknown trace ${JSON.stringify(t)}${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : ''} (${list})`,
    });
  });
  return issues;
}

/** The cross-field checks on the parts of an invalid file that are valid on their own. */
function partialSemanticIssues(obj: Record<string, unknown>, workload: readonly unknown[]): Issue[] {
  const rawNodes = (obj['network'] as { nodes?: unknown } | undefined)?.nodes;
  const nodes =
    typeof rawNodes === 'number' && Number.isInteger(rawNodes) && rawNodes >= 1 && rawNodes <= 1_000_000
      ? { nodes: defaultNodeNames(rawNodes), counted: true as const }
      : Array.isArray(rawNodes) && rawNodes.every((n) => typeof n === 'string')
        ? { nodes: rawNodes }
        : undefined;
  if (nodes === undefined) return [];
  const rawFaults = Array.isArray(obj['faults']) ? (obj['faults'] as unknown[]) : [];
  const faults = rawFaults.map((f) => {
    const r = faultSchema.safeParse(f);
    return r.success ? (r.data as FaultEntry) : undefined;
  });
  const duration = typeof obj['duration_s'] === 'number' && obj['duration_s'] > 0 ? obj['duration_s'] : Infinity;
  return semanticIssues({ network: { ...nodes, link: {}, links: [] }, faults, duration_s: duration, workload });
}

function semanticIssues(s: {
  network: NetworkSection;
  faults: readonly (FaultEntry | undefined)[];
  duration_s: number;
  workload: readonly unknown[];
}): Issue[] {
  const issues: Issue[] = [];
  let names: ReadonlySet<string>;
  if (s.network.counted === true) names = nodeNameSet(s.network);
  else {
    const seen = new Set<string>();
    s.network.nodes.forEach((n, i) => {
      if (seen.has(n)) issues.push({ path: `network.nodes[${i}]`, message: `duplicate node name ${JSON.stringify(n)}` });
      seen.add(n);
    });
    names = seen;
  }
  const known = (n: string, path: string): void => {
    if (!names.has(n)) issues.push({ path, message: unknownNode(n, names) });
  };
  s.network.links.forEach((l, i) => {
    known(l.from, `network.links[${i}].from`);
    known(l.to, `network.links[${i}].to`);
  });
  const checkDist = (d: unknown, path: string): void => {
    const u = d as { dist?: string; min_ms?: number; max_ms?: number };
    if (u?.dist === 'uniform' && (u.min_ms ?? 0) > (u.max_ms ?? 0))
      issues.push({ path, message: `expected min_ms <= max_ms, got ${u.min_ms} > ${u.max_ms}` });
  };
  checkDist(s.network.link.latency_ms, 'network.link.latency_ms');
  if (s.network.regions !== undefined) {
    for (const r of regionIssues(s.network.regions, s.network.nodes.length)) {
      issues.push({ path: formatPath(['network', 'regions', ...r.path]), message: r.message });
    }
  }
  s.network.links.forEach((l, i) => checkDist(l.latency_ms, `network.links[${i}].latency_ms`));
  // A queue discipline works on the queue a finite bandwidth makes: without one it would do nothing.
  const noQueue = 'a queue discipline needs a queue: set bandwidth_bps (an unset bandwidth is infinite, no packet ever waits)';
  if (s.network.link.aqm !== undefined && s.network.link.bandwidth_bps === undefined) issues.push({ path: 'network.link.aqm', message: noQueue });
  s.network.links.forEach((l, i) => {
    if (l.aqm !== undefined && (l.bandwidth_bps ?? s.network.link.bandwidth_bps) === undefined)
      issues.push({ path: `network.links[${i}].aqm`, message: noQueue });
  });
  s.workload.forEach((w, i) => {
    const node = (w as { node?: unknown } | null)?.node;
    if (typeof node === 'string') known(node, `workload[${i}].node`);
    // An entry after the end would never happen: refused, as faults are.
    const at = (w as { at_s?: unknown } | null)?.at_s;
    if (typeof at === 'number' && at > s.duration_s)
      issues.push({ path: `workload[${i}].at_s`, message: `expected a time <= duration_s (${s.duration_s}), got ${at}` });
  });
  // Names that repair and release refer to: partitions and holds given a name.
  const partitions = new Set<string>();
  const holds = new Set<string>();
  for (const f of s.faults) {
    if (f !== undefined && 'partition' in f && f.name !== undefined) partitions.add(f.name);
    if (f !== undefined && 'hold' in f && f.name !== undefined) holds.add(f.name);
  }
  const knownName = (name: string, set: ReadonlySet<string>, kind: string, verb: string, path: string): void => {
    if (name === 'all' || set.has(name)) return;
    const hint = didYouMean(name, [...set]);
    const list = set.size === 0 ? `no ${kind} has a name: give one \`name:\`` : `named ${kind}s: ${[...set].join(', ')}`;
    issues.push({
      path,
      message: `unknown ${kind} ${JSON.stringify(name)}${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : ''} (${verb} takes a ${kind} name or all; ${list})`,
    });
  };
  s.faults.forEach((f, i) => {
    if (f === undefined) return;
    const p = `faults[${i}]`;
    if (f.at_s > s.duration_s) issues.push({ path: `${p}.at_s`, message: `expected a time <= duration_s (${s.duration_s}), got ${f.at_s}` });
    const gs = 'partition' in f ? f.partition : 'hold' in f ? f.hold : undefined;
    const verb = 'partition' in f ? 'partition' : 'hold';
    if (gs !== undefined) {
      const seen = new Map<string, number>();
      gs.forEach((g, gi) =>
        g.forEach((n, ni) => {
          // A node range left in a group was refused where it was expanded.
          if (!looksLikeNodeRange(n)) known(n, `${p}.${verb}[${gi}][${ni}]`);
          const prev = seen.get(n);
          if (prev !== undefined && prev !== gi)
            issues.push({ path: `${p}.${verb}[${gi}][${ni}]`, message: `node ${n} is in two groups: groups must not overlap` });
          seen.set(n, gi);
        }),
      );
    }
    if ('repair' in f) knownName(f.repair, partitions, 'partition', 'repair', `${p}.repair`);
    if ('release' in f) knownName(f.release, holds, 'hold', 'release', `${p}.release`);
    if ('crash' in f) known(f.crash, `${p}.crash`);
    if ('restart' in f) known(f.restart, `${p}.restart`);
    if ('between' in f) {
      known(f.between[0], `${p}.between[0]`);
      known(f.between[1], `${p}.between[1]`);
      // No node sends to itself: a change of the link from a node to itself would do nothing.
      if (f.between[0] === f.between[1]) issues.push({ path: `${p}.between`, message: `expected two different nodes, got ${f.between[0]} twice` });
      if ('set_latency_ms' in f) checkDist(f.set_latency_ms, `${p}.set_latency_ms`);
    }
  });
  // A name reused while its partition or hold is in force: the first could no longer be ended by name, and its name would do nothing.
  const inForce = new Map<string, number>();
  const byTime = s.faults.flatMap((f, i) => (f === undefined ? [] : [{ f, i }])).sort((x, y) => x.f.at_s - y.f.at_s || x.i - y.i);
  for (const { f, i } of byTime) {
    if (('partition' in f || 'hold' in f) && f.name !== undefined) {
      const kind = 'partition' in f ? 'partition' : 'hold';
      const prev = inForce.get(`${kind}:${f.name}`);
      if (prev !== undefined) {
        issues.push({
          path: `faults[${i}].name`,
          message: `the ${kind} ${JSON.stringify(f.name)} of faults[${prev}] is still in force: ${kind === 'partition' ? 'repair' : 'release'} it first or choose another name (the first could no longer be ended by name)`,
        });
      }
      inForce.set(`${kind}:${f.name}`, i);
    }
    const ended = 'repair' in f ? ['partition', f.repair] : 'release' in f ? ['hold', f.release] : undefined;
    if (ended !== undefined) {
      for (const k of [...inForce.keys()])
        if (k === `${ended[0]}:${ended[1]}` || (ended[1] === 'all' && k.startsWith(`${ended[0]}:`))) inForce.delete(k);
    }
  }
  if (s.faults.length > 0 && s.network.nodes.length === 0) {
    issues.push({ path: 'faults', message: 'faults need a network section with nodes' });
  }
  return issues;
}

/** `unknown node "X" (nodes: A, B, C)` with a did-you-mean when one is close. */
export function unknownNode(n: string, names: ReadonlySet<string>): string {
  // Beyond 10,000 names the edit distance to each would cost seconds: no hint.
  const hint = names.size <= 10_000 ? didYouMean(n, [...names]) : undefined;
  const list = names.size <= 10 ? ` (nodes: ${[...names].join(', ')})` : ` (${names.size} nodes)`;
  return `unknown node ${JSON.stringify(n)}${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : list}`;
}

/**
 * The closest candidate within a small edit distance (a swap of two neighbours
 * counts as one edit), if any; else one that shares all but the last letter of
 * the shorter word as a prefix (`delivery` → `deliveries`).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = word.length <= 2 ? 0 : Math.max(1, Math.floor(word.length / 3));
  if (best !== undefined && bestD <= limit) return best;
  return candidates.find((c) => {
    const lc = c.toLowerCase();
    const shorter = Math.min(lc.length, w.length);
    let k = 0;
    while (k < shorter && lc[k] === w[k]) k++;
    return shorter >= 4 && k >= shorter - 1;
  });
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const up = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

type ZIssue = z.core.$ZodIssue;

/** Converts zod issues into desim's messages: `path: expected ..., got ...`, unknown keys with a did-you-mean. */
export function zodIssues(issues: readonly ZIssue[], prefix: readonly PropertyKey[], schema: z.ZodType): Issue[] {
  const out: Issue[] = [];
  for (const i of issues) {
    const path = [...prefix, ...i.path];
    const input = (i as { input?: unknown }).input;
    switch (i.code) {
      case 'unrecognized_keys': {
        const known = keysAt(schema, path.slice(prefix.length));
        for (const k of i.keys) {
          const hint = didYouMean(k, known);
          out.push({
            path: formatPath([...path, k]),
            message: `unknown key${hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : known.length > 0 ? ` (expected one of: ${known.join(', ')})` : ''}`,
          });
        }
        break;
      }
      case 'invalid_union': {
        if (i.errors.length === 0) {
          const opts = (i as { options?: unknown[] }).options ?? [];
          // A discriminated union (workload `op`, latency `dist`): the issue is at the tag, its input the whole entry.
          const tag = (i as { discriminator?: unknown }).discriminator;
          const given = typeof tag === 'string' && isMapping(input) ? input[tag] : input;
          const expected = `one of ${opts.map((o) => JSON.stringify(o)).join(', ')}`;
          out.push({
            path: formatPath(path),
            message: given === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${describe(given)}${hintFor(given, opts)}`,
          });
          break;
        }
        // Only scalar branches, one of them a word (`none`, `never`, `all`): name every branch with its range.
        const scalar = i.errors.every(
          (b) => b.length > 0 && b.every((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')),
        );
        const words = i.errors.flatMap((b) => b.flatMap((e) => (e.code === 'invalid_value' ? e.values : [])));
        const alternatives = scalar && words.length > 0 ? describeAlternatives(nodesAt(schema, i.path)) : undefined;
        if (alternatives !== undefined) {
          out.push({
            path: formatPath(path),
            message:
              input === undefined ? `required: expected ${alternatives}` : `expected ${alternatives}, got ${describe(input)}${hintFor(input, words)}`,
          });
          break;
        }
        // The branch whose type matched (no root-level type error) explains the problem best.
        const deep = i.errors.filter((b) => !b.some((e) => e.path.length === 0 && e.code === 'invalid_type'));
        if (deep.length > 0) {
          const best = deep.reduce((a, b) => (b.length < a.length ? b : a));
          out.push(
            ...zodIssues(
              best.map((e) => ({ ...e, path: [...i.path, ...e.path] })),
              prefix,
              schema,
            ),
          );
        } else {
          const types = i.errors.flatMap((b) => b.filter((e) => e.code === 'invalid_type').map((e) => (e as { expected: string }).expected));
          out.push({ path: formatPath(path), message: `expected ${[...new Set(types)].map(article).join(' or ')}, got ${describe(input)}` });
        }
        break;
      }
      case 'invalid_type':
        out.push({
          path: formatPath(path),
          message: input === undefined ? `required: expected ${article(i.expected)}` : `expected ${article(i.expected)}, got ${describe(input)}`,
        });
        break;
      case 'too_small':
      case 'too_big': {
        const small = i.code === 'too_small';
        const bound = small ? (i as { minimum: number | bigint }).minimum : (i as { maximum: number | bigint }).maximum;
        const incl = i.inclusive !== false;
        const op = small ? (incl ? '>=' : '>') : incl ? '<=' : '<';
        const msg =
          i.origin === 'array' || i.origin === 'set'
            ? `expected ${small ? 'at least' : 'at most'} ${count(Number(bound), 'item')}, got ${Array.isArray(input) ? input.length : describe(input)}`
            : i.origin === 'string'
              ? `expected ${small ? 'at least' : 'at most'} ${bound} characters`
              : `expected a number ${op} ${bound}, got ${describe(input)}`;
        out.push({ path: formatPath(path), message: msg });
        break;
      }
      case 'invalid_value':
        out.push({
          path: formatPath(path),
          message: `expected ${i.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(input)}${hintFor(input, i.values)}`,
        });
        break;
      case 'not_multiple_of':
        out.push({ path: formatPath(path), message: `expected a multiple of ${i.divisor}, got ${describe(input)}` });
        break;
      case 'invalid_format':
        {
          // A regex with its own message says what is allowed; zod's default ("Invalid string") does not.
          const own = i.format === 'regex' && !/^Invalid/.test(i.message) ? i.message : `expected ${i.format}`;
          out.push({ path: formatPath(path), message: `${own}, got ${describe(input)}` });
          break;
        }
        break;
      default:
        out.push({ path: formatPath(path), message: i.message });
    }
  }
  return out;
}

/** `; did you mean "x"?` when `given` is a string close to one of the string `values`, else ''. */
function hintFor(given: unknown, values: readonly unknown[]): string {
  if (typeof given !== 'string') return '';
  const hint = didYouMean(
    given,
    values.filter((v): v is string => typeof v === 'string'),
  );
  return hint !== undefined && hint !== given ? `; did you mean ${JSON.stringify(hint)}?` : '';
}

/**
 * The branches of a union as words: `an integer in [1, 1000000] or "none"`, each
 * with its range (read from the schema, as `desim schema` shows it); undefined
 * when a branch cannot be put in words.
 */
function describeAlternatives(branches: readonly unknown[]): string | undefined {
  const words: string[] = [];
  for (const b of branches) {
    let js: Record<string, unknown>;
    try {
      js = z.toJSONSchema(b as z.ZodType, { io: 'input', unrepresentable: 'any' });
    } catch {
      return undefined;
    }
    const w = describeJsonType(js);
    if (w === undefined) return undefined;
    if (!words.includes(w)) words.push(w);
  }
  return words.length > 0 ? words.join(' or ') : undefined;
}

function describeJsonType(js: Record<string, unknown>): string | undefined {
  if (js['const'] !== undefined) return JSON.stringify(js['const']);
  if (Array.isArray(js['enum'])) return js['enum'].map((v) => JSON.stringify(v)).join(' or ');
  const anyOf = js['anyOf'];
  if (Array.isArray(anyOf)) {
    const parts = anyOf.map((a) => (isMapping(a) ? describeJsonType(a) : undefined));
    return parts.every((p): p is string => p !== undefined) ? parts.join(' or ') : undefined;
  }
  switch (js['type']) {
    case 'number':
    case 'integer':
      return numberRange(js) ?? article(js['type'] === 'integer' ? 'int' : 'number');
    case 'string':
    case 'boolean':
    case 'array':
    case 'object':
      return article(js['type']);
    case 'null':
      return 'null';
    default:
      return undefined;
  }
}

function article(t: string): string {
  const word = t === 'int' ? 'integer' : t === 'array' ? 'list' : t === 'object' ? 'mapping' : t;
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a scalar by now (number, boolean, bigint)
  return String(v);
}

/** The schemas at `path` below `schema`, unwrapped (best effort through defaults, optionals, arrays, tuples, unions: each branch). */
function nodesAt(schema: z.ZodType, path: readonly PropertyKey[]): unknown[] {
  let nodes: unknown[] = [schema];
  for (const step of path) {
    const next: unknown[] = [];
    for (const n of nodes.flatMap(unwrap)) {
      const def = (n as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
      if (def === undefined) continue;
      if (def['type'] === 'object' && typeof step === 'string') {
        const shape = def['shape'] as Record<string, unknown>;
        if (shape[step] !== undefined) next.push(shape[step]);
      } else if (def['type'] === 'array' && typeof step === 'number') next.push(def['element']);
      else if (def['type'] === 'tuple' && typeof step === 'number') next.push((def['items'] as unknown[])[step]);
    }
    nodes = next;
  }
  return nodes.flatMap(unwrap);
}

/** The keys an object schema accepts at `path` (best effort through defaults, optionals, arrays, unions). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const n of nodesAt(schema, path)) {
    const def = (n as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def?.['type'] === 'object') for (const k of Object.keys(def['shape'] as object)) keys.add(k);
  }
  return [...keys];
}

function unwrap(n: unknown): unknown[] {
  const def = (n as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (def === undefined) return [];
  switch (def['type']) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return unwrap(def['innerType']);
    case 'pipe':
      // z.preprocess(fn, schema) is a pipe from a transform into the schema: the keys are on the out side.
      return [...unwrap(def['in']), ...unwrap(def['out'])];
    case 'union':
      return (def['options'] as unknown[]).flatMap(unwrap);
    default:
      return [n];
  }
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A stable identity of a resolved scenario: sha256 of its canonical JSON (sorted keys), first 16 hex digits. */
export function scenarioHash(s: Scenario): string {
  return createHash('sha256')
    .update(canonicalJson(resolvedScenario(s)))
    .digest('hex')
    .slice(0, 16);
}

/** The scenario as plain data with defaults filled in (what `meta.json` records). */
export function resolvedScenario(s: Scenario): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    seed: s.seed,
    duration_s: s.duration_s,
    // No network section (a TCP dumbbell) is recorded as none, so that the record validates and replays.
    ...(s.network.nodes.length > 0 ? { network: resolvedNetwork(s.network) } : {}),
    protocol: s.protocol,
    workload: s.workload,
    faults: s.faults,
    outputs: s.outputs,
  };
}

/** The network section as meta.json records it: a count in the file stays a count (not a million names). */
function resolvedNetwork(n: NetworkSection): Record<string, unknown> {
  const { counted, ...rest } = n;
  return counted === true ? { ...rest, nodes: n.nodes.length } : rest;
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

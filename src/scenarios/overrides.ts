/**
 * `--set path=value` and `--vary path=v1,v2,...`: paths are dotted keys with
 * `[n]` or `.n` list indices (`protocol.tcp.flows[0].variant`, the same as
 * `protocol.tcp.flows.0.variant`); values are YAML scalars or flow collections
 * (`0.01`, `true`, `reno`, `[A, B]`).
 *
 * Hostile paths are refused: `__proto__`, `constructor` and `prototype` are no
 * scenario keys (they would reach Object.prototype), and a list index may be at
 * most one past the end of the list it indexes (a new last entry), so
 * `workload[99999999]` cannot allocate a hundred million holes.
 */
import { parse as parseYaml } from 'yaml';
import type { Issue } from './driver.js';
import { parseRangeText } from './ranges.js';

/** One path segment: an object key or a list index. */
export type PathSegment = string | number;

/** An override: put `value` at `path`. */
export interface Override {
  readonly path: readonly PathSegment[];
  readonly value: unknown;
  /** The path as the user wrote it, for messages and column names. */
  readonly text: string;
  /** The whole `--set` argument (`path=value`), for messages. */
  readonly arg?: string;
}

/** A varied parameter: its path and values, in the order given. */
export interface Variation {
  readonly path: readonly PathSegment[];
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Keys that name JavaScript internals, never scenario keys: refused in paths. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The largest list index a path may hold (far above any real list, far below an allocation problem). */
export const MAX_PATH_INDEX = 1_000_000;

/** Why a path text is refused, or undefined when {@link parsePath} accepts it. */
export function pathProblem(text: string): string | undefined {
  const bad = text.split(/[.[\]]/).find((k) => FORBIDDEN_KEYS.has(k));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not a scenario key`;
  return undefined;
}

/** `a.b[2].c` (or `a.b.2.c`) → ['a', 'b', 2, 'c']; undefined when malformed or hostile (see {@link pathProblem}). */
export function parsePath(text: string): PathSegment[] | undefined {
  if (pathProblem(text) !== undefined) return undefined;
  const out: PathSegment[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|(\.)|(\d+)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    m = re.exec(text);
    if (m === null) return undefined;
    if (m[1] !== undefined) {
      if (!expectKey) return undefined;
      out.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined || m[4] !== undefined) {
      // `[3]` follows a key or index; `.3` (m[4] after a dot) is the same index.
      const digits = (m[2] ?? m[4]) as string;
      if (out.length === 0 || (m[2] !== undefined && expectKey) || (m[4] !== undefined && !expectKey)) return undefined;
      const index = Number(digits);
      if (index > MAX_PATH_INDEX) return undefined;
      out.push(index);
      expectKey = false;
    } else {
      if (expectKey) return undefined;
      expectKey = true;
    }
    pos = re.lastIndex;
  }
  return out.length > 0 && !expectKey ? out : undefined;
}

/** `a.b[2]` back to text. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s;
}

function parseValue(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return text;
  }
}

/** Parses `--set` arguments. Returns issues (each naming its argument) instead of throwing. */
export function parseSets(args: readonly string[]): { ok: true; overrides: Override[] } | { ok: false; issues: Issue[] } {
  const overrides: Override[] = [];
  const issues: Issue[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    const path = eq > 0 ? parsePath(a.slice(0, eq)) : undefined;
    if (path === undefined) {
      issues.push({ path: '', message: badPath(a, eq, 'path=value (e.g. protocol.tcp.bottleneck.loss=0.01)') });
      continue;
    }
    overrides.push({ path, value: parseValue(a.slice(eq + 1)), text: a.slice(0, eq), arg: a });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, overrides };
}

function badPath(arg: string, eq: number, expected: string): string {
  const why = eq > 0 ? pathProblem(arg.slice(0, eq)) : undefined;
  if (why !== undefined) return `${JSON.stringify(arg)}: ${why}`;
  const big = eq > 0 ? /\d{7,}/.exec(arg.slice(0, eq)) : null;
  if (big !== null && Number(big[0]) > MAX_PATH_INDEX)
    return `${JSON.stringify(arg)}: list index ${big[0]} is out of range (at most ${MAX_PATH_INDEX})`;
  return `expected ${expected}, got ${JSON.stringify(arg)}`;
}

/** Splits on commas that are not inside brackets or braces. */
function splitValues(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((v) => v.trim());
}

/** Parses `--vary` arguments: `path=v1,v2,...` or `path=from..to [lin|log] [count]` (see ranges.ts). */
export function parseVaries(args: readonly string[]): { ok: true; variations: Variation[] } | { ok: false; issues: Issue[] } {
  const variations: Variation[] = [];
  const issues: Issue[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    const path = eq > 0 ? parsePath(a.slice(0, eq)) : undefined;
    // `path=0.001..0.05 log 8`: a range, parsed as a plan file's `vary:` entry is.
    const range = eq > 0 ? parseRangeText(a.slice(eq + 1)) : undefined;
    if (range !== undefined && !range.ok) {
      issues.push({ path: '', message: `${JSON.stringify(a)}: ${range.message}` });
      continue;
    }
    const raw = range !== undefined ? range.values.map(String) : eq > 0 ? splitValues(a.slice(eq + 1)) : [];
    if (path === undefined || raw.length === 0 || raw.some((v) => v === '')) {
      issues.push({ path: '', message: badPath(a, eq, 'path=v1,v2,... (e.g. protocol.tcp.bottleneck.loss=0.001,0.01)') });
      continue;
    }
    // One spelling per path (`a.3.b` is `a[3].b`): the column name and the run seeds do not depend on it.
    const text = formatPath(path);
    if (variations.some((v) => v.text === text)) {
      issues.push({ path: '', message: `${text} is varied twice` });
      continue;
    }
    variations.push({ path, text, values: range !== undefined ? range.values : raw.map(parseValue) });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, variations };
}

/** Returns a deep copy of `raw` with every override applied (creating missing objects on the way). */
export function applyOverrides(raw: unknown, overrides: readonly Override[]): { ok: true; value: unknown } | { ok: false; issues: Issue[] } {
  const root: unknown = structuredClone(raw);
  const issues: Issue[] = [];
  for (const o of overrides) {
    let cur = root as Record<PropertyKey, unknown>;
    let bad = false;
    for (let i = 0; i < o.path.length - 1; i++) {
      const seg = o.path[i] as PathSegment;
      const nextSeg = o.path[i + 1] as PathSegment;
      if (Array.isArray(cur) && typeof seg === 'number' && seg > cur.length) {
        issues.push(indexIssue(o, i, cur.length));
        bad = true;
        break;
      }
      let child = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
      if (child === undefined) {
        child = typeof nextSeg === 'number' ? [] : {};
        cur[seg] = child;
      }
      if (child === null || typeof child !== 'object' || (typeof nextSeg === 'number' && !Array.isArray(child))) {
        issues.push({
          path: formatPath(o.path.slice(0, i + 1)),
          message: `cannot set ${o.text}: ${formatPath(o.path.slice(0, i + 1))} is not ${typeof nextSeg === 'number' ? 'a list' : 'a mapping'}`,
        });
        bad = true;
        break;
      }
      cur = child as Record<PropertyKey, unknown>;
    }
    if (bad) continue;
    const last = o.path[o.path.length - 1] as PathSegment;
    if (Array.isArray(cur) && typeof last === 'number' && last > cur.length) {
      issues.push(indexIssue(o, o.path.length - 1, cur.length));
      continue;
    }
    cur[last] = o.value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: root };
}

function indexIssue(o: Override, i: number, length: number): Issue {
  const list = formatPath(o.path.slice(0, i));
  return {
    path: formatPath(o.path.slice(0, i + 1)),
    message: `cannot set ${o.text}: ${list} has ${length} entr${length === 1 ? 'y' : 'ies'}, so the index can be at most ${length} (a new last entry)`,
  };
}

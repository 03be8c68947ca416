/**
 * `--set path=value` and `--vary path=v1,v2,...`: paths are dotted keys with
 * `[n]` list indices (`protocol.tcp.flows[0].variant`); values are YAML
 * scalars or flow collections (`0.01`, `true`, `reno`, `[A, B]`).
 */
import { parse as parseYaml } from 'yaml';
import type { Issue } from './driver.js';

/** One path segment: an object key or a list index. */
export type PathSegment = string | number;

/** An override: put `value` at `path`. */
export interface Override {
  readonly path: readonly PathSegment[];
  readonly value: unknown;
  /** The path as the user wrote it, for messages and column names. */
  readonly text: string;
}

/** A varied parameter: its path and values, in the order given. */
export interface Variation {
  readonly path: readonly PathSegment[];
  readonly text: string;
  readonly values: readonly unknown[];
}

/** `a.b[2].c` → ['a', 'b', 2, 'c']; undefined when malformed. */
export function parsePath(text: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|(\.)/gy;
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
    } else if (m[2] !== undefined) {
      if (out.length === 0 || expectKey) return undefined;
      out.push(Number(m[2]));
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

/** Parses `--set` arguments. Returns issues (with path `--set`) instead of throwing. */
export function parseSets(args: readonly string[]): { ok: true; overrides: Override[] } | { ok: false; issues: Issue[] } {
  const overrides: Override[] = [];
  const issues: Issue[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    const path = eq > 0 ? parsePath(a.slice(0, eq)) : undefined;
    if (path === undefined) {
      issues.push({ path: '--set', message: `expected path=value (e.g. protocol.tcp.bottleneck.loss=0.01), got ${JSON.stringify(a)}` });
      continue;
    }
    overrides.push({ path, value: parseValue(a.slice(eq + 1)), text: a.slice(0, eq) });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, overrides };
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

/** Parses `--vary` arguments. */
export function parseVaries(args: readonly string[]): { ok: true; variations: Variation[] } | { ok: false; issues: Issue[] } {
  const variations: Variation[] = [];
  const issues: Issue[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    const path = eq > 0 ? parsePath(a.slice(0, eq)) : undefined;
    const raw = eq > 0 ? splitValues(a.slice(eq + 1)) : [];
    if (path === undefined || raw.length === 0 || raw.some((v) => v === '')) {
      issues.push({ path: '--vary', message: `expected path=v1,v2,... (e.g. protocol.tcp.bottleneck.loss=0.001,0.01), got ${JSON.stringify(a)}` });
      continue;
    }
    const text = a.slice(0, eq);
    if (variations.some((v) => v.text === text)) {
      issues.push({ path: '--vary', message: `${text} is varied twice` });
      continue;
    }
    variations.push({ path, text, values: raw.map(parseValue) });
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
      let child = cur[seg];
      if (child === undefined) {
        child = typeof nextSeg === 'number' ? [] : {};
        cur[seg] = child;
      }
      if (child === null || typeof child !== 'object' || (typeof nextSeg === 'number' && !Array.isArray(child))) {
        issues.push({ path: formatPath(o.path.slice(0, i + 1)), message: `cannot set ${o.text}: ${formatPath(o.path.slice(0, i + 1))} is not ${typeof nextSeg === 'number' ? 'a list' : 'a mapping'}` });
        bad = true;
        break;
      }
      cur = child as Record<PropertyKey, unknown>;
    }
    if (!bad) cur[o.path[o.path.length - 1] as PathSegment] = o.value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: root };
}

/**
 * Value ranges for sweeps (`0.001..0.05 log 8`, `{from, to, scale, count}`)
 * and node ranges for scenarios (`n0..n24`).
 *
 * One parser serves a plan file's `vary:` entries and the `--vary` command
 * line, so the same text gives the same values, to the bit, either way (and
 * so the same run seeds, which are derived from the values).
 *
 * Value ranges. `from..to` with whole-number ends and no count is every whole
 * number from `from` to `to`. Otherwise a count of 2 to {@link MAX_RANGE_COUNT}
 * values is spaced evenly (`lin`, the default) or geometrically (`log`, both
 * ends > 0). The ends are exact; the values between are rounded to 12
 * significant digits (lin, to drop float noise such as 0.30000000000000004) or
 * 6 (log, so columns read 0.00174876 rather than 0.0017487577...).
 */
import { count } from '../io/count.js';

/** The most values one range may give. */
export const MAX_RANGE_COUNT = 10_000;

/** A range as a plan file gives it. */
export interface RangeSpec {
  readonly from: number;
  readonly to: number;
  readonly scale?: 'lin' | 'log' | undefined;
  readonly count?: number | undefined;
}

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const RANGE_TEXT = new RegExp(String.raw`^\s*(${NUM})\s*\.\.\s*(${NUM})(?:\s+(lin|log))?(?:\s+(\S+))?\s*$`);

/** True when `text` is meant as a range (`A..B`, optionally `lin|log` and a count), whether or not it is a valid one. */
export function looksLikeRange(text: string): boolean {
  return RANGE_TEXT.test(text);
}

/** Parses the compact form `from..to [lin|log] [count]`. Undefined when `text` is no range at all. */
export function parseRangeText(text: string): { ok: true; values: number[] } | { ok: false; message: string } | undefined {
  const m = RANGE_TEXT.exec(text);
  if (m === null) return undefined;
  const count = m[4] === undefined ? undefined : Number(m[4]);
  if (m[4] !== undefined && !Number.isInteger(count))
    return { ok: false, message: `range ${JSON.stringify(text.trim())}: the count must be a whole number, got ${JSON.stringify(m[4])}` };
  return expandRange(
    { from: Number(m[1]), to: Number(m[2]), scale: (m[3] ?? 'lin') as 'lin' | 'log', ...(count !== undefined ? { count } : {}) },
    text.trim(),
  );
}

/** The values of a range, or why it is refused. `label` names it in messages. */
export function expandRange(r: RangeSpec, label = `${r.from}..${r.to}`): { ok: true; values: number[] } | { ok: false; message: string } {
  const bad = (why: string) => ({ ok: false as const, message: `range ${JSON.stringify(label)}: ${why}` });
  const { from, to } = r;
  const scale = r.scale ?? 'lin';
  if (!Number.isFinite(from) || !Number.isFinite(to)) return bad('the ends must be finite numbers');
  if (from === to) return bad('from and to are equal: list the one value instead');
  let count = r.count;
  if (count === undefined) {
    if (scale === 'log' || !Number.isInteger(from) || !Number.isInteger(to))
      return bad(`give a count (e.g. ${label} ${scale} 8): only whole-number ends step by 1 without one`);
    count = Math.abs(to - from) + 1;
  }
  if (!Number.isInteger(count) || count < 2 || count > MAX_RANGE_COUNT)
    return bad(`the count must be a whole number from 2 to ${MAX_RANGE_COUNT}, got ${count}`);
  if (scale === 'log' && !(from > 0 && to > 0)) return bad('a log range needs both ends > 0');
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = i / (count - 1);
    let v: number;
    if (i === 0) v = from;
    else if (i === count - 1) v = to;
    else if (scale === 'log') v = Number((from * Math.pow(to / from, t)).toPrecision(6));
    else v = Number((from + (to - from) * t).toPrecision(12));
    values.push(v);
  }
  if (new Set(values).size !== values.length) return bad(`${count} values do not fit between ${from} and ${to} at this precision; use fewer`);
  return { ok: true, values };
}

// ---------------------------------------------------------------------------
// Node ranges

const NODE_RANGE = /^([A-Za-z_:-]*)(\d+)\.\.([A-Za-z_:-]*)(\d+)$/;

/** True when `text` has the shape of a node range (`n0..n24`). */
export function looksLikeNodeRange(text: string): boolean {
  return NODE_RANGE.test(text);
}

/**
 * Expands a node range `n0..n24` (same prefix on both ends; numbers padded
 * with zeros as the first end is, `n00..n12`) against the scenario's node
 * names. Undefined when `text` is no range or is itself a node name; else the
 * names, or why the range is refused (reversed, mixed prefixes, unknown nodes).
 */
export function expandNodeRange(
  text: string,
  names: ReadonlySet<string> | undefined,
): { ok: true; nodes: string[] } | { ok: false; message: string } | undefined {
  if (names?.has(text) === true) return undefined;
  const m = NODE_RANGE.exec(text);
  if (m === null) return undefined;
  const [, p1, a, p2, b] = m as unknown as [string, string, string, string, string];
  const bad = (why: string) => ({ ok: false as const, message: `node range ${JSON.stringify(text)}: ${why}` });
  if (p1 !== p2) return bad(`the two ends have different prefixes (${JSON.stringify(p1)} and ${JSON.stringify(p2)})`);
  const lo = Number(a);
  const hi = Number(b);
  if (hi < lo) return bad(`reversed: write ${p1}${b}..${p1}${a}`);
  if (hi - lo + 1 > 1_000_000) return bad('more than 1,000,000 nodes');
  const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
  const nodes: string[] = [];
  for (let i = lo; i <= hi; i++) nodes.push(`${p1}${String(i).padStart(width, '0')}`);
  if (names !== undefined) {
    const unknown = nodes.filter((n) => !names.has(n));
    if (unknown.length > 0) {
      const shown = unknown
        .slice(0, 3)
        .map((n) => JSON.stringify(n))
        .join(', ');
      return bad(
        `unknown node${unknown.length > 1 ? 's' : ''} ${shown}${unknown.length > 3 ? `, ... (${unknown.length} in all)` : ''} (${count(names.size, 'node')})`,
      );
    }
  }
  return { ok: true, nodes };
}

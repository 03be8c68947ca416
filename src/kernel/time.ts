/**
 * Simulated time.
 *
 * Time is an integer count of nanoseconds held in a JS number. Integers up to
 * 2^53 are exact, so sums of delays never drift and a run can span about 104
 * simulated days (2^53 ns) without losing a nanosecond. Every public API that
 * takes or returns a `Time` means nanoseconds; helpers convert from and to seconds.
 */

/** An integer number of nanoseconds of simulated time. */
export type Time = number;

/** Nanoseconds per second. */
export const NS_PER_S = 1_000_000_000;
/** Nanoseconds per millisecond. */
export const NS_PER_MS = 1_000_000;
/** Nanoseconds per microsecond. */
export const NS_PER_US = 1_000;
/** The largest time a run may reach: 2^53 - 1 ns, about 104.2 days. */
export const MAX_TIME: Time = Number.MAX_SAFE_INTEGER;

/** Seconds to nanoseconds, rounded to the nearest nanosecond. */
export function seconds(s: number): Time {
  return Math.round(s * NS_PER_S);
}

/** Milliseconds to nanoseconds, rounded to the nearest nanosecond. */
export function milliseconds(ms: number): Time {
  return Math.round(ms * NS_PER_MS);
}

/** Microseconds to nanoseconds, rounded to the nearest nanosecond. */
export function microseconds(us: number): Time {
  return Math.round(us * NS_PER_US);
}

/** Nanoseconds to (floating-point) seconds. */
export function toSeconds(t: Time): number {
  return t / NS_PER_S;
}

/** Nanoseconds to (floating-point) milliseconds. */
export function toMilliseconds(t: Time): number {
  return t / NS_PER_MS;
}

/**
 * Exact decimal rendering of a time in seconds, without floating-point
 * rounding: `1500000000` → `"1.5"`, `1` → `"0.000000001"`. Used for every
 * `*_s` column so traces are byte-stable.
 */
export function formatSeconds(t: Time): string {
  if (!Number.isInteger(t)) return formatSeconds(Math.round(t));
  const neg = t < 0;
  const abs = neg ? -t : t;
  const whole = Math.floor(abs / NS_PER_S);
  const frac = abs - whole * NS_PER_S;
  let s = String(whole);
  if (frac !== 0) s += '.' + String(frac).padStart(9, '0').replace(/0+$/, '');
  return neg ? '-' + s : s;
}

/** True when `t` is a valid simulated time: a safe, non-negative integer. */
export function isTime(t: number): boolean {
  return Number.isSafeInteger(t) && t >= 0;
}

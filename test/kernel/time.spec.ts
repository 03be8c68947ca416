import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TIME, NS_PER_S, formatSeconds, isTime, microseconds, milliseconds, seconds, toMilliseconds, toSeconds } from '../../src/kernel/time.js';
import { fcParams } from '../fc.js';

/** Parses a decimal seconds string into exact nanoseconds (BigInt arithmetic, no floats). */
function parseSecondsExact(s: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(s);
  if (m === null) throw new Error(`not a decimal seconds string: ${s}`);
  const ns = BigInt(m[2] as string) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return m[1] === '-' ? -ns : ns;
}

describe('formatSeconds', () => {
  it('renders known values exactly', () => {
    expect(formatSeconds(0)).toBe('0');
    expect(formatSeconds(1)).toBe('0.000000001');
    expect(formatSeconds(1_500_000_000)).toBe('1.5');
    expect(formatSeconds(NS_PER_S)).toBe('1');
    expect(formatSeconds(10_000_000)).toBe('0.01');
    expect(formatSeconds(123_456_789_012)).toBe('123.456789012');
    expect(formatSeconds(-2_500_000_000)).toBe('-2.5');
    expect(formatSeconds(MAX_TIME)).toBe('9007199.254740991');
    expect(formatSeconds(1.4)).toBe('0.000000001'); // non-integers are rounded to the nanosecond
  });

  it('is exact for every time up to 2^53 - 1 ns: no float rounding, no trailing zeros', () => {
    const nearSecond = fc.integer({ min: 1, max: Math.floor(MAX_TIME / NS_PER_S) }).map((k) => k * NS_PER_S - 1);
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -MAX_TIME, max: MAX_TIME }), nearSecond), (t) => {
        const s = formatSeconds(t);
        expect(s).toMatch(/^-?\d+(\.\d*[1-9])?$/);
        expect(parseSecondsExact(s)).toBe(BigInt(t));
      }),
      fcParams({ numRuns: 2000 }),
    );
  });
});

describe('time conversions', () => {
  it('converts units to integer nanoseconds, rounding to the nearest', () => {
    expect(seconds(1.5)).toBe(1_500_000_000);
    expect(seconds(0.1)).toBe(100_000_000);
    expect(seconds(1e-10)).toBe(0);
    expect(milliseconds(2.5)).toBe(2_500_000);
    expect(milliseconds(0.0000006)).toBe(1);
    expect(microseconds(3)).toBe(3000);
    expect(toSeconds(2_500_000_000)).toBe(2.5);
    expect(toMilliseconds(2_500_000)).toBe(2.5);
    expect(Number.isInteger(seconds(0.3))).toBe(true);
  });

  it('round-trips nanoseconds through float seconds and milliseconds up to about 11 days', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e15 }), (t) => {
        expect(seconds(toSeconds(t))).toBe(t);
        expect(milliseconds(toMilliseconds(t))).toBe(t);
      }),
      fcParams({ numRuns: 2000 }),
    );
  });

  it('isTime accepts exactly the safe non-negative integers', () => {
    expect(isTime(0)).toBe(true);
    expect(isTime(MAX_TIME)).toBe(true);
    expect(isTime(MAX_TIME + 1)).toBe(false);
    expect(isTime(-1)).toBe(false);
    expect(isTime(0.5)).toBe(false);
    expect(isTime(NaN)).toBe(false);
    expect(isTime(Infinity)).toBe(false);
  });
});

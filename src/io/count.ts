/** Counted nouns for headlines and messages. */

/**
 * `1 failure`, `0 failures`, `2 failures`: a count and its noun, plural unless
 * the count is exactly 1. `plural` is for nouns that do not just take an `s`
 * (`count(n, 'entry', 'entries')`).
 */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

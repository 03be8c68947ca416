/**
 * fast-check settings shared by every property test: the seed is pinned
 * (override with FC_SEED=<n> to explore), and a failure reports the seed, the
 * path and the shrunk counterexample (fast-check's own report).
 */
import type { Parameters } from 'fast-check';

export const FC_SEED = Number(process.env['FC_SEED'] ?? 20261127);

export function fcParams<T>(overrides: Partial<Parameters<T>> = {}): Parameters<T> {
  return { seed: FC_SEED, verbose: 1, ...overrides };
}

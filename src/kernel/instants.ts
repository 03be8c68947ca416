/**
 * The small table of recent instants that the kernel's `lastScheduledAt` keeps, and that the
 * simulated host's timer groups keep beside it: 2^INSTANT_BITS entries, indexed by a hash of the time.
 * Not part of the public API (the kernel's index does not export it).
 */
import type { Time } from './time.js';

/** The tables have 2^INSTANT_BITS entries. */
export const INSTANT_BITS = 8;

/** A time's entry in such a table. */
export function instantHash(at: Time): number {
  return Math.imul(at | 0, 0x9e3779b1) >>> (32 - INSTANT_BITS);
}

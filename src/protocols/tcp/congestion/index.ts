/** The congestion-control algorithms, by name. */
import type { CongestionOps } from './ops.js';
import { newreno } from './newreno.js';
import { reno } from './reno.js';
import { tahoe } from './tahoe.js';

export type { CongestionOps, LossRecovery } from './ops.js';
export { reno, renoFamily, renoIncreaseWindow, renoSsThresh } from './reno.js';
export { tahoe } from './tahoe.js';
export { newreno } from './newreno.js';

/** Names accepted by {@link congestionOps}. */
export const VARIANTS = ['tahoe', 'reno', 'newreno'] as const;
/** A congestion-control variant name. */
export type Variant = (typeof VARIANTS)[number];

/** The algorithm called `name`. */
export function congestionOps(name: Variant): CongestionOps {
  switch (name) {
    case 'tahoe':
      return tahoe;
    case 'reno':
      return reno;
    case 'newreno':
      return newreno;
  }
}

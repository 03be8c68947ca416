/** The congestion-control algorithms, by name. */
import { createCubic } from './cubic.js';
import type { CongestionOps } from './ops.js';
import { newreno } from './newreno.js';
import { reno } from './reno.js';
import { tahoe } from './tahoe.js';

export type { CongestionOps, LossRecovery } from './ops.js';
export { reno, renoFamily, renoIncreaseWindow, renoSsThresh } from './reno.js';
export { tahoe } from './tahoe.js';
export { newreno } from './newreno.js';
export {
  CUBIC_BETA,
  CUBIC_C,
  createCubic,
  cubicAverageWindow,
  cubicK,
  cubicRenoFriendlyWindow,
  cubicWindow,
  type Cubic,
  type CubicOptions,
  type CubicState,
} from './cubic.js';

/** Names accepted by {@link congestionOps}. */
export const VARIANTS = ['tahoe', 'reno', 'newreno', 'cubic'] as const;
/** A congestion-control variant name. */
export type Variant = (typeof VARIANTS)[number];

/** The algorithm called `name`: a shared singleton, or for CUBIC (which keeps state) a new instance for one connection. */
export function congestionOps(name: Variant): CongestionOps {
  switch (name) {
    case 'tahoe':
      return tahoe;
    case 'reno':
      return reno;
    case 'newreno':
      return newreno;
    case 'cubic':
      return createCubic();
  }
}

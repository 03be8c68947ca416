/**
 * Link models: latency distributions and loss models, as plain data so a
 * scenario file can state them and `meta.json` can record them.
 */
import type { Random } from '../kernel/random.js';
import type { AqmSpec } from './aqm.js';

/** A non-negative delay in nanoseconds: a constant, or a distribution drawn per packet. */
export type DelaySpec =
  | number
  | { readonly dist: 'constant'; readonly ns: number }
  | { readonly dist: 'uniform'; readonly minNs: number; readonly maxNs: number }
  | { readonly dist: 'exponential'; readonly meanNs: number }
  | { readonly dist: 'normal'; readonly meanNs: number; readonly sdNs: number }
  | { readonly dist: 'lognormal'; readonly mu: number; readonly sigma: number }
  | { readonly dist: 'pareto'; readonly scaleNs: number; readonly shape: number };

/** Draws one delay (integer ns, clamped at 0). Constants consume no random draw. */
export function sampleDelay(spec: DelaySpec, rng: Random): number {
  if (typeof spec === 'number') return spec > 0 ? Math.round(spec) : 0;
  let x: number;
  switch (spec.dist) {
    case 'constant':
      x = spec.ns;
      break;
    case 'uniform':
      x = rng.range(spec.minNs, spec.maxNs);
      break;
    case 'exponential':
      x = rng.exponential(spec.meanNs);
      break;
    case 'normal':
      x = rng.normal(spec.meanNs, spec.sdNs);
      break;
    case 'lognormal':
      x = rng.lognormal(spec.mu, spec.sigma);
      break;
    case 'pareto':
      x = rng.pareto(spec.scaleNs, spec.shape);
      break;
  }
  return x > 0 ? Math.round(x) : 0;
}

/** The smallest delay a spec can produce (ns): used by the "no early delivery" invariant. */
export function minDelay(spec: DelaySpec): number {
  if (typeof spec === 'number') return spec > 0 ? Math.round(spec) : 0;
  switch (spec.dist) {
    case 'constant':
      return spec.ns > 0 ? Math.round(spec.ns) : 0;
    case 'uniform':
      return Math.max(0, Math.round(spec.minNs));
    case 'pareto':
      return Math.round(spec.scaleNs);
    default:
      return 0;
  }
}

/**
 * Loss model of a link: independent (Bernoulli) with probability `p`, or
 * Gilbert-Elliott, a two-state Markov chain (good, bad) stepped once per
 * packet, losing with `lossGood` / `lossBad` in each state: bursts of loss.
 */
export type LossSpec =
  | number
  | {
      readonly model: 'gilbert-elliott';
      /** Probability of going from good to bad at each packet. */
      readonly pGoodToBad: number;
      /** Probability of going from bad to good at each packet. */
      readonly pBadToGood: number;
      /** Loss probability in the good state. Default 0. */
      readonly lossGood?: number;
      /** Loss probability in the bad state. Default 1. */
      readonly lossBad?: number;
    };

/** Everything about one directed link. */
export interface LinkConfig {
  /** Propagation delay (ns or a distribution). */
  readonly latency: DelaySpec;
  /** Extra delay drawn uniformly in [0, jitterNs] per packet; reorders packets. */
  readonly jitterNs: number;
  /** Loss probability or model. */
  readonly loss: LossSpec;
  /** Probability that a delivered packet is delivered twice (the copy gets its own delay). */
  readonly duplicate: number;
  /** Bandwidth in bits per second; `Infinity` means no serialization delay and no queue. */
  readonly bandwidthBps: number;
  /** Drop-tail limit in packets waiting behind the one being transmitted. */
  readonly queuePackets: number;
  /** Drop-tail limit in bytes waiting behind the one being transmitted. */
  readonly queueBytes: number;
  /** Queue discipline (RED, CoDel, or drop-tail through the managed queue) of a link with a finite bandwidth. Default none: drop-tail. */
  readonly aqm?: AqmSpec;
}

/** Defaults: 1 ms latency, no jitter, no loss, infinite bandwidth and queue. */
export const DEFAULT_LINK: LinkConfig = Object.freeze({
  latency: 1_000_000,
  jitterNs: 0,
  loss: 0,
  duplicate: 0,
  bandwidthBps: Infinity,
  queuePackets: Infinity,
  queueBytes: Infinity,
});

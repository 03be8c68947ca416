/**
 * The SWIM node's configuration: every knob, its unit, its default and its
 * range. Defaults follow hashicorp/memberlist's LAN profile where the SWIM
 * paper (Das, Gupta and Motivala, DSN 2002) leaves a value open.
 */

/** Phase of the protocol periods of the members. */
export type SwimPhase =
  /** Every member starts its periods at multiples of the period: the synchronous rounds of the paper's analysis (section 3.1). */
  | 'aligned'
  /** Each member starts at its own random offset within the period, as real members do. */
  | 'random';

/** Full configuration of a {@link SwimNode}. */
export interface SwimConfig {
  /** The protocol period T (ns): one probe per member per period (section 3). Default 1 s (memberlist ProbeInterval). */
  readonly probeIntervalNs: number;
  /** Wait for a direct ack before asking others to probe (ns); must be below the period. Default 500 ms (memberlist ProbeTimeout). */
  readonly probeTimeoutNs: number;
  /** k, members asked to probe indirectly after a missed ack (section 3.1). Default 3 (memberlist IndirectChecks). 0 to 100. */
  readonly indirectChecks: number;
  /** lambda: a membership update is piggybacked lambda * ceil(log10(n + 1)) times (section 4.1; memberlist RetransmitMult 4). 1 to 100. */
  readonly retransmitMult: number;
  /** At most this many updates ride on one message (memberlist bounds them by bytes). Default 8. 1 to 1000. */
  readonly maxPiggyback: number;
  /** True: a failed probe makes the target suspect, confirmed dead after a timeout (section 4.2). False: it is declared dead at once (section 3). */
  readonly suspicion: boolean;
  /** The suspicion timeout is suspicionMult * max(1, log10 n) periods (memberlist SuspicionMult 4). 1 to 1000. */
  readonly suspicionMult: number;
  /**
   * Lifeguard (Dadgar, Phillips and Currey 2018): local health multiplier (section 4.1: probe period and
   * timeout scale with the node's own health score), nacks from indirect probers, and the dynamic suspicion
   * timeout (section 4.2: starts at suspicionMaxTimeoutMult times the base, shrinks with independent confirmations).
   */
  readonly lifeguard: boolean;
  /** Lifeguard: the longest suspicion timeout, as a multiple of the base one. Default 6 (memberlist SuspicionMaxTimeoutMult). 1 to 1000. */
  readonly suspicionMaxTimeoutMult: number;
  /** Lifeguard: the local health score ranges over 0 .. this - 1. Default 8 (memberlist AwarenessMaxMultiplier). 1 to 1000. */
  readonly awarenessMaxMultiplier: number;
  /**
   * Every this many ns a member sends its whole table to one random member it holds dead (not left), with
   * probability (members held dead) / (members alive or suspect), as Serf reconnects to failed members (its
   * reconnect_interval): the group tries each dead member about once per interval, and two sides of a healed
   * partition find each other again. 0 = off. Default 30 s (Serf's). The first comes 0.5 to 1.5 intervals
   * after start, at random.
   */
  readonly reconnectIntervalNs: number;
  /**
   * Every this many ns (scaled up for large groups as memberlist's pushPullScale: times
   * ceil(log2 n - log2 32) + 1 above 32 members) a member syncs its whole table with one random live
   * member (memberlist's push-pull, default 30 s): the anti-entropy that repairs an update the
   * piggybacking missed. 0 = off.
   */
  readonly pushPullIntervalNs: number;
  /** Phase of the periods. Default `random`. */
  readonly phase: SwimPhase;
}

/** memberlist's LAN defaults, with suspicion on and Lifeguard off (the SWIM paper's protocol). */
export const DEFAULT_SWIM_CONFIG: SwimConfig = {
  probeIntervalNs: 1_000_000_000,
  probeTimeoutNs: 500_000_000,
  indirectChecks: 3,
  retransmitMult: 4,
  maxPiggyback: 8,
  suspicion: true,
  suspicionMult: 4,
  lifeguard: false,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  reconnectIntervalNs: 30_000_000_000,
  pushPullIntervalNs: 30_000_000_000,
  phase: 'random',
};

/** How many times an update is piggybacked in a group of `n` members: lambda * ceil(log10(n + 1)) (memberlist's retransmitLimit). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** The base suspicion timeout (ns) in a group of `n` members: suspicionMult * max(1, log10 n) periods (memberlist's suspicionTimeout). */
export function suspicionTimeoutNs(config: SwimConfig, n: number): number {
  return Math.round(config.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * config.probeIntervalNs);
}

/**
 * Lifeguard's dynamic suspicion timeout (Dadgar et al. 2018, section 4.2; memberlist suspicion.go):
 * from `maxNs` with no confirmation down to `minNs` after `k` independent ones, logarithmically:
 * max(min, max - (max - min) * log(c + 1) / log(k + 1)).
 */
export function dynamicSuspicionTimeoutNs(minNs: number, maxNs: number, k: number, confirmations: number): number {
  if (k < 1) return minNs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minNs, Math.floor(maxNs - (maxNs - minNs) * frac));
}

/** The push-pull interval (ns) in a group of `n` members: memberlist's pushPullScale above 32 members. */
export function pushPullIntervalNs(baseNs: number, n: number): number {
  if (n <= 32) return baseNs;
  return baseNs * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1);
}

/**
 * Named configurations. A scenario's `preset:` picks one; explicit fields
 * override it.
 */
import { DEFAULT_CONFIG, type GossipConfig } from './config.js';

/** Names of the bundled presets. */
export const PRESET_NAMES = [
  'default',
  'original',
  'demers-feedback-counter',
  'demers-feedback-coin',
  'demers-blind-counter',
  'demers-blind-coin',
  'infect-forever',
  'push-pull',
  'demers-pull-feedback-counter',
] as const;

/** A preset name. */
export type PresetName = (typeof PRESET_NAMES)[number];

const DEMERS: Partial<GossipConfig> = {
  mode: 'push',
  timing: 'rounds',
  fanout: 1,
  phase: 'aligned',
  antiEntropyIntervalNs: 0,
  k: 3,
};

/**
 * The presets:
 * - `default`: {@link DEFAULT_CONFIG} (push, fanout 2, rounds of 1 s, random
 *   phase, feedback + counter k = 3, anti-entropy every 10 s, HLC);
 * - `original`: the original program: at a put, push to 2 random peers at
 *   once; a node that learns a newer version forwards it once to 2 peers with
 *   probability 0.5; anti-entropy every 10 s (now with digests, within the
 *   MTU); physical clocks;
 * - `demers-*`: Demers et al. 1987's simulations: push, fanout 1, aligned
 *   rounds, no anti-entropy, the named feedback and stop rule, k = 3;
 * - `infect-forever`: push, fanout 1, aligned, never stops (Pittel's
 *   setting); blind, since feedback cannot stop it and would only double the
 *   messages;
 * - `push-pull`: every node contacts one peer per aligned round and both
 *   exchange hot rumors; never stops (blind, like `infect-forever`);
 * - `demers-pull-feedback-counter`: pull rumor mongering (Demers et al.'s
 *   Table 3): every node asks one random peer per aligned round, feedback +
 *   counter, k = 3, no anti-entropy.
 */
export const PRESETS: Readonly<Record<PresetName, Partial<GossipConfig>>> = {
  default: {},
  original: {
    mode: 'push',
    timing: 'immediate',
    fanout: 2,
    feedback: 'blind',
    stop: 'once',
    forwardProbability: 0.5,
    antiEntropyIntervalNs: 10_000_000_000,
    antiEntropyPhase: 'random',
    clock: 'physical',
  },
  'demers-feedback-counter': { ...DEMERS, feedback: 'feedback', stop: 'counter' },
  'demers-feedback-coin': { ...DEMERS, feedback: 'feedback', stop: 'coin' },
  'demers-blind-counter': { ...DEMERS, feedback: 'blind', stop: 'counter' },
  'demers-blind-coin': { ...DEMERS, feedback: 'blind', stop: 'coin' },
  'infect-forever': { ...DEMERS, feedback: 'blind', stop: 'forever' },
  'push-pull': { ...DEMERS, mode: 'push-pull', feedback: 'blind', stop: 'forever' },
  'demers-pull-feedback-counter': { ...DEMERS, mode: 'pull', feedback: 'feedback', stop: 'counter' },
};

/** The full configuration of a preset with `overrides` applied. */
export function resolveConfig(preset: PresetName, overrides: Partial<GossipConfig> = {}): GossipConfig {
  return { ...DEFAULT_CONFIG, ...PRESETS[preset], ...overrides };
}

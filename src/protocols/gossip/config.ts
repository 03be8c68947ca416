/**
 * The gossip node's configuration: every knob, its unit and its default.
 * Presets (see `presets.ts`) are named partial configurations.
 */
import type { ClockKind } from './clock.js';

/** How a node that learns a rumor spreads it. */
export type Timing =
  /** Every `intervalNs` (a gossip round) each infective node pushes its hot rumors to `fanout` peers. */
  | 'rounds'
  /** At once on infection, to `fanout` peers, once (the original program). */
  | 'immediate';

/** Rumor exchange direction. */
export type RumorMode =
  /** Infective nodes push. */
  | 'push'
  /** Every node contacts `fanout` peers each round; both sides exchange their hot rumors. */
  | 'push-pull'
  /**
   * Every node asks `fanout` peers each round for their hot rumors (Demers et
   * al. 1987, "push vs. pull"); the counter and coin rules act on the
   * answering node.
   */
  | 'pull'
  /** No rumor mongering (anti-entropy only). */
  | 'off';

/**
 * When a node loses interest in a rumor (Demers et al. 1987, section 1.4):
 * - `counter`: after `k` contacts (feedback: `k` unnecessary contacts; blind: `k` rounds);
 * - `coin`: with probability 1/k (feedback: after each unnecessary contact; blind: after each round);
 * - `forever`: never ("infect forever", for comparison; stops only with the run);
 * - `once`: forwards once, with probability `forwardProbability` (the writer always forwards).
 */
export type StopRule = 'counter' | 'coin' | 'forever' | 'once';

/** Whether the loss of interest reacts to the recipient's reply. */
export type Feedback = 'feedback' | 'blind';

/**
 * What a node serves (pushes, or answers to pulls) in a round:
 * - `synchronous`: only what it held when its round began; what it learns in
 *   round r it serves from round r + 1 (the rounds of the papers);
 * - `relay`: everything it holds when the request arrives, so with push-pull
 *   a version can travel two hops in one round (desim's earlier behaviour).
 */
export type RoundSemantics = 'synchronous' | 'relay';

/** Direction of an anti-entropy exchange, seen from the node that starts it. */
export type AntiEntropyMode = 'push' | 'pull' | 'push-pull';

/** Phase of periodic ticks. */
export type Phase =
  /** Every node ticks at multiples of the interval: synchronous rounds, as in the papers. */
  | 'aligned'
  /** Each node ticks at its own random offset within the interval. */
  | 'random';

/** Full configuration of a {@link GossipNode}. */
export interface GossipConfig {
  readonly mode: RumorMode;
  readonly timing: Timing;
  /** Peers contacted per round (or per infection with `immediate`). Default 1. */
  readonly fanout: number;
  /** Gossip round length (ns). Default 1 s. */
  readonly intervalNs: number;
  readonly phase: Phase;
  readonly feedback: Feedback;
  readonly stop: StopRule;
  /** The k of `counter` and `coin`. Default 3. */
  readonly k: number;
  /**
   * Feedback + counter only. `true` (default, the paper's rule): the rumor is
   * dropped after k *consecutive* unnecessary contacts; a necessary contact
   * (one that earned no feedback) resets the counter to 0. `false`: after k
   * unnecessary contacts in all, consecutive or not (desim's earlier rule).
   */
  readonly counterReset: boolean;
  /** Default `synchronous`. */
  readonly roundSemantics: RoundSemantics;
  /**
   * Most rumor connections (pushes and pull requests) a node accepts per
   * round; the others are refused unread (Demers et al.'s connection limit).
   * Default Infinity (no limit).
   */
  readonly connectionLimit: number;
  /**
   * Most rumor messages (each at most `mtuBytes`) a node sends per contact:
   * to each peer of a push round, or in one answer to a pull request. When
   * its hot rumors need more, it sends those least sent so far first, and
   * among them the newest (memberlist's TransmitLimitedQueue order); the rest
   * wait for a later round. Bounds a node's rumor traffic per round whatever
   * its write load. Default Infinity (no budget: every hot rumor every
   * round, the model of the papers); real nodes default to
   * `REAL_NODE_RUMOR_BUDGET` (8) in src/transport.
   */
  readonly rumorBudget: number;
  /** Probability that a node that learned a rumor forwards it, for `once`. Default 0.5. */
  readonly forwardProbability: number;
  /** Anti-entropy period (ns); 0 turns anti-entropy off. Default 10 s. */
  readonly antiEntropyIntervalNs: number;
  /** Phase of anti-entropy ticks. Default `random`. */
  readonly antiEntropyPhase: Phase;
  /** Direction of the exchanges this node starts. Default `push-pull`. */
  readonly antiEntropyMode: AntiEntropyMode;
  /**
   * When true, a version learned by anti-entropy becomes a hot rumor at the
   * node that learned it, as if it had arrived by rumor (same stop rule).
   * Default false: anti-entropy only repairs the node it reaches.
   */
  readonly regossipAntiEntropy: boolean;
  /** Largest encoded message (bytes); every message is built to fit. Default 1400. */
  readonly mtuBytes: number;
  /** Hash buckets of the anti-entropy digest. Default 64. */
  readonly digestBuckets: number;
  /**
   * Tombstones older than this (ns of the node's clock) are collected once
   * every peer has confirmed holding them (in anti-entropy, rumors or
   * feedback); a collected tombstone is remembered without value for as long
   * again. Default 300 s. Infinity keeps them.
   */
  readonly tombstoneGcNs: number;
  readonly clock: ClockKind;
  /**
   * Largest lead of a received version's timestamp over this node's own
   * physical clock (ns). A version further ahead is dropped and counted
   * (`future_timestamp`), never stored nor observed by the clock, so one
   * forged timestamp cannot push a node's clock (and every later write)
   * into the future: CockroachDB's maximum clock offset rule, whose default
   * is also 500 ms. Must be > 0. Default 500 ms.
   */
  readonly maxAheadNs: number;
}

/** The defaults (preset `default`): push, rounds of 1 s, fanout 2, feedback + counter k = 3, HLC, AE every 10 s. */
export const DEFAULT_CONFIG: GossipConfig = {
  mode: 'push',
  timing: 'rounds',
  fanout: 2,
  intervalNs: 1_000_000_000,
  phase: 'random',
  feedback: 'feedback',
  stop: 'counter',
  k: 3,
  counterReset: true,
  roundSemantics: 'synchronous',
  connectionLimit: Infinity,
  rumorBudget: Infinity,
  forwardProbability: 0.5,
  antiEntropyIntervalNs: 10_000_000_000,
  antiEntropyPhase: 'random',
  antiEntropyMode: 'push-pull',
  regossipAntiEntropy: false,
  mtuBytes: 1400,
  digestBuckets: 64,
  tombstoneGcNs: 300_000_000_000,
  clock: 'hlc',
  maxAheadNs: 500_000_000,
};

/** Smallest MTU the node accepts: room for headers and one 255-byte key with a short value. */
export const MIN_MTU_BYTES = 576;

/**
 * The rumor budget of a real node (`desim node`) unless `--rumor-budget` says
 * otherwise: 8 messages of at most the MTU per peer and round, so a write
 * flood cannot turn into thousands of gossip datagrams per round.
 */
export const REAL_NODE_RUMOR_BUDGET = 8;

/**
 * Rumor mongering: the hot-rumor list of one node and the loss-of-interest
 * rules of Demers et al. 1987 (section 1.4).
 *
 * Theory of operation. A node that stores a new version makes it a *hot
 * rumor* (replacing any hot rumor of the same key: the old version is
 * superseded and not worth spreading). Each round the node sends its hot
 * rumors: pushed to `fanout` random peers, or as answers to the pull requests
 * it receives. Every message carrying a rumor is one *contact*. A recipient
 * that already knew the rumor answers with feedback: an *unnecessary
 * contact*. With the counter reset, a recipient to which it was new says so
 * too (`learned`): a *necessary contact*. A contact that earned neither
 * (lost, or refused by the connection limit) counts as neither.
 *
 * At the start of each round ({@link RumorList.settle}) the node applies the
 * blind rules to the round that ended; feedback acts as it arrives:
 *
 * - blind + counter: a rumor is dropped after it has been sent in k rounds;
 * - blind + coin: after each round in which it was sent, dropped with probability 1/k;
 * - feedback + counter: each unnecessary contact adds 1 to the rumor's
 *   counter (from 0), and at k the rumor is dropped. With `counterReset`
 *   (the paper's rule) a necessary contact resets the counter to 0, so only
 *   k *consecutive* unnecessary contacts (in the order their answers arrive)
 *   drop it: Demers et al.'s traffic bound assumes exactly this ("each
 *   unnecessary message was sent by a site that, within the last k cycles,
 *   sent a necessary message, or newly discovered the update"). Without
 *   `counterReset` the counter only grows;
 * - feedback + coin: each unnecessary contact drops it with probability 1/k;
 * - forever: never dropped (comparison only: traffic never stops);
 * - once: the original program: dropped after the first round in which it
 *   was sent (the caller draws the forward probability when the rumor is
 *   added).
 *
 * A rumor whose version the node no longer stores (superseded, collected) is
 * retired at once ({@link RumorList.retireUnless}). Under a rumor budget the
 * node sends, per contact, only the first pages in transmit order
 * ({@link RumorList.transmitOrder}); the rest wait, and the blind rules count
 * only the rounds in which a rumor was actually sent.
 */
import type { Rng as Random } from '../sans-io.js';
import type { Feedback, StopRule } from './config.js';
import type { Entry } from './store.js';

/** A rumor the node is still spreading. */
export interface HotRumor {
  readonly entry: Entry;
  /** Unnecessary contacts (feedback) or rounds sent (blind). */
  count: number;
  /** The node's round index in which it became hot. */
  readonly sinceRound: number;
  /** Contacts made with it since the last settlement. */
  contacts: number;
  /** Pushes and pull answers it went out in (with any number of targets): the transmit order under a rumor budget. */
  sends: number;
  /** Order in which it became hot (larger = newer). */
  readonly seq: number;
}

/** The hot rumors of one node and its stop rule. */
export class RumorList {
  /**
   * Hot rumors by key, in the order they became hot (a rumor that replaces
   * one of the same key keeps that key's place; Map order is insertion order),
   * created at the first rumor. Every lookup is by key, so feedback about r
   * rumors costs O(r), not O(r × hot) (a node with thousands of hot keys under
   * a write flood answered feedback in quadratic time).
   */
  private byKey: Map<string, HotRumor> | undefined;
  /** The only hot rumor while there has been no second key (`byKey` is then undefined): a node spreading one update keeps no Map. */
  private one: HotRumor | undefined;
  /** Cached `entries()` result, dropped whenever the list changes. */
  private entriesCache: readonly Entry[] | undefined;
  private nextSeq = 0;

  constructor(
    readonly feedback: Feedback,
    readonly stop: StopRule,
    readonly k: number,
    /** Feedback + counter: a necessary contact resets the counter (default true). */
    readonly counterReset = true,
  ) {}

  /** Number of hot rumors. */
  get size(): number {
    return this.byKey !== undefined ? this.byKey.size : this.one !== undefined ? 1 : 0;
  }

  /** The hot rumors, in the order they became hot (do not add or remove while iterating). */
  hot(): Iterable<HotRumor> {
    return this.byKey !== undefined ? this.byKey.values() : this.one !== undefined ? [this.one] : NONE;
  }

  /** The hot rumor of `key`, if any. */
  get(key: string): HotRumor | undefined {
    if (this.byKey !== undefined) return this.byKey.get(key);
    const one = this.one;
    return one !== undefined && one.entry.key === key ? one : undefined;
  }

  /** The hot rumors' entries (an array that stays valid until the list changes: do not mutate). */
  entries(): readonly Entry[] {
    return (this.entriesCache ??=
      this.byKey !== undefined ? Array.from(this.byKey.values(), (h) => h.entry) : this.one !== undefined ? [this.one.entry] : NO_ENTRIES);
  }

  /** Makes `e` a hot rumor (in round `round` of the node), replacing a hot rumor of the same key. */
  add(e: Entry, round = 0): void {
    this.entriesCache = undefined;
    const h: HotRumor = { entry: e, count: 0, sinceRound: round, contacts: 0, sends: 0, seq: this.nextSeq++ };
    if (this.byKey !== undefined) this.byKey.set(e.key, h);
    else if (this.one === undefined || this.one.entry.key === e.key) this.one = h;
    else {
      this.byKey = new Map([
        [this.one.entry.key, this.one],
        [e.key, h],
      ]);
      this.one = undefined;
    }
  }

  /** Every hot rumor was sent to `targets` peers (a push round). */
  sentAll(targets: number): void {
    if (targets === 0) return;
    if (this.byKey === undefined) {
      if (this.one !== undefined) {
        this.one.contacts += targets;
        this.one.sends++;
      }
      return;
    }
    for (const h of this.byKey.values()) {
      h.contacts += targets;
      h.sends++;
    }
  }

  /** The rumors `sent` (entries of this list) were sent to `targets` peers (a pull answer: one). */
  sent(sent: readonly Entry[], targets = 1): void {
    if (targets === 0) return;
    for (const e of sent) {
      const h = this.get(e.key);
      if (h !== undefined && h.entry === e) {
        h.contacts += targets;
        h.sends++;
      }
    }
  }

  /**
   * `entries` (of this list) in transmit order, for a rumor budget: the
   * least sent first, and among those the newest first (memberlist's
   * TransmitLimitedQueue order). A new copy; `entries` is not changed.
   */
  transmitOrder(entries: readonly Entry[]): Entry[] {
    if (this.size === 0) return [...entries];
    const hs = entries.map((e) => this.get(e.key) as HotRumor);
    hs.sort((a, b) => a.sends - b.sends || b.seq - a.seq);
    return hs.map((h) => h.entry);
  }

  /**
   * Settles the round that ends now, before the node's next round: the blind
   * rules and `once` for every rumor sent in it.
   */
  settle(rng: Random): void {
    const hot = this.byKey;
    if (hot === undefined) {
      if (this.one !== undefined && this.settleOne(this.one, rng)) {
        this.one = undefined;
        this.entriesCache = undefined;
      }
      return;
    }
    for (const [key, h] of hot) {
      if (this.settleOne(h, rng)) {
        hot.delete(key); // deleting the current entry keeps a Map iteration valid
        this.entriesCache = undefined;
      }
    }
  }

  /** Settles one rumor's round; true when it is to be dropped. */
  private settleOne(h: HotRumor, rng: Random): boolean {
    const sent = h.contacts > 0;
    h.contacts = 0;
    if (this.stop === 'forever' || !sent) return false;
    if (this.stop === 'once') return true;
    if (this.feedback !== 'blind') return false;
    h.count++;
    return this.stop === 'counter' ? h.count >= this.k : rng.bernoulli(1 / this.k);
  }

  /** Applies the feedback rules: the recipient already knew version (key, ts, origin). */
  unnecessary(key: string, ts: number, origin: number, rng: Random): void {
    if (this.feedback !== 'feedback' || this.stop === 'forever' || this.stop === 'once') return;
    const h = this.get(key);
    if (h === undefined || h.entry.ts !== ts || h.entry.origin !== origin) return;
    h.count++;
    const drop = this.stop === 'counter' ? h.count >= this.k : rng.bernoulli(1 / this.k);
    if (drop) this.remove(key);
  }

  /** Applies the counter reset: the recipient did not know version (key, ts, origin) before. */
  necessary(key: string, ts: number, origin: number): void {
    if (!this.counterReset || this.feedback !== 'feedback' || this.stop !== 'counter') return;
    const h = this.get(key);
    if (h !== undefined && h.entry.ts === ts && h.entry.origin === origin) h.count = 0;
  }

  /**
   * Retires the hot rumor of `key` unless it carries `current` (the version
   * the node now stores, or undefined): a version superseded by one learned
   * otherwise (anti-entropy), or a collected tombstone, is not worth
   * spreading, and since it is never sent again no rule would ever retire it.
   */
  retireUnless(key: string, current: Entry | undefined): void {
    const h = this.get(key);
    if (h !== undefined && h.entry !== current) this.remove(key);
  }

  /** Forgets every hot rumor. */
  clear(): void {
    this.byKey?.clear();
    this.one = undefined;
    this.entriesCache = undefined;
  }

  private remove(key: string): void {
    if (this.byKey !== undefined) this.byKey.delete(key);
    else if (this.one?.entry.key === key) this.one = undefined;
    this.entriesCache = undefined;
  }
}

const NONE: readonly HotRumor[] = Object.freeze([]);
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

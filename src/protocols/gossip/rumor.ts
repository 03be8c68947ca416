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
}

/** The hot rumors of one node and its stop rule. */
export class RumorList {
  /** Hot rumors, in the order they became hot. */
  hot: HotRumor[] = [];
  /** Cached `entries()` result, dropped whenever the list changes. */
  private entriesCache: readonly Entry[] | undefined;

  constructor(
    readonly feedback: Feedback,
    readonly stop: StopRule,
    readonly k: number,
    /** Feedback + counter: a necessary contact resets the counter (default true). */
    readonly counterReset = true,
  ) {}

  /** Number of hot rumors. */
  get size(): number {
    return this.hot.length;
  }

  /** The hot rumors' entries (an array that stays valid until the list changes: do not mutate). */
  entries(): readonly Entry[] {
    return (this.entriesCache ??= this.hot.map((h) => h.entry));
  }

  /** Makes `e` a hot rumor (in round `round` of the node), replacing a hot rumor of the same key. */
  add(e: Entry, round = 0): void {
    this.entriesCache = undefined;
    const hot = this.hot;
    const h: HotRumor = { entry: e, count: 0, sinceRound: round, contacts: 0 };
    for (let i = 0; i < hot.length; i++) {
      if ((hot[i] as HotRumor).entry.key === e.key) {
        hot[i] = h;
        return;
      }
    }
    hot.push(h);
  }

  /** Every hot rumor was sent to `targets` peers (a push round). */
  sentAll(targets: number): void {
    for (const h of this.hot) h.contacts += targets;
  }

  /** The rumors `sent` (entries of this list) were sent to one peer (a pull answer). */
  sent(sent: readonly Entry[]): void {
    for (const h of this.hot) if (sent.includes(h.entry)) h.contacts++;
  }

  /**
   * Settles the round that ends now, before the node's next round: the blind
   * rules and `once` for every rumor sent in it.
   */
  settle(rng: Random): void {
    if (this.stop === 'forever') {
      for (const h of this.hot) h.contacts = 0;
      return;
    }
    let keep: HotRumor[] | undefined;
    for (let i = 0; i < this.hot.length; i++) {
      const h = this.hot[i] as HotRumor;
      const sent = h.contacts > 0;
      let drop = false;
      if (sent && this.stop === 'once') drop = true;
      else if (sent && this.feedback === 'blind') {
        h.count++;
        drop = this.stop === 'counter' ? h.count >= this.k : rng.bernoulli(1 / this.k);
      }
      h.contacts = 0;
      if (drop) keep ??= this.hot.slice(0, i);
      else if (keep !== undefined) keep.push(h);
    }
    if (keep !== undefined) {
      this.hot = keep;
      this.entriesCache = undefined;
    }
  }

  /** Applies the feedback rules: the recipient already knew version (key, ts, origin). */
  unnecessary(key: string, ts: number, origin: number, rng: Random): void {
    if (this.feedback !== 'feedback' || this.stop === 'forever' || this.stop === 'once') return;
    const hot = this.hot;
    for (let i = 0; i < hot.length; i++) {
      const h = hot[i] as HotRumor;
      if (h.entry.key !== key) continue;
      if (h.entry.ts !== ts || h.entry.origin !== origin) return;
      h.count++;
      const drop = this.stop === 'counter' ? h.count >= this.k : rng.bernoulli(1 / this.k);
      if (drop) {
        hot.splice(i, 1);
        this.entriesCache = undefined;
      }
      return;
    }
  }

  /** Applies the counter reset: the recipient did not know version (key, ts, origin) before. */
  necessary(key: string, ts: number, origin: number): void {
    if (!this.counterReset || this.feedback !== 'feedback' || this.stop !== 'counter') return;
    for (const h of this.hot) {
      if (h.entry.key !== key) continue;
      if (h.entry.ts === ts && h.entry.origin === origin) h.count = 0;
      return;
    }
  }

  /**
   * Retires the hot rumor of `key` unless it carries `current` (the version
   * the node now stores, or undefined): a version superseded by one learned
   * otherwise (anti-entropy), or a collected tombstone, is not worth
   * spreading, and since it is never sent again no rule would ever retire it.
   */
  retireUnless(key: string, current: Entry | undefined): void {
    const hot = this.hot;
    for (let i = 0; i < hot.length; i++) {
      const h = hot[i] as HotRumor;
      if (h.entry.key !== key) continue;
      if (h.entry !== current) {
        hot.splice(i, 1);
        this.entriesCache = undefined;
      }
      return;
    }
  }

  /** Forgets every hot rumor. */
  clear(): void {
    this.hot = [];
    this.entriesCache = undefined;
  }
}

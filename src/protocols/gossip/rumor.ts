/**
 * Rumor mongering: the hot-rumor list of one node and the loss-of-interest
 * rules of Demers et al. 1987 (section 1.4).
 *
 * Theory of operation. A node that stores a new version makes it a *hot
 * rumor* (replacing any hot rumor of the same key: the old version is
 * superseded and not worth spreading). Each round the node sends its hot
 * rumors to `fanout` random peers; then the stop rule decides which rumors it
 * loses interest in:
 *
 * - blind + counter: a rumor is dropped after it has been sent in k rounds;
 * - blind + coin: after each round in which it was sent, dropped with probability 1/k;
 * - feedback + counter: the recipient answers with the rumors it already
 *   knew; each such *unnecessary contact* adds one to the rumor's counter and
 *   at k the rumor is dropped. Exact rule: counter starts at 0; +1 per
 *   feedback naming the rumor (one per recipient per round); drop when
 *   counter >= k. Recipients that learned something send no reply;
 *   a lost message therefore counts as a necessary contact. Rounds are
 *   synchronous as in Demers et al.'s simulations: a recipient that learned
 *   the version earlier in the *same* round (from another sender) was
 *   susceptible when the round began, so it sends no feedback for it either;
 * - feedback + coin: each unnecessary contact drops it with probability 1/k;
 * - forever: never dropped (comparison only: traffic never stops);
 * - once: the original program: forwarded in the first round only (the
 *   caller draws the forward probability when the rumor is added).
 */
import type { Random } from '../../kernel/random.js';
import type { Feedback, StopRule } from './config.js';
import type { Entry } from './store.js';

/** A rumor the node is still spreading. */
export interface HotRumor {
  readonly entry: Entry;
  /** Unnecessary contacts (feedback) or rounds sent (blind). */
  count: number;
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
  ) {}

  /** Number of hot rumors. */
  get size(): number {
    return this.hot.length;
  }

  /** The hot rumors' entries (an array that stays valid until the list changes: do not mutate). */
  entries(): readonly Entry[] {
    return (this.entriesCache ??= this.hot.map((h) => h.entry));
  }

  /** Makes `e` a hot rumor, replacing a hot rumor of the same key. */
  add(e: Entry): void {
    this.entriesCache = undefined;
    const hot = this.hot;
    for (let i = 0; i < hot.length; i++) {
      const h = hot[i] as HotRumor;
      if (h.entry.key === e.key) {
        hot[i] = { entry: e, count: 0 };
        return;
      }
    }
    hot.push({ entry: e, count: 0 });
  }

  /** Applies the blind rules (and `once`) after a round in which every hot rumor was sent. */
  afterRound(rng: Random): void {
    if (this.stop === 'forever') return;
    if (this.stop === 'once') {
      this.clear();
      return;
    }
    if (this.feedback !== 'blind') return;
    const keep: HotRumor[] = [];
    for (const h of this.hot) {
      h.count++;
      if (this.stop === 'counter' ? h.count < this.k : !rng.bernoulli(1 / this.k)) keep.push(h);
    }
    if (keep.length !== this.hot.length) this.entriesCache = undefined;
    this.hot = keep;
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

  /** Forgets every hot rumor. */
  clear(): void {
    this.hot = [];
    this.entriesCache = undefined;
  }
}

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
  // Layout: what a round and a feedback read comes first, the single rumor's fields included (at 10^6
  // nodes a HotRumor object of its own was one more cache miss per round and per feedback, and one
  // more object per node to collect).
  /**
   * Hot rumors by key, in the order they became hot (a rumor that replaces
   * one of the same key keeps that key's place; Map order is insertion order),
   * created at the second key. Every lookup is by key, so feedback about r
   * rumors costs O(r), not O(r × hot) (a node with thousands of hot keys under
   * a write flood answered feedback in quadratic time).
   */
  private byKey: Map<string, HotRumor> | undefined;
  /**
   * The only hot rumor while there has been no second key (`byKey` is then undefined), as fields:
   * its entry (undefined: none) and its {@link HotRumor} counters. A node spreading one update keeps
   * no Map and no object per rumor.
   */
  private oneEntry: Entry | undefined;
  private oneCount = 0;
  private oneContacts = 0;
  private oneSends = 0;
  private oneSince = 0;
  private oneSeq = 0;
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
    return this.byKey !== undefined ? this.byKey.size : this.oneEntry !== undefined ? 1 : 0;
  }

  /** The hot rumors, in the order they became hot (do not add or remove while iterating; with one rumor, a copy). */
  hot(): Iterable<Readonly<HotRumor>> {
    return this.byKey !== undefined ? this.byKey.values() : this.oneEntry !== undefined ? [this.oneCopy(this.oneEntry)] : NONE;
  }

  /** The hot rumor of `key`, if any (with one rumor, a copy: read it, the list does not see changes to it). */
  get(key: string): Readonly<HotRumor> | undefined {
    if (this.byKey !== undefined) return this.byKey.get(key);
    const one = this.oneEntry;
    return one !== undefined && one.key === key ? this.oneCopy(one) : undefined;
  }

  /** The hot rumors' entries (an array that stays valid until the list changes: do not mutate). */
  entries(): readonly Entry[] {
    const cached = this.entriesCache;
    if (cached !== undefined) return cached;
    const one = this.oneEntry;
    const list = this.byKey !== undefined ? Array.from(this.byKey.values(), (h) => h.entry) : one !== undefined ? singleList(one) : NO_ENTRIES;
    this.entriesCache = list;
    return list;
  }

  /** Makes `e` a hot rumor (in round `round` of the node), replacing a hot rumor of the same key. */
  add(e: Entry, round = 0): void {
    this.entriesCache = undefined;
    const seq = this.nextSeq++;
    if (this.byKey !== undefined) {
      this.byKey.set(e.key, { entry: e, count: 0, sinceRound: round, contacts: 0, sends: 0, seq });
      return;
    }
    const one = this.oneEntry;
    if (one !== undefined && one.key !== e.key) {
      this.byKey = new Map([
        [one.key, this.oneCopy(one)],
        [e.key, { entry: e, count: 0, sinceRound: round, contacts: 0, sends: 0, seq }],
      ]);
      this.oneEntry = undefined;
      return;
    }
    this.oneEntry = e;
    this.oneCount = 0;
    this.oneContacts = 0;
    this.oneSends = 0;
    this.oneSince = round;
    this.oneSeq = seq;
  }

  /** Every hot rumor was sent to `targets` peers (a push round). */
  sentAll(targets: number): void {
    if (targets === 0) return;
    if (this.byKey === undefined) {
      if (this.oneEntry !== undefined) {
        this.oneContacts += targets;
        this.oneSends++;
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
      if (this.byKey === undefined) {
        if (this.oneEntry === e) {
          this.oneContacts += targets;
          this.oneSends++;
        }
        continue;
      }
      const h = this.byKey.get(e.key);
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
      if (this.oneEntry === undefined) return;
      const count = this.settled(this.oneContacts, this.oneCount, rng);
      this.oneContacts = 0;
      if (count < 0) {
        this.oneEntry = undefined;
        this.entriesCache = undefined;
      } else this.oneCount = count;
      return;
    }
    for (const [key, h] of hot) {
      const count = this.settled(h.contacts, h.count, rng);
      h.contacts = 0;
      if (count < 0) {
        hot.delete(key); // deleting the current entry keeps a Map iteration valid
        this.entriesCache = undefined;
      } else h.count = count;
    }
  }

  /** Settles one rumor's round, given its contacts in the round and its count: its new count, or -1 when it is to be dropped. */
  private settled(contacts: number, count: number, rng: Random): number {
    if (this.stop === 'forever' || contacts === 0) return count;
    if (this.stop === 'once') return -1;
    if (this.feedback !== 'blind') return count;
    const c = count + 1;
    const drop = this.stop === 'counter' ? c >= this.k : rng.bernoulli(1 / this.k);
    return drop ? -1 : c;
  }

  /** Applies the feedback rules: the recipient already knew version (key, ts, origin). */
  unnecessary(key: string, ts: number, origin: number, rng: Random): void {
    if (this.feedback !== 'feedback' || this.stop === 'forever' || this.stop === 'once') return;
    let count: number;
    const hot = this.byKey;
    let h: HotRumor | undefined;
    if (hot === undefined) {
      const one = this.oneEntry;
      if (one === undefined || one.key !== key || one.ts !== ts || one.origin !== origin) return;
      count = ++this.oneCount;
    } else {
      h = hot.get(key);
      if (h === undefined || h.entry.ts !== ts || h.entry.origin !== origin) return;
      count = ++h.count;
    }
    const drop = this.stop === 'counter' ? count >= this.k : rng.bernoulli(1 / this.k);
    if (drop) this.remove(key);
  }

  /** Applies the counter reset: the recipient did not know version (key, ts, origin) before. */
  necessary(key: string, ts: number, origin: number): void {
    if (!this.counterReset || this.feedback !== 'feedback' || this.stop !== 'counter') return;
    if (this.byKey === undefined) {
      const one = this.oneEntry;
      if (one !== undefined && one.key === key && one.ts === ts && one.origin === origin) this.oneCount = 0;
      return;
    }
    const h = this.byKey.get(key);
    if (h !== undefined && h.entry.ts === ts && h.entry.origin === origin) h.count = 0;
  }

  /**
   * Retires the hot rumor of `key` unless it carries `current` (the version
   * the node now stores, or undefined): a version superseded by one learned
   * otherwise (anti-entropy), or a collected tombstone, is not worth
   * spreading, and since it is never sent again no rule would ever retire it.
   */
  retireUnless(key: string, current: Entry | undefined): void {
    const entry = this.byKey !== undefined ? this.byKey.get(key)?.entry : this.oneEntry?.key === key ? this.oneEntry : undefined;
    if (entry !== undefined && entry !== current) this.remove(key);
  }

  /** Forgets every hot rumor. */
  clear(): void {
    this.byKey?.clear();
    this.oneEntry = undefined;
    this.entriesCache = undefined;
  }

  private remove(key: string): void {
    if (this.byKey !== undefined) this.byKey.delete(key);
    else if (this.oneEntry?.key === key) this.oneEntry = undefined;
    this.entriesCache = undefined;
  }

  /** The single rumor as a {@link HotRumor} object (a copy of its fields). */
  private oneCopy(entry: Entry): HotRumor {
    return { entry, count: this.oneCount, sinceRound: this.oneSince, contacts: this.oneContacts, sends: this.oneSends, seq: this.oneSeq };
  }
}

/** One-entry lists, shared by every node whose single hot rumor is that entry (they are never mutated). */
const singleLists = new WeakMap<Entry, readonly Entry[]>();

function singleList(e: Entry): readonly Entry[] {
  let l = singleLists.get(e);
  if (l === undefined) {
    l = [e];
    singleLists.set(e, l);
  }
  return l;
}

const NONE: readonly HotRumor[] = Object.freeze([]);
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

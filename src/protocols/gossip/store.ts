/**
 * The replicated store: last-writer-wins versions, tombstones and the bucket
 * hashes anti-entropy compares.
 *
 * Theory of operation. Every key holds one {@link Entry}: a value (or a
 * tombstone) with a version (ts, origin). Versions are totally ordered by
 * timestamp, then by the origin node id, so two writes never tie and every
 * replica picks the same winner whatever order it hears them in (the original
 * program kept equal timestamps in arrival order and could diverge forever).
 * {@link Store.merge} keeps the greater version and reports whether it
 * changed anything. Entries are immutable: a node stores the very object it
 * received, so 100,000 simulated replicas of one update share one record.
 *
 * A delete writes a tombstone (a versioned "absent"), so an older put that
 * arrives later cannot resurrect the key. When a tombstone may be dropped is
 * the node's decision (see `node.ts`: only once every peer has confirmed it);
 * the store offers {@link Store.remove}, and {@link Store.collect} with a
 * merge option to refuse expired tombstones for age-only collection.
 *
 * Keys are spread over `buckets` by a 32-bit FNV-1a hash; each bucket keeps
 * the XOR of its entries' hashes (key, version, tombstone), updated in O(1) on
 * every change. Equal bucket hashes mean (up to hash collisions) equal bucket
 * contents, which is what anti-entropy's digest compares.
 */
import type { NodeId } from '../sans-io.js';

/** A stored value: JSON scalars only (no objects or arrays), so the wire format stays small and exact. */
export type Value = string | number | boolean | null;

/** One version of one key. Immutable once built. */
export interface Entry {
  readonly key: string;
  /** The value; `null` for a tombstone (then `deleted` is true). */
  readonly value: Value;
  /** Write timestamp (ns of the writer's clock, integer >= 0). */
  readonly ts: number;
  /** The node that wrote this version (tie-break). */
  readonly origin: NodeId;
  /** True for a tombstone. */
  readonly deleted: boolean;
}

/** Compares two versions: < 0 when (tsA, originA) is older than (tsB, originB). */
export function compareVersion(tsA: number, originA: number, tsB: number, originB: number): number {
  if (tsA !== tsB) return tsA < tsB ? -1 : 1;
  return originA === originB ? 0 : originA < originB ? -1 : 1;
}

/** True when entry `a` is a strictly newer version than `b`. */
export function newer(a: Entry, b: Entry): boolean {
  return a.ts > b.ts || (a.ts === b.ts && a.origin > b.origin);
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function mix(h: number, x: number): number {
  h ^= x >>> 0;
  return Math.imul(h, 0x01000193) >>> 0;
}

/** The 32-bit hash of an entry's identity (key, version, tombstone flag), as XORed into its bucket. */
export function entryHash(e: Entry): number {
  let h = fnv1a(e.key);
  h = mix(h, e.ts % 0x100000000);
  h = mix(h, Math.floor(e.ts / 0x100000000));
  h = mix(h, e.origin);
  h = mix(h, e.deleted ? 1 : 0);
  // Final avalanche so XORs of similar entries do not cancel.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** The bucket of a key among `buckets`. */
export function bucketOf(key: string, buckets: number): number {
  return fnv1a(key) % buckets;
}

/**
 * Result of {@link Store.merge}: `Stored` (the entry was newer and is now
 * stored), `Same` (the store held this exact version) or `Older` (the store
 * held a newer version, or the tombstone had expired: nothing changed).
 */
export const MergeResult = { Stored: 0, Same: 1, Older: 2 } as const;
/** One of the {@link MergeResult} values. */
export type MergeResult = (typeof MergeResult)[keyof typeof MergeResult];

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Stores up to this many keys keep no bucket table (hashes are computed on demand). */
const SMALL_STORE = 32;

/** A last-writer-wins map of entries with per-bucket hashes. */
export class Store {
  /**
   * Entries by key, in insertion order; created at the second key. Until then the one entry is in
   * `one`: at 10^6 replicas of one update a Map per replica was a tenth of the memory.
   */
  private map: Map<string, Entry> | undefined;
  private one: Entry | undefined;
  private hashes: Uint32Array | undefined;
  private tombstones = 0;

  /** @param buckets number of hash buckets anti-entropy compares (>= 1). */
  constructor(readonly buckets: number) {}

  /** Number of keys held (tombstones included). */
  get size(): number {
    return this.map !== undefined ? this.map.size : this.one !== undefined ? 1 : 0;
  }

  /** Number of tombstones held. */
  get tombstoneCount(): number {
    return this.tombstones;
  }

  /** The entry of `key` (maybe a tombstone), or undefined. */
  entry(key: string): Entry | undefined {
    if (this.map !== undefined) return this.map.get(key);
    const one = this.one;
    return one !== undefined && one.key === key ? one : undefined;
  }

  /** The store's only entry when it holds exactly one (no iterator: anti-entropy asks this of every node each round). */
  only(): Entry | undefined {
    return this.map === undefined ? this.one : this.map.size === 1 ? this.map.values().next().value : undefined;
  }

  /** Every entry, in insertion order. */
  entries(): IterableIterator<Entry> {
    if (this.map !== undefined) return this.map.values();
    return (this.one === undefined ? NO_ENTRIES : [this.one]).values();
  }

  /** The hash of bucket `b` (0 when empty). */
  bucketHash(b: number): number {
    if (this.hashes !== undefined) return this.hashes[b] as number;
    let h = 0;
    for (const e of this.entries()) if (bucketOf(e.key, this.buckets) === b) h = (h ^ entryHash(e)) >>> 0;
    return h;
  }

  /** The non-empty buckets (increasing) and their hashes. */
  sparseHashes(): { indices: number[]; hashes: number[] } {
    const indices: number[] = [];
    const hashes: number[] = [];
    const table = this.hashes;
    if (table !== undefined) {
      for (let b = 0; b < table.length; b++) {
        const h = table[b] as number;
        if (h !== 0) {
          indices.push(b);
          hashes.push(h);
        }
      }
      return { indices, hashes };
    }
    if (this.size <= 1) {
      for (const e of this.entries()) {
        indices.push(bucketOf(e.key, this.buckets));
        hashes.push(entryHash(e));
      }
      return { indices, hashes };
    }
    const pairs: [number, number][] = [];
    for (const e of this.entries()) pairs.push([bucketOf(e.key, this.buckets), entryHash(e)]);
    pairs.sort((x, y) => x[0] - y[0]);
    for (const [b, h] of pairs) {
      if (indices.length > 0 && indices[indices.length - 1] === b) hashes[hashes.length - 1] = ((hashes[hashes.length - 1] as number) ^ h) >>> 0;
      else {
        indices.push(b);
        hashes.push(h);
      }
    }
    // XORs of a bucket's entries may cancel to 0 only by a hash collision; keep them (0 reads as empty).
    return { indices, hashes };
  }

  /**
   * Keeps `e` if it is newer than what the store holds.
   * @param gcBeforeTs tombstones with ts < this are refused (already expired); -Infinity keeps all
   */
  merge(e: Entry, gcBeforeTs = -Infinity): MergeResult {
    const old = this.entry(e.key);
    if (old !== undefined) {
      if (old === e) return MergeResult.Same;
      const c = compareVersion(e.ts, e.origin, old.ts, old.origin);
      if (c === 0) return MergeResult.Same;
      if (c < 0) return MergeResult.Older;
    }
    if (e.deleted && e.ts < gcBeforeTs) return MergeResult.Older;
    this.put(e, old);
    return MergeResult.Stored;
  }

  /** Stores `e` unconditionally (a local write whose version is known to be the newest). */
  put(e: Entry, old = this.entry(e.key)): void {
    const h = this.hashes;
    if (h !== undefined) {
      const b = bucketOf(e.key, this.buckets);
      if (old !== undefined) h[b] = ((h[b] as number) ^ entryHash(old)) >>> 0;
      h[b] = ((h[b] as number) ^ entryHash(e)) >>> 0;
    }
    if (old !== undefined && old.deleted) this.tombstones--;
    if (e.deleted) this.tombstones++;
    if (this.map !== undefined) this.map.set(e.key, e);
    else if (this.one === undefined || this.one.key === e.key) this.one = e;
    else {
      this.map = new Map([
        [this.one.key, this.one],
        [e.key, e],
      ]);
      this.one = undefined;
    }
    if (h === undefined && this.size > SMALL_STORE) this.buildTable();
  }

  /** Forgets `key` (held). */
  private forget(key: string): void {
    if (this.map !== undefined) this.map.delete(key);
    else this.one = undefined;
  }

  private buildTable(): void {
    const h = new Uint32Array(this.buckets);
    for (const e of this.entries()) {
      const b = bucketOf(e.key, this.buckets);
      h[b] = ((h[b] as number) ^ entryHash(e)) >>> 0;
    }
    this.hashes = h;
  }

  /** Drops tombstones with ts < `beforeTs`, confirmed or not. Returns the keys collected. */
  collect(beforeTs: number): string[] {
    const out: string[] = [];
    if (this.tombstones === 0) return out;
    for (const e of this.entries()) {
      if (e.deleted && e.ts < beforeTs) out.push(e.key);
    }
    const h = this.hashes;
    for (const k of out) {
      const e = this.entry(k) as Entry;
      if (h !== undefined) {
        const b = bucketOf(k, this.buckets);
        h[b] = ((h[b] as number) ^ entryHash(e)) >>> 0;
      }
      this.forget(k);
      this.tombstones--;
    }
    return out;
  }

  /** Removes `key` whatever its version (a version found invalid after the fact). Returns true if it was held. */
  remove(key: string): boolean {
    const e = this.entry(key);
    if (e === undefined) return false;
    const h = this.hashes;
    if (h !== undefined) {
      const b = bucketOf(key, this.buckets);
      h[b] = ((h[b] as number) ^ entryHash(e)) >>> 0;
    }
    if (e.deleted) this.tombstones--;
    this.forget(key);
    return true;
  }

  /** The entries of bucket `b`, sorted by key (code-unit order). */
  bucketEntries(b: number): Entry[] {
    const out: Entry[] = [];
    for (const e of this.entries()) if (bucketOf(e.key, this.buckets) === b) out.push(e);
    out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    return out;
  }
}

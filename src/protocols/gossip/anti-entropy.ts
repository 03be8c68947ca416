/**
 * Anti-entropy: push-pull reconciliation with one peer, by bucket digests and
 * deltas, every message within the MTU.
 *
 * Theory of operation. The initiator A sends its bucket hashes (`digest`,
 * paged if the buckets do not fit one message). For every bucket whose hash
 * differs, B answers with `summary` pages: the versions (key, ts, origin) it
 * holds in that bucket, keys sorted, each page complete over its key range.
 * For each summary page A pushes (`delta`) the entries it holds newer than
 * B's or that B lacks in that range, and asks (`request`) for the keys where
 * B is newer; B answers a request with `delta`. A node configured for
 * one-way anti-entropy (`push` or `pull`) does only its half of that step
 * for the exchanges it starts (Demers et al.'s push, pull and push-pull
 * forms); it still answers the exchanges others start in full. Summary items carry small
 * values (<= 32 bytes) inline: A stores those at once, saving two legs. Each step only needs the
 * message in hand (no session state), so a lost message costs one
 * reconciliation round, never correctness, and a store of any size
 * reconciles in pages: a round moves at most one digest's worth of
 * differences. Stores in sync exchange one digest (64 buckets: 266 bytes).
 *
 * These functions are pure: they read a {@link Store} and return messages.
 */
import type { AntiEntropyMode } from './config.js';
import type { Entry, Store } from './store.js';
import { bucketOf, compareVersion, entryHash } from './store.js';
import {
  LIST_OVERHEAD_DELTA,
  LIST_OVERHEAD_DIGEST,
  LIST_OVERHEAD_REQUEST,
  LIST_OVERHEAD_SPARSE_DIGEST,
  LIST_OVERHEAD_SUMMARY,
  entrySize,
  summaryItemSize,
  utf8Length,
  valueSize,
  type GossipMessage,
  type VersionRef,
} from './wire.js';

type Msg<T extends GossipMessage['type']> = Extract<GossipMessage, { type: T }>;

const NONE: readonly never[] = Object.freeze([]);
/** Values up to this encoded size (bytes, tag included) ride inline in summaries. */
export const INLINE_VALUE_BYTES = 32;
const singleDigests = new WeakMap<Entry, readonly Msg<'digest'>[]>();

/** Splits `items` into pages whose encoded size (overhead + item sizes) fits `mtuBytes` (an oversized item gets a page of its own). */
export function paginate<T>(items: readonly T[], sizeOf: (x: T) => number, overhead: number, mtuBytes: number): T[][] {
  const pages: T[][] = [];
  let page: T[] = [];
  let size = overhead;
  for (const x of items) {
    const s = sizeOf(x);
    if (page.length > 0 && (size + s > mtuBytes || page.length >= 0xffff)) {
      pages.push(page);
      page = [];
      size = overhead;
    }
    page.push(x);
    size += s;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/**
 * The digest of a store: its bucket hashes, as one sparse message when the
 * non-empty buckets fit one and that is smaller, else dense pages within the MTU.
 */
export function buildDigests(store: Store, mtuBytes: number): readonly Msg<'digest'>[] {
  const buckets = store.buckets;
  const e = store.only();
  if (e !== undefined) {
    // Replicas holding the same single version share one (immutable) digest.
    const cached = singleDigests.get(e);
    if (cached !== undefined && (cached[0] as Msg<'digest'>).buckets === buckets) return cached;
    const d = [{ type: 'digest', buckets, start: 0, count: buckets, indices: [bucketOf(e.key, buckets)], hashes: [entryHash(e)] }] as const;
    singleDigests.set(e, d);
    return d;
  }
  const sparse = store.sparseHashes();
  const n = sparse.indices.length;
  if (LIST_OVERHEAD_SPARSE_DIGEST + 6 * n <= mtuBytes && 6 * n <= 4 * buckets) {
    return [{ type: 'digest', buckets, start: 0, count: buckets, indices: sparse.indices, hashes: sparse.hashes }];
  }
  const perPage = Math.max(1, Math.floor((mtuBytes - LIST_OVERHEAD_DIGEST) / 4));
  const out: Msg<'digest'>[] = [];
  for (let start = 0; start < buckets; start += perPage) {
    const count = Math.min(perPage, buckets - start);
    const hashes: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) hashes[i] = store.bucketHash(start + i);
    out.push({ type: 'digest', buckets, start, hashes });
  }
  return out;
}

/** The buckets in a digest's range whose hash differs from the store's, increasing. */
export function differingBuckets(store: Store, msg: Msg<'digest'>): readonly number[] {
  // Fast path: an empty store against an empty sparse digest.
  if (store.size === 0 && msg.indices !== undefined && msg.hashes.every((h) => h === 0)) return NONE;
  const only = store.only();
  if (only !== undefined && msg.indices !== undefined && msg.indices.length === 1 && (msg.count ?? msg.buckets - msg.start) === msg.buckets) {
    // One entry on each side (the common case of small stores in sync).
    if (msg.indices[0] === bucketOf(only.key, store.buckets) && msg.hashes[0] === entryHash(only)) return NONE;
  }
  const mine = store.sparseHashes();
  const end = msg.start + (msg.indices === undefined ? msg.hashes.length : (msg.count ?? msg.buckets - msg.start));
  const out: number[] = [];
  // Merge-walk the store's non-empty buckets with the digest's.
  let i = 0;
  while (i < mine.indices.length && (mine.indices[i] as number) < msg.start) i++;
  if (msg.indices === undefined) {
    for (let b = msg.start; b < end; b++) {
      let h = 0;
      if (i < mine.indices.length && mine.indices[i] === b) h = mine.hashes[i++] as number;
      if (h !== msg.hashes[b - msg.start]) out.push(b);
    }
    return out;
  }
  let j = 0;
  const theirs = msg.indices;
  while (true) {
    const bm = i < mine.indices.length && (mine.indices[i] as number) < end ? (mine.indices[i] as number) : Infinity;
    const bt = j < theirs.length ? (theirs[j] as number) : Infinity;
    if (bm === Infinity && bt === Infinity) return out;
    if (bm === bt) {
      if (mine.hashes[i] !== msg.hashes[j]) out.push(bm);
      i++;
      j++;
    } else if (bm < bt) {
      if (mine.hashes[i] !== 0) out.push(bm);
      i++;
    } else {
      if (msg.hashes[j] !== 0) out.push(bt);
      j++;
    }
  }
}

/** B's answer to a digest page: summary pages of every bucket whose hash differs. Empty when in sync. */
export function answerDigest(store: Store, msg: Msg<'digest'>, mtuBytes: number): readonly Msg<'summary'>[] {
  let out: Msg<'summary'>[] | undefined;
  for (const b of differingBuckets(store, msg)) {
    out ??= [];
    // Small values travel inline (the peer stores them without asking); larger ones as versions only.
    const items: (VersionRef | Entry)[] = store
      .bucketEntries(b)
      .map((e) => (valueSize(e.value, e.deleted) <= INLINE_VALUE_BYTES ? e : { key: e.key, ts: e.ts, origin: e.origin }));
    const pages = paginate(items, (r) => summaryItemSize(r, true), LIST_OVERHEAD_SUMMARY, mtuBytes);
    if (pages.length === 0) pages.push([]);
    for (let p = 0; p < pages.length; p++) {
      out.push({
        type: 'summary',
        buckets: store.buckets,
        bucket: b,
        first: p === 0,
        last: p === pages.length - 1,
        items: pages[p] as (VersionRef | Entry)[],
      });
    }
  }
  return out ?? NONE;
}

/**
 * A's answer to a summary page: deltas to push and keys to request. `mode`
 * is the direction of A's exchanges: `push` sends only the deltas, `pull`
 * only the requests (A's caller also stores inline values only when it pulls).
 */
export function answerSummary(store: Store, msg: Msg<'summary'>, mtuBytes: number, mode: AntiEntropyMode = 'push-pull'): GossipMessage[] {
  const theirs = new Map<string, VersionRef>();
  for (const r of msg.items) theirs.set(r.key, r);
  const lo = msg.first || msg.items.length === 0 ? undefined : (msg.items[0] as VersionRef).key;
  const hi = msg.last || msg.items.length === 0 ? undefined : (msg.items[msg.items.length - 1] as VersionRef).key;
  const push: Entry[] = [];
  const want: string[] = [];
  for (const e of store.bucketEntries(msg.bucket)) {
    if (lo !== undefined && e.key < lo) continue;
    if (hi !== undefined && e.key > hi) continue;
    const t = theirs.get(e.key);
    if (t === undefined) push.push(e);
    else {
      const c = compareVersion(e.ts, e.origin, t.ts, t.origin);
      if (c > 0) push.push(e);
      else if (c < 0) want.push(e.key);
      theirs.delete(e.key);
    }
  }
  // Keys they have that we do not hold at all.
  for (const r of msg.items) if (theirs.has(r.key) && bucketOf(r.key, store.buckets) === msg.bucket) want.push(r.key);
  const out: GossipMessage[] = [];
  if (mode !== 'pull') for (const page of paginate(push, entrySize, LIST_OVERHEAD_DELTA, mtuBytes)) out.push({ type: 'delta', entries: page });
  if (mode !== 'push') {
    for (const page of paginate(want, (k) => 1 + utf8Length(k), LIST_OVERHEAD_REQUEST, mtuBytes)) out.push({ type: 'request', keys: page });
  }
  return out;
}

/** B's answer to a request: the entries it holds for those keys, as delta pages. */
export function answerRequest(store: Store, keys: readonly string[], mtuBytes: number): Msg<'delta'>[] {
  const entries: Entry[] = [];
  for (const k of keys) {
    const e = store.entry(k);
    if (e !== undefined) entries.push(e);
  }
  return paginate(entries, entrySize, LIST_OVERHEAD_DELTA, mtuBytes).map((page) => ({ type: 'delta', entries: page }));
}

/** The hash a digest page gives for bucket `b` (0 for an empty bucket of a sparse page), or undefined when the page does not cover `b`. */
export function digestHashOf(msg: Msg<'digest'>, b: number): number | undefined {
  if (b < msg.start) return undefined;
  if (msg.indices === undefined) return b < msg.start + msg.hashes.length ? msg.hashes[b - msg.start] : undefined;
  if (b >= msg.start + (msg.count ?? msg.buckets - msg.start)) return undefined;
  let lo = 0;
  let hi = msg.indices.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = msg.indices[mid] as number;
    if (x === b) return msg.hashes[mid];
    if (x < b) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/**
 * Replicated acknowledgements (`--ack replicated:N`): a write is answered
 * once N nodes (this one included) are known to hold it, or a newer version
 * of its key, or when the wait times out.
 *
 * Theory of operation. Nothing is added to the gossip protocol: the tracker
 * watches the peer messages the node receives anyway, before the node
 * handles them, and counts a peer as holding version V of key k when the
 * peer
 * - sends k at V or newer in a rumor, a delta or an inline summary item
 *   (rumor mongering makes every new version hot at its receiver, which
 *   pushes it on, back to the writer too, within a round or two);
 * - lists k at V or newer in a feedback (it already knew the rumor), a
 *   `learned` message (it just stored it) or a summary (anti-entropy: its
 *   versions of a bucket);
 * - sends a digest whose hash of k's bucket equals this node's while this
 *   node holds V or newer for k (anti-entropy on stores in sync; equal
 *   32-bit bucket hashes of unequal buckets are possible but rare).
 *
 * "Holds" means in memory: every node appends each version it stores to its
 * own write-ahead log at once (group commit), so a confirmed copy is
 * normally on disk within milliseconds, but the confirmation does not wait
 * for that sync.
 */
import type { NodeId } from '../protocols/sans-io.js';
import { bucketOf, compareVersion, type Store } from '../protocols/gossip/store.js';
import type { GossipMessage } from '../protocols/gossip/wire.js';

interface Wait {
  readonly ts: number;
  readonly origin: number;
  readonly needPeers: number;
  readonly peers: Set<NodeId>;
  readonly resolve: (confirmedPeers: number) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Waits for peers to hold versions; fed every peer message by {@link AckTracker.observe}. */
export class AckTracker {
  private readonly waits = new Map<string, Wait[]>();

  constructor(private readonly store: Store) {}

  /** Writes waiting for confirmations. */
  get pending(): number {
    let n = 0;
    for (const ws of this.waits.values()) n += ws.length;
    return n;
  }

  /**
   * Resolves with the number of peers known to hold `key` at (ts, origin) or
   * newer: as soon as `needPeers` do, or with the count so far after
   * `timeoutMs` milliseconds.
   */
  wait(key: string, ts: number, origin: number, needPeers: number, timeoutMs: number): Promise<number> {
    if (needPeers <= 0) return Promise.resolve(0);
    return new Promise<number>((resolve) => {
      const w: Wait = { ts, origin, needPeers, peers: new Set(), resolve, timer: undefined };
      let list = this.waits.get(key);
      if (list === undefined) this.waits.set(key, (list = []));
      list.push(w);
      w.timer = setTimeout(() => this.finish(key, w), timeoutMs);
    });
  }

  /** Resolves every wait with its count so far (at shutdown). */
  cancelAll(): void {
    for (const [key, list] of [...this.waits]) for (const w of [...list]) this.finish(key, w);
  }

  private finish(key: string, w: Wait): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    const list = this.waits.get(key);
    if (list !== undefined) {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waits.delete(key);
    }
    w.resolve(w.peers.size);
  }

  private confirm(from: NodeId, key: string, ts: number, origin: number): void {
    const list = this.waits.get(key);
    if (list === undefined) return;
    for (const w of [...list]) {
      if (compareVersion(ts, origin, w.ts, w.origin) < 0) continue;
      w.peers.add(from);
      if (w.peers.size >= w.needPeers) this.finish(key, w);
    }
  }

  /** Looks at a message from peer `from` (before the node handles it). Never throws on odd input. */
  observe(from: NodeId, msg: GossipMessage): void {
    if (this.waits.size === 0 || typeof msg !== 'object' || msg === null) return;
    try {
      switch (msg.type) {
        case 'rumor':
          for (const e of msg.rumors) this.confirm(from, e.key, e.ts, e.origin);
          return;
        case 'delta':
          for (const e of msg.entries) this.confirm(from, e.key, e.ts, e.origin);
          return;
        case 'feedback':
          for (const r of msg.known) this.confirm(from, r.key, r.ts, r.origin);
          return;
        case 'learned':
          for (const r of msg.learned) this.confirm(from, r.key, r.ts, r.origin);
          return;
        case 'summary':
          for (const r of msg.items) this.confirm(from, r.key, r.ts, r.origin);
          return;
        case 'digest':
          return this.observeDigest(from, msg);
        default:
          return;
      }
    } catch {
      // A malformed message: the node drops and counts it; it confirms nothing.
    }
  }

  private observeDigest(from: NodeId, msg: Extract<GossipMessage, { type: 'digest' }>): void {
    if (msg.buckets !== this.store.buckets) return;
    for (const key of [...this.waits.keys()]) {
      const b = bucketOf(key, msg.buckets);
      let theirs: number | undefined;
      if (msg.indices === undefined) {
        if (b >= msg.start && b < msg.start + msg.hashes.length) theirs = msg.hashes[b - msg.start];
      } else if (b >= msg.start && b < msg.start + (msg.count ?? msg.buckets - msg.start)) {
        const i = msg.indices.indexOf(b);
        theirs = i >= 0 ? msg.hashes[i] : 0;
      }
      const mine = this.store.entry(key);
      if (theirs === undefined || mine === undefined || theirs !== this.store.bucketHash(b)) continue;
      this.confirm(from, key, mine.ts, mine.origin);
    }
  }
}

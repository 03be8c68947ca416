/**
 * Metrics of a simulated gossip cluster, gathered from outside the nodes
 * through the {@link GossipObserver} hooks (the nodes never compute them).
 *
 * Theory of operation. Every local write is an *update*. A node *has* an
 * update once it stores that version or a newer one of the same key (a newer
 * version supersedes it; a node that already held a newer version when the
 * update was written has it from the start, with no delay); the first time is
 * its infection time, and how it got it (rumor or anti-entropy) is remembered.
 * Per update:
 * - `t_ave`: mean delay from the write to infection, over the infections of
 *   nodes other than the writer (a node wiped and infected again counts
 *   twice); `t_last`: the largest such delay, that is when the last node ever
 *   reached got it, known as soon as one node other than the writer got it
 *   (also with residue > 0);
 * - `t_all`: delay from the write to the moment since which every live node
 *   has it, or NaN while some live node lacks it;
 * - `residue`: fraction of the live nodes that the rumor never reached: no
 *   rumor carrying it (or a newer version) arrived there, whether or not the
 *   node already had it from anti-entropy; a writer counts as reached;
 * - `messages`, `bytes`: rumor messages that carried it and their encoded size.
 *
 * Surviving versions. A version *survives* while some node stores exactly it:
 * a live node, or a crashed node whose state may come back with it. Only a
 * restart without state (a wipe) or, in principle, a resurrection of an older
 * value, takes a version out of every store. An update is *lost* when no node
 * stores it or any newer version of its key: its writer was wiped before any
 * other node got it, or every node that got it was wiped. Convergence, the
 * infection curve and stale reads are judged against the newest *surviving*
 * version of each key, not against the newest ever written: after a lost
 * write every live node can agree, and the cluster is then converged.
 *
 * Cluster level: per key the newest surviving version and how many live nodes
 * hold exactly it; the cluster is converged when every key is held by every
 * live node. The time of the last transition into convergence is kept, and
 * each change of a key's holder fraction is reported (the infection curve).
 */
import type { Time } from '../kernel/time.js';
import type { NodeId } from '../net/network.js';
import type { GossipObserver, Via } from '../protocols/gossip/node.js';
import { compareVersion, type Entry } from '../protocols/gossip/store.js';

/** One local write and its spread. */
export interface UpdateRecord {
  readonly key: string;
  readonly ts: number;
  readonly origin: NodeId;
  readonly deleted: boolean;
  readonly writtenAtNs: Time;
  /** The version written. */
  readonly entry: Entry;
  /** Per node: 0 not yet, 1 by rumor, 2 by anti-entropy, 3 the writer (of it or of a newer version), 4 held a newer version when it was written. */
  readonly how: Uint8Array;
  /** Nodes that have it now (writer included). */
  count: number;
  /** Infections of nodes other than the writer counted in the delays (a node wiped and infected again counts again). */
  reached: number;
  /** Sum and maximum of infection delays (ns) over those infections. */
  sumDelayNs: number;
  maxDelayNs: number;
  /** Live nodes that have it now. */
  liveHave: number;
  /** Time (ns) since which every live node has had it, or -1 while some live node lacks it. */
  allSinceNs: number;
  /** Nodes, live or crashed with their state, whose store holds exactly this version. */
  holders: number;
  /** Rumor messages that carried it, and their bytes (a message carrying several updates counts for each). */
  messages: number;
  bytes: number;
  /** Per node: 1 once a rumor carrying it (or a newer version) arrived, whether or not the node already had it. */
  readonly rumorReached: Uint8Array;
}

interface KeyState {
  readonly key: string;
  /** Index in `updates` of the newest surviving version, or -1 when none survives. */
  newestIdx: number;
  /** Per node: index in `updates` of the version it stores, or -1 (nothing, or wiped). */
  readonly held: Int32Array;
  /** Live nodes holding the newest surviving version. */
  live: number;
  readonly updates: UpdateRecord[];
  pendingTimeNs: number;
  pendingFrac: number;
}

/** One delivery (a remote version stored), as the `deliveries` trace records it. */
export interface DeliveryRecord {
  readonly timeNs: Time;
  readonly node: NodeId;
  readonly entry: Entry;
  readonly via: Exclude<Via, 'local'>;
}

/** Options of {@link GossipMetrics}. */
export interface GossipMetricsOptions {
  /** Called for every delivery (leave unset when not tracing). */
  readonly onDelivery?: (d: DeliveryRecord) => void;
  /** Called for every version stored (local writes included), before the metrics update. */
  readonly onStored?: (node: NodeId, entry: Entry, via: Via, nowNs: Time) => void;
  /** Called with (time, key, fraction of live nodes holding its newest surviving version), one point per key and instant. */
  readonly onInfection?: (timeNs: Time, key: string, fraction: number) => void;
}

/** Summary of all updates. */
export interface UpdateSummary {
  /** Every local write. */
  readonly updates: number;
  /** Updates that are lost (see {@link GossipMetrics.lost}); the means below leave them out. */
  readonly lost: number;
  /**
   * Means over the surviving updates (s): t_ave and t_last over those that
   * reached at least one node besides the writer, t_all over those that every
   * live node has, residue over all of them.
   */
  readonly tAveS: number;
  readonly tLastS: number;
  readonly tAllS: number;
  readonly residueFrac: number;
  /** Updates that every live node has. */
  readonly complete: number;
}

function cmp(a: { ts: number; origin: number }, b: { ts: number; origin: number }): number {
  return compareVersion(a.ts, a.origin, b.ts, b.origin);
}

/** Observer that measures updates and convergence. */
export class GossipMetrics implements GossipObserver {
  readonly updates: UpdateRecord[] = [];
  private readonly keys = new Map<string, KeyState>();
  private readonly up: Uint8Array;
  private liveCount: number;
  private fullKeys = 0;
  private convergedNow = true;
  /** Time of the last transition into convergence (ns), or 0. */
  lastConvergedNs: Time = 0;

  constructor(
    readonly nodeCount: number,
    private readonly options: GossipMetricsOptions = {},
  ) {
    this.up = new Uint8Array(nodeCount).fill(1);
    this.liveCount = nodeCount;
  }

  /** True when every live node holds the newest surviving version of every key. */
  get converged(): boolean {
    return this.convergedNow;
  }

  /** The newest surviving version of `key` (some node stores it), if any. */
  newest(key: string): Entry | undefined {
    const k = this.keys.get(key);
    return k === undefined || k.newestIdx < 0 ? undefined : (k.updates[k.newestIdx] as UpdateRecord).entry;
  }

  /** Fraction of live nodes holding the newest surviving version of `key` (1 for an unknown key). */
  fraction(key: string): number {
    const k = this.keys.get(key);
    return k === undefined || this.liveCount === 0 ? 1 : k.live / this.liveCount;
  }

  stored(node: NodeId, e: Entry, via: Via, nowNs: Time): void {
    if (this.options.onStored !== undefined) this.options.onStored(node, e, via, nowNs);
    let k = this.keys.get(e.key);
    if (k === undefined) {
      k = { key: e.key, newestIdx: -1, held: new Int32Array(this.nodeCount).fill(-1), live: 0, updates: [], pendingTimeNs: -1, pendingFrac: 0 };
      this.keys.set(e.key, k);
      this.fullKeys++; // a key without a version counts as full until its first write below
    }
    if (via !== 'local' && this.options.onDelivery !== undefined) this.options.onDelivery({ timeNs: nowNs, node, entry: e, via });
    const code = via === 'rumor' ? 1 : via === 'anti_entropy' ? 2 : 3;
    for (const u of k.updates) {
      if (u.how[node] !== 0 || cmp(u, e) > 0) continue;
      this.mark(u, node, code, nowNs);
    }
    let idx: number;
    if (via === 'local') {
      idx = k.updates.length;
      this.record(k, node, e, nowNs);
    } else {
      idx = -1;
      for (let i = k.updates.length - 1; i >= 0; i--) {
        const u = k.updates[i] as UpdateRecord;
        if (u.ts === e.ts && u.origin === e.origin) {
          idx = i;
          break;
        }
      }
      if (idx < 0) return; // a version no write of this run made (cannot happen in a GossipCluster)
    }
    const prev = k.held[node] as number;
    if (prev === idx) return;
    if (prev >= 0) (k.updates[prev] as UpdateRecord).holders--;
    k.held[node] = idx;
    (k.updates[idx] as UpdateRecord).holders++;

    const wasFull = k.newestIdx < 0 || k.live === this.liveCount;
    const nw = k.newestIdx;
    const isUp = this.up[node] === 1;
    if (nw < 0 || cmp(e, k.updates[nw] as UpdateRecord) > 0) {
      // A version newer than every surviving one: nobody else stores it.
      k.newestIdx = idx;
      k.live = isUp ? 1 : 0;
    } else if (idx === nw) {
      if (isUp) k.live++;
    } else if (prev === nw) {
      // The node went back to an older version (a resurrection): it no longer holds the newest.
      if (isUp) k.live--;
      if ((k.updates[nw] as UpdateRecord).holders === 0) this.refresh(k);
    } else return;
    const isFull = k.newestIdx < 0 || k.live === this.liveCount;
    if (wasFull !== isFull) this.fullKeys += isFull ? 1 : -1;
    this.point(k, nowNs);
    this.checkConverged(nowNs);
  }

  /** Records a local write of `e` at `node`. */
  private record(k: KeyState, node: NodeId, e: Entry, nowNs: Time): void {
    const u: UpdateRecord = {
      key: e.key,
      ts: e.ts,
      origin: e.origin,
      deleted: e.deleted,
      writtenAtNs: nowNs,
      entry: e,
      how: new Uint8Array(this.nodeCount),
      count: 1,
      reached: 0,
      sumDelayNs: 0,
      maxDelayNs: 0,
      liveHave: this.up[node] === 1 ? 1 : 0,
      allSinceNs: -1,
      holders: 0,
      messages: 0,
      bytes: 0,
      rumorReached: new Uint8Array(this.nodeCount),
    };
    u.how[node] = 3;
    // Nodes that already store a newer version (a concurrent write with a higher timestamp) have it from the start.
    const nw = k.newestIdx;
    if (nw >= 0 && cmp(k.updates[nw] as UpdateRecord, u) > 0) {
      for (let i = 0; i < this.nodeCount; i++) {
        const h = k.held[i] as number;
        if (i === node || h < 0 || cmp(k.updates[h] as UpdateRecord, u) <= 0) continue;
        u.how[i] = 4;
        u.count++;
        if (this.up[i] === 1) u.liveHave++;
      }
    }
    if (u.liveHave === this.liveCount) u.allSinceNs = nowNs;
    this.updates.push(u);
    k.updates.push(u);
  }

  /** `node` (live: it just stored something) now has update `u`. */
  private mark(u: UpdateRecord, node: NodeId, code: number, nowNs: Time): void {
    u.how[node] = code;
    u.count++;
    if (this.up[node] === 1) u.liveHave++;
    const d = nowNs - u.writtenAtNs;
    u.reached++;
    u.sumDelayNs += d;
    if (d > u.maxDelayNs) u.maxDelayNs = d;
    if (u.liveHave === this.liveCount && u.allSinceNs < 0) u.allSinceNs = nowNs;
  }

  /** Recomputes a key's newest surviving version and its live holders. */
  private refresh(k: KeyState): void {
    let best = -1;
    for (let i = 0; i < k.updates.length; i++) {
      const u = k.updates[i] as UpdateRecord;
      if (u.holders > 0 && (best < 0 || cmp(u, k.updates[best] as UpdateRecord) > 0)) best = i;
    }
    k.newestIdx = best;
    let live = 0;
    if (best >= 0) for (let i = 0; i < this.nodeCount; i++) if (this.up[i] === 1 && k.held[i] === best) live++;
    k.live = live;
  }

  rumorReceived(node: NodeId, e: Entry): void {
    const k = this.keys.get(e.key);
    if (k === undefined) return;
    for (const u of k.updates) if (cmp(u, e) <= 0) u.rumorReached[node] = 1;
  }

  rumorSent(_node: NodeId, rumors: readonly Entry[], _to: NodeId, sizeBytes: number): void {
    for (const e of rumors) {
      const k = this.keys.get(e.key);
      if (k === undefined) continue;
      for (const u of k.updates) {
        if (u.ts === e.ts && u.origin === e.origin) {
          u.messages++;
          u.bytes += sizeBytes;
        }
      }
    }
  }

  /** The node went down (its holdings stop counting, but its state still keeps its versions alive). */
  nodeDown(node: NodeId, nowNs: Time): void {
    if (this.up[node] === 0) return;
    this.up[node] = 0;
    this.liveCount--;
    for (const k of this.keys.values()) {
      if (k.newestIdx >= 0 && k.held[node] === k.newestIdx) k.live--;
      for (const u of k.updates) if (u.how[node] !== 0) u.liveHave--;
    }
    this.recount(nowNs);
  }

  /** The node came back, with its state or empty (then the versions it alone stored are lost). */
  nodeUp(node: NodeId, keptState: boolean, nowNs: Time): void {
    if (this.up[node] === 1) return;
    this.up[node] = 1;
    this.liveCount++;
    for (const k of this.keys.values()) {
      if (!keptState) {
        const prev = k.held[node] as number;
        k.held[node] = -1;
        if (prev >= 0) {
          (k.updates[prev] as UpdateRecord).holders--;
          if (prev === k.newestIdx && (k.updates[prev] as UpdateRecord).holders === 0) this.refresh(k);
        }
        for (const u of k.updates) {
          if (u.how[node] === 0) continue;
          u.how[node] = 0;
          u.rumorReached[node] = 0;
          u.count--;
        }
      }
      if (k.newestIdx >= 0 && k.held[node] === k.newestIdx) k.live++;
      for (const u of k.updates) if (u.how[node] !== 0) u.liveHave++;
    }
    this.recount(nowNs);
  }

  private recount(nowNs: Time): void {
    this.fullKeys = 0;
    for (const k of this.keys.values()) {
      if (k.newestIdx < 0 || k.live === this.liveCount) this.fullKeys++;
      this.point(k, nowNs);
      for (const u of k.updates) {
        if (u.liveHave !== this.liveCount) u.allSinceNs = -1;
        else if (u.allSinceNs < 0) u.allSinceNs = nowNs;
      }
    }
    this.checkConverged(nowNs);
  }

  private checkConverged(nowNs: Time): void {
    const c = this.fullKeys === this.keys.size;
    if (c && !this.convergedNow) this.lastConvergedNs = nowNs;
    this.convergedNow = c;
  }

  private point(k: KeyState, nowNs: Time): void {
    const cb = this.options.onInfection;
    if (cb === undefined || k.newestIdx < 0) return;
    const f = this.liveCount === 0 ? 0 : k.live / this.liveCount;
    if (k.pendingTimeNs >= 0 && k.pendingTimeNs !== nowNs) cb(k.pendingTimeNs, k.key, k.pendingFrac);
    k.pendingTimeNs = nowNs;
    k.pendingFrac = f;
  }

  /** Emits the last pending infection point of every key. */
  flush(): void {
    const cb = this.options.onInfection;
    if (cb === undefined) return;
    for (const k of this.keys.values()) {
      if (k.pendingTimeNs >= 0) cb(k.pendingTimeNs, k.key, k.pendingFrac);
      k.pendingTimeNs = -1;
    }
  }

  /** Residue of one update: fraction of live nodes the rumor never reached. */
  residue(u: UpdateRecord): number {
    let live = 0;
    let missed = 0;
    for (let i = 0; i < this.nodeCount; i++) {
      if (this.up[i] !== 1) continue;
      live++;
      const h = u.how[i];
      if (h !== 1 && h !== 3 && h !== 4 && u.rumorReached[i] !== 1) missed++;
    }
    return live === 0 ? 0 : missed / live;
  }

  /** True when every live node has update `u`. */
  complete(u: UpdateRecord): boolean {
    return u.liveHave === this.liveCount;
  }

  /** True when no node stores update `u` or a newer version of its key (its writer, and whoever got it, were wiped). */
  lost(u: UpdateRecord): boolean {
    const k = this.keys.get(u.key);
    if (k === undefined || k.newestIdx < 0) return true;
    return cmp(u, k.updates[k.newestIdx] as UpdateRecord) > 0;
  }

  /** t_last of one update (ns): when the last node ever reached got it; NaN while no node besides the writer has. */
  tLastNs(u: UpdateRecord): number {
    return u.reached === 0 ? NaN : u.maxDelayNs;
  }

  /** t_ave of one update (ns), over the infections of nodes other than the writer; NaN without any. */
  tAveNs(u: UpdateRecord): number {
    return u.reached === 0 ? NaN : u.sumDelayNs / u.reached;
  }

  /** t_all of one update (ns): from the write to the time since which every live node has it; NaN while one lacks it. */
  tAllNs(u: UpdateRecord): number {
    return u.allSinceNs < 0 ? NaN : u.allSinceNs - u.writtenAtNs;
  }

  /** Lost updates, and means of t_ave, t_last, t_all and residue over the surviving ones (see {@link UpdateSummary}). */
  summary(): UpdateSummary {
    let tAve = 0;
    let tLast = 0;
    let nReached = 0;
    let tAll = 0;
    let complete = 0;
    let residue = 0;
    let lost = 0;
    for (const u of this.updates) {
      if (this.lost(u)) {
        lost++;
        continue;
      }
      if (u.reached > 0) {
        tAve += u.sumDelayNs / u.reached;
        tLast += u.maxDelayNs;
        nReached++;
      }
      if (this.complete(u)) {
        tAll += u.allSinceNs - u.writtenAtNs;
        complete++;
      }
      residue += this.residue(u);
    }
    const n = this.updates.length;
    const surviving = n - lost;
    return {
      updates: n,
      lost,
      tAveS: nReached === 0 ? NaN : tAve / nReached / 1e9,
      tLastS: nReached === 0 ? NaN : tLast / nReached / 1e9,
      tAllS: complete === 0 ? NaN : tAll / complete / 1e9,
      residueFrac: surviving === 0 ? NaN : residue / surviving,
      complete,
    };
  }
}

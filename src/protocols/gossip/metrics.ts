/**
 * Metrics of a simulated gossip cluster, gathered from outside the nodes
 * through the {@link GossipObserver} hooks (the nodes never compute them).
 *
 * Theory of operation. Every local write is an *update*. A node *has* an
 * update once it stores that version or a newer one of the same key (a newer
 * version supersedes it); the first time is its infection time, and how it
 * got it (rumor or anti-entropy) is remembered. Per update:
 * - `t_ave`: mean delay from the write to infection, over the nodes other
 *   than the writer that have it; `t_last`: the largest such delay, or NaN
 *   while some live node lacks it;
 * - `residue`: fraction of the live nodes that the rumor never reached: no
 *   rumor carrying it (or a newer version) arrived there, whether or not the
 *   node already had it from anti-entropy; a writer counts as reached;
 * - `messages`, `bytes`: rumor messages that carried it and their encoded size.
 *
 * Cluster level: per key the newest version written so far and how many live
 * nodes hold exactly it; the cluster is converged when every key is held by
 * every live node. The time of the last transition into convergence is kept,
 * and each change of a key's holder fraction is reported (the infection
 * curve).
 */
import type { Time } from '../../kernel/time.js';
import type { NodeId } from '../net/network.js';
import type { GossipObserver, Via } from './node.js';
import { compareVersion, type Entry } from './store.js';

/** One local write and its spread. */
export interface UpdateRecord {
  readonly key: string;
  readonly ts: number;
  readonly origin: NodeId;
  readonly deleted: boolean;
  readonly writtenAtNs: Time;
  /** Per node: 0 not yet, 1 by rumor, 2 by anti-entropy, 3 the writer. */
  readonly how: Uint8Array;
  /** Nodes that have it (writer included). */
  count: number;
  /** Sum and maximum of infection delays (ns) over non-writer nodes. */
  sumDelayNs: number;
  maxDelayNs: number;
  /** Rumor messages that carried it, and their bytes (a message carrying several updates counts for each). */
  messages: number;
  bytes: number;
  /** Per node: 1 once a rumor carrying it (or a newer version) arrived, whether or not the node already had it. */
  readonly rumorReached: Uint8Array;
}

interface KeyState {
  readonly key: string;
  newest: Entry | undefined;
  /** 1 when the node holds exactly the newest version. */
  readonly holds: Uint8Array;
  /** Live nodes holding the newest version. */
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
  /** Called with (time, key, fraction of live nodes holding its newest version), one point per key and instant. */
  readonly onInfection?: (timeNs: Time, key: string, fraction: number) => void;
}

/** Summary of all updates. */
export interface UpdateSummary {
  readonly updates: number;
  /** Means over updates (s); t_last over updates every live node has. */
  readonly tAveS: number;
  readonly tLastS: number;
  readonly residueFrac: number;
  /** Updates that every live node has. */
  readonly complete: number;
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

  /** True when every live node holds the newest version of every key. */
  get converged(): boolean {
    return this.convergedNow;
  }

  /** The newest version written of `key`, if any. */
  newest(key: string): Entry | undefined {
    return this.keys.get(key)?.newest;
  }

  /** Fraction of live nodes holding the newest version of `key` (1 for an unknown key). */
  fraction(key: string): number {
    const k = this.keys.get(key);
    return k === undefined || this.liveCount === 0 ? 1 : k.live / this.liveCount;
  }

  stored(node: NodeId, e: Entry, via: Via, nowNs: Time): void {
    if (this.options.onStored !== undefined) this.options.onStored(node, e, via, nowNs);
    let k = this.keys.get(e.key);
    if (k === undefined) {
      k = { key: e.key, newest: undefined, holds: new Uint8Array(this.nodeCount), live: 0, updates: [], pendingTimeNs: -1, pendingFrac: 0 };
      this.keys.set(e.key, k);
      this.fullKeys++; // an empty key counts as full until its first write below
    }
    if (via !== 'local' && this.options.onDelivery !== undefined) this.options.onDelivery({ timeNs: nowNs, node, entry: e, via });
    const code = via === 'rumor' ? 1 : via === 'anti_entropy' ? 2 : 3;
    for (const u of k.updates) {
      if (u.how[node] !== 0 || compareVersion(u.ts, u.origin, e.ts, e.origin) > 0) continue;
      u.how[node] = code;
      u.count++;
      const d = nowNs - u.writtenAtNs;
      u.sumDelayNs += d;
      if (d > u.maxDelayNs) u.maxDelayNs = d;
    }
    if (via === 'local') {
      const u: UpdateRecord = {
        key: e.key,
        ts: e.ts,
        origin: e.origin,
        deleted: e.deleted,
        writtenAtNs: nowNs,
        how: new Uint8Array(this.nodeCount),
        count: 1,
        sumDelayNs: 0,
        maxDelayNs: 0,
        messages: 0,
        bytes: 0,
        rumorReached: new Uint8Array(this.nodeCount),
      };
      u.how[node] = 3;
      this.updates.push(u);
      k.updates.push(u);
    }
    const wasFull = k.newest === undefined || k.live === this.liveCount;
    if (k.newest === undefined || compareVersion(e.ts, e.origin, k.newest.ts, k.newest.origin) > 0) {
      k.newest = e;
      k.holds.fill(0);
      k.holds[node] = 1;
      k.live = this.up[node] === 1 ? 1 : 0;
    } else if (compareVersion(e.ts, e.origin, k.newest.ts, k.newest.origin) === 0 && k.holds[node] === 0) {
      k.holds[node] = 1;
      if (this.up[node] === 1) k.live++;
    } else return;
    const isFull = k.live === this.liveCount;
    if (wasFull !== isFull) this.fullKeys += isFull ? 1 : -1;
    this.point(k, nowNs);
    this.checkConverged(nowNs);
  }

  rumorReceived(node: NodeId, e: Entry): void {
    const k = this.keys.get(e.key);
    if (k === undefined) return;
    for (const u of k.updates) if (compareVersion(u.ts, u.origin, e.ts, e.origin) <= 0) u.rumorReached[node] = 1;
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

  /** The node went down (its holdings stop counting). */
  nodeDown(node: NodeId, nowNs: Time): void {
    if (this.up[node] === 0) return;
    this.up[node] = 0;
    this.liveCount--;
    for (const k of this.keys.values()) if (k.holds[node] === 1) k.live--;
    this.recount(nowNs);
  }

  /** The node came back, with its state or empty. */
  nodeUp(node: NodeId, keptState: boolean, nowNs: Time): void {
    if (this.up[node] === 1) return;
    this.up[node] = 1;
    this.liveCount++;
    for (const k of this.keys.values()) {
      if (!keptState) {
        k.holds[node] = 0;
        for (const u of k.updates) {
          if (u.how[node] === 0) continue;
          u.how[node] = 0;
          u.rumorReached[node] = 0;
          u.count--;
        }
      }
      if (k.holds[node] === 1) k.live++;
    }
    this.recount(nowNs);
  }

  private recount(nowNs: Time): void {
    this.fullKeys = 0;
    for (const k of this.keys.values()) {
      if (k.newest === undefined || k.live === this.liveCount) this.fullKeys++;
      this.point(k, nowNs);
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
    if (cb === undefined || k.newest === undefined) return;
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
      if (h !== 1 && h !== 3 && u.rumorReached[i] !== 1) missed++;
    }
    return live === 0 ? 0 : missed / live;
  }

  /** True when every live node has update `u`. */
  complete(u: UpdateRecord): boolean {
    for (let i = 0; i < this.nodeCount; i++) if (this.up[i] === 1 && u.how[i] === 0) return false;
    return true;
  }

  /** Mean t_ave, t_last (over complete updates) and residue over all updates. */
  summary(): UpdateSummary {
    let tAve = 0;
    let nAve = 0;
    let tLast = 0;
    let complete = 0;
    let residue = 0;
    for (const u of this.updates) {
      if (u.count > 1) {
        tAve += u.sumDelayNs / (u.count - 1);
        nAve++;
      }
      if (this.complete(u)) {
        tLast += u.maxDelayNs;
        complete++;
      }
      residue += this.residue(u);
    }
    const n = this.updates.length;
    return {
      updates: n,
      tAveS: nAve === 0 ? NaN : tAve / nAve / 1e9,
      tLastS: complete === 0 ? NaN : tLast / complete / 1e9,
      residueFrac: n === 0 ? NaN : residue / n,
      complete,
    };
  }
}

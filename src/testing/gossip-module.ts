/**
 * The gossip key-value store as a `protocol.module`: what `desim/testing`
 * property tests (and `desim run` replays of their counterexamples) run.
 *
 * `options` is a `protocol.gossip` section in scenario form (`preset`,
 * `anti_entropy`, `clock: { kind, max_offset_ms, max_drift_ppm, nodes }`, ...).
 * The nodes are built exactly as the `gossip` recipe of `desim run` builds
 * them: every node's peers are all nodes, its random stream is
 * `gossip.node:<id>`, and the clock offsets and drifts are drawn for all
 * nodes at once from the stream `gossip.clock` (then the `clock.nodes`
 * overrides), and kept across restarts (a machine keeps its clock when its
 * disk is wiped). So a scenario gives the same run, and the same
 * deliveries ({@link deliveriesCsv}), by either route.
 *
 * {@link invariant}: every live node holds the last-writer-wins winner of
 * every key over the accepted writes, and nothing else. A write is accepted
 * once some node stores it and that node is not restarted without state
 * afterwards: a version held by such a node survives to the end (stores only
 * move forward), while a version held only by nodes that were all wiped is
 * legitimately lost. With tombstone collection on, a node may hold nothing
 * for a key whose winner is a tombstone (it collected it, or every other
 * node had before it heard of the delete). And no deleted value ever comes
 * back: no node stores a version of a key older than a tombstone of that key
 * it collected earlier.
 */
import { toCsv } from '../io/csv.js';
import { GossipNode, type Via } from '../protocols/gossip/node.js';
import { compareVersion, type Entry } from '../protocols/gossip/store.js';
import type { GossipMessage, KvCall, KvReply } from '../protocols/gossip/wire.js';
import type { NodeId } from '../net/network.js';
import {
  DELIVERY_COLUMNS,
  deliveryRow,
  drawClocks,
  GOSSIP_CLOCK_STREAM,
  gossipSectionSchema,
  toGossipConfig,
  type GossipClocks,
} from '../scenarios/drivers/gossip.js';
import type { ClusterView, NodeContext } from '../scenarios/drivers/module.js';

interface Stored {
  readonly node: NodeId;
  readonly e: Entry;
  readonly via: Via;
  readonly t: number;
}

interface Collected {
  readonly node: NodeId;
  readonly e: Entry;
  readonly t: number;
}

interface RunState {
  readonly config: ReturnType<typeof toGossipConfig>;
  /** Every node of the run, the node itself included (as the gossip cluster gives them). */
  readonly all: readonly NodeId[];
  readonly clocks: GossipClocks;
  readonly stored: Stored[];
  readonly collected: Collected[];
  /** The version each node last stored, per key (`node\u0000key`). */
  readonly last: Map<string, Entry>;
}

function runState(ctx: NodeContext): RunState {
  let st = ctx.shared.get('gossip') as RunState | undefined;
  if (st === undefined) {
    const settings = gossipSectionSchema.parse(ctx.options);
    // The wrong-key model lives in the cluster binding (GossipCluster), which this module's nodes do not go through.
    if (settings.wrong_key.length > 0)
      throw new RangeError('wrong_key is modelled by the gossip protocol of desim run, not by the gossip module of desim/testing');
    st = {
      config: toGossipConfig(settings),
      all: ctx.names.map((_, i) => i),
      clocks: drawClocks(settings, ctx.names, () => ctx.stream(GOSSIP_CLOCK_STREAM)),
      stored: [],
      collected: [],
      last: new Map(),
    };
    ctx.shared.set('gossip', st);
  }
  return st;
}

/** A GossipNode whose every store event is logged for {@link invariant}. */
export function createNode(id: NodeId, ctx: NodeContext): GossipNode {
  const st = runState(ctx);
  return new GossipNode({
    id,
    peers: st.all,
    rng: ctx.stream(`gossip.node:${id}`),
    config: st.config,
    clockOffsetNs: st.clocks.offsetsNs[id] as number,
    clockDriftPpm: st.clocks.driftsPpm[id] as number,
    observer: {
      stored: (node, e, via, t) => {
        st.stored.push({ node, e, via, t });
        st.last.set(`${node}\u0000${e.key}`, e);
      },
      collected: (node, key, t) => {
        const e = st.last.get(`${node}\u0000${key}`);
        if (e !== undefined) st.collected.push({ node, e, t });
      },
    },
  });
}

/** Every problem of the final state (empty when the cluster converged to the expected store). */
export function problems(view: ClusterView<GossipMessage, KvCall, KvReply>): string[] {
  const st = view.shared.get('gossip') as RunState | undefined;
  const stored = st?.stored ?? [];
  const wipes = view.faults.flatMap((f) => (f.fault.type === 'restart' && f.fault.keepState === false ? [{ node: f.fault.node, t: f.timeNs }] : []));
  const expected = new Map<string, Entry>();
  for (const s of stored) {
    if (wipes.some((w) => w.node === s.node && w.t >= s.t)) continue;
    const cur = expected.get(s.e.key);
    if (cur === undefined || compareVersion(s.e.ts, s.e.origin, cur.ts, cur.origin) > 0) expected.set(s.e.key, s.e);
  }
  const out: string[] = [];
  const version = (e: Entry): string => `(${e.ts}, ${view.names[e.origin] ?? e.origin})`;
  for (const c of st?.collected ?? []) {
    for (const s of stored) {
      if (s.node === c.node && s.t >= c.t && s.e.key === c.e.key && compareVersion(s.e.ts, s.e.origin, c.e.ts, c.e.origin) < 0) {
        out.push(
          `${view.names[c.node] ?? c.node}.${c.e.key}: brought back ${version(s.e)} at ${s.t / 1e9} s after collecting the tombstone ${version(c.e)} at ${c.t / 1e9} s`,
        );
      }
    }
  }
  const gcOn = st !== undefined && st.config.tombstoneGcNs !== Infinity;
  view.nodes.forEach((n, id) => {
    const name = view.names[id] ?? `#${id}`;
    if (view.up[id] !== true) {
      out.push(`${name} is down at the end`);
      return;
    }
    const store = (n as GossipNode).store;
    for (const [key, want] of expected) {
      const got = store.entry(key);
      if (got === undefined && want.deleted && gcOn) continue; // the tombstone was collected here (or everywhere before this node heard of it)
      if (got === undefined || got.ts !== want.ts || got.origin !== want.origin) {
        const has = got === undefined ? 'nothing' : `(${got.ts}, ${view.names[got.origin] ?? got.origin})`;
        const wanted = `(${want.ts}, ${view.names[want.origin] ?? want.origin})${want.deleted ? ' tombstone' : ` = ${JSON.stringify(want.value)}`}`;
        out.push(`${name}.${key}: has ${has}, expected ${wanted}`);
      }
    }
    for (const e of store.entries()) if (!expected.has(e.key)) out.push(`${name}.${e.key}: holds a version no accepted write explains`);
  });
  return out;
}

/** Convergence to the last-writer-wins winners of the accepted writes (see the module comment). */
export function invariant(view: ClusterView<GossipMessage, KvCall, KvReply>): string | undefined {
  const p = problems(view);
  return p.length === 0 ? undefined : `${p.length} problems, first: ${p.slice(0, 5).join('; ')}`;
}

/**
 * The run's deliveries (every version a node stored from another node, in
 * time order) as CSV: the same columns and bytes as the `trace-deliveries.csv`
 * that `desim run` writes for the same scenario in `protocol: gossip` form.
 */
export function deliveriesCsv(view: ClusterView<GossipMessage, KvCall, KvReply>): string {
  const st = view.shared.get('gossip') as RunState | undefined;
  const rows = (st?.stored ?? []).filter((s) => s.via !== 'local').map((s) => deliveryRow(view.names, s.t, s.node, s.e, s.via));
  return toCsv(DELIVERY_COLUMNS, rows);
}

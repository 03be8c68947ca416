/**
 * Turns the scenario file's network and fault sections (names, milliseconds,
 * seconds) into the kernel's network and fault records (ids, nanoseconds).
 */
import type { Simulator } from '../kernel/simulator.js';
import { milliseconds, seconds } from '../kernel/time.js';
import type { TimedFault } from '../net/faults.js';
import type { AqmSpec } from '../net/aqm.js';
import type { DelaySpec, LinkConfig, LossSpec } from '../net/link.js';
import { Network, type NetworkOptions, type NodeId } from '../net/network.js';
import type { DelayDist, FaultEntry, GilbertElliott, LinkSection, NetworkSection } from './driver.js';
import type { AqmSection } from './schema.js';
import { regionPairs, regionStarts } from './regions.js';

/** The names a node count stands for in a scenario file: `n0`, `n1`, ... */
export function defaultNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i}`);
}

/** The id of `name` among the default names of `count` nodes (`n0` is 0), or -1 when it is not one of them. */
export function defaultNodeId(name: string, count: number): number {
  if (name.length < 2 || name.length > 17 || name.charCodeAt(0) !== 110 /* n */) return -1;
  if (name.length > 2 && name.charCodeAt(1) === 48 /* no leading zero */) return -1;
  let id = 0;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    id = id * 10 + c;
  }
  return id < count ? id : -1;
}

/**
 * The default names of `count` nodes as a set, without a string or an entry
 * per node: `has` parses the name. Iterating makes the names one at a time.
 */
class DefaultNameSet implements ReadonlySet<string> {
  constructor(readonly size: number) {}
  has(name: string): boolean {
    return defaultNodeId(name, this.size) >= 0;
  }
  *values(): SetIterator<string> {
    for (let i = 0; i < this.size; i++) yield `n${i}`;
  }
  keys(): SetIterator<string> {
    return this.values();
  }
  *entries(): SetIterator<[string, string]> {
    for (const n of this.values()) yield [n, n];
  }
  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const n of this.values()) fn.call(thisArg, n, n, this);
  }
  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }
}

/** Ids of the default names of `count` nodes, by parsing (see {@link DefaultNameSet}). */
class DefaultIdMap implements ReadonlyMap<string, NodeId> {
  constructor(readonly size: number) {}
  get(name: string): NodeId | undefined {
    const id = defaultNodeId(name, this.size);
    return id >= 0 ? id : undefined;
  }
  has(name: string): boolean {
    return defaultNodeId(name, this.size) >= 0;
  }
  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield `n${i}`;
  }
  *values(): MapIterator<NodeId> {
    for (let i = 0; i < this.size; i++) yield i;
  }
  *entries(): MapIterator<[string, NodeId]> {
    for (let i = 0; i < this.size; i++) yield [`n${i}`, i];
  }
  forEach(fn: (value: NodeId, key: string, map: ReadonlyMap<string, NodeId>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.size; i++) fn.call(thisArg, i, `n${i}`, this);
  }
  [Symbol.iterator](): MapIterator<[string, NodeId]> {
    return this.entries();
  }
}

/**
 * The node names of a network section as a set. Names a count in the file
 * stands for (`counted`) are looked up by parsing, so a million-node scenario
 * costs no hash table of a million strings; listed names get a `Set`.
 */
export function nodeNameSet(section: Pick<NetworkSection, 'nodes' | 'counted'>): ReadonlySet<string> {
  return section.counted === true ? defaultNodeNameSet(section.nodes.length) : new Set(section.nodes);
}

/** The default names of `count` nodes (`n0` ... `n{count-1}`) as a set that parses instead of hashing. */
export function defaultNodeNameSet(count: number): ReadonlySet<string> {
  return new DefaultNameSet(count);
}

/** Node ids by name (ids in the order of `nodes`), parsed for counted names as {@link nodeNameSet} does. */
export function nodeIdMap(section: Pick<NetworkSection, 'nodes' | 'counted'>): ReadonlyMap<string, NodeId> {
  return section.counted === true ? new DefaultIdMap(section.nodes.length) : new Map(section.nodes.map((n, i) => [n, i]));
}

/** A latency in ms (or a distribution in ms) as the network's ns {@link DelaySpec}. */
export function toDelaySpec(d: number | DelayDist): DelaySpec {
  if (typeof d === 'number') return milliseconds(d);
  switch (d.dist) {
    case 'constant':
      return milliseconds(d.ms);
    case 'uniform':
      return { dist: 'uniform', minNs: milliseconds(d.min_ms), maxNs: milliseconds(d.max_ms) };
    case 'exponential':
      return { dist: 'exponential', meanNs: milliseconds(d.mean_ms) };
    case 'normal':
      return { dist: 'normal', meanNs: milliseconds(d.mean_ms), sdNs: milliseconds(d.sd_ms) };
    case 'lognormal':
      // mu, sigma are of ln(latency in ms): shift by ln(1e6) to get ns.
      return { dist: 'lognormal', mu: d.mu + Math.log(1e6), sigma: d.sigma };
    case 'pareto':
      return { dist: 'pareto', scaleNs: milliseconds(d.scale_ms), shape: d.shape };
  }
}

/** A loss section as the network's {@link LossSpec}. */
export function toLossSpec(l: number | GilbertElliott): LossSpec {
  if (typeof l === 'number') return l;
  return {
    model: 'gilbert-elliott',
    pGoodToBad: l.p_good_to_bad,
    pBadToGood: l.p_bad_to_good,
    lossGood: l.loss_good ?? 0,
    lossBad: l.loss_bad ?? 1,
  };
}

/** A queue discipline section (ms, snake_case) as the network's {@link AqmSpec} (ns). */
export function toAqmSpec(a: AqmSection): AqmSpec {
  switch (a.kind) {
    case 'droptail':
      return { kind: 'droptail' };
    case 'red':
      return {
        kind: 'red',
        minThPackets: a.min_th_packets,
        maxThPackets: a.max_th_packets,
        maxP: a.max_p,
        wq: a.w_q,
        gentle: a.gentle,
        meanPacketBytes: a.mean_packet_bytes,
        ecn: a.ecn,
      };
    case 'codel':
      return { kind: 'codel', targetNs: milliseconds(a.target_ms), intervalNs: milliseconds(a.interval_ms), ecn: a.ecn };
  }
}

/** The fields a link section sets, as a partial {@link LinkConfig}. */
export function toLinkPatch(s: LinkSection): Partial<LinkConfig> {
  const p: { -readonly [K in keyof LinkConfig]?: LinkConfig[K] } = {};
  if (s.latency_ms !== undefined) p.latency = toDelaySpec(s.latency_ms);
  if (s.jitter_ms !== undefined) p.jitterNs = milliseconds(s.jitter_ms);
  if (s.loss !== undefined) p.loss = toLossSpec(s.loss);
  if (s.duplicate !== undefined) p.duplicate = s.duplicate;
  if (s.bandwidth_bps !== undefined) p.bandwidthBps = s.bandwidth_bps;
  if (s.queue_packets !== undefined) p.queuePackets = s.queue_packets;
  if (s.queue_bytes !== undefined) p.queueBytes = s.queue_bytes;
  if (s.aqm !== undefined) p.aqm = toAqmSpec(s.aqm);
  return p;
}

/** Builds the network of a scenario: one node per name (ids in order), default link, regions, overrides. */
export function buildNetwork<P>(
  sim: Simulator,
  section: NetworkSection,
  options: Pick<NetworkOptions, 'perLinkCounters' | 'initialPackets'> = {},
): { net: Network<P>; ids: ReadonlyMap<string, NodeId> } {
  const net = new Network<P>(sim, { ...options, nodes: section.nodes.length, defaultLink: toLinkPatch(section.link) });
  if (section.regions !== undefined) net.setRegions(regionStarts(section.regions, section.nodes.length), regionPairs(section.regions));
  const ids = nodeIdMap(section);
  for (const l of section.links) {
    const from = ids.get(l.from) as NodeId;
    const to = ids.get(l.to) as NodeId;
    const patch = toLinkPatch(l);
    net.setLink(from, to, patch);
    if (l.both_ways) net.setLink(to, from, patch);
  }
  return { net, ids };
}

/** Fault entries (names, seconds) as timed faults (ids, ns). Names must have been checked by validation. */
export function toTimedFaults(entries: readonly FaultEntry[], ids: ReadonlyMap<string, NodeId>): TimedFault[] {
  const id = (name: string): NodeId => {
    const v = ids.get(name);
    if (v === undefined) throw new RangeError(`unknown node ${name}`);
    return v;
  };
  const groups = (g: readonly (readonly string[])[]): [NodeId[], NodeId[]] => {
    const a = (g[0] ?? []).map(id);
    // A single group is partitioned from every other node (a set: a scan of `a` per node would be quadratic).
    const inA = new Set(a);
    const b = g.length > 1 ? g.slice(1).flat().map(id) : [...ids.values()].filter((n) => !inA.has(n));
    return [a, b];
  };
  return entries.map((e): TimedFault => {
    const atNs = seconds(e.at_s);
    if ('partition' in e) {
      const [a, b] = groups(e.partition);
      return { atNs, fault: { type: 'partition', a, b, oneWay: e.one_way ?? false, ...(e.name !== undefined ? { name: e.name } : {}) } };
    }
    if ('hold' in e) {
      const [a, b] = groups(e.hold);
      return { atNs, fault: { type: 'hold', a, b, oneWay: e.one_way ?? false, ...(e.name !== undefined ? { name: e.name } : {}) } };
    }
    if ('repair' in e) return { atNs, fault: e.repair === 'all' ? { type: 'repair' } : { type: 'repair', name: e.repair } };
    if ('release' in e) return { atNs, fault: e.release === 'all' ? { type: 'release' } : { type: 'release', name: e.release } };
    if ('crash' in e) return { atNs, fault: { type: 'crash', node: id(e.crash) } };
    if ('restart' in e) return { atNs, fault: { type: 'restart', node: id(e.restart), keepState: e.keep_state ?? true } };
    if ('set_latency_ms' in e) {
      return {
        atNs,
        fault: { type: 'latency', a: id(e.between[0]), b: id(e.between[1]), latency: toDelaySpec(e.set_latency_ms), oneWay: e.one_way ?? false },
      };
    }
    return { atNs, fault: { type: 'loss', a: id(e.between[0]), b: id(e.between[1]), loss: toLossSpec(e.set_loss), oneWay: e.one_way ?? false } };
  });
}

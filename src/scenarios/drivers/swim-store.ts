/**
 * The store on SWIM's membership in a scenario: `protocol: { gossip: {...},
 * swim: {...} }` (see `MEMBERSHIP_PROTOCOLS` in the schema). The gossip recipe
 * builds one {@link SwimStoreCluster} on every network node, configured by
 * both sections, and owns the workload (puts, gets, deletes, joins and
 * leaves), the faults and the store's traces and metrics; the SWIM recipe,
 * attached after it on the same world, finds that cluster here and reports
 * SWIM's trace, table and metrics from it (prefixed `swim_`, the store's
 * `gossip_`), and draws the section's churn on it.
 */
import type { NodeId } from '../../net/network.js';
import type { GossipConfig } from '../../protocols/gossip/config.js';
import type { GossipMetricsOptions } from '../../sim/gossip-metrics.js';
import { SwimStoreCluster } from '../../sim/swim-store-cluster.js';
import type { World } from '../pipeline.js';
import { initialCount, toSwimConfig, type SwimSettings } from './swim.js';

const clusters = new WeakMap<World, SwimStoreCluster>();

/** The SWIM-backed store the gossip recipe built on `world`, if it did. */
export function membershipStoreOf(world: World): SwimStoreCluster | undefined {
  return clusters.get(world);
}

/** Builds the SWIM-backed store on every node of `world` from the `protocol.swim` section and the store's settings. */
export function buildMembershipStore(
  world: World,
  swim: SwimSettings,
  store: {
    readonly config: GossipConfig;
    readonly clockOffsetNs: (id: NodeId) => number;
    readonly clockDriftPpm: (id: NodeId) => number;
    readonly metrics: GossipMetricsOptions;
  },
): SwimStoreCluster {
  const n = world.net.nodeCount;
  const initial = Array.from({ length: initialCount(swim, n) }, (_, i) => i);
  const seeds = swim.seeds.map((name) => world.ids.get(name) as NodeId);
  const cluster = new SwimStoreCluster(world.sim, world.net as SwimStoreCluster['net'], {
    swim: toSwimConfig(swim),
    store: store.config,
    initial,
    ...(seeds.length > 0 ? { seeds } : {}),
    clockOffsetNs: store.clockOffsetNs,
    clockDriftPpm: store.clockDriftPpm,
    metrics: store.metrics,
    piggybackOnStore: swim.piggyback_on_store ?? true,
  });
  clusters.set(world, cluster);
  return cluster;
}

/**
 * Fault schedules as data: the few symmetric verbs of turmoil, each at a
 * simulated time. Scenario files, `desim/testing` arbitraries and user code
 * all describe faults with these records, and {@link scheduleFaults} applies
 * them to a {@link Network}.
 */
import type { Simulator } from '../kernel/simulator.js';
import type { Time } from '../kernel/time.js';
import type { DelaySpec, LossSpec } from './link.js';
import type { Network, NodeId } from './network.js';

/** One fault verb. Partitions and holds may carry a name so a later repair/release can name them. */
export type Fault =
  | { readonly type: 'partition'; readonly a: readonly NodeId[]; readonly b: readonly NodeId[]; readonly oneWay?: boolean; readonly name?: string }
  | { readonly type: 'repair'; readonly name?: string }
  | { readonly type: 'hold'; readonly a: readonly NodeId[]; readonly b: readonly NodeId[]; readonly oneWay?: boolean; readonly name?: string }
  | { readonly type: 'release'; readonly name?: string }
  | { readonly type: 'crash'; readonly node: NodeId }
  | { readonly type: 'restart'; readonly node: NodeId; readonly keepState?: boolean }
  | { readonly type: 'latency'; readonly a: NodeId; readonly b: NodeId; readonly latency: DelaySpec; readonly oneWay?: boolean }
  | { readonly type: 'loss'; readonly a: NodeId; readonly b: NodeId; readonly loss: LossSpec; readonly oneWay?: boolean };

/** A fault at a simulated time (ns). */
export interface TimedFault {
  readonly atNs: Time;
  readonly fault: Fault;
}

/** Hooks for verbs that concern more than the network (a host stops a crashed node's timers). */
export interface FaultHooks {
  /** Called by {@link scheduleFaults} just before each fault is applied (a log of faults, say). */
  before?(fault: Fault): void;
  crash?(node: NodeId): void;
  restart?(node: NodeId, keepState: boolean): void;
}

/** Applies one fault now. `names` maps partition/hold names to the network's rule ids. */
export function applyFault<P>(net: Network<P>, fault: Fault, names: Map<string, number>, hooks: FaultHooks = {}): void {
  switch (fault.type) {
    case 'partition': {
      const id = fault.oneWay === true ? net.partitionOneWay(fault.a, fault.b) : net.partition(fault.a, fault.b);
      if (fault.name !== undefined) names.set(`p:${fault.name}`, id);
      break;
    }
    case 'repair':
      if (fault.name === undefined) net.repair();
      else {
        const id = names.get(`p:${fault.name}`);
        if (id !== undefined) net.repair(id);
      }
      break;
    case 'hold': {
      const id = net.hold(fault.a, fault.b, fault.oneWay === true);
      if (fault.name !== undefined) names.set(`h:${fault.name}`, id);
      break;
    }
    case 'release':
      if (fault.name === undefined) net.release();
      else {
        const id = names.get(`h:${fault.name}`);
        if (id !== undefined) net.release(id);
      }
      break;
    case 'crash':
      if (hooks.crash !== undefined) hooks.crash(fault.node);
      else net.crash(fault.node);
      break;
    case 'restart':
      if (hooks.restart !== undefined) hooks.restart(fault.node, fault.keepState !== false);
      else net.restart(fault.node);
      break;
    case 'latency':
      net.setLinkLatency(fault.a, fault.b, fault.latency, fault.oneWay === true);
      break;
    case 'loss':
      net.setLossRate(fault.a, fault.b, fault.loss, fault.oneWay === true);
      break;
  }
}

/** Schedules every fault at its time (faults at the same time apply in list order). */
export function scheduleFaults<P>(sim: Simulator, net: Network<P>, faults: readonly TimedFault[], hooks: FaultHooks = {}): void {
  const names = new Map<string, number>();
  for (const f of faults) {
    sim.schedule(
      f.atNs,
      (fault: Fault) => {
        hooks.before?.(fault);
        applyFault(net, fault, names, hooks);
      },
      f.fault,
      `fault.${f.fault.type}`,
    );
  }
}

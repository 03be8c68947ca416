/**
 * The one scenario pipeline: the order in which it builds, schedules and
 * starts; fault routing to the recipe that runs a node; and two recipes
 * sharing one simulator and network (the shape a gossip + TCP scenario takes).
 */
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/net/network.js';
import { Outbox, type Action, type ProtocolNode } from '../../src/protocols/sans-io.js';
import type { RunContext, ScenarioFor } from '../../src/scenarios/driver.js';
import { buildWorld, mergeResults, PROGRESS_STEPS, runPipeline, uniformNetwork, type Recipe } from '../../src/scenarios/pipeline.js';
import { SimHost } from '../../src/sim/host.js';

/** Pings `to` every 100 ms from `start`; counts pongs it gets back. */
class Pinger implements ProtocolNode<string, 'count', number> {
  private readonly out = new Outbox<string>();
  pongs = 0;
  constructor(private readonly to: NodeId) {}
  start(now: number): void {
    this.out.setTimer('ping', now + 100_000_000);
  }
  handleMessage(from: NodeId, msg: string): void {
    if (msg === 'ping') this.out.send(from, 'pong', 10);
    else this.pongs++;
  }
  handleTimer(_t: string, now: number): void {
    this.out.send(this.to, 'ping', 10);
    this.out.setTimer('ping', now + 100_000_000);
  }
  handleCall(): number {
    return this.pongs;
  }
  pollActions(): readonly Action<string>[] {
    return this.out.drain();
  }
}

interface Log {
  readonly events: string[];
}

/** A recipe running a Pinger on `nodes` (each pinging the next one of the list), logging what the pipeline asks of it. */
function pingRecipe(name: string, nodes: readonly NodeId[], log: Log): Recipe<unknown, { at_s: number; node: string }> {
  return {
    name,
    attach(world) {
      const host = new SimHost<string, 'count', number>(
        world.sim,
        world.net as never,
        (id) => new Pinger(nodes[(nodes.indexOf(id) + 1) % nodes.length] as NodeId),
        nodes,
      );
      const mine = (id: NodeId): boolean => nodes.includes(id);
      log.events.push(`${name}: attach at ${world.sim.now}`);
      return {
        crash: (id) => {
          if (!mine(id)) return;
          log.events.push(`${name}: crash ${id} at ${world.sim.now}`);
          host.crash(id);
        },
        restart: (id, keep) => {
          if (!mine(id)) return;
          log.events.push(`${name}: restart ${id} at ${world.sim.now}`);
          host.restart(id, keep);
        },
        onFault: (f, t) => log.events.push(`${name}: fault ${f.type} at ${t}`),
        call: (w) => log.events.push(`${name}: call ${w.node} at ${world.sim.now} -> ${host.call(world.ids.get(w.node) as NodeId, 'count')}`),
        start: () => {
          log.events.push(`${name}: start at ${world.sim.now}`);
          host.startAll();
        },
        finish: () => {
          const pongs = nodes.reduce((a, id) => a + (host.node(id) as Pinger).pongs, 0);
          return {
            metrics: { pongs, sent_on_shared_net: world.net.total.sent },
            headline: `${pongs} pongs`,
            tables: { t: { columns: ['x'], rows: [[pongs]] } },
          };
        },
      };
    },
  };
}

function scenario(over: Partial<ScenarioFor<unknown, { at_s: number; node: string }>> = {}): ScenarioFor<unknown, { at_s: number; node: string }> {
  return {
    name: 't',
    description: '',
    seed: 1,
    duration_s: 2,
    network: { nodes: ['a', 'b', 'c', 'd', 'e'], link: { latency_ms: 1 }, links: [] },
    protocol: { p: {} },
    settings: {},
    workload: [],
    faults: [],
    outputs: { traces: 'all', plots: false },
    ...over,
  };
}

function ctx(progress: number[] = []): RunContext {
  return { seed: '1', openTrace: () => undefined, progress: (f) => progress.push(f) };
}

describe('runPipeline', () => {
  it('starts nodes at time 0 before any event, applies a fault before a workload entry of the same time, and reports progress in 20 steps', () => {
    const log: Log = { events: [] };
    const progress: number[] = [];
    const s = scenario({
      workload: [
        { at_s: 0, node: 'a' },
        { at_s: 1, node: 'a' },
      ],
      faults: [{ at_s: 0, crash: 'e' }],
    });
    runPipeline(s, ctx(progress), [pingRecipe('p', [0, 1, 2, 3, 4], log)]);
    expect(log.events.slice(0, 6)).toEqual([
      'p: attach at 0',
      'p: start at 0',
      'p: fault crash at 0',
      'p: crash 4 at 0',
      'p: call a at 0 -> 0',
      'p: call a at 1000000000 -> 9',
    ]);
    expect(progress).toHaveLength(PROGRESS_STEPS);
    expect(progress.at(-1)).toBe(1);
  });

  it('two recipes share one simulator and network: disjoint nodes, one fault schedule, merged results', () => {
    const log: Log = { events: [] };
    const s = scenario({
      faults: [
        { at_s: 0.5, partition: [['a', 'c']], name: 'cut' },
        { at_s: 1.5, repair: 'cut' },
        { at_s: 0.3, crash: 'b' },
        { at_s: 0.3, crash: 'e' },
        { at_s: 0.6, restart: 'e' },
      ],
    });
    const both = runPipeline(s, ctx(), [pingRecipe('left', [0, 1], log), pingRecipe('right', [2, 3], log)]);
    const alone = runPipeline({ ...s, faults: [] }, ctx(), [pingRecipe('left', [0, 1], { events: [] }), pingRecipe('right', [2, 3], { events: [] })]);
    // Both recipes attached to the same world, in order, and each got only its own crash (node e, 4, runs nothing: the network alone takes it).
    expect(log.events.filter((e) => !e.includes('fault') && (e.includes('attach') || e.includes('crash ') || e.includes('restart ')))).toEqual([
      'left: attach at 0',
      'right: attach at 0',
      'left: crash 1 at 300000000',
    ]);
    // The partition cuts a and c (each recipe's pinger) off: fewer pongs on both sides than without faults.
    expect(Object.keys(both.metrics)).toEqual(['left_pongs', 'left_sent_on_shared_net', 'right_pongs', 'right_sent_on_shared_net']);
    expect(both.metrics['left_pongs']).toBeLessThan(alone.metrics['left_pongs'] as number);
    expect(both.metrics['right_pongs']).toBeLessThan(alone.metrics['right_pongs'] as number);
    // One network: both recipes count every message of both.
    expect(both.metrics['left_sent_on_shared_net']).toBe(both.metrics['right_sent_on_shared_net']);
    expect(Object.keys(both.tables ?? {})).toEqual(['left-t', 'right-t']);
    expect(both.headline).toMatch(/^left: \d+ pongs \| right: \d+ pongs$/);
  });

  it('merges one result as it is, and joins violations of several with the recipe names', () => {
    const one = { metrics: { x: 1 }, headline: 'h' };
    expect(mergeResults(['a'], [one])).toBe(one);
    const m = mergeResults(
      ['a', 'b'],
      [
        { ...one, violation: 'bad' },
        { metrics: { x: 2 }, headline: 'g', violation: 'worse' },
      ],
    );
    expect(m.metrics).toEqual({ a_x: 1, b_x: 2 });
    expect(m.violation).toBe('a: bad; b: worse');
  });
});

describe('buildWorld', () => {
  it('a uniform network is the same world as its scenario section: names, ids, links and draws', () => {
    const link = { latency_ms: { dist: 'uniform' as const, min_ms: 1, max_ms: 9 }, loss: 0.2 };
    const a = buildWorld<number>('s', uniformNetwork(4, link));
    const b = buildWorld<number>('s', { nodes: ['n0', 'n1', 'n2', 'n3'], link, links: [] });
    expect(a.names).toEqual(b.names);
    expect([...a.ids]).toEqual([...b.ids]);
    const arrivals = (w: typeof a): string[] => {
      const got: string[] = [];
      w.net.attachAll((to, from, msg) => got.push(`${w.sim.now}:${from}>${to}:${msg}`));
      for (let i = 0; i < 40; i++) w.net.send(i % 4, (i + 1) % 4, i, 100);
      w.sim.run({ until: 1e9 });
      return got;
    };
    const got = arrivals(a);
    expect(got.length).toBeGreaterThan(20);
    expect(got.length).toBeLessThan(40);
    expect(got).toEqual(arrivals(b));
  });
});

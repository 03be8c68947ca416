/** A small protocol driver for testing the scenario layer on its own: nodes ping random peers. */
import { z } from 'zod';
import { Simulator } from '../../src/kernel/simulator.js';
import { fmt } from '../../src/io/csv.js';
import { seconds } from '../../src/kernel/time.js';
import { scheduleFaults } from '../../src/net/faults.js';
import type { ProtocolDriver, ScenarioFor } from '../../src/scenarios/driver.js';
import { buildNetwork, toTimedFaults } from '../../src/scenarios/network-section.js';
import { unknownNode } from '../../src/scenarios/loader.js';

const settings = z.strictObject({ pings_per_s: z.number().positive().default(10), size_bytes: z.int().min(1).default(100) });
const entry = z.strictObject({ at_s: z.number().min(0), node: z.string(), op: z.literal('ping') });
type Settings = z.infer<typeof settings>;
type Entry = z.infer<typeof entry>;

export const toyDriver: ProtocolDriver<Settings, Entry> = {
  name: 'toy',
  schema: settings,
  workloadSchema: entry,
  check(s: ScenarioFor<Settings, Entry>) {
    const names = new Set(s.network.nodes);
    return s.workload.flatMap((w, i) => (names.has(w.node) ? [] : [{ path: `workload[${i}].node`, message: unknownNode(w.node, names) }]));
  },
  run(s, ctx) {
    const sim = new Simulator({ seed: ctx.seed });
    const { net, ids } = buildNetwork<number>(sim, s.network);
    scheduleFaults(sim, net, toTimedFaults(s.faults, ids));
    const rng = sim.rng.stream('toy');
    const trace = ctx.openTrace('pings', ['time_s', 'from', 'to', 'latency_s']);
    let delivered = 0;
    let latencySum = 0;
    for (let i = 0; i < net.nodeCount; i++) {
      net.attach(i, (from, sentAt) => {
        delivered++;
        latencySum += sim.now - sentAt;
        trace?.write([fmt.seconds(sim.now), s.network.nodes[from] ?? '', s.network.nodes[i] ?? '', fmt.seconds(sim.now - sentAt)]);
      });
    }
    const n = net.nodeCount;
    const tick = (): void => {
      const from = rng.int(0, n - 1);
      const to = rng.int(0, n - 1);
      net.send(from, to, sim.now, s.settings.size_bytes);
      sim.after(Math.round(rng.exponential(1e9 / s.settings.pings_per_s)), tick, undefined, 'toy.tick');
    };
    sim.schedule(0, tick, undefined);
    for (const w of s.workload) sim.schedule(seconds(w.at_s), () => net.send(ids.get(w.node) ?? 0, 0, sim.now, 1), undefined);
    sim.run({ until: seconds(s.duration_s) });
    return {
      metrics: { sent: net.total.sent, delivered, mean_latency_s: delivered > 0 ? latencySum / delivered / 1e9 : NaN },
      tables: { counts: { columns: ['sent', 'delivered'], rows: [[net.total.sent, delivered]] } },
      headline: `${n} nodes, ${delivered} of ${net.total.sent} pings delivered`,
    };
  },
};

export const toyYaml = `
name: toy-run
description: toy scenario for scenario-layer tests
seed: 3
duration_s: 2
network:
  nodes: [A, B, C]
  link: { latency_ms: 5, jitter_ms: 1, loss: 0.1 }
  links:
    - { from: A, to: B, latency_ms: { dist: uniform, min_ms: 1, max_ms: 3 } }
protocol:
  toy: { pings_per_s: 50 }
workload:
  - { at_s: 0.5, node: B, op: ping }
faults:
  - { at_s: 0.5, partition: [[A], [B, C]], name: p1 }
  - { at_s: 1.0, repair: p1 }
  - { at_s: 1.2, crash: C }
  - { at_s: 1.5, restart: C }
outputs: { traces: all, plots: false }
`;

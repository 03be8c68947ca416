/**
 * The hold model (Vaucher & Duval 1975), the classic event-set benchmark:
 * `pending` events are kept in the queue; each fired event schedules one more
 * at now + Exp(mean 1 s) drawn from a seeded stream.
 */
import { Simulator } from '../kernel/simulator.js';
import { NS_PER_S } from '../kernel/time.js';

export interface KernelBenchResult {
  readonly events: number;
  readonly pending: number;
  readonly wallS: number;
  readonly eventsPerS: number;
  readonly peakRssMb: number;
  readonly finalTimeNs: number;
}

/** Runs the hold model and measures wall time (the only place desim reads a wall clock is `bench`). */
export function benchKernel(events = 2_000_000, pending = 10_000, seed = 1): KernelBenchResult {
  const sim = new Simulator({ seed, initialCapacity: pending * 2 });
  const rng = sim.rng.stream('hold');
  const hold = (): void => {
    sim.schedule(sim.now + Math.round(rng.exponential(NS_PER_S)), hold, undefined);
  };
  for (let i = 0; i < pending; i++) sim.schedule(Math.round(rng.exponential(NS_PER_S)), hold, undefined);
  let peakRss = process.memoryUsage.rss();
  const t0 = process.hrtime.bigint();
  sim.run({ maxEvents: events });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  peakRss = Math.max(peakRss, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
  return {
    events: sim.fired,
    pending: sim.pending,
    wallS,
    eventsPerS: sim.fired / wallS,
    peakRssMb: peakRss / 2 ** 20,
    finalTimeNs: sim.now,
  };
}

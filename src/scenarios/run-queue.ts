/**
 * The order in which a parallel sweep hands out its runs: longest first, as
 * far as it can tell, so that no worker idles at the tail while
 * another finishes a long run it started last.
 *
 * Theory of operation. Run costs are not known before they run, but the
 * replications of one parameter combination cost about the same. So the
 * queue first hands out one run of every combination, in sweep order (the
 * first wave), and records the CPU seconds each run took. Then it hands out
 * the rest combination by combination, the combination whose runs cost most
 * first; a combination whose first run has not reported yet counts as the
 * costliest (it is still running, so it is at least as long as those that
 * finished). Ties keep sweep order. The order only decides when a run starts,
 * never its seed or its files, so the results are the same bytes whatever it
 * is (the classic longest-processing-time rule, within 4/3 of the best
 * schedule when the costs are known).
 */
import type { SweepRun } from './sweep.js';

/** Above this many combinations the queue keeps sweep order after the first wave (re-sorting would cost more than it saves). */
const MAX_SORTED_COMBINATIONS = 10_000;

/** Runs to hand out, longest first as measured (see the theory of operation above). */
export class RunQueue {
  private readonly groups: SweepRun[][] = [];
  private readonly cost: number[] = [];
  private readonly groupOf = new Map<string, number>();
  private wave = 0;
  /** Combinations with runs left after the first wave, costliest first once sorted. */
  private rest: number[] = [];
  private head = 0;
  private dirty = true;
  private left: number;

  /**
   * @param runs the runs to do, in sweep order
   * @param combinationOf the parameter combination of a run (its index divided by the replications)
   */
  constructor(runs: readonly SweepRun[], combinationOf: (run: SweepRun) => number) {
    const index = new Map<number, number>();
    for (const r of runs) {
      const c = combinationOf(r);
      let g = index.get(c);
      if (g === undefined) {
        g = this.groups.length;
        index.set(c, g);
        this.groups.push([]);
        this.cost.push(Number.POSITIVE_INFINITY);
      }
      (this.groups[g] as SweepRun[]).push(r);
      this.groupOf.set(r.runId, g);
    }
    this.left = runs.length;
    // Each group is consumed from its end: reverse so that its runs come out in sweep order.
    for (const g of this.groups) g.reverse();
  }

  /** How many runs are still to hand out. */
  get size(): number {
    return this.left;
  }

  /** The next run to start, or undefined when none is left. */
  next(): SweepRun | undefined {
    if (this.left === 0) return undefined;
    this.left--;
    if (this.wave < this.groups.length) {
      const run = (this.groups[this.wave++] as SweepRun[]).pop();
      if (this.wave === this.groups.length) this.rest = this.groups.map((_, i) => i).filter((i) => (this.groups[i] as SweepRun[]).length > 0);
      return run;
    }
    if (this.dirty && this.rest.length - this.head <= MAX_SORTED_COMBINATIONS) {
      // Costliest first; equal (or both unknown) costs keep sweep order.
      const sorted = this.rest.slice(this.head).sort((a, b) => (this.cost[b] as number) - (this.cost[a] as number) || a - b);
      this.rest = sorted;
      this.head = 0;
      this.dirty = false;
    }
    const group = this.groups[this.rest[this.head] as number] as SweepRun[];
    const run = group.pop();
    if (group.length === 0) this.head++;
    return run;
  }

  /** Records what a run cost (CPU seconds); the first run of a combination sets its cost. */
  finished(run: SweepRun, cpuS: number): void {
    const g = this.groupOf.get(run.runId);
    if (g === undefined || this.cost[g] !== Number.POSITIVE_INFINITY || !Number.isFinite(cpuS)) return;
    this.cost[g] = cpuS;
    this.dirty = true;
  }
}

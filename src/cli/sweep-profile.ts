/**
 * `DESIM_PROFILE=1 desim sweep ...`: where the sweep's CPU time went, thread
 * by thread, printed on stderr when the sweep ends, with the bound that the
 * serial part puts on the speed-up (Amdahl's law). The workers are
 * processes: each is named `worker N` (in the order of their process ids),
 * and the whole's CPU adds theirs to this process's.
 *
 * Serial S is the main thread's CPU time outside the runs phase: start-up,
 * validation, tables, figures (only drawing them in this thread with
 * `--jobs 1`; with workers only handing them out and writing the files), and
 * what follows. Parallel P is everything that can run beside other work: the
 * workers' JavaScript threads' time (their start-up, runs, figures) and the main thread's
 * during the runs. On n cores the sweep cannot take less than S + P/n; with
 * T1 = S + P the speed-up is at most T1 / (S + P/n). Node's own threads
 * (garbage collection, compilation) are in none of these, only in the
 * process's total, so the last line also gives that total over n, another
 * floor on the wall time: with one JS thread busy they have a core to
 * themselves, with n they compete. A busy machine stretches
 * wall time but hardly CPU time, so these figures mean something under load
 * where a wall-clock ratio does not.
 */
import { count } from '../io/count.js';
import type { SweepProfileEvent } from '../scenarios/sweep.js';
import { THREAD_CPU, threadCpuSeconds } from '../scenarios/cpu-time.js';

/** Collects a sweep's profile events; `report` renders them as lines for stderr. */
export class SweepProfile {
  private readonly events: SweepProfileEvent[] = [];

  /** Pass as `onProfile` of runSweep. */
  readonly onEvent = (e: SweepProfileEvent): void => {
    this.events.push(e);
  };

  /** The profile as text (lines ending in newlines), taking the main thread's CPU time until now as its total. */
  report(cores: number): string {
    const totalMain = threadCpuSeconds();
    const f = (x: number): string => x.toFixed(2);
    const phases = new Map<string, number>();
    for (const e of this.events) if (e.kind === 'phase') phases.set(e.phase, (phases.get(e.phase) ?? 0) + e.cpuS);
    const accounted = [...phases.values()].reduce((a, b) => a + b, 0);
    const other = Math.max(0, totalMain - accounted);
    const lines = [
      `desim profile: CPU seconds per thread${THREAD_CPU ? '' : ' (this system cannot tell threads apart: whole process)'}`,
      `  ${'main'.padEnd(10)}${[...phases].map(([k, v]) => `${k} ${f(v)}`).join(', ')}, after ${f(other)}; total ${f(totalMain)}`,
    ];
    const tasks = this.events.filter((e): e is Extract<SweepProfileEvent, { kind: 'task' }> => e.kind === 'task');
    const threads = [...new Set(tasks.map((t) => t.thread))].sort((a, b) => a - b);
    let workers = 0;
    let workerProcesses = 0;
    let n = 0;
    for (const th of threads) {
      const mine = tasks.filter((t) => t.thread === th);
      const sum = (kind: string): number => mine.filter((t) => t.task === kind).reduce((a, t) => a + t.cpuS, 0);
      const tasksOf = (kind: string): number => mine.filter((t) => t.task === kind).length;
      const runs = mine.filter((t) => t.task === 'run').map((t) => t.cpuS);
      const parts = [
        tasksOf('start-up') > 0 ? `start-up ${f(sum('start-up'))}` : '',
        runs.length > 0 ? `${count(runs.length, 'run')} ${f(sum('run'))} (each ${f(Math.min(...runs))}-${f(Math.max(...runs))})` : '',
        tasksOf('renderer') > 0 ? `renderer ${f(sum('renderer'))}` : '',
        tasksOf('figure') > 0 ? `${count(tasksOf('figure'), 'figure')} ${f(sum('figure'))}` : '',
      ].filter((p) => p !== '');
      const total = mine.reduce((a, t) => a + t.cpuS, 0);
      if (th !== 0) {
        workers += total;
        // A worker's process CPU only grows: its last answer has all of it (the pool stops it when the sweep ends).
        workerProcesses += Math.max(total, ...mine.map((t) => t.processCpuS ?? 0));
      }
      lines.push(`  ${(th === 0 ? 'main' : `worker ${++n}`).padEnd(10)}${parts.join(', ')}; total ${f(total)}`);
    }
    // With --jobs 1 the runs are the main thread's own runs phase.
    const duringRuns = phases.get('runs') ?? 0;
    const serial = totalMain - duringRuns;
    const parallel = workers + duringRuns;
    const t1 = serial + parallel;
    const tn = serial + parallel / cores;
    const u = process.cpuUsage();
    const processS = (u.user + u.system) / 1e6 + workerProcesses;
    lines.push(
      `  serial ${f(serial)} (main thread outside the runs), parallel ${f(parallel)} (workers, and the main thread during the runs)`,
      `  Amdahl on ${cores} cores: at least ${f(tn)} s, speed-up at most ${f(t1 / tn)} over ${f(t1)} s of work`,
      `  processes ${f(processS)}: the threads above ${f(t1)}, Node's own ${f(Math.max(0, processS - t1))} (garbage collection, compilation); on ${cores} cores at least ${f(processS / cores)} s`,
    );
    return lines.map((l) => `${l}\n`).join('');
  }
}

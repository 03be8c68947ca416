/**
 * Worker entry of sweeps (tinypool, a worker process). The default export runs one job with the
 * built-in drivers (and the run's own module, if any, after its overrides); `figure` draws one figure
 * of the finished sweep; `renderer` loads the plotting engines into an idle worker before the figures
 * arrive. Each answer carries the CPU time the worker's JavaScript thread spent on it and its whole
 * process's so far, for the sweep profile.
 *
 * A Ctrl-C in a terminal reaches every process of the group: the sweep (the parent) decides, finishing
 * the runs in flight on the first and killing its workers on the second (or whenever it exits), so
 * a worker ignores SIGINT. A worker whose parent vanished without that (SIGKILL) exits when its
 * current run ends.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { threadCpuSeconds } from './cpu-time.js';
import { driversFor } from './drivers/index.js';
import { drawFigure } from './plot.js';
import type { PlotFormat } from './plots/formats.js';
import { preloadRenderer } from './plots/render.js';
import { executeRunCaught, type FigureTask, type RunFailure, type RunJob, type RunRecord, type WorkerAnswer } from './sweep.js';

const inProcess = isMainThread && process.send !== undefined;
if (inProcess) {
  process.on('SIGINT', () => {});
  process.on('disconnect', () => process.exit(0));
}

async function measured<T>(work: () => Promise<T> | T, sinceStart = false): Promise<WorkerAnswer<T>> {
  const t0 = sinceStart ? 0 : threadCpuSeconds();
  const value = await work();
  const u = process.cpuUsage();
  return { value, cpuS: threadCpuSeconds() - t0, thread: inProcess ? process.pid : threadId, processCpuS: (u.user + u.system) / 1e6 };
}

export default async function runJob(job: RunJob | null): Promise<WorkerAnswer<RunRecord | RunFailure | null>> {
  // A warm-up: the sweep starts each thread with one, so that loading this module and the drivers overlaps
  // its own work. Its CPU time is the thread's since it started (loading included).
  if (job === null) return measured(() => null, true);
  return measured(async () => executeRunCaught(job, await driversFor(job.raw, job.file, job.overrides)));
}

export async function figure(task: FigureTask): Promise<WorkerAnswer<(string | Uint8Array)[]>> {
  return measured(() => drawFigure(task.spec, task.formats as PlotFormat[]));
}

export async function renderer(): Promise<WorkerAnswer<null>> {
  return measured(async () => {
    await preloadRenderer();
    return null;
  });
}

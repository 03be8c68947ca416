/**
 * Worker-thread entry of sweeps (tinypool). The default export runs one job with the built-in drivers
 * (and the run's own module, if any, after its overrides); `figure` draws one figure of the finished
 * sweep; `renderer` loads the plotting engines into an idle thread before the figures arrive. Each
 * answer carries the CPU time the thread spent on it, for the sweep profile.
 */
import { threadId } from 'node:worker_threads';
import { threadCpuSeconds } from './cpu-time.js';
import { driversFor } from './drivers/index.js';
import { drawFigure } from './plot.js';
import type { PlotFormat } from './plots/formats.js';
import { preloadRenderer } from './plots/render.js';
import { executeRunCaught, type FigureTask, type RunFailure, type RunJob, type RunRecord, type WorkerAnswer } from './sweep.js';

async function measured<T>(work: () => Promise<T> | T, sinceStart = false): Promise<WorkerAnswer<T>> {
  const t0 = sinceStart ? 0 : threadCpuSeconds();
  const value = await work();
  return { value, cpuS: threadCpuSeconds() - t0, thread: threadId };
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

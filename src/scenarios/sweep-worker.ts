/** Worker-thread entry of sweeps (tinypool): runs one job with the built-in drivers (and the run's own module, if any, after its overrides). */
import { driversFor } from './drivers/index.js';
import { executeRunCaught, type RunFailure, type RunJob, type RunRecord } from './sweep.js';

export default async function runJob(job: RunJob | null): Promise<RunRecord | RunFailure | null> {
  // A warm-up: the sweep starts each thread with one, so that loading this module and the drivers overlaps its own work.
  if (job === null) return null;
  return executeRunCaught(job, await driversFor(job.raw, job.file, job.overrides));
}

/** Worker-thread entry of sweeps (tinypool): runs one job with the built-in drivers (and the run's own module, if any, after its overrides). */
import { driversFor } from './drivers/index.js';
import { executeRunCaught, type RunFailure, type RunJob, type RunRecord } from './sweep.js';

export default async function runJob(job: RunJob): Promise<RunRecord | RunFailure> {
  return executeRunCaught(job, await driversFor(job.raw, job.file, job.overrides));
}

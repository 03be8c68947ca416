/** Worker-thread entry of sweeps (tinypool): runs one job with the built-in drivers. */
import { BUILTIN_DRIVERS } from './drivers/index.js';
import { executeRun, type RunJob, type RunRecord } from './sweep.js';

export default function runJob(job: RunJob): RunRecord {
  return executeRun(job, BUILTIN_DRIVERS);
}

/**
 * Worker-thread entry of `desim run`: loads the scenario and executes it,
 * writing its traces into the temporary folder the main thread created. The
 * main thread stays free to answer SIGINT/SIGTERM (a simulation is one long
 * synchronous loop): it stops this worker, removes the temporary folder and
 * exits 130, so an interrupted run leaves nothing behind.
 *
 * Messages to the parent: `{ progress }` (0..1), then `{ result }` or `{ error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SimulationError } from '../kernel/errors.js';
import { loadScenarioFile } from './drivers/index.js';
import type { Override } from './overrides.js';
import { executeScenario, withSeed } from './runner.js';

/** What the main thread hands the worker. */
export interface RunWorkerData {
  readonly file: string;
  readonly overrides: readonly Override[];
  readonly seed: number;
  readonly dir: string;
}

/** A failure as it crosses the thread boundary (errors lose their class there). */
export interface RunWorkerError {
  readonly kind: 'simulation' | 'other';
  readonly message: string;
  readonly seed?: string;
  readonly stack?: string;
}

const data = workerData as RunWorkerData;
const port = parentPort;
if (port !== null) {
  try {
    const scenario = withSeed(await loadScenarioFile(data.file, data.overrides), data.seed);
    let last = -1;
    const result = executeScenario(scenario, data.dir, (f) => {
      const pct = Math.floor(f * 100);
      if (pct !== last) port.postMessage({ progress: f });
      last = pct;
    });
    port.postMessage({ result });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const error: RunWorkerError =
      err instanceof SimulationError
        ? {
            kind: 'simulation',
            message: e.message,
            seed: err.seed,
            ...(err.cause instanceof Error && err.cause.stack !== undefined ? { stack: err.cause.stack } : {}),
          }
        : { kind: 'other', message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
    port.postMessage({ error });
  }
}

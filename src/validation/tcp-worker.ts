/**
 * Worker-thread entry of `validationTableInWorkers` (tcp.ts): runs one row of the
 * Mathis/Padhye table and posts it to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateReno, type ValidationWorkerData } from './tcp.js';

const data = workerData as ValidationWorkerData;
parentPort?.postMessage(validateReno(data.p, data.options));

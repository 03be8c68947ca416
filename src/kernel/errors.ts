import { formatSeconds, type Time } from './time.js';

/** Where a simulation failed: the simulated time, the run's seed and the event's label. */
export interface SimulationErrorContext {
  readonly timeNs: Time;
  readonly seed: string;
  readonly label: string | undefined;
}

/**
 * A handler threw while the kernel was running an event. The run is aborted;
 * the error says when (simulated time), which seed reproduces it and which
 * event it was, and keeps the original error as `cause`.
 */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  readonly timeNs: Time;
  readonly seed: string;
  readonly label: string | undefined;

  constructor(message: string, ctx: SimulationErrorContext, options?: { cause?: unknown }) {
    super(`${message} (at t=${formatSeconds(ctx.timeNs)} s, seed ${ctx.seed}, event ${ctx.label ?? '<unlabelled>'})`, options);
    this.timeNs = ctx.timeNs;
    this.seed = ctx.seed;
    this.label = ctx.label;
  }
}

/** A protocol state machine was driven into a state its rules forbid (a bug, not bad input). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

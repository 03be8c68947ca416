/**
 * Ctrl-C (SIGINT) and SIGTERM for the commands that write output folders:
 * stop the work, remove desim's temporary folders, say what is on disk, exit 130.
 *
 * The message is true at any moment: a folder is named as kept once it is
 * complete and in place, and after the command's work is done (only printing
 * and exiting remain: a worker thread may still be shutting down) the signal
 * says so instead of "unfinished output was removed". The handlers stay in
 * place until the process exits, so a late signal is never Node's default
 * silent exit.
 */
import { removeActiveTempDirs } from '../scenarios/files.js';

/** What is on disk when a signal comes: the complete folders, and whether work was still going. */
export interface SignalState {
  readonly busy: boolean;
  readonly kept: readonly string[];
}

/** The line printed on a signal (see the module comment). */
export function interruptedMessage(s: SignalState): string {
  const kept = s.kept.length === 0 ? '' : `; ${s.kept.join(' ')} ${s.kept.length === 1 ? 'is' : 'are'} complete and kept`;
  return s.busy ? `desim: interrupted; unfinished output was removed${kept}` : `desim: interrupted after the work was done${kept}`;
}

/** Told what is complete, for the signal message. */
export interface SignalGuard {
  /** `path` (a folder as `dir/`, or a file) is complete and in place. */
  kept(path: string): void;
  /** The work is done; `paths` are complete and in place. */
  done(...paths: string[]): void;
}

/**
 * On SIGINT/SIGTERM: `stop()` (e.g. end a worker), remove desim's temporary
 * folders, print {@link interruptedMessage}, exit 130.
 */
export function exitOnSignals(stop: () => Promise<unknown> = async () => {}): SignalGuard {
  const kept: string[] = [];
  let busy = true;
  const handler = (): void => {
    void stop()
      .catch(() => {})
      .finally(() => {
        removeActiveTempDirs();
        process.stderr.write(`\n${interruptedMessage({ busy, kept })}\n`);
        process.exit(130);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    kept: (path) => {
      kept.push(path);
    },
    done: (...paths) => {
      kept.push(...paths);
      busy = false;
    },
  };
}

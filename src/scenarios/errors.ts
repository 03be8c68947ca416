import type { Issue } from './driver.js';

/**
 * A scenario (or a command-line override of it) is invalid. Carries every
 * problem found, each with its path; the message names the file. The CLI turns
 * it into exit code 2 without a stack trace.
 */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';

  constructor(
    readonly file: string,
    readonly issues: readonly Issue[],
  ) {
    // A problem of the thing the message already names (a flag: `--reps`) is not named twice.
    const text = (i: Issue): string => formatIssue(i.path === file ? { ...i, path: '' } : i);
    super(
      issues.length === 1
        ? `${file}: ${text(issues[0] as Issue)}`
        : `${file}: ${issues.length} problems\n${issues.map((i) => '  ' + text(i)).join('\n')}`,
    );
  }
}

/** `path: message`, or the message alone for a problem with the whole file. */
export function formatIssue(i: Issue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

export { OutputError } from '../io/fs.js';

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
    super(
      issues.length === 1
        ? `${file}: ${formatIssue(issues[0] as Issue)}`
        : `${file}: ${issues.length} problems\n${issues.map((i) => '  ' + formatIssue(i)).join('\n')}`,
    );
  }
}

/** `path: message`, or the message alone for a problem with the whole file. */
export function formatIssue(i: Issue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

/**
 * An output location cannot or may not be written: it holds files desim did
 * not write, it is a file, it is unwritable, or a file desim wrote there is
 * corrupt. The message names the path and what to do. The CLI turns it into
 * exit code 2 without a stack trace.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

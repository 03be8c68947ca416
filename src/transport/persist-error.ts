/** Errors of a node's data files (kept apart so the log and the snapshot code share them without an import cycle). */

/** A state file or log exists but cannot be used (corrupt, foreign, unreadable). */
export class PersistError extends Error {
  override readonly name: string = 'PersistError';
}

/** The data file is in use by another live process (its lock is held). */
export class DataLockedError extends PersistError {
  override readonly name: string = 'DataLockedError';
  constructor(
    readonly lockFile: string,
    readonly holderPid: number,
  ) {
    super(
      `${lockFile}: the data file is in use by process ${holderPid}; stop that node first (or remove the lock file if that process is not a desim node)`,
    );
  }
}

/** The data file's folder cannot be created or used (a bad `--data` path: exit 2). */
export class DataPathError extends PersistError {
  override readonly name: string = 'DataPathError';
}

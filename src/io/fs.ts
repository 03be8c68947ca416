/**
 * File-system helpers shared by every layer that writes files (scenarios,
 * transport, the CLI): the one atomic write (whole or streamed, and its
 * promise form for the live node), folder creation that cannot hang, JSON
 * reading that names the file, and short reasons for file-system errors.
 * Nothing here knows about simulations.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * An output location cannot or may not be written: it holds files desim did
 * not write, it is a file, it is unwritable, or a file desim wrote there is
 * corrupt. The message names the path and what to do. The CLI turns it into
 * exit code 2 without a stack trace.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';

  /** @param options `cause`: the file system's own error, when there is one */
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path === '' ? '(empty path)' : path}: ${reason}`, options);
  }
}

/** This host's name as it appears in desim's temporary names. */
export const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
let counter = 0;
/** `KIND-PID-THREAD-N@HOST`: unique to this process, thread and call (sweep workers are threads of one process). */
export function tmpSuffix(kind: 'tmp' | 'old'): string {
  return `${kind}-${process.pid}-${threadId}-${counter++}@${HOST}`;
}
/** A name desim gave a temporary file or folder: `….tmp-PID-THREAD-N@HOST` (or `.old-`); group 1 the pid, 2 the host. */
export const TEMP_NAME = /\.(?:tmp|old)-(\d+)-\d+-\d+@([A-Za-z0-9._-]+)$/;

/** A short reason for a file-system error (`permission denied`, `not a folder`, ...). */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'ENOENT':
      return 'no such file or folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EEXIST':
      return 'already exists';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENAMETOOLONG':
      return 'the name is too long for the file system';
    case 'EBUSY':
      return 'busy (a mount point or the current folder cannot be replaced)';
    default:
      return String(e.message ?? err);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputError(path, describeFsError(err));
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Fails at once with
 * an {@link OutputError} naming the path when a level cannot be created (Node's
 * recursive mkdir loops forever on some unwritable paths such as `/proc/x`).
 */
export function makeDirs(dir: string): void {
  if (dir === '') throw new OutputError(dir, 'an empty path is not a folder');
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    const st = statOrUndefined(p);
    if (st !== undefined) {
      if (!st.isDirectory()) throw new OutputError(p, 'is a file, not a folder');
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(m)?.isDirectory() === true) continue;
      throw new OutputError(m, `cannot create the folder: ${describeFsError(err)}`);
    }
  }
}

/**
 * A file written in pieces to `<path>.tmp-…` (a {@link TEMP_NAME}) and renamed
 * over `path` by {@link AtomicFileWriter.commit} after an fsync, so a reader
 * sees the old file or the new one, never a part. The folder must exist.
 * Errors are the file system's own; {@link writeFileAtomic} names the path.
 */
export class AtomicFileWriter {
  /** The temporary file, beside `path`. */
  readonly tmpPath: string;
  private fd: number | undefined;
  private done = false;

  constructor(readonly path: string) {
    this.tmpPath = `${path}.${tmpSuffix('tmp')}`;
    this.fd = openSync(this.tmpPath, 'w');
  }

  /** Appends `data` to the temporary file. */
  write(data: string | Uint8Array): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter: write after commit or abort (${this.path})`);
    if (typeof data === 'string') writeSync(this.fd, data);
    else writeSync(this.fd, data);
  }

  /** Fsyncs and closes the temporary file, then renames it over `path`. */
  commit(): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter: commit after commit or abort (${this.path})`);
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.tmpPath, this.path);
    this.done = true;
  }

  /** Discards the temporary file; `path` is left as it was. A no-op after a successful commit. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmpPath, { force: true });
  }
}

/**
 * Writes `data` to `path` via `<path>.tmp-…` + fsync + rename (an {@link AtomicFileWriter}), so a
 * reader sees the old file or the new one, never a part. Creates missing folders; a failure is an
 * {@link OutputError} naming `path`, and leaves no temporary file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  makeDirs(dirname(path));
  let file: AtomicFileWriter | undefined;
  try {
    file = new AtomicFileWriter(path);
    file.write(data);
    file.commit();
  } catch (err) {
    try {
      file?.abort();
    } catch {
      // The write's own error is the one to report.
    }
    throw new OutputError(path, `cannot write: ${describeFsError(err)}`, { cause: err });
  }
}

/**
 * {@link writeFileAtomic} for a process that must keep serving while it writes (a live node's
 * snapshot): the same temporary name, fsync, rename and cleanup, without blocking the event loop.
 * The folder must exist. With `syncDir`, the folder is fsynced after the rename, so the rename itself
 * survives a power cut. A failure is an {@link OutputError} naming `path`, with the file system's
 * error as its `cause`.
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, options: { readonly syncDir?: boolean } = {}): Promise<void> {
  const tmp = `${path}.${tmpSuffix('tmp')}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // Never leave a temporary file behind (a full disk would stay full).
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new OutputError(path, `cannot write: ${describeFsError(err)}`, { cause: err });
  }
  if (options.syncDir === true) await syncDir(dirname(resolve(path)));
}

/** Fsyncs a folder, so a rename or a new file in it survives a power cut (a no-op where folders cannot be synced). */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems refuse fsync on a folder.
  } finally {
    await dh.close();
  }
}

/** Reads and parses a JSON file desim wrote; a missing, truncated or corrupt one is an {@link OutputError} that says what to do. */
export function readJsonFile<T>(path: string, whatToDo: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OutputError(path, `cannot read: ${describeFsError(err)}; ${whatToDo}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OutputError(path, `is not valid JSON (truncated or edited?); ${whatToDo}`);
  }
}

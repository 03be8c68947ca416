/**
 * Durable storage of a node's state in one file, written atomically.
 *
 * A save writes the whole state to `FILE.tmp-<pid>`, fsyncs it, renames it
 * over `FILE` (atomic on POSIX filesystems) and fsyncs the directory so the
 * rename itself survives a power cut. A reader therefore sees either the old
 * file or the new one, never a mix. The file is JSON with a format tag, a
 * version and a SHA-256 of the payload; a file that fails any check is
 * reported with a {@link PersistError} naming the file and the problem, and
 * is never overwritten (the node refuses to start instead).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The `format` tag of a desim state file. */
export const STATE_FORMAT = 'desim-node-state';
/** The state file version this build writes and reads. */
export const STATE_VERSION = 1;

/** A state file exists but cannot be used (corrupt, foreign, unreadable). */
export class PersistError extends Error {
  override readonly name = 'PersistError';
}

interface StateFile {
  readonly format: string;
  readonly version: number;
  readonly sha256: string;
  readonly state: unknown;
}

function digest(stateJson: string): string {
  return createHash('sha256').update(stateJson).digest('hex');
}

/** Serialises a state (any JSON value) into the file's text. */
export function encodeStateFile(state: unknown): string {
  const stateJson = JSON.stringify(state);
  return `{"format":"${STATE_FORMAT}","version":${STATE_VERSION},"sha256":"${digest(stateJson)}","state":${stateJson}}\n`;
}

/** Parses a state file's text; throws {@link PersistError} saying what is wrong. */
export function decodeStateFile(text: string, file: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PersistError(`${file}: corrupt state file (not valid JSON: ${err instanceof Error ? err.message : String(err)}); left untouched`);
  }
  const f = parsed as Partial<StateFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== STATE_FORMAT) {
    throw new PersistError(`${file}: not a desim state file (no "format": "${STATE_FORMAT}"); left untouched`);
  }
  if (f.version !== STATE_VERSION) {
    throw new PersistError(`${file}: state file version ${String(f.version)}, this desim reads version ${STATE_VERSION}; left untouched`);
  }
  if (typeof f.sha256 !== 'string' || !('state' in f) || digest(JSON.stringify(f.state)) !== f.sha256) {
    throw new PersistError(`${file}: corrupt state file (checksum mismatch); left untouched`);
  }
  return f.state;
}

/**
 * Reads the state saved in `file`. Resolves undefined if the file does not
 * exist (a first start); rejects with {@link PersistError} if it exists but is unusable.
 */
export async function loadState(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistError(`${file}: cannot read state file: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeStateFile(text, file);
}

/** Atomically replaces `file` with `state` (temp file + fsync + rename + directory fsync). */
export async function saveState(file: string, state: unknown): Promise<void> {
  await writeFileAtomic(file, encodeStateFile(state));
}

/** Writes `text` to `file` atomically and durably. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  const fh = await fs.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dh.close();
  }
}

/**
 * Saves a node's state whenever it changed, at most every `intervalMs`, and
 * once more on {@link PersistentStore.flush}. Saves never overlap.
 */
export class PersistentStore {
  private lastText: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastError: string | undefined;

  /**
   * @param file the state file
   * @param snapshot returns the state to save (any JSON value)
   * @param onError told about a failed save (the next save tries again); a failure repeating the previous one is not reported again
   */
  constructor(
    readonly file: string,
    private readonly snapshot: () => unknown,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Starts periodic saving every `intervalMs` milliseconds (default 500). */
  startAutoSave(intervalMs = 500): void {
    this.timer ??= setInterval(() => void this.save(), intervalMs);
  }

  /** Marks `state` as what the file already holds (after a load), so an unchanged state is not rewritten. */
  markSaved(state: unknown): void {
    this.lastText = encodeStateFile(state);
  }

  /** Saves now if the state changed since the last save. */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const text = encodeStateFile(this.snapshot());
      if (text === this.lastText) return;
      try {
        await writeFileAtomic(this.file, text);
        this.lastText = text;
        this.lastError = undefined;
      } catch (err) {
        const m = err instanceof Error ? err.message : String(err);
        if (m !== this.lastError) this.onError(err);
        this.lastError = m;
      }
    });
    return this.writing;
  }

  /** Stops periodic saving and saves a last time. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
  }
}

/**
 * Durable storage of a node's state in one file, written atomically.
 *
 * A save writes the whole state to a temporary file beside it, fsyncs it,
 * renames it over `FILE` (atomic on POSIX filesystems) and fsyncs the directory
 * so the rename itself survives a power cut (`writeFileAtomicAsync` of
 * io/fs.ts). A reader therefore sees either the old file or the new one,
 * never a mix. The file is JSON with a format tag, a
 * version and a SHA-256 of the payload; a file that fails any check is
 * reported with a {@link PersistError} naming the file and the problem, and
 * is never overwritten (the node refuses to start instead).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeDirs, OutputError, TEMP_NAME, writeFileAtomicAsync } from '../io/fs.js';
import { DataPathError } from './persist-error.js';
import type { Entry } from '../protocols/gossip/store.js';
import { DataLockedError, PersistError } from './persist-error.js';
import { readWal, WriteAheadLog, type IoFault, type WalRecord } from './wal.js';

/** The `format` tag of a desim state file. */
export const STATE_FORMAT = 'desim-node-state';
/** The state file version this build writes and reads. */
export const STATE_VERSION = 1;

export { DataLockedError, PersistError } from './persist-error.js';

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
  await writeFileAtomicAsync(file, encodeStateFile(state), { syncDir: true });
}

/**
 * The temporary files a crashed save may have left beside `file`: `NAME.tmp-PID-THREAD-N@HOST`
 * (io/fs.ts), or `.NAME.tmp-PID` from desim versions before it.
 */
export function isTempOf(file: string, name: string): boolean {
  const base = path.basename(file);
  if (name.startsWith(`${base}.tmp-`) && TEMP_NAME.exec(name)?.index === base.length) return true;
  const legacy = `.${base}.tmp-`;
  return name.startsWith(legacy) && /^\d+$/.test(name.slice(legacy.length));
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a lock naming our own pid but not listed here is stale: a pid reused after a restart). */
const heldLocks = new Set<string>();

/**
 * Takes the lock `lockFile` (created exclusively, holding our pid). A lock
 * left by a process that no longer runs is replaced; one held by a live
 * process throws {@link DataLockedError}. Other errors (a read-only folder)
 * are thrown as they are.
 */
export async function acquireLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fs.open(lockFile, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      heldLocks.add(path.resolve(lockFile));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    const ours = pid === process.pid && heldLocks.has(path.resolve(lockFile));
    if (ours || (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))) throw new DataLockedError(lockFile, pid);
    // Stale: its process is gone (kill -9, power cut). Take it over.
    await fs.rm(lockFile, { force: true });
  }
  throw new PersistError(`${lockFile}: cannot take the lock (another node keeps taking it)`);
}

async function releaseLock(lockFile: string): Promise<void> {
  heldLocks.delete(path.resolve(lockFile));
  const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
  if (text.trim() === String(process.pid)) await fs.rm(lockFile, { force: true }).catch(() => undefined);
}

/** Options of {@link DurableStore.open}. */
export interface DurableStoreOptions {
  /** The snapshot file; the log is `FILE.wal`, the lock `FILE.lock`. */
  readonly file: string;
  /** Compact (snapshot + empty the log) as soon as the log exceeds this many bytes (default 4 MiB). */
  readonly compactLogBytes?: number;
  /** Told once when the store fails (and again after a recovery and a new failure). */
  readonly onFailure?: (why: string) => void;
  /** Test hook: throw from it to make a file operation fail. */
  readonly fault?: IoFault;
}

/** What {@link DurableStore.open} found on disk. */
export interface Recovered {
  /** The snapshot's state (without the log position), or undefined on a first start. */
  readonly state: unknown;
  /** Log records newer than the snapshot, in order. */
  readonly records: readonly WalRecord[];
  /** Bytes of a torn last record cut from the log (a write that was never acknowledged). */
  readonly tornBytes: number;
  /** Orphaned temporary files removed (from saves interrupted by a crash). */
  readonly removedTemp: readonly string[];
  /** Why the node cannot persist from the start (read-only folder, ...), or undefined. */
  readonly failure: string | undefined;
}

/**
 * A node's durable state: a snapshot file plus a write-ahead log, under a lock.
 *
 * - {@link DurableStore.log} appends a version to the log and resolves once
 *   it is synced (group commit, see `wal.ts`); a client is answered only then.
 * - {@link DurableStore.compact} writes the whole state as a new snapshot
 *   (atomically: temp file, fsync, rename, directory fsync) recording the
 *   last log sequence number it contains, then drops the log records up to
 *   it. Normally the log is first moved to `FILE.wal.old` and appends go on
 *   in a fresh `FILE.wal` while the snapshot is written, then the old file
 *   is deleted, so writes do not wait for the snapshot; a crash in between
 *   leaves both files, replayed in order. A log record the snapshot already
 *   holds is skipped by its sequence number, so compaction is atomic.
 * - Any failure to write puts the store in a failed state
 *   ({@link DurableStore.failure}): every later `log` is refused, so the node
 *   refuses writes, until a compaction succeeds again.
 */
export class DurableStore {
  private wal: WriteAheadLog | undefined;
  private failed: string | undefined;
  private compactedLsn: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly lockFile: string;
  private readonly walFile: string;
  private locked: boolean;

  private constructor(
    readonly file: string,
    private readonly opts: DurableStoreOptions,
    wal: WriteAheadLog | undefined,
    failure: string | undefined,
    compactedLsn: number,
    locked: boolean,
  ) {
    this.wal = wal;
    this.failed = failure;
    this.compactedLsn = compactedLsn;
    this.lockFile = `${file}.lock`;
    this.walFile = `${file}.wal`;
    this.locked = locked;
  }

  /**
   * Locks the data file, removes orphaned temporary files, reads the snapshot
   * and the log, and opens the log for appending. Rejects with
   * {@link DataLockedError} when a live process holds the lock and with
   * {@link PersistError} when the snapshot or the log is corrupt (both left
   * untouched). A folder that cannot be written is not an error here: the
   * store opens in the failed state (reads work, writes are refused).
   */
  static async open(opts: DurableStoreOptions): Promise<{ store: DurableStore; recovered: Recovered }> {
    const file = path.resolve(opts.file);
    const dir = path.dirname(file);
    let failure: string | undefined;
    try {
      // One level at a time: Node's recursive mkdir spins forever on some unwritable paths (/proc/x).
      makeDirs(dir);
    } catch (err) {
      throw new DataPathError(`${dir}: cannot create the data folder: ${err instanceof OutputError ? err.reason : errMessage(err)}`);
    }
    let locked = false;
    try {
      await acquireLock(`${file}.lock`);
      locked = true;
    } catch (err) {
      if (err instanceof PersistError) throw err;
      failure = `cannot lock ${file}.lock: ${errMessage(err)}`;
    }
    const release = async (): Promise<void> => {
      if (locked) await releaseLock(`${file}.lock`);
    };
    try {
      const removedTemp: string[] = [];
      if (locked) {
        for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
          if (!isTempOf(file, name)) continue;
          await fs.rm(path.join(dir, name), { force: true }).then(
            () => removedTemp.push(name),
            () => undefined,
          );
        }
      }
      const saved = await loadState(file);
      let state: unknown = saved;
      let walLsn = 0;
      if (saved !== undefined && typeof saved === 'object' && saved !== null && 'walLsn' in saved) {
        const { walLsn: l, ...rest } = saved;
        if (!Number.isSafeInteger(l) || (l as number) < 0) throw new PersistError(`${file}: bad log position ${String(l)}; left untouched`);
        walLsn = l as number;
        state = rest;
      }
      const older = await readWal(`${file}.wal.old`);
      const log = await readWal(`${file}.wal`);
      const all = [...older.records, ...log.records];
      for (let i = 1; i < all.length; i++) {
        if ((all[i] as WalRecord).lsn <= (all[i - 1] as WalRecord).lsn) {
          throw new PersistError(`${file}.wal: its first sequence number does not follow ${file}.wal.old; both left untouched`);
        }
      }
      const records = all.filter((r) => r.lsn > walLsn);
      const lastLsn = Math.max(walLsn, all.at(-1)?.lsn ?? 0);
      let wal: WriteAheadLog | undefined;
      if (failure === undefined) {
        try {
          wal = await WriteAheadLog.open(`${file}.wal`, log.validBytes, lastLsn, opts.fault);
        } catch (err) {
          failure = `cannot open ${file}.wal: ${errMessage(err)}`;
        }
      }
      const store = new DurableStore(file, opts, wal, undefined, lastLsn, locked);
      if (failure !== undefined) store.fail(failure);
      return { store, recovered: { state, records, tornBytes: older.tornBytes + log.tornBytes, removedTemp, failure } };
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Why the store cannot persist (the node then refuses writes), or undefined when it can. */
  get failure(): string | undefined {
    return this.failed;
  }

  /** Log figures for `kv stats`. */
  stats(): Record<string, number> {
    return {
      wal_records: this.wal?.records ?? 0,
      wal_batches: this.wal?.batches ?? 0,
      wal_bytes: this.wal?.sizeBytes ?? 0,
      persist_failed: this.failed === undefined ? 0 : 1,
    };
  }

  /**
   * Appends `entry` to the log. Resolves once it is durable; rejects with a
   * {@link PersistError} when the store is failed or the write fails (which
   * fails the store).
   */
  log(entry: Entry): Promise<void> {
    const wal = this.wal;
    if (this.failed !== undefined || wal === undefined || this.closed) {
      return Promise.reject(new PersistError(`cannot persist: ${this.failed ?? 'the store is closed'}`));
    }
    const p = wal.append(entry).catch((err: unknown) => {
      this.fail(`write-ahead log: ${errMessage(err)}`);
      throw new PersistError(`cannot persist: ${this.failed ?? errMessage(err)}`);
    });
    if (wal.sizeBytes > (this.opts.compactLogBytes ?? 4 << 20) && this.pendingCompaction === undefined) {
      // A failure here fails the store (and is reported through onFailure); nothing else to do with it.
      this.pendingCompaction = this.compact()
        .catch(() => undefined)
        .finally(() => (this.pendingCompaction = undefined));
    }
    return p;
  }

  private pendingCompaction: Promise<void> | undefined;
  private snapshotFn: (() => object) | undefined;

  private fail(why: string): void {
    if (this.failed !== undefined) return;
    this.failed = why;
    this.opts.onFailure?.(why);
  }

  /**
   * Compacts every `intervalMs` (default 5000) when the log holds records;
   * `snapshot` returns the state to save (a JSON object).
   */
  startAutoCompact(snapshot: () => object, intervalMs = 5000): void {
    this.snapshotFn = snapshot;
    this.timer ??= setInterval(() => void this.compact().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  /**
   * Writes a snapshot and drops the log records it holds (see the class
   * comment). Does nothing when nothing was logged since the last one and
   * the store is healthy. A success clears a failed state; a failure sets it
   * and rejects. Concurrent calls share one compaction.
   */
  compact(): Promise<void> {
    this.compacting ??= this.compactOnce().finally(() => (this.compacting = undefined));
    return this.compacting;
  }

  private compacting: Promise<void> | undefined;

  private get oldWalFile(): string {
    return `${this.walFile}.old`;
  }

  private failSave(err: unknown): never {
    // The file system's own message (with its code, e.g. EROFS) says most to an operator.
    const why = errMessage(err instanceof OutputError && err.cause !== undefined ? err.cause : err);
    this.fail(`snapshot: ${why}`);
    throw err instanceof PersistError ? err : new PersistError(`${this.file}: cannot save: ${why}`);
  }

  private async compactOnce(): Promise<void> {
    const snapshot = this.snapshotFn;
    if (snapshot === undefined) return;
    const wal = this.wal;
    const oldExists = await fs.stat(this.oldWalFile).then(
      () => true,
      () => false,
    );
    if (wal !== undefined && this.failed === undefined && !oldExists) {
      // Rotate: a short exclusive section (state captured, log moved aside), then the slow snapshot write.
      let text: string | undefined;
      let lastLsn = this.compactedLsn;
      try {
        await wal.exclusive(async (l) => {
          if (l === this.compactedLsn) return;
          lastLsn = l;
          text = encodeStateFile({ ...snapshot(), walLsn: l });
          await wal.rotate(this.oldWalFile);
        });
      } catch (err) {
        this.fail(`write-ahead log: ${errMessage(err)}`);
        throw new PersistError(`${this.walFile}: cannot start a new log: ${errMessage(err)}`);
      }
      if (text === undefined) return;
      try {
        this.opts.fault?.('snapshot');
        await writeFileAtomicAsync(this.file, text, { syncDir: true });
        await fs.rm(this.oldWalFile, { force: true });
      } catch (err) {
        this.failSave(err);
      }
      this.compactedLsn = lastLsn;
      return;
    }
    // Blocking: after a failure (the log's state is unknown), or while an older log waits to be dropped.
    const body = async (lastLsn: number): Promise<void> => {
      if (this.failed === undefined && lastLsn === this.compactedLsn && !oldExists) return;
      try {
        this.opts.fault?.('snapshot');
        await writeFileAtomicAsync(this.file, encodeStateFile({ ...snapshot(), walLsn: lastLsn }), { syncDir: true });
        if (this.wal === undefined) {
          if (!this.locked) {
            await acquireLock(this.lockFile);
            this.locked = true;
          }
          this.wal = await WriteAheadLog.open(this.walFile, 0, lastLsn, this.opts.fault);
        }
        await this.wal.truncate();
        await fs.rm(this.oldWalFile, { force: true });
        this.compactedLsn = lastLsn;
        this.failed = undefined;
      } catch (err) {
        this.failSave(err);
      }
    };
    if (wal !== undefined) return wal.exclusive(body);
    return body(this.compactedLsn);
  }

  /**
   * Stops compacting, saves a last snapshot, closes the log and releases the
   * lock. Rejects with a {@link PersistError} when that last save failed (the
   * node then exits non-zero).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    let error: unknown;
    try {
      await this.pendingCompaction?.catch(() => undefined);
      if (this.failed !== undefined || this.snapshotFn !== undefined) await this.compact();
    } catch (err) {
      error = err;
    }
    this.closed = true;
    await this.wal?.close().catch(() => undefined);
    if (this.locked) await releaseLock(this.lockFile);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the close error, rethrown as caught
    if (error !== undefined) throw error;
  }
}

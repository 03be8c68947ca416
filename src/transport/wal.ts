/**
 * The write-ahead log of a real node: every version the node stores is
 * appended here before a client is told its write succeeded.
 *
 * Theory of operation. A record is `u32 length, u32 CRC-32 of the payload,
 * payload` (big-endian), the payload being one JSON object
 * `{"l": lsn, "k": key, "t": ts, "o": origin, "d": deleted, "v": value}`.
 * The log sequence number (lsn) grows by one per record and never repeats,
 * across restarts too: the snapshot records the last lsn it contains, and
 * replay skips records at or below it.
 *
 * Group commit: {@link WriteAheadLog.append} queues a record and returns a
 * promise; one writer takes every queued record at once, writes them with
 * one `write` and one `fdatasync`, then resolves all their promises. Records
 * queued while a sync runs form the next batch, so the number of syncs per
 * second is bounded by the disk, not by the number of writes.
 *
 * Reading ({@link readWal}): records are read until the end of the file. A
 * record that is cut short, or fails its checksum while nothing but zero
 * bytes follows it, is the torn tail of a batch that was never
 * acknowledged: it is reported (`tornBytes`) and the caller truncates it
 * away. A bad record followed by more data is corruption: a
 * {@link PersistError} names the file and the byte offset, and the file is
 * left untouched.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { syncDir } from '../io/fs.js';
import type { Entry } from '../protocols/gossip/store.js';
import { PersistError } from './persist-error.js';

/** Bytes of a record header (length, CRC-32). */
export const WAL_HEADER_BYTES = 8;
/** Largest payload accepted when reading, bytes (a gossip entry fits one datagram; this leaves ample room). */
export const WAL_MAX_RECORD_BYTES = 1 << 20;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as in zlib) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One logged version. */
export interface WalRecord {
  readonly lsn: number;
  readonly entry: Entry;
}

/** Encodes one record (header + payload). */
export function encodeWalRecord(r: WalRecord): Buffer {
  const e = r.entry;
  const payload = Buffer.from(JSON.stringify({ l: r.lsn, k: e.key, t: e.ts, o: e.origin, d: e.deleted, v: e.value }), 'utf8');
  const out = Buffer.allocUnsafe(WAL_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, WAL_HEADER_BYTES);
  return out;
}

function decodePayload(payload: Buffer): WalRecord | undefined {
  let o: unknown;
  try {
    o = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const x = o as Record<string, unknown>;
  const v = x['v'];
  if (
    !Number.isSafeInteger(x['l']) ||
    typeof x['k'] !== 'string' ||
    !Number.isSafeInteger(x['t']) ||
    !Number.isInteger(x['o']) ||
    typeof x['d'] !== 'boolean' ||
    !(v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    return undefined;
  }
  return { lsn: x['l'] as number, entry: { key: x['k'], ts: x['t'] as number, origin: x['o'] as number, deleted: x['d'], value: v } };
}

/** What {@link readWal} found. */
export interface WalContents {
  readonly records: WalRecord[];
  /** Bytes of whole, valid records from the start of the file. */
  readonly validBytes: number;
  /** Bytes after them: a torn last record (0 when the file ends cleanly). */
  readonly tornBytes: number;
}

function allZero(b: Buffer, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decodes a log's bytes; throws {@link PersistError} on corruption before the tail (see the file comment). */
export function decodeWal(bytes: Buffer, file: string): WalContents {
  const records: WalRecord[] = [];
  let pos = 0;
  let lastLsn = -Infinity;
  while (pos < bytes.length) {
    const torn = (): WalContents => ({ records, validBytes: pos, tornBytes: bytes.length - pos });
    if (bytes.length - pos < WAL_HEADER_BYTES) return torn();
    const len = bytes.readUInt32BE(pos);
    const end = pos + WAL_HEADER_BYTES + len;
    if (len > WAL_MAX_RECORD_BYTES) {
      if (allZero(bytes, pos)) return torn();
      throw new PersistError(`${file}: corrupt write-ahead log at byte ${pos} (record length ${len}); left untouched`);
    }
    if (end > bytes.length) return torn();
    const payload = bytes.subarray(pos + WAL_HEADER_BYTES, end);
    const rec = crc32(payload) === bytes.readUInt32BE(pos + 4) ? decodePayload(payload) : undefined;
    if (rec === undefined) {
      if (end === bytes.length || allZero(bytes, end)) return torn();
      throw new PersistError(
        `${file}: corrupt write-ahead log at byte ${pos} (checksum mismatch, ${bytes.length - end} bytes follow); left untouched`,
      );
    }
    if (rec.lsn <= lastLsn)
      throw new PersistError(`${file}: corrupt write-ahead log at byte ${pos} (sequence number ${rec.lsn} after ${lastLsn}); left untouched`);
    lastLsn = rec.lsn;
    records.push(rec);
    pos = end;
  }
  return { records, validBytes: pos, tornBytes: 0 };
}

/** Reads the log at `file` (an absent file is an empty log). */
export async function readWal(file: string): Promise<WalContents> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], validBytes: 0, tornBytes: 0 };
    throw new PersistError(`${file}: cannot read the write-ahead log: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeWal(bytes, file);
}

/** Test hook: called before each write and sync of the log; throwing makes that operation fail. */
export type IoFault = (op: 'log-write' | 'log-sync' | 'log-truncate' | 'snapshot') => void;

interface Pending {
  readonly bytes: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * An open log, appended with group commit. All file operations (batches,
 * {@link WriteAheadLog.exclusive} sections such as compaction) run one at a
 * time, in order.
 */
export class WriteAheadLog {
  private queue: Pending[] = [];
  private chain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private nextLsn: number;
  private bytes: number;
  /** Batches written (one sync each). */
  batches = 0;
  /** Records written. */
  records = 0;
  /** Why a write or sync failed, until the next truncate. */
  private broken: string | undefined;

  private constructor(
    readonly file: string,
    private fh: fs.FileHandle,
    lastLsn: number,
    sizeBytes: number,
    private readonly fault: IoFault | undefined,
  ) {
    this.nextLsn = lastLsn + 1;
    this.bytes = sizeBytes;
  }

  /**
   * Opens `file` for appending, first cutting it to `validBytes` (dropping a
   * torn tail). `lastLsn` is the highest sequence number already used.
   */
  static async open(file: string, validBytes: number, lastLsn: number, fault?: IoFault): Promise<WriteAheadLog> {
    const fh = await fs.open(file, 'a');
    try {
      const st = await fh.stat();
      if (st.size !== validBytes) {
        await fh.truncate(validBytes);
        await fh.sync();
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new WriteAheadLog(file, fh, lastLsn, validBytes, fault);
  }

  /** The sequence number the next record gets. */
  get lsn(): number {
    return this.nextLsn;
  }

  /** Bytes in the file. */
  get sizeBytes(): number {
    return this.bytes;
  }

  /** Appends `entry`; resolves once it is on disk (written and synced), rejects if the write or sync failed. */
  append(entry: Entry): Promise<void> {
    const bytes = encodeWalRecord({ lsn: this.nextLsn++, entry });
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.chain = this.chain.then(() => this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const data = batch.length === 1 ? (batch[0] as Pending).bytes : Buffer.concat(batch.map((p) => p.bytes));
    try {
      // After a failed write or sync the file's tail is unknown: nothing more is appended until truncate().
      if (this.broken !== undefined) throw new Error(`an earlier write failed (${this.broken})`);
      this.fault?.('log-write');
      await this.fh.write(data, 0, data.length);
      this.bytes += data.length;
      this.fault?.('log-sync');
      await this.fh.datasync();
      this.batches++;
      this.records += batch.length;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.broken ??= e.message;
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) p.resolve();
  }

  /**
   * Runs `fn` when every earlier batch is done and before any later one, with
   * the sequence number of the last record queued so far. Records queued
   * while `fn` runs wait for it.
   */
  exclusive<T>(fn: (lastLsn: number) => Promise<T>): Promise<T> {
    const lastLsn = this.nextLsn - 1;
    const run = this.chain.then(() => fn(lastLsn));
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Empties the file (after its records went into a snapshot). Call inside {@link exclusive}. */
  async truncate(): Promise<void> {
    this.fault?.('log-truncate');
    await this.fh.truncate(0);
    await this.fh.sync();
    this.bytes = 0;
    this.broken = undefined;
  }

  /**
   * Moves the file to `oldFile` and continues in a new, empty file under
   * the original name (the new file's directory entry is synced before any
   * record goes into it). Call inside {@link exclusive}.
   */
  async rotate(oldFile: string): Promise<void> {
    await fs.rename(this.file, oldFile);
    const fh = await fs.open(this.file, 'a');
    try {
      await syncDir(path.dirname(this.file));
    } catch (err) {
      await fh.close();
      throw err;
    }
    const previous = this.fh;
    this.fh = fh;
    this.bytes = 0;
    await previous.close().catch(() => undefined);
  }

  /** Waits for pending batches and closes the file. */
  async close(): Promise<void> {
    await this.exclusive(async () => undefined);
    await this.fh.close();
  }
}

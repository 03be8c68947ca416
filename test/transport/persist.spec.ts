import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/protocols/gossip/store.js';
import { DataLockedError, DurableStore, loadState, PersistError, saveState } from '../../src/transport/persist.js';
import { crc32, decodeWal, encodeWalRecord, readWal, WriteAheadLog, type IoFault } from '../../src/transport/wal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'desim-persist-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state files', () => {
  it('round-trips a state and leaves no temp file behind', async () => {
    const file = path.join(dir, 'a.json');
    expect(await loadState(file)).toBeUndefined();
    const state = { entries: [['k', 'v', 12, 0, false]], lastTs: 12 };
    await saveState(file, state);
    expect(await loadState(file)).toEqual(state);
    await saveState(file, { entries: [] });
    expect(await loadState(file)).toEqual({ entries: [] });
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('reports corrupt, foreign and tampered files clearly and never overwrites them', async () => {
    const file = path.join(dir, 'a.json');
    await saveState(file, { x: 1 });
    const good = await readFile(file, 'utf8');
    const cases: [string, RegExp][] = [
      [good.slice(0, good.length - 10), /not valid JSON/],
      ['{"hello": 1}', /not a desim state file/],
      [good.replace('"version":1', '"version":99'), /version 99/],
      [good.replace('"x":1', '"x":2'), /checksum mismatch/],
    ];
    for (const [text, message] of cases) {
      await writeFile(file, text);
      await expect(loadState(file)).rejects.toThrow(PersistError);
      await expect(loadState(file)).rejects.toThrow(message);
      expect(await readFile(file, 'utf8')).toBe(text);
    }
  });

  it('a failed save removes its temporary file', async () => {
    const file = path.join(dir, 'c.json');
    await mkdir(path.join(file, 'in-the-way'), { recursive: true }); // a non-empty folder: the rename fails
    await expect(saveState(file, { n: 1 })).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['c.json']);
  });
});

const entry = (key: string, ts: number, value: string | null = `v${ts}`): Entry => ({ key, ts, origin: 0, deleted: value === null, value });

describe('write-ahead log', () => {
  it('CRC-32 is the IEEE one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('group commit: concurrent appends share syncs, and every record reads back in order', async () => {
    const file = path.join(dir, 'a.wal');
    const wal = await WriteAheadLog.open(file, 0, 0);
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(entry(`k${i}`, i + 1))));
    expect(wal.records).toBe(200);
    expect(wal.batches).toBeLessThan(200);
    await wal.close();
    const back = await readWal(file);
    expect(back.tornBytes).toBe(0);
    expect(back.records.map((r) => r.lsn)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(back.records[7]?.entry).toEqual(entry('k7', 8));
  });

  it('after a failed sync nothing more is appended until the log is truncated', async () => {
    let failures = 1;
    const wal = await WriteAheadLog.open(path.join(dir, 'b.wal'), 0, 0, (op) => {
      if (op === 'log-sync' && failures-- > 0) throw new Error('EIO (injected)');
    });
    const first = wal.append(entry('a', 1));
    await new Promise((r) => setImmediate(r)); // the first batch is in its write now
    const second = wal.append(entry('b', 2));
    await expect(first).rejects.toThrow('EIO (injected)');
    await expect(second).rejects.toThrow('an earlier write failed (EIO (injected))');
    await wal.truncate();
    await wal.append(entry('c', 3));
    await wal.close();
    expect((await readWal(path.join(dir, 'b.wal'))).records.map((r) => r.entry.key)).toEqual(['c']);
  });

  it('a torn last record is reported, not an error; corruption before the end is', async () => {
    const good = Buffer.concat([encodeWalRecord({ lsn: 1, entry: entry('a', 1) }), encodeWalRecord({ lsn: 2, entry: entry('b', 2, null) })]);
    const third = encodeWalRecord({ lsn: 3, entry: entry('c', 3) });
    // Cut anywhere inside the last record, or its bytes zeroed (a file extended but never written): torn.
    for (const tail of [third.subarray(0, 3), third.subarray(0, 12), third.subarray(0, third.length - 1), Buffer.alloc(third.length)]) {
      const r = decodeWal(Buffer.concat([good, tail]), 'x.wal');
      expect(r.records.map((x) => x.lsn)).toEqual([1, 2]);
      expect(r.validBytes).toBe(good.length);
      expect(r.tornBytes).toBe(tail.length);
    }
    const flipped = Buffer.from(third);
    flipped[flipped.length - 2] = (flipped[flipped.length - 2] as number) ^ 0xff;
    expect(decodeWal(Buffer.concat([good, flipped]), 'x.wal').tornBytes).toBe(third.length);
    // The same damage in the middle, with a good record after it: corrupt.
    const middle = Buffer.from(good);
    middle[12] = (middle[12] as number) ^ 0xff;
    expect(() => decodeWal(Buffer.concat([middle, third]), 'x.wal')).toThrow(PersistError);
    expect(() => decodeWal(Buffer.concat([middle, third]), 'x.wal')).toThrow(/x\.wal: corrupt write-ahead log at byte 0 \(checksum mismatch/);
  });
});

describe('DurableStore', () => {
  const snapshotOf = (entries: Entry[]) => (): object => ({ entries: [...entries] });

  it('recovers snapshot + log, drops a torn tail, and compaction empties the log atomically', async () => {
    const file = path.join(dir, 'n.json');
    const entries: Entry[] = [];
    const { store } = await DurableStore.open({ file });
    store.startAutoCompact(snapshotOf(entries), 3_600_000);
    for (let i = 1; i <= 3; i++) {
      entries.push(entry(`k${i}`, i));
      await store.log(entry(`k${i}`, i));
    }
    await store.compact(); // snapshot holds k1..k3 (log position 3), log empty
    expect((await stat(`${file}.wal`)).size).toBe(0);
    await store.log(entry('k4', 4));
    await store.log(entry('k5', 5));
    // A crash here: no close. Add a torn half record.
    await appendFile(`${file}.wal`, encodeWalRecord({ lsn: 6, entry: entry('k6', 6) }).subarray(0, 10));
    await releaseForTest(file);
    const again = await DurableStore.open({ file });
    expect(again.recovered.state).toEqual({ entries: entries });
    expect(again.recovered.records.map((r) => r.entry.key)).toEqual(['k4', 'k5']);
    expect(again.recovered.tornBytes).toBe(10);
    expect(again.recovered.failure).toBeUndefined();
    // New records continue the sequence after the torn one was cut off.
    await again.store.log(entry('k7', 7));
    const wal = await readWal(`${file}.wal`);
    expect(wal.tornBytes).toBe(0);
    expect(wal.records.map((r) => r.lsn)).toEqual([4, 5, 6]);
    await again.store.close();
  });

  it('replay skips records the snapshot already holds (a crash between snapshot and log truncation)', async () => {
    const file = path.join(dir, 'm.json');
    await saveState(file, { entries: ['x'], walLsn: 2 });
    await writeFile(`${file}.wal`, Buffer.concat([1, 2, 3].map((l) => encodeWalRecord({ lsn: l, entry: entry(`k${l}`, l) }))));
    const { store, recovered } = await DurableStore.open({ file });
    expect(recovered.state).toEqual({ entries: ['x'] });
    expect(recovered.records.map((r) => r.lsn)).toEqual([3]);
    await store.close();
  });

  it('a crash after the log was moved aside but before the snapshot replays both log files, in order', async () => {
    const file = path.join(dir, 'rot.json');
    let failSnapshot = false;
    const { store } = await DurableStore.open({
      file,
      fault: (op) => {
        if (failSnapshot && op === 'snapshot') throw new Error('crash (injected)');
      },
    });
    const entries: Entry[] = [];
    store.startAutoCompact(snapshotOf(entries), 3_600_000);
    for (const [i, k] of ['a', 'b'].entries()) {
      entries.push(entry(k, i + 1));
      await store.log(entry(k, i + 1));
    }
    await store.compact(); // snapshot: a, b
    for (const [i, k] of ['c', 'd'].entries()) {
      entries.push(entry(k, i + 3));
      await store.log(entry(k, i + 3));
    }
    failSnapshot = true;
    const compaction = store.compact(); // moves c, d to .wal.old, then the snapshot fails
    await store.log(entry('e', 5)).catch(() => undefined); // queued during the compaction: goes to the new log
    await expect(compaction).rejects.toThrow(/crash \(injected\)/);
    expect((await readdir(dir)).sort()).toEqual(['rot.json', 'rot.json.lock', 'rot.json.wal', 'rot.json.wal.old']);
    await releaseForTest(file);
    const again = await DurableStore.open({ file });
    expect(again.recovered.state).toEqual({ entries: [entry('a', 1), entry('b', 2)] });
    expect(again.recovered.records.map((r) => r.entry.key)).toEqual(['c', 'd', 'e']);
    // The next compaction (blocking, since an old log is waiting) drops the old file.
    again.store.startAutoCompact(() => ({ entries: ['all'] }), 3_600_000);
    await again.store.compact();
    expect((await readdir(dir)).sort()).toEqual(['rot.json', 'rot.json.lock', 'rot.json.wal']);
    await again.store.close();
    const third = await DurableStore.open({ file });
    expect(third.recovered).toMatchObject({ state: { entries: ['all'] }, records: [] });
    await third.store.close();
  });

  it('a corrupt log stops the start with the file and offset, and is left untouched', async () => {
    const file = path.join(dir, 'bad.json');
    const bytes = Buffer.concat([1, 2].map((l) => encodeWalRecord({ lsn: l, entry: entry(`k${l}`, l) })));
    bytes[9] = (bytes[9] as number) ^ 0xff;
    await writeFile(`${file}.wal`, bytes);
    await expect(DurableStore.open({ file })).rejects.toThrow(/bad\.json\.wal: corrupt write-ahead log at byte 0/);
    expect(await readFile(`${file}.wal`)).toEqual(bytes);
    // The lock was released: a fixed log opens.
    await writeFile(`${file}.wal`, '');
    const { store } = await DurableStore.open({ file });
    await store.close();
  });

  it('a lock held by a live process refuses a second store; a stale one is taken over', async () => {
    const file = path.join(dir, 'l.json');
    const { store } = await DurableStore.open({ file });
    const second = DurableStore.open({ file });
    await expect(second).rejects.toThrow(DataLockedError);
    await expect(DurableStore.open({ file })).rejects.toThrow(`${file}.lock: the data file is in use by process ${process.pid}`);
    await store.close();
    await writeFile(`${file}.lock`, `${process.ppid}\n`); // a live process (this test's parent)
    await expect(DurableStore.open({ file })).rejects.toThrow(`in use by process ${process.ppid}`);
    await writeFile(`${file}.lock`, '2147483646\n'); // no such process: stale
    const again = await DurableStore.open({ file });
    expect((await readFile(`${file}.lock`, 'utf8')).trim()).toBe(String(process.pid));
    await again.store.close();
    expect(await readdir(dir)).not.toContain('l.json.lock');
  });

  it('removes orphaned temporary files of earlier crashes, and only those', async () => {
    const file = path.join(dir, 'A.json');
    await writeFile(path.join(dir, '.A.json.tmp-12345'), 'half a save');
    await writeFile(path.join(dir, '.B.json.tmp-12345'), 'another node');
    await writeFile(path.join(dir, '.A.json.tmp-x'), 'not ours');
    await writeFile(path.join(dir, 'A.json.tmp-12345-0-7@host-1'), 'half a save, as writeFileAtomicAsync names it');
    await writeFile(path.join(dir, 'A.json.wal.tmp-12345-0-7@host-1'), 'not the state file');
    const { store, recovered } = await DurableStore.open({ file });
    expect([...recovered.removedTemp].sort()).toEqual(['.A.json.tmp-12345', 'A.json.tmp-12345-0-7@host-1']);
    expect((await readdir(dir)).sort()).toEqual([
      '.A.json.tmp-x',
      '.B.json.tmp-12345',
      'A.json.lock',
      'A.json.wal',
      'A.json.wal.tmp-12345-0-7@host-1',
    ]);
    await store.close();
  });

  it('a failed write fails the store: the write and later ones are refused until a compaction succeeds; close reports a failed last save', async () => {
    const file = path.join(dir, 'f.json');
    let broken: string | undefined;
    const failures: string[] = [];
    const fault: IoFault = (op) => {
      if (broken !== undefined && (op === broken || op === 'snapshot')) throw new Error(`injected ${op} failure`);
    };
    const { store } = await DurableStore.open({ file, fault, onFailure: (w) => failures.push(w) });
    store.startAutoCompact(() => ({ n: 1 }), 3_600_000);
    await store.log(entry('a', 1));
    broken = 'log-sync';
    await expect(store.log(entry('b', 2))).rejects.toThrow(/cannot persist: write-ahead log: injected log-sync failure/);
    expect(store.failure).toMatch(/injected log-sync failure/);
    expect(store.stats()['persist_failed']).toBe(1);
    broken = undefined;
    await expect(store.log(entry('c', 3))).rejects.toThrow(/cannot persist/); // still failed: refused at once
    await store.compact(); // the disk works again: a full snapshot heals the store
    expect(store.failure).toBeUndefined();
    await store.log(entry('d', 4));
    broken = 'log-write';
    await expect(store.log(entry('e', 5))).rejects.toThrow(/injected log-write failure/);
    await expect(store.close()).rejects.toThrow(/injected snapshot failure/);
    expect(failures).toHaveLength(2);
    expect((await readdir(dir)).filter((n) => n.includes('tmp'))).toEqual([]);
  });
});

/** Forgets this process's lock on `file` (what a crash does) so the test can reopen it. */
async function releaseForTest(file: string): Promise<void> {
  await writeFile(`${file}.lock`, '2147483646\n');
}

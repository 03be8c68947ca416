/** The one atomic write (src/io/fs.ts): whole, streamed and as a promise, and no copy of it elsewhere in src. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicFileWriter, OutputError, TEMP_NAME, writeFileAtomic, writeFileAtomicAsync } from '../../src/io/fs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'desim-fs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates missing folders, replaces an existing file and leaves no temporary file', () => {
    const file = join(dir, 'a', 'b', 'x.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, new TextEncoder().encode('two'));
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['x.json']);
  });

  it('fails with an OutputError naming the path, keeps what was there and leaves no temporary file', () => {
    const target = join(dir, 'taken');
    mkdirSync(target); // renaming a file over a folder fails, for root too
    const err = (() => {
      try {
        writeFileAtomic(target, 'new');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(OutputError);
    expect((err as OutputError).message).toBe(`${target}: cannot write: is a folder, not a file`);
    expect((err as OutputError).cause).toMatchObject({ code: 'EISDIR' });
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('AtomicFileWriter (streamed)', () => {
  it('shows the old file until commit, under a temporary name desim recognises', () => {
    const file = join(dir, 'trace.csv');
    writeFileSync(file, 'old\n');
    const w = new AtomicFileWriter(file);
    w.write('a\n');
    w.write(new TextEncoder().encode('b\n'));
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(TEMP_NAME.exec(w.tmpPath)?.index).toBe(file.length);
    expect(existsSync(w.tmpPath)).toBe(true);
    w.commit();
    expect(readFileSync(file, 'utf8')).toBe('a\nb\n');
    expect(readdirSync(dir)).toEqual(['trace.csv']);
    w.abort(); // after a commit: nothing to undo
    expect(readFileSync(file, 'utf8')).toBe('a\nb\n');
    expect(() => w.write('c')).toThrow(/after commit or abort/);
  });

  it('abort leaves the old file and no temporary file', () => {
    const file = join(dir, 'trace.csv');
    const w = new AtomicFileWriter(file);
    w.write('partial');
    w.abort();
    w.abort();
    expect(readdirSync(dir)).toEqual([]);
    expect(() => w.commit()).toThrow(/after commit or abort/);
  });

  it('two writers of one path in one thread get different temporary names', () => {
    const a = new AtomicFileWriter(join(dir, 'x'));
    const b = new AtomicFileWriter(join(dir, 'x'));
    expect(a.tmpPath).not.toBe(b.tmpPath);
    a.abort();
    b.abort();
  });
});

describe('writeFileAtomicAsync', () => {
  it('replaces the file, syncing the folder on request, and leaves no temporary file', async () => {
    const file = join(dir, 'state.json');
    await writeFileAtomicAsync(file, 'one');
    await writeFileAtomicAsync(file, 'two', { syncDir: true });
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('fails with an OutputError naming the file when the folder is missing, and leaves nothing', async () => {
    const file = join(dir, 'missing', 'state.json');
    await expect(writeFileAtomicAsync(file, 'x')).rejects.toThrow(new OutputError(file, 'cannot write: no such file or folder'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed rename leaves no temporary file', async () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    const failed = writeFileAtomicAsync(target, 'x', { syncDir: true });
    await expect(failed).rejects.toThrow(new OutputError(target, 'cannot write: is a folder, not a file'));
    // The file system's own error stays attached: a live node logs its code (EISDIR, EROFS, ENOSPC).
    await expect(failed).rejects.toMatchObject({ cause: { code: 'EISDIR' } });
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});

/** Whether a source both fsyncs and renames: a file written atomically by hand. */
function fsyncsAndRenames(text: string): boolean {
  return /fsyncSync\(|fdatasync|\.sync\(\)/.test(text) && /renameSync\(|\brename\(/.test(text);
}

describe('one atomic write', () => {
  // src/io/fs.ts is the one place for it; src/transport/wal.ts renames the log aside when it
  // rotates, which is a different thing.
  it('only src/io/fs.ts (and the log rotation) combine an fsync with a rename', () => {
    const root = join(import.meta.dirname, '..', '..');
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
      );
    const both = walk(join(root, 'src'))
      .filter((f) => fsyncsAndRenames(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f).split('\\').join('/'))
      .sort();
    expect(both).toEqual(['src/io/fs.ts', 'src/transport/wal.ts']);
  });

  it('the check sees the copies this replaced (sync and promise forms), not a plain write', () => {
    expect(fsyncsAndRenames('fsyncSync(this.fd);\ncloseSync(this.fd);\nrenameSync(this.tmpPath, this.path);')).toBe(true);
    expect(fsyncsAndRenames('await fh.sync();\nawait fh.close();\nawait fs.rename(tmp, file);')).toBe(true);
    expect(fsyncsAndRenames('writeFileSync(path, text);\nrenameSync(a, b); // a folder move')).toBe(false);
  });
});

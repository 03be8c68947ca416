/** Atomic file and folder writes: write to a temporary path, then rename into place. */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { threadId } from 'node:worker_threads';

let counter = 0;
/** A suffix unique to this process, thread and call (sweep workers are threads of one process). */
function tmpSuffix(): string {
  return `tmp-${process.pid}-${threadId}-${counter++}`;
}

/** Writes `text` to `path` via `<path>.tmp-<pid>` + fsync + rename. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${tmpSuffix()}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A fresh temporary folder beside `finalDir` (same file system, so the final rename is atomic). */
export function tempDirFor(finalDir: string): string {
  const tmp = join(dirname(finalDir), `.${basename(finalDir)}.${tmpSuffix()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Replaces `finalDir` with `tmpDir` (the old folder, if any, is removed only after the new one is in place). */
export function commitDir(tmpDir: string, finalDir: string): void {
  mkdirSync(dirname(finalDir), { recursive: true });
  if (existsSync(finalDir)) {
    const old = join(dirname(finalDir), `.${basename(finalDir)}.old-${tmpSuffix()}`);
    rmSync(old, { recursive: true, force: true });
    renameSync(finalDir, old);
    renameSync(tmpDir, finalDir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmpDir, finalDir);
  }
}

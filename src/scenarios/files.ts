/**
 * Output folders desim may write, and how it writes them without destroying
 * anything it did not write.
 *
 * Theory of operation. desim recognises its own folders by a marker: a run
 * folder (and the validation folder of `reproduce`) has a `meta.json` with
 * desim's signature and the list of files it wrote; a sweep folder has a
 * `sweep.json` with desim's signature, `runs/r<N>.json` and, once complete,
 * the list of table and plot files. {@link inspectOutDir} classifies a target
 * as missing, empty, desim's (with the entries desim did not write listed as
 * `foreign`), not a folder, or someone else's. Each command then decides:
 *
 * - a missing or empty folder, or desim's own folder holding only desim's
 *   files: written into a temporary folder beside it and renamed into place
 *   (the old folder is moved aside first and removed only after the new one
 *   is in place), so an interrupted run leaves the old folder as it was;
 * - anything else is refused ({@link OutputError}, exit 2) naming the folder
 *   and the flag to use, unless the user says `--overwrite`; then desim's
 *   files are written *into* the folder one by one, and a file desim would
 *   write that already exists and is not desim's stops the command before
 *   anything is moved. Files desim did not write are never deleted or replaced.
 *
 * Temporary names carry the process id and host (`.NAME.tmp-PID-THREAD-N@HOST`),
 * so {@link removeTempDirs} can delete what a killed process left behind, and a
 * run can register its temporary folder for the CLI to remove on SIGINT/SIGTERM.
 *
 * Folders are created one level at a time ({@link makeDirs}): Node's recursive
 * mkdir spins forever on some unwritable paths such as `/proc/x`.
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { OutputError } from './errors.js';

let counter = 0;
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
/** A suffix unique to this process, thread and call (sweep workers are threads of one process). */
function tmpSuffix(kind: 'tmp' | 'old'): string {
  return `${kind}-${process.pid}-${threadId}-${counter++}@${HOST}`;
}
/** `.NAME.tmp-PID-THREAD-N@HOST` (and `.old-`), or the same without `@HOST` from desim 0.1. */
const TEMP_NAME = /^\..*\.(?:tmp|old)-(\d+)-\d+-\d+(?:@([A-Za-z0-9._-]+))?$/;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputError(path, describeFsError(err));
  }
}

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
    case 'EBUSY':
      return 'busy (a mount point or the current folder cannot be replaced)';
    default:
      return e.code !== undefined ? `${e.code}: ${e.message}` : String(e.message ?? err);
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Fails at once with
 * an {@link OutputError} naming the path when a level cannot be created (Node's
 * recursive mkdir loops forever on some unwritable paths such as `/proc/x`).
 */
export function makeDirs(dir: string): void {
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

/** Writes `text` to `path` via `<path>.tmp-…` + fsync + rename. */
export function writeFileAtomic(path: string, text: string): void {
  makeDirs(dirname(path));
  const tmp = `${path}.${tmpSuffix('tmp')}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof OutputError) throw err;
    throw new OutputError(path, `cannot write: ${describeFsError(err)}`);
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

// ---------------------------------------------------------------------------------------------
// Temporary folders: created beside the target, registered for signal cleanup, swept when stale.

const liveTemps = new Set<string>();

/** Temporary folders this process is writing now (the CLI removes them on SIGINT/SIGTERM). */
export function activeTempDirs(): readonly string[] {
  return [...liveTemps];
}

/** Removes every temporary folder this process registered (for signal handlers). */
export function removeActiveTempDirs(): void {
  for (const t of liveTemps) rmSync(t, { recursive: true, force: true });
  liveTemps.clear();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary folders that desim processes on this host left in
 * `parent` and that no live process owns (a run killed by SIGKILL leaves one).
 * Only names of desim's temporary pattern whose process is gone are touched.
 * Returns the names removed.
 */
export function removeTempDirs(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (m === null) continue;
    const host = m[2];
    if (host !== undefined && host !== HOST) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const path = join(parent, name);
    try {
      if (!lstatSync(path).isDirectory()) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Someone else removed it first, or it is not ours to remove after all.
    }
  }
  return removed;
}

/** A fresh temporary folder inside `parent` for writing `target`, registered for signal cleanup. */
function tempDirIn(parent: string, stem: string, target: string): string {
  makeDirs(parent);
  removeTempDirs(parent);
  const tmp = join(parent, `.${stem}.${tmpSuffix('tmp')}`);
  try {
    mkdirSync(tmp);
  } catch (err) {
    throw new OutputError(target, `cannot be written: ${describeFsError(err)} (desim could not create a folder in ${parent})`);
  }
  liveTemps.add(tmp);
  return tmp;
}

function dropTemp(tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
  liveTemps.delete(tmp);
}

// ---------------------------------------------------------------------------------------------
// Ownership.

/** What a desim marker file says a folder is. */
export type OutputKind = 'run' | 'sweep' | 'validation' | 'published';

/** The signature field desim writes into `meta.json` and `sweep.json`. */
export const OUTPUT_MARKER = 'desim_output';

/** The state of a would-be output folder. */
export type OutDirState =
  | { readonly state: 'missing' }
  | { readonly state: 'not-a-folder' }
  | { readonly state: 'empty' }
  /** desim wrote it; `foreign` lists the entries (relative paths) desim did not write. */
  | { readonly state: 'desim'; readonly kind: OutputKind; readonly owned: ReadonlySet<string>; readonly foreign: readonly string[] }
  /** Not desim's (no marker): every entry is the user's. */
  | { readonly state: 'foreign'; readonly foreign: readonly string[] };

function parseMarker(path: string): Record<string, unknown> | undefined {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const RUN_RECORD = /^r\d+\.json$/;

/** Classifies `dir` (see {@link OutDirState}). */
export function inspectOutDir(dir: string): OutDirState {
  const st = statOrUndefined(dir);
  if (st === undefined) return { state: 'missing' };
  if (!st.isDirectory()) return { state: 'not-a-folder' };
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new OutputError(dir, `cannot read the folder: ${describeFsError(err)}`);
  }
  // Leftovers of desim's own atomic writes are neither the user's nor worth keeping.
  entries = entries.filter((e) => !TEMP_NAME.exec(e) && !/\.tmp-\d+-\d+-\d+(@[A-Za-z0-9._-]+)?$/.test(e));
  if (entries.length === 0) return { state: 'empty' };
  const meta = entries.includes('meta.json') ? parseMarker(join(dir, 'meta.json')) : undefined;
  if (meta !== undefined && typeof meta['desim_version'] === 'string') {
    const kind: OutputKind = meta[OUTPUT_MARKER] === 'validation' || meta[OUTPUT_MARKER] === 'published' ? meta[OUTPUT_MARKER] : 'run';
    const owned = new Set([...stringList(meta['files']), 'meta.json']);
    return { state: 'desim', kind, owned, foreign: entries.filter((e) => !owned.has(e)) };
  }
  const sweep = entries.includes('sweep.json') ? parseMarker(join(dir, 'sweep.json')) : undefined;
  if (sweep !== undefined && typeof sweep['desim_version'] === 'string' && Array.isArray(sweep['vary'])) {
    const owned = new Set(['sweep.json', 'summary.csv', 'aggregate.csv', ...stringList(sweep['files'])]);
    const foreign: string[] = [];
    for (const e of entries) {
      if (e === 'runs') {
        const rs = statOrUndefined(join(dir, 'runs'));
        if (rs === undefined || !rs.isDirectory()) foreign.push(e);
        else for (const r of readdirSync(join(dir, 'runs')).sort()) if (!RUN_RECORD.test(r) && !TEMP_NAME.test(r) && !/\.tmp-/.test(r)) foreign.push(`runs/${r}`);
        continue;
      }
      if (!owned.has(e)) foreign.push(e);
    }
    return { state: 'desim', kind: 'sweep', owned, foreign };
  }
  return { state: 'foreign', foreign: entries };
}

function listSome(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => JSON.stringify(n));
  return names.length > 3 ? `${shown.join(', ')} and ${names.length - 3} more` : shown.join(', ');
}

/** How a command may write its folder. */
export interface OutputPolicy {
  /** The flag that named the folder, for messages (`--out`). */
  readonly flag: string;
  /** `--overwrite`: write desim's files into a folder that holds other files (never deleting or replacing those). */
  readonly overwrite?: boolean;
}

/**
 * Writes a complete output folder: `fill(tmp)` writes every file into a
 * temporary folder, then the folder is committed to `dir` (see the module
 * comment for what is replaced and what is refused). `kind` is the marker the
 * folder must carry if it already exists and is to be replaced. Returns the
 * entries written.
 */
export async function writeOutputFolder(dir: string, kind: OutputKind, policy: OutputPolicy, fill: (tmp: string) => Promise<void>): Promise<string[]> {
  const before = checkOutDir(dir, kind, policy);
  // Swap the whole folder only when it is new or desim's alone; write into anything else (an empty
  // folder the user made, a symbolic link, a folder with the user's files), so it stays theirs.
  const swap = before.state === 'missing' || (before.state === 'desim' && before.foreign.length === 0 && !isSymlink(dir));
  const tmp = swap ? tempDirIn(dirname(resolve(dir)), basename(resolve(dir)), dir) : tempDirIn(dir, 'desim', dir);
  try {
    await fill(tmp);
    const written = readdirSync(tmp).sort();
    // Check again: the folder may have changed while the run was going.
    const now = checkOutDir(dir, kind, policy);
    if (swap && (now.state === 'missing' || (now.state === 'desim' && now.foreign.length === 0))) {
      swapDir(tmp, dir, now.state === 'missing');
      return written;
    }
    const foreign = new Set(now.state === 'desim' || now.state === 'foreign' ? now.foreign : []);
    const clash = written.filter((f) => foreign.has(f));
    if (clash.length > 0) {
      throw new OutputError(dir, `holds ${listSome(clash)}, which desim did not write and would replace; move ${clash.length === 1 ? 'it' : 'them'} away or use another ${policy.flag}`);
    }
    makeDirs(dir);
    // meta.json last: until it is in place the folder's marker still lists the old files.
    const order = [...written.filter((f) => f !== 'meta.json'), ...written.filter((f) => f === 'meta.json')];
    try {
      for (const f of order) renameSync(join(tmp, f), join(dir, f));
      if (now.state === 'desim') for (const old of now.owned) if (!written.includes(old) && old !== 'meta.json') rmSync(join(dir, old), { force: true });
    } catch (err) {
      throw new OutputError(dir, `cannot put the results in place: ${describeFsError(err)}`);
    }
    dropTemp(tmp);
    return written;
  } catch (err) {
    dropTemp(tmp);
    throw err;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Checks that `dir` may receive an output folder of `kind` under `policy`;
 * throws an {@link OutputError} naming the folder and the flag to use when not.
 */
export function checkOutDir(dir: string, kind: OutputKind, policy: OutputPolicy): OutDirState {
  const s = inspectOutDir(dir);
  switch (s.state) {
    case 'missing':
    case 'empty':
      return s;
    case 'not-a-folder':
      throw new OutputError(dir, `is a file, not a folder; desim will not replace it: use another ${policy.flag}`);
    case 'desim':
      if (s.kind !== kind) throw new OutputError(dir, `holds desim's ${s.kind} results, not a ${kind}'s; use another ${policy.flag}`);
      if (s.foreign.length > 0 && policy.overwrite !== true) {
        throw new OutputError(
          dir,
          `holds ${listSome(s.foreign)}, which desim did not write; use another ${policy.flag}, or --overwrite to write desim's files beside them (files desim did not write are never deleted)`,
        );
      }
      return s;
    case 'foreign':
      if (policy.overwrite !== true) {
        throw new OutputError(
          dir,
          `is not a desim results folder (it holds ${listSome(s.foreign)}); desim replaces only folders it wrote: use another ${policy.flag}, or --overwrite to write desim's files into it (files desim did not write are never deleted)`,
        );
      }
      return s;
  }
}

/** Renames `tmp` to `dir`; an existing `dir` (desim's alone) is moved aside first and removed after. */
function swapDir(tmp: string, dir: string, missing: boolean): void {
  try {
    if (missing) {
      renameSync(tmp, dir);
    } else {
      const old = join(dirname(resolve(dir)), `.${basename(resolve(dir))}.${tmpSuffix('old')}`);
      renameSync(dir, old);
      liveTemps.add(old);
      renameSync(tmp, dir);
      dropTemp(old);
    }
    liveTemps.delete(tmp);
  } catch (err) {
    throw new OutputError(dir, `cannot put the results in place: ${describeFsError(err)}`);
  }
}

/**
 * Deletes desim's files from a desim folder (`--overwrite` of a sweep): the
 * owned entries and, for sweeps, `runs/r<N>.json`. Foreign entries stay; so
 * does `runs/` when it holds anything else.
 */
export function removeOwnedFiles(dir: string, s: Extract<OutDirState, { state: 'desim' }>): void {
  for (const f of s.owned) rmSync(join(dir, f), { force: true });
  const runs = join(dir, 'runs');
  if (s.kind === 'sweep' && statOrUndefined(runs)?.isDirectory() === true) {
    for (const r of readdirSync(runs)) if (RUN_RECORD.test(r)) rmSync(join(runs, r), { force: true });
    if (readdirSync(runs).length === 0) rmSync(runs, { recursive: true, force: true });
  }
}
